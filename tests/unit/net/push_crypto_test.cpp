// Web Push payload encryption against RFC 8291's worked example (Appendix A), and the keys
// the push providers read.

#include "confab/net/push_crypto.hpp"

#include "confab/model/base64url.hpp"

#include <gtest/gtest.h>

namespace confab::net {
namespace {

std::string decoded(std::string_view text) {
    auto bytes = model::from_base64url(text);
    EXPECT_TRUE(bytes.has_value()) << text;
    return bytes.value_or("");
}

// RFC 8291 Appendix A.
const std::string plaintext = "When I grow up, I want to be a watermelon";
const std::string sender_private = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
const std::string sender_public =
    "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8";
const std::string receiver_public =
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
const std::string salt = "DGv6ra1nlYgDCS1FRnbzlw";
const std::string auth_secret = "BTBZMqHH6r4Tts7J_aSIgg";
const std::string expected_body =
    "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_"
    "c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_"
    "yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN";

TEST(WebPushEncryption, ReproducesTheRfc8291Example) {
    const auto sender = PrivateKey::p256_from_scalar(decoded(sender_private));
    EXPECT_EQ(model::to_base64url(sender.p256_public()), sender_public);
    const auto body =
        encrypt_web_push(plaintext, decoded(receiver_public), decoded(auth_secret), sender, decoded(salt));
    EXPECT_EQ(model::to_base64url(body), expected_body);
}

TEST(WebPushEncryption, RefusesKeysOfTheWrongShape) {
    const auto sender = PrivateKey::generate_p256();
    const auto receiver = decoded(receiver_public);
    const auto auth = decoded(auth_secret);
    EXPECT_THROW(encrypt_web_push(plaintext, receiver.substr(1), auth, sender, random_salt()), CryptoError);
    EXPECT_THROW(encrypt_web_push(plaintext, receiver, auth.substr(1), sender, random_salt()), CryptoError);
    auto off_curve = receiver;
    off_curve[40] = static_cast<char>(off_curve[40] ^ 1);
    EXPECT_THROW(encrypt_web_push(plaintext, off_curve, auth, sender, random_salt()), CryptoError);
    EXPECT_THROW(encrypt_web_push(std::string(4096, 'x'), receiver, auth, sender, random_salt()), CryptoError);
}

TEST(PushKeys, ReadsScalarsAndPemAndRefusesOthers) {
    EXPECT_THROW(PrivateKey::p256_from_scalar("short"), CryptoError);
    EXPECT_THROW(PrivateKey::p256_from_scalar(std::string(32, '\0')), CryptoError);
    EXPECT_THROW(PrivateKey::p256_from_scalar(std::string(32, '\xff')), CryptoError);  // past the group order
    EXPECT_THROW(PrivateKey::from_pem("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n"),
                 CryptoError);
    const auto pem =
        "-----BEGIN EC PRIVATE KEY-----\n"
        "MHcCAQEEIMnlj4mBPp+Ohy5x9CqmThdXySVNzGK3LdwBC7QEPqEcoAoGCCqGSM49\n"
        "AwEHoUQDQgAE/jP0qw3qcZFNtVgj9ztUlI9BMG2SBzLbuaWaUyhkgiAOWXp7e8Jg\n"
        "uhwieZhYCZLpOXMALzASooro8Gu7eOXsDw==\n"
        "-----END EC PRIVATE KEY-----\n";
    const auto key = PrivateKey::from_pem(pem);
    EXPECT_TRUE(key.is_p256());
    EXPECT_EQ(model::to_base64url(key.p256_public()), sender_public);
}

TEST(PushJwt, Es256SignaturesAreRawAndTheHeaderNamesTheAlgorithm) {
    const auto key = PrivateKey::generate_p256();
    const auto jwt = signed_jwt(key, R"({"kid":"K1"})", R"({"aud":"https://push.example"})");
    const auto first_dot = jwt.find('.');
    const auto second_dot = jwt.find('.', first_dot + 1);
    EXPECT_EQ(decoded(jwt.substr(0, first_dot)), R"({"alg":"ES256","typ":"JWT","kid":"K1"})");
    EXPECT_EQ(decoded(jwt.substr(first_dot + 1, second_dot - first_dot - 1)), R"({"aud":"https://push.example"})");
    EXPECT_EQ(decoded(jwt.substr(second_dot + 1)).size(), 64u);
    const auto bare = signed_jwt(key, "{}", "{}");
    EXPECT_EQ(bare.substr(0, bare.find('.')), model::to_base64url(R"({"alg":"ES256","typ":"JWT"})"));
}

}  // namespace
}  // namespace confab::net
