// keys_from_jwks: a JWK set's RSA and P-256 signing keys become the same PEM that OpenSSL
// writes for those keys (tests/fixtures/jwt: jwks.json was made from the .pem files there).

#include "confab/net/jwt_verifier.hpp"
#include "support/source_tree.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace confab::net {
namespace {

std::string fixture(const std::string& name) {
    const auto path = (test::source_dir() / "tests/fixtures/jwt" / name).string();
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (text.str().empty()) throw std::runtime_error("missing fixture " + path);
    return text.str();
}

TEST(Jwks, SigningKeysBecomeTheirPem) {
    const auto keys = keys_from_jwks(fixture("jwks.json"));
    // The set also holds an encryption key and an Ed25519 key, which sign-in does not use.
    ASSERT_EQ(keys.size(), 3u);
    EXPECT_EQ(keys[0].id, "2026-11");
    EXPECT_EQ(keys[0].algorithm, "RS256");
    EXPECT_EQ(keys[0].pem, fixture("rs256_public.pem"));
    EXPECT_EQ(keys[1].id, "2026-12");
    EXPECT_EQ(keys[1].algorithm, "RS256") << "an RSA key without alg is an RS256 key";
    EXPECT_EQ(keys[1].pem, fixture("rs256_rotated_public.pem"));
    EXPECT_EQ(keys[2].id, "ec-1");
    EXPECT_EQ(keys[2].algorithm, "ES256");
    EXPECT_EQ(keys[2].pem, fixture("es256_public.pem"));
}

TEST(Jwks, KeysForOtherUsesAlgorithmsOrCurvesAreSkipped) {
    const auto keys = keys_from_jwks(R"({"keys": [
        {"kty": "RSA", "alg": "RS512", "n": "AQAB", "e": "AQAB"},
        {"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"},
        {"kty": "oct", "k": "c2VjcmV0"},
        {"kty": "RSA", "use": "enc", "n": "AQAB", "e": "AQAB"}]})");
    EXPECT_TRUE(keys.empty());
    EXPECT_TRUE(keys_from_jwks(R"({"keys": []})").empty());
}

TEST(Jwks, WhatIsNotAJwkSetOrAMalformedKeyIsRefused) {
    for (const char* text : {
             "",
             "[]",
             R"({"keys": {}})",
             R"({"keys": [1]})",
             R"({"keys": [{"n": "AQAB", "e": "AQAB"}]})",
             R"({"keys": [{"kty": "RSA", "e": "AQAB"}]})",
             R"({"keys": [{"kty": "RSA", "n": "not base64url!", "e": "AQAB"}]})",
             R"({"keys": [{"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}]})",
             R"({"keys": [{"kty": "RSA", "kid": 7, "n": "AQAB", "e": "AQAB"}]})",
         })
        EXPECT_THROW(keys_from_jwks(text), std::runtime_error) << text;
}

}  // namespace
}  // namespace confab::net
