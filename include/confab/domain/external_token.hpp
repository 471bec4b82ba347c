#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace confab::domain {

// Why a host application's token (docs/api.md, Sign-in with the host application) was refused;
// each is reported as "token rejected: <reason>".
enum class TokenRejection {
    disabled,               // jwt.enabled is off
    malformed,              // not a JWT, or its claims are not JSON
    unsupported_algorithm,  // "none", or an algorithm no configured key is for
    bad_signature,          // the signature does not verify with the key for its algorithm
    unknown_key,            // its kid names no key of jwt.jwks_file
    expired,                // exp (plus the clock skew) has passed
    not_yet_valid,          // nbf (minus the clock skew) is still ahead
    wrong_issuer,           // iss is not jwt.issuer
    wrong_audience,         // aud does not name jwt.audience
    missing_claim,          // no exp, or no string in the user id claim
};
std::string_view reason(TokenRejection rejection);

// The claims of a token whose signature verified, as far as sign-in reads them.
struct TokenClaims {
    std::optional<std::string> issuer;
    std::vector<std::string> audience;        // aud as a string or an array
    std::optional<std::int64_t> expires_at;   // exp, seconds since the epoch
    std::optional<std::int64_t> not_before;   // nbf
    std::optional<std::string> subject;       // the user id claim (jwt.user_id_claim)
    std::optional<std::string> display_name;  // jwt.display_name_claim
    std::optional<std::string> username;      // jwt.username_claim
    bool malformed_time = false;              // exp or nbf given, but not a number
};

struct ClaimRules {
    std::string issuer;
    std::string audience;
    std::chrono::seconds clock_skew;
};

// The first rule the claims break, checked in this order: exp present and not passed, nbf,
// iss, aud, the user id claim; nullopt when they are acceptable at `now` (seconds since the
// epoch). Both exp and nbf allow rules.clock_skew.
std::optional<TokenRejection> check_claims(const TokenClaims& claims, const ClaimRules& rules, std::int64_t now);

// Checks a host application's token's signature and reads its claims (net/jwt_verifier.hpp:
// libjwt, with jwt.hs256_secret, jwt.public_key_file or jwt.jwks_file); the claims are then
// checked by check_claims.
class HostTokenVerifier {
public:
    virtual ~HostTokenVerifier() = default;
    virtual std::variant<TokenClaims, TokenRejection> verify(const std::string& token) const = 0;
};

}  // namespace confab::domain
