#pragma once

#include "confab/config/config.hpp"
#include "confab/domain/external_token.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace confab::net {

// A public key that host tokens are verified with: jwt.public_key_file's, or one of
// jwt.jwks_file's, named by its `kid`.
struct VerificationKey {
    std::optional<std::string> id;  // the JWK's kid
    std::string algorithm;          // RS256 or ES256
    std::string pem;                // SubjectPublicKeyInfo, as libjwt reads it
};

// The RSA and EC P-256 signing keys of a JWK set (RFC 7517) as PEM: a key for encryption
// ("use": "enc"), of another type or curve, or whose "alg" is neither RS256 nor ES256 is
// skipped. Throws std::runtime_error when the text is not a JWK set or a key it keeps is
// malformed.
std::vector<VerificationKey> keys_from_jwks(std::string_view jwks);

// Verifies the signature of a host application's token with libjwt (docs/api.md, Sign-in with
// the host application). Each algorithm has its own key: HS256 only the shared secret, RS256 and
// ES256 only a public key, so a token cannot choose how it is checked ("none", or an HS256
// token whose secret is the public key). A token's `kid` picks the key of a JWK set with
// that id (keys rotate by adding the new one to the set before signing with it); without a
// kid, each key for the algorithm is tried. Verifying costs microseconds (HMAC, one RSA or ECDSA
// verify), so it runs where it is called.
class JwtVerifier final : public domain::HostTokenVerifier {
public:
    // Reads jwt.public_key_file and jwt.jwks_file when set; throws std::runtime_error naming
    // the file it cannot read.
    explicit JwtVerifier(const config::Jwt& settings);

    // The token's claims once its signature verified, or why it did not; the claims themselves
    // are then checked by check_claims.
    std::variant<domain::TokenClaims, domain::TokenRejection> verify(const std::string& token) const override;

private:
    // The keys a token signed with `algorithm`, naming `kid` (if any), may verify with; none
    // when a kid names no key of the set.
    std::vector<const std::string*> keys_for(std::string_view algorithm, const char* kid) const;

    config::Jwt settings_;
    std::vector<VerificationKey> public_keys_;
};

}  // namespace confab::net
