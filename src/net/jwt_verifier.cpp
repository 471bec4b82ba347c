#include "confab/net/jwt_verifier.hpp"

#include "confab/api/json.hpp"
#include "confab/model/base64url.hpp"
#include "confab/model/error.hpp"

#include <jwt.h>
#include <nlohmann/json.hpp>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace confab::net {
using domain::TokenClaims;
using domain::TokenRejection;

namespace {

struct JwtFree {
    void operator()(jwt_t* jwt) const { jwt_free(jwt); }
};
using Jwt = std::unique_ptr<jwt_t, JwtFree>;

// Without a key libjwt parses the token unchecked: only to read which algorithm it names.
Jwt decode(const std::string& token, const std::string* key) {
    jwt_t* raw = nullptr;
    const auto* bytes = key ? reinterpret_cast<const unsigned char*>(key->data()) : nullptr;
    const int failed = jwt_decode(&raw, token.c_str(), bytes, key ? static_cast<int>(key->size()) : 0);
    Jwt jwt(raw);
    if (failed != 0) return nullptr;
    return jwt;
}

// libjwt keeps the last of a key given twice in the header or the claims. A request body with
// a key twice is refused (api::parse_object), and so is a token with one: which value its
// issuer meant cannot be told, so the token is malformed.
bool gives_a_key_twice(std::string_view token) {
    const auto header_end = token.find('.');
    const auto claims_end = token.find('.', header_end + 1);
    for (const auto part : {token.substr(0, header_end), token.substr(header_end + 1, claims_end - header_end - 1)}) {
        const auto text = model::from_base64url(part);
        if (!text) continue;  // libjwt read it; this look is for keys alone
        try {
            api::parse_object(*text, "a token part");
        } catch (const model::Error&) {
            return true;
        }
    }
    return false;
}

std::optional<std::string> string_claim(jwt_t* jwt, const std::string& name) {
    if (name.empty()) return std::nullopt;
    const char* value = jwt_get_grant(jwt, name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
}

// A NumericDate (RFC 7519 2): any JSON number of seconds, fractions included, taken down to the
// second. Absent: nothing; present but not a number: `malformed` is set.
std::optional<std::int64_t> time_claim(jwt_t* jwt, const char* name, bool& malformed) {
    const std::unique_ptr<char, decltype(&free)> text(jwt_get_grants_json(jwt, name), &free);
    if (!text) return std::nullopt;
    const auto parsed = nlohmann::json::parse(text.get(), nullptr, false);
    // A date past what 64 bits of seconds hold is taken as the furthest they do: still far
    // ahead, or far back.
    constexpr auto latest = std::numeric_limits<std::int64_t>::max();
    constexpr auto earliest = std::numeric_limits<std::int64_t>::min();
    if (parsed.is_number_unsigned())
        return static_cast<std::int64_t>(std::min(parsed.get<std::uint64_t>(), static_cast<std::uint64_t>(latest)));
    if (parsed.is_number_integer()) return parsed.get<std::int64_t>();
    constexpr double int64_bound = 9.2e18;  // below 2^63: a float past it does not fit
    if (parsed.is_number_float() && std::isfinite(parsed.get<double>())) {
        const auto seconds = std::floor(parsed.get<double>());
        if (seconds >= int64_bound) return latest;
        if (seconds <= -int64_bound) return earliest;
        return static_cast<std::int64_t>(seconds);
    }
    malformed = true;
    return std::nullopt;
}

// aud is a string or an array of strings (RFC 7519 4.1.3); libjwt hands an array over as JSON.
std::vector<std::string> audience_of(jwt_t* jwt) {
    if (auto single = string_claim(jwt, "aud")) return {*single};
    const std::unique_ptr<char, decltype(&free)> text(jwt_get_grants_json(jwt, "aud"), &free);
    if (!text) return {};
    const auto parsed = nlohmann::json::parse(text.get(), nullptr, false);
    std::vector<std::string> names;
    if (!parsed.is_array()) return names;
    for (const auto& name : parsed)
        if (name.is_string()) names.push_back(name.get<std::string>());
    return names;
}

std::string read_file(const std::string& path, const char* setting) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream contents;
    contents << in.rdbuf();
    if (!in || contents.str().empty()) throw std::runtime_error(std::string(setting) + ": cannot read " + path);
    return std::move(contents).str();
}

// --- JWK to PEM, with OpenSSL 3's key-from-parameters API

struct OpenSslFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
    void operator()(EVP_PKEY_CTX* context) const { EVP_PKEY_CTX_free(context); }
    void operator()(OSSL_PARAM_BLD* builder) const { OSSL_PARAM_BLD_free(builder); }
    void operator()(OSSL_PARAM* params) const { OSSL_PARAM_free(params); }
    void operator()(BIGNUM* number) const { BN_free(number); }
    void operator()(BIO* bio) const { BIO_free(bio); }
};
template <typename T>
using Owned = std::unique_ptr<T, OpenSslFree>;

