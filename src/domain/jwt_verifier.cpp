#include "confab/domain/jwt_verifier.hpp"

#include <jwt.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace confab::domain {
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

std::optional<std::string> string_claim(jwt_t* jwt, const std::string& name) {
    if (name.empty()) return std::nullopt;
    const char* value = jwt_get_grant(jwt, name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
}

std::optional<std::int64_t> time_claim(jwt_t* jwt, const char* name) {
    errno = 0;
    const long value = jwt_get_grant_int(jwt, name);
    if (errno != 0) return std::nullopt;
    return value;
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

std::string read_key(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream contents;
    contents << in.rdbuf();
    if (!in || contents.str().empty())
        throw std::runtime_error("jwt.public_key_file: cannot read a PEM public key from " + path);
    return std::move(contents).str();
}

}  // namespace

JwtVerifier::JwtVerifier(const config::Jwt& settings)
    : settings_(settings), public_key_(settings.public_key_file.empty() ? "" : read_key(settings.public_key_file)) {}

const std::string* JwtVerifier::key_for(std::string_view algorithm) const {
    if (algorithm == "HS256" && !settings_.hs256_secret.empty()) return &settings_.hs256_secret;
    if ((algorithm == "RS256" || algorithm == "ES256") && !public_key_.empty()) return &public_key_;
    return nullptr;
}

std::variant<TokenClaims, TokenRejection> JwtVerifier::verify(const std::string& token) const {
    const Jwt unchecked = decode(token, nullptr);
    if (!unchecked) return TokenRejection::malformed;
    const char* named = jwt_get_header(unchecked.get(), "alg");
    const std::string algorithm = named ? named : "";
    const std::string* key = key_for(algorithm);
    if (key == nullptr) return TokenRejection::unsupported_algorithm;
    const Jwt verified = decode(token, key);
    // The check libjwt made is the one for the algorithm whose key was given.
    const char* checked = verified ? jwt_alg_str(jwt_get_alg(verified.get())) : nullptr;
    if (checked == nullptr || checked != algorithm) return TokenRejection::bad_signature;
    jwt_t* jwt = verified.get();
    return TokenClaims{
        .issuer = string_claim(jwt, "iss"),
        .audience = audience_of(jwt),
        .expires_at = time_claim(jwt, "exp"),
        .not_before = time_claim(jwt, "nbf"),
        .subject = string_claim(jwt, settings_.user_id_claim),
        .display_name = string_claim(jwt, settings_.display_name_claim),
        .username = string_claim(jwt, settings_.username_claim),
    };
}

}  // namespace confab::domain
