#include "confab/domain/external_token.hpp"

#include "confab/domain/validation.hpp"

#include <algorithm>

namespace confab::domain {

std::string_view reason(TokenRejection rejection) {
    switch (rejection) {
        case TokenRejection::disabled: return "disabled";
        case TokenRejection::malformed: return "malformed";
        case TokenRejection::unsupported_algorithm: return "unsupported algorithm";
        case TokenRejection::bad_signature: return "bad signature";
        case TokenRejection::unknown_key: return "unknown key";
        case TokenRejection::expired: return "expired";
        case TokenRejection::not_yet_valid: return "not yet valid";
        case TokenRejection::wrong_issuer: return "wrong issuer";
        case TokenRejection::wrong_audience: return "wrong audience";
        case TokenRejection::missing_claim: return "missing claim";
    }
    return "rejected";
}

std::optional<TokenRejection> check_claims(const TokenClaims& claims, const ClaimRules& rules, std::int64_t now) {
    const auto skew = rules.clock_skew.count();
    // A token without an expiry would sign in forever: the host must say how long it is good for.
    if (!claims.expires_at || claims.malformed_time) return TokenRejection::missing_claim;
    // The skew moves `now`, not the claim: a claim may be any 64-bit number, `now` is not.
    if (now - skew >= *claims.expires_at) return TokenRejection::expired;
    if (claims.not_before && now + skew < *claims.not_before) return TokenRejection::not_yet_valid;
    if (claims.issuer != rules.issuer) return TokenRejection::wrong_issuer;
    if (std::find(claims.audience.begin(), claims.audience.end(), rules.audience) == claims.audience.end())
        return TokenRejection::wrong_audience;
    // A user id the server API could not name (external_id) would be a user it cannot manage.
    if (!claims.subject || !is_external_id(*claims.subject)) return TokenRejection::missing_claim;
    return std::nullopt;
}

}  // namespace confab::domain