void require(bool ok, const std::string& what) {
    if (!ok) throw std::runtime_error("jwt.jwks_file: " + what);
}

std::string base64url(const nlohmann::json& key, const char* member) {
    require(key.contains(member) && key[member].is_string(), std::string("a key lacks \"") + member + "\"");
    auto bytes = model::from_base64url(key[member].get_ref<const std::string&>());
    require(bytes && !bytes->empty(), std::string("\"") + member + "\" is not base64url");
    return *bytes;
}

Owned<BIGNUM> number(const std::string& big_endian) {
    return Owned<BIGNUM>(BN_bin2bn(reinterpret_cast<const unsigned char*>(big_endian.data()),
                                   static_cast<int>(big_endian.size()), nullptr));
}

// The public key `type` ("RSA", "EC") with these parameters, as PEM.
std::string pem_from(const char* type, OSSL_PARAM_BLD* builder) {
    const Owned<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(builder));
    const Owned<EVP_PKEY_CTX> context(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    EVP_PKEY* raw = nullptr;
    require(params && context && EVP_PKEY_fromdata_init(context.get()) == 1 &&
                EVP_PKEY_fromdata(context.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) == 1,
            std::string("an invalid ") + type + " key");
    const Owned<EVP_PKEY> key(raw);
    const Owned<BIO> out(BIO_new(BIO_s_mem()));
    require(out && PEM_write_bio_PUBKEY(out.get(), key.get()) == 1, "cannot write a key as PEM");
    char* data = nullptr;
    const long size = BIO_get_mem_data(out.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

std::string rsa_pem(const nlohmann::json& jwk) {
    const auto modulus = number(base64url(jwk, "n"));
    const auto exponent = number(base64url(jwk, "e"));
    const Owned<OSSL_PARAM_BLD> builder(OSSL_PARAM_BLD_new());
    require(modulus && exponent && builder &&
                OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, modulus.get()) &&
                OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, exponent.get()),
            "an invalid RSA key");
    return pem_from("RSA", builder.get());
}

std::string p256_pem(const nlohmann::json& jwk) {
    constexpr std::size_t coordinate = 32;
    const auto x = base64url(jwk, "x");
    const auto y = base64url(jwk, "y");
    require(x.size() == coordinate && y.size() == coordinate, "a P-256 key needs 32-byte x and y");
    const std::string point = "\x04" + x + y;  // uncompressed
    const Owned<OSSL_PARAM_BLD> builder(OSSL_PARAM_BLD_new());
    require(builder && OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) &&
                OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()),
            "an invalid EC key");
    return pem_from("EC", builder.get());
}

std::optional<std::string> text_member(const nlohmann::json& jwk, const char* member) {
    if (!jwk.contains(member)) return std::nullopt;
    require(jwk[member].is_string(), std::string("\"") + member + "\" is not a string");
    return jwk[member].get<std::string>();
}

