#pragma once

#include "confab/config/config.hpp"
#include "confab/domain/external_token.hpp"

#include <string>
#include <string_view>
#include <variant>

namespace confab::domain {

// Verifies the signature of a host application's token with libjwt (docs/api.md, Sign-in with
// the host application). Each algorithm has its own key: HS256 only the shared secret, RS256 and
// ES256 only the public key, so a token cannot choose how it is checked ("none", or an HS256
// token whose secret is the public key). Verifying costs microseconds (HMAC, one RSA or ECDSA
// verify), so it runs where it is called.
class JwtVerifier {
public:
    // Reads jwt.public_key_file when set; throws std::runtime_error naming it if it cannot.
    explicit JwtVerifier(const config::Jwt& settings);

    // The token's claims once its signature verified, or why it did not; the claims themselves
    // are then checked by check_claims.
    std::variant<TokenClaims, TokenRejection> verify(const std::string& token) const;

private:
    const std::string* key_for(std::string_view algorithm) const;

    config::Jwt settings_;
    std::string public_key_;  // PEM
};

}  // namespace confab::domain
