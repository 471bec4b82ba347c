// The claim checks of sign-in with the host application (domain/external_token.hpp): each
// rule on its own, at its edges, and the order in which a token breaking several is reported.

#include "confab/domain/external_token.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace confab::domain {
namespace {

constexpr std::int64_t now = 1'800'000'000;
const ClaimRules rules{"https://host.example", "chat", std::chrono::seconds{60}};

TokenClaims good() {
    return TokenClaims{
        .issuer = "https://host.example",
        .audience = {"chat"},
        .expires_at = now + 600,
        .not_before = std::nullopt,
        .subject = "user-1",
        .display_name = std::nullopt,
        .username = std::nullopt,
    };
}

template <typename Change>
TokenClaims changed(Change change) {
    auto claims = good();
    change(claims);
    return claims;
}

struct Case {
    const char* what;
    TokenClaims claims;
    std::optional<TokenRejection> expected;
};

TEST(CheckClaims, EveryRuleAtItsEdges) {
    const Case cases[] = {
        {"acceptable", good(), std::nullopt},
        {"no exp", changed([](auto& c) { c.expires_at.reset(); }), TokenRejection::missing_claim},
        {"expired beyond the skew", changed([](auto& c) { c.expires_at = now - 60; }), TokenRejection::expired},
        {"expired within the skew", changed([](auto& c) { c.expires_at = now - 59; }), std::nullopt},
        {"nbf ahead beyond the skew", changed([](auto& c) { c.not_before = now + 61; }), TokenRejection::not_yet_valid},
        {"nbf ahead within the skew", changed([](auto& c) { c.not_before = now + 60; }), std::nullopt},
        {"nbf passed", changed([](auto& c) { c.not_before = now - 1; }), std::nullopt},
        {"no iss", changed([](auto& c) { c.issuer.reset(); }), TokenRejection::wrong_issuer},
        {"other iss", changed([](auto& c) { c.issuer = "https://host.example/"; }), TokenRejection::wrong_issuer},
        {"no aud", changed([](auto& c) { c.audience.clear(); }), TokenRejection::wrong_audience},
        {"other aud", changed([](auto& c) { c.audience = {"Chat"}; }), TokenRejection::wrong_audience},
        {"aud among others", changed([](auto& c) {
             c.audience = {"api", "chat"};
         }),
         std::nullopt},
        {"no subject", changed([](auto& c) { c.subject.reset(); }), TokenRejection::missing_claim},
        {"empty subject", changed([](auto& c) { c.subject = ""; }), TokenRejection::missing_claim},
        {"a subject over 255 bytes", changed([](auto& c) { c.subject = std::string(256, 's'); }),
         TokenRejection::missing_claim},
        {"a subject of 255 bytes", changed([](auto& c) { c.subject = std::string(255, 's'); }), std::nullopt},
        {"a subject with a tab", changed([](auto& c) { c.subject = "a\tb"; }), TokenRejection::missing_claim},
        {"a subject with a bidi override", changed([](auto& c) { c.subject = "a\u202eb"; }),
         TokenRejection::missing_claim},
        {"exp or nbf not a number", changed([](auto& c) { c.malformed_time = true; }), TokenRejection::missing_claim},
        {"expired and from another issuer", changed([](auto& c) {
             c.expires_at = now - 3600;
             c.issuer = "https://evil.example";
         }),
         TokenRejection::expired},
        {"another issuer and audience", changed([](auto& c) {
             c.issuer = "https://evil.example";
             c.audience = {"api"};
         }),
         TokenRejection::wrong_issuer},
    };
    for (const auto& c : cases) EXPECT_EQ(check_claims(c.claims, rules, now), c.expected) << c.what;
}

constexpr auto latest = std::numeric_limits<std::int64_t>::max();
constexpr auto earliest = std::numeric_limits<std::int64_t>::min();

TEST(CheckClaims, DatesAtTheEndsOfSixtyFourBitsDoNotOverflow) {
    EXPECT_EQ(check_claims(changed([](auto& c) { c.expires_at = latest; }), rules, now), std::nullopt);
    EXPECT_EQ(check_claims(changed([](auto& c) { c.expires_at = latest - 59; }), rules, now), std::nullopt);
    EXPECT_EQ(check_claims(changed([](auto& c) { c.expires_at = earliest; }), rules, now), TokenRejection::expired);
    EXPECT_EQ(check_claims(changed([](auto& c) { c.not_before = earliest; }), rules, now), std::nullopt);
    EXPECT_EQ(check_claims(changed([](auto& c) { c.not_before = latest; }), rules, now), TokenRejection::not_yet_valid);
}

TEST(CheckClaims, NoSkewMeansTheExactSecond) {
    const ClaimRules strict{rules.issuer, rules.audience, std::chrono::seconds{0}};
    EXPECT_EQ(check_claims(changed([](auto& c) { c.expires_at = now; }), strict, now), TokenRejection::expired);
    EXPECT_EQ(check_claims(changed([](auto& c) { c.expires_at = now + 1; }), strict, now), std::nullopt);
    EXPECT_EQ(check_claims(changed([](auto& c) { c.not_before = now; }), strict, now), std::nullopt);
}

TEST(TokenRejectionReason, NamesEveryReason) {
    EXPECT_EQ(reason(TokenRejection::disabled), "disabled");
    EXPECT_EQ(reason(TokenRejection::malformed), "malformed");
    EXPECT_EQ(reason(TokenRejection::unsupported_algorithm), "unsupported algorithm");
    EXPECT_EQ(reason(TokenRejection::bad_signature), "bad signature");
    EXPECT_EQ(reason(TokenRejection::expired), "expired");
    EXPECT_EQ(reason(TokenRejection::not_yet_valid), "not yet valid");
    EXPECT_EQ(reason(TokenRejection::wrong_issuer), "wrong issuer");
    EXPECT_EQ(reason(TokenRejection::wrong_audience), "wrong audience");
    EXPECT_EQ(reason(TokenRejection::missing_claim), "missing claim");
}

}  // namespace
}  // namespace confab::domain