// The key as a VerificationKey, or nullopt for one sign-in does not use.
std::optional<VerificationKey> verification_key(const nlohmann::json& jwk) {
    require(jwk.is_object(), "a key is not an object");
    const auto type = text_member(jwk, "kty");
    require(type.has_value(), "a key lacks \"kty\"");
    if (text_member(jwk, "use").value_or("sig") != "sig") return std::nullopt;
    const auto algorithm = text_member(jwk, "alg");
    VerificationKey key{text_member(jwk, "kid"), "", ""};
    if (*type == "RSA" && algorithm.value_or("RS256") == "RS256") {
        key.algorithm = "RS256";
        key.pem = rsa_pem(jwk);
    } else if (*type == "EC" && text_member(jwk, "crv") == "P-256" && algorithm.value_or("ES256") == "ES256") {
        key.algorithm = "ES256";
        key.pem = p256_pem(jwk);
    } else {
        return std::nullopt;
    }
    return key;
}

std::vector<VerificationKey> public_keys(const config::Jwt& settings) {
    std::vector<VerificationKey> keys;
    if (!settings.public_key_file.empty()) {
        // The PEM says RSA or EC; libjwt refuses a token whose algorithm does not fit it.
        const auto pem = read_file(settings.public_key_file, "jwt.public_key_file");
        keys.push_back({std::nullopt, "RS256", pem});
        keys.push_back({std::nullopt, "ES256", pem});
    }
    if (!settings.jwks_file.empty())
        for (auto& key : keys_from_jwks(read_file(settings.jwks_file, "jwt.jwks_file"))) keys.push_back(std::move(key));
    return keys;
}

}  // namespace

std::vector<VerificationKey> keys_from_jwks(std::string_view jwks) {
    const auto set = nlohmann::json::parse(jwks, nullptr, false);
    require(set.is_object() && set.contains("keys") && set["keys"].is_array(), "not a JWK set ({\"keys\": [...]})");
    std::vector<VerificationKey> keys;
    for (const auto& jwk : set["keys"])
        if (auto key = verification_key(jwk)) keys.push_back(std::move(*key));
    return keys;
}

JwtVerifier::JwtVerifier(const config::Jwt& settings) : settings_(settings), public_keys_(public_keys(settings)) {}

std::vector<const std::string*> JwtVerifier::keys_for(std::string_view algorithm, const char* kid) const {
    if (algorithm == "HS256") {
        if (settings_.hs256_secret.empty()) return {};
        return {&settings_.hs256_secret};
    }
    const bool named = kid != nullptr && std::any_of(public_keys_.begin(), public_keys_.end(),
                                                     [](const VerificationKey& key) { return key.id.has_value(); });
    std::vector<const std::string*> keys;
    for (const auto& key : public_keys_)
        if (key.algorithm == algorithm && (!named || key.id == kid)) keys.push_back(&key.pem);
    return keys;
}

std::variant<TokenClaims, TokenRejection> JwtVerifier::verify(const std::string& token) const {
    const Jwt unchecked = decode(token, nullptr);
    if (!unchecked || gives_a_key_twice(token)) return TokenRejection::malformed;
    const char* named = jwt_get_header(unchecked.get(), "alg");
    const std::string algorithm = named ? named : "";
    if (keys_for(algorithm, nullptr).empty()) return TokenRejection::unsupported_algorithm;
    const auto keys = keys_for(algorithm, jwt_get_header(unchecked.get(), "kid"));
    if (keys.empty()) return TokenRejection::unknown_key;
    Jwt verified;
    for (const auto* key : keys) {
        verified = decode(token, key);
        // The check libjwt made is the one for the algorithm whose key was given.
        const char* checked = verified ? jwt_alg_str(jwt_get_alg(verified.get())) : nullptr;
        if (checked != nullptr && checked == algorithm) break;
        verified.reset();
    }
    if (!verified) return TokenRejection::bad_signature;
    jwt_t* jwt = verified.get();
    bool malformed_time = false;
    auto expires_at = time_claim(jwt, "exp", malformed_time);
    auto not_before = time_claim(jwt, "nbf", malformed_time);
    return TokenClaims{
        .issuer = string_claim(jwt, "iss"),
        .audience = audience_of(jwt),
        .expires_at = expires_at,
        .not_before = not_before,
        .subject = string_claim(jwt, settings_.user_id_claim),
        .display_name = string_claim(jwt, settings_.display_name_claim),
        .username = string_claim(jwt, settings_.username_claim),
        .malformed_time = malformed_time,
    };
}

}  // namespace confab::net
