// Sign-in with the host application (docs/api.md): tokens signed by the host's backend
// (HS256 with a shared secret, RS256 or ES256 with a public key) exchanged for a Confab
// session, the user created on first use; every way a token can be wrong answered 401 with
// its reason; attempts limited like password sign-ins; either sign-in mode switched off.
// Tokens are signed here with libjwt, with the key pairs of tests/fixtures/jwt.

#include "support/api.hpp"
#include "support/fixture.hpp"
#include "support/host_token.hpp"

#include <algorithm>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>

namespace confab::test {
namespace {

const std::string issuer = "https://host.example";
const std::string audience = "confab-chat";
const std::string secret = "the host app's shared secret, 32+ chars";
const std::string exchange_url = "/api/v1/auth/token-exchange";

std::string fixture_path(const std::string& name) {
    const char* dir = std::getenv("CONFAB_SOURCE_DIR");  // NOLINT(concurrency-mt-unsafe)
    return std::string(dir ? dir : ".") + "/tests/fixtures/jwt/" + name;
}

std::string fixture(const std::string& name) {
    std::ifstream in(fixture_path(name), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (text.str().empty()) throw std::runtime_error("missing fixture " + fixture_path(name));
    return text.str();
}

std::int64_t now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

json claims_for(const std::string& subject) {
    return {{"iss", issuer},          {"aud", audience},    {"sub", subject},
            {"name", "Ada Lovelace"}, {"exp", now() + 600}, {"iat", now()}};
}

std::string hs256(const json& claims) { return sign_host_token(JWT_ALG_HS256, secret, claims); }

HttpResponse exchange(std::uint16_t port, const std::string& token, std::optional<std::string> device = {}) {
    json body{{"token", token}};
    if (device) body["device_name"] = *device;
    return http(port, "POST", exchange_url, body.dump(), {{"Content-Type", "application/json"}});
}

::testing::AssertionResult IsRejected(const HttpResponse& r, const std::string& reason) {
    auto shape = IsError(r, 401, "unauthorized");
    if (!shape) return shape;
    const auto message = r.json()["error"]["message"];
    if (message != "token rejected: " + reason)
        return ::testing::AssertionFailure() << "expected reason '" << reason << "', got " << message;
    if (r.json()["error"]["details"]["field"] != "token")
        return ::testing::AssertionFailure() << "details.field is not token: " << r.body;
    auto word = reason;
    std::replace(word.begin(), word.end(), ' ', '_');
    if (r.json()["error"]["details"]["reason"] != word)
        return ::testing::AssertionFailure() << "details.reason is not " << word << ": " << r.body;
    return ::testing::AssertionSuccess();
}

std::map<std::string, std::string> jwt_settings(std::map<std::string, std::string> more = {}) {
    std::map<std::string, std::string> env{{"CONFAB_JWT_ENABLED", "true"},
                                           {"CONFAB_JWT_HS256_SECRET", secret},
                                           {"CONFAB_JWT_PUBLIC_KEY_FILE", fixture_path("rs256_public.pem")},
                                           {"CONFAB_JWT_ISSUER", issuer},
                                           {"CONFAB_JWT_AUDIENCE", audience}};
    for (auto& [name, value] : more) env[name] = value;
    return env;
}

// One server with an HS256 secret and an RS256 public key for the tests that need no settings
// of their own.
// Its tests make more sign-in attempts together than one address may by default.
std::map<std::string, std::string> shared_jwt_settings() {
    return jwt_settings({{"CONFAB_LIMIT_AUTH_PER_IP_PER_MINUTE", "1000"}});
}

using JwtSignInTest = OwnServerSuite<shared_jwt_settings>;

TEST_F(JwtSignInTest, AValidTokenCreatesTheUserOnceAndSignsInAsThemAgain) {
    const auto subject = "host-user-" + random_alnum(8);
    const auto first = exchange(port(), hs256(claims_for(subject)), "Phone");
    ASSERT_TRUE(IsJson(first, 200)) << first.describe();
    EXPECT_TRUE(IsUserModel(first.json()["user"]));
    EXPECT_EQ(first.json()["user"]["display_name"], "Ada Lovelace");
    const auto username = first.json()["user"]["username"].get<std::string>();
    EXPECT_TRUE(std::regex_match(username, std::regex("^[a-z0-9_.]{3,32}$"))) << username;
    const auto token = first.json()["token"].get<std::string>();
    const auto me = get(port(), token, "/api/v1/users/me");
    ASSERT_EQ(me.status, 200) << me.describe();
    EXPECT_EQ(me.json()["id"], first.json()["user"]["id"]);

    const auto again = exchange(port(), hs256(claims_for(subject)), "Laptop");
    ASSERT_TRUE(IsJson(again, 200)) << again.describe();
    EXPECT_EQ(again.json()["user"]["id"], first.json()["user"]["id"]) << "the same host user is the same Confab user";
    EXPECT_NE(again.json()["token"], first.json()["token"]) << "each exchange is a session of its own";
    const auto sessions = get(port(), token, "/api/v1/sessions").json()["sessions"];
    ASSERT_EQ(sessions.size(), 2u) << sessions.dump();

    const auto someone_else = exchange(port(), hs256(claims_for(subject + "-other")));
    ASSERT_EQ(someone_else.status, 200) << someone_else.describe();
    EXPECT_NE(someone_else.json()["user"]["id"], first.json()["user"]["id"]);
    EXPECT_NE(someone_else.json()["user"]["username"], username);
}

TEST_F(JwtSignInTest, ALaterTokenWithAnotherNameRenamesTheUser) {
    const auto subject = "renamed-" + random_alnum(8);
    const auto first = exchange(port(), hs256(claims_for(subject)));
    ASSERT_TRUE(IsJson(first, 200)) << first.describe();
    auto ws = ws_connect(port(), first.json()["token"].get<std::string>());

    auto claims = claims_for(subject);
    claims["name"] = "Ada King";
    const auto renamed = exchange(port(), hs256(claims));
    ASSERT_TRUE(IsJson(renamed, 200)) << renamed.describe();
    EXPECT_EQ(renamed.json()["user"]["display_name"], "Ada King");
    EXPECT_EQ(renamed.json()["user"]["username"], first.json()["user"]["username"]) << "the username never changes";
    const auto told = ws->receive_type("user.updated");
    ASSERT_TRUE(told.has_value()) << "the user's own connections are told";
    EXPECT_EQ((*told)["data"]["user"]["display_name"], "Ada King");

    claims["name"] = "two\nlines";
    const auto kept = exchange(port(), hs256(claims));
    ASSERT_TRUE(IsJson(kept, 200)) << kept.describe();
    EXPECT_EQ(kept.json()["user"]["display_name"], "Ada King") << "a name that is not a valid display name is ignored";
    claims.erase("name");
    EXPECT_EQ(exchange(port(), hs256(claims)).json()["user"]["display_name"], "Ada King") << "nor does no name";
}

TEST_F(JwtSignInTest, AHostUserHasNoPasswordToSignInWith) {
    const auto created = exchange(port(), hs256(claims_for("host-user-" + random_alnum(8))));
    ASSERT_EQ(created.status, 200) << created.describe();
    const auto login = http(port(), "POST", "/api/v1/auth/login",
                            json{{"username", created.json()["user"]["username"]}, {"password", ""}}.dump(),
                            {{"Content-Type", "application/json"}});
    EXPECT_TRUE(IsError(login, 401, "unauthorized")) << login.describe();
}

// docs/api.md, Deleting the account: a host user has no password, so the authenticated
// request alone confirms; signing in again by token exchange makes a new account.
TEST_F(JwtSignInTest, AHostUserDeletesTheAccountWithoutAPasswordAndComesBackAsANewUser) {
    const auto subject = "host-gone-" + random_alnum(8);
    const auto created = exchange(port(), hs256(claims_for(subject)));
    ASSERT_EQ(created.status, 200) << created.describe();
    const std::string token = created.json()["token"];
    const std::string id = created.json()["user"]["id"];

    const auto deleted = del(port(), token, "/api/v1/users/me");
    ASSERT_EQ(deleted.status, 204) << deleted.describe();
    EXPECT_TRUE(IsError(get(port(), token, "/api/v1/users/me"), 401, "unauthorized"));

    const auto again = exchange(port(), hs256(claims_for(subject)));
    ASSERT_EQ(again.status, 200) << again.describe();
    EXPECT_NE(again.json()["user"]["id"], id);
    const auto tombstone = get(port(), again.json()["token"].get<std::string>(), "/api/v1/users/" + id);
    ASSERT_EQ(tombstone.status, 200) << tombstone.describe();
    EXPECT_EQ(tombstone.json()["deleted"], true);
}

TEST_F(JwtSignInTest, AnRs256TokenVerifiesWithThePublicKey) {
    const auto response = exchange(port(), sign_host_token(JWT_ALG_RS256, fixture("rs256_private.pem"),
                                                           claims_for("rs-user-" + random_alnum(8))));
    ASSERT_TRUE(IsJson(response, 200)) << response.describe();
    EXPECT_EQ(get(port(), response.json()["token"], "/api/v1/users/me").status, 200);
}

TEST_F(JwtSignInTest, AnAudienceArrayNamingConfabIsAccepted) {
    auto claims = claims_for("aud-user-" + random_alnum(8));
    claims["aud"] = json::array({"another-service", audience});
    const auto response = exchange(port(), hs256(claims));
    EXPECT_TRUE(IsJson(response, 200)) << response.describe();
}

TEST_F(JwtSignInTest, ClocksMayDifferByTheConfiguredSkew) {
    auto claims = claims_for("skew-user-" + random_alnum(8));
    claims["exp"] = now() - 20;  // within jwt.clock_skew_seconds (60)
    claims["nbf"] = now() + 20;
    const auto response = exchange(port(), hs256(claims));
    EXPECT_TRUE(IsJson(response, 200)) << response.describe();
}

// RFC 7519 2: a NumericDate may have a fraction.
TEST_F(JwtSignInTest, AFractionalExpiryIsANumericDate) {
    auto claims = claims_for("fraction-user-" + random_alnum(8));
    claims["exp"] = static_cast<double>(now()) + 600.25;
    claims["nbf"] = static_cast<double>(now()) - 0.5;
    const auto response = exchange(port(), hs256(claims));
    EXPECT_TRUE(IsJson(response, 200)) << response.describe();
}

// A date past what 64 bits of seconds hold is still a date: far ahead it has not passed, far
// back it has (an exp of 2^63-60 was "expired" by an overflowing sum, 1e19 a "missing claim").
TEST_F(JwtSignInTest, NumericDatesAtAndPastSixtyFourBitsAreDatesFarAheadOrFarBack) {
    const auto far_ahead = {json(9223372036854775807LL), json(9223372036854775748LL), json(1e19), json(1e300)};
    for (const auto& exp : far_ahead) {
        auto claims = claims_for("far-user-" + random_alnum(8));
        claims["exp"] = exp;
        claims["nbf"] = json(-9223372036854775807LL - 1);
        const auto response = exchange(port(), hs256(claims));
        EXPECT_TRUE(IsJson(response, 200)) << exp.dump() << ": " << response.describe();
    }
    for (const auto& exp : {json(-1e20), json(-9223372036854775807LL - 1)}) {
        auto claims = claims_for("past-user-" + random_alnum(8));
        claims["exp"] = exp;
        EXPECT_TRUE(IsRejected(exchange(port(), hs256(claims)), "expired")) << exp.dump();
    }
    auto claims = claims_for("late-user-" + random_alnum(8));
    claims["nbf"] = json(1e19);
    EXPECT_TRUE(IsRejected(exchange(port(), hs256(claims)), "not yet valid"));
}

TEST_F(JwtSignInTest, EveryWrongTokenIsRefusedWithItsReason) {
    const auto subject = "bad-user-" + random_alnum(8);
    const auto with = [&](const std::string& claim, const json& value) {
        auto claims = claims_for(subject);
        claims[claim] = value;
        return claims;
    };
    const auto without = [&](const std::string& claim) {
        auto claims = claims_for(subject);
        claims.erase(claim);
        return claims;
    };
    const struct {
        std::string what, token, reason;
    } cases[] = {
        {"forged signature", sign_host_token(JWT_ALG_HS256, "another secret of 32 characters!!", claims_for(subject)),
         "bad signature"},
        {"expired", hs256(with("exp", now() - 3600)), "expired"},
        {"not yet valid", hs256(with("nbf", now() + 3600)), "not yet valid"},
        {"wrong issuer", hs256(with("iss", "https://evil.example")), "wrong issuer"},
        {"wrong audience", hs256(with("aud", "another-service")), "wrong audience"},
        {"no subject", hs256(without("sub")), "missing claim"},
        {"numeric subject", hs256(with("sub", 42)), "missing claim"},
        {"no expiry", hs256(without("exp")), "missing claim"},
        {"an expiry that is a string", hs256(with("exp", std::to_string(now() + 600))), "missing claim"},
        {"an expiry that is true", hs256(with("exp", true)), "missing claim"},
        {"a start that is a string", hs256(with("nbf", "yesterday")), "missing claim"},
        {"a subject over 255 bytes", hs256(with("sub", std::string(256, 's'))), "missing claim"},
        {"a subject with a tab", hs256(with("sub", "a\tb")), "missing claim"},
        {"alg none", sign_host_token(JWT_ALG_NONE, "", claims_for(subject)), "unsupported algorithm"},
        {"HS256 keyed with the RS256 public key",
         sign_host_token(JWT_ALG_HS256, fixture("rs256_public.pem"), claims_for(subject)), "bad signature"},
        {"ES256 with no ES256 key configured",
         sign_host_token(JWT_ALG_ES256, fixture("es256_private.pem"), claims_for(subject)), "bad signature"},
        {"HS512", sign_host_token(JWT_ALG_HS512, secret, claims_for(subject)), "unsupported algorithm"},
        {"not a JWT", "not.a.jwt", "malformed"},
    };
    for (const auto& c : cases) EXPECT_TRUE(IsRejected(exchange(port(), c.token), c.reason)) << c.what;
    EXPECT_TRUE(IsError(exchange(port(), ""), 401, "unauthorized"));

    // A claim given twice is malformed, as a request body's key given twice is: which one the
    // host meant cannot be told. The same claims written once each are a good token.
    const auto claims_text = [&](const std::string& subjects) {
        return R"({"iss":")" + issuer + R"(","aud":")" + audience + R"(",)" + subjects + R"(,"exp":)" +
               std::to_string(now() + 600) + "}";
    };
    const auto twice = "\"sub\":\"" + subject + "-a\",\"sub\":\"" + subject + "-b\"";
    EXPECT_TRUE(IsRejected(exchange(port(), sign_hs256_text(secret, claims_text(twice))), "malformed"));
    const auto once = sign_hs256_text(secret, claims_text("\"sub\":\"" + subject + "-c\""));
    EXPECT_TRUE(IsJson(exchange(port(), once), 200)) << "the hand-written token is good with each claim once";
    const auto missing = http(port(), "POST", exchange_url, "{}", {{"Content-Type", "application/json"}});
    EXPECT_TRUE(IsError(missing, 400, "bad_request")) << missing.describe();
    const auto valid = exchange(port(), hs256(claims_for(subject)));
    EXPECT_EQ(valid.status, 200) << "none of them created the user: " << valid.describe();
}

TEST(JwtSignIn, Es256TokensAndPasswordSignInSwitchedOff) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(shared_database().url(),
                         jwt_settings({{"CONFAB_JWT_HS256_SECRET", ""},
                                       {"CONFAB_JWT_PUBLIC_KEY_FILE", fixture_path("es256_public.pem")},
                                       {"CONFAB_PASSWORD_ENABLED", "false"}}));
    const auto signed_in = exchange(server.port(), sign_host_token(JWT_ALG_ES256, fixture("es256_private.pem"),
                                                                   claims_for("es-" + random_alnum(8))));
    ASSERT_TRUE(IsJson(signed_in, 200)) << signed_in.describe();
    EXPECT_TRUE(
        IsRejected(exchange(server.port(), hs256(claims_for("es-" + random_alnum(8)))), "unsupported algorithm"))
        << "no HS256 secret: HS256 tokens are refused";

    const auto registered = http(server.port(), "POST", "/api/v1/auth/register",
                                 json{{"username", unique_username("pw")}, {"password", kPassword}}.dump(),
                                 {{"Content-Type", "application/json"}});
    EXPECT_TRUE(IsError(registered, 403, "forbidden")) << registered.describe();
    EXPECT_EQ(registered.json()["error"]["message"], "password sign-in is disabled");
    const auto login =
        http(server.port(), "POST", "/api/v1/auth/login", json{{"username", "whoever"}, {"password", kPassword}}.dump(),
             {{"Content-Type", "application/json"}});
    EXPECT_TRUE(IsError(login, 403, "forbidden")) << login.describe();
    EXPECT_EQ(server.terminate(10s), 0);
}

// Keys that rotate: the JWK set holds the old and the new RSA key and an EC key, each named by
// its kid; a token's kid picks its key, a token without one is tried against each key of its
// algorithm.
TEST(JwtSignIn, AJwkSetVerifiesEachKeyByItsKid) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(shared_database().url(), jwt_settings({{"CONFAB_JWT_HS256_SECRET", ""},
                                                                {"CONFAB_JWT_PUBLIC_KEY_FILE", ""},
                                                                {"CONFAB_JWT_JWKS_FILE", fixture_path("jwks.json")}}));
    const auto old_key = fixture("rs256_private.pem"), new_key = fixture("rs256_rotated_private.pem");
    const auto accepted = [&](const std::string& token) { return exchange(server.port(), token).status == 200; };
    const auto subject = [] { return "jwks-" + random_alnum(8); };
    EXPECT_TRUE(accepted(sign_host_token(JWT_ALG_RS256, old_key, claims_for(subject()), "2026-11")));
    EXPECT_TRUE(accepted(sign_host_token(JWT_ALG_RS256, new_key, claims_for(subject()), "2026-12")));
    EXPECT_TRUE(accepted(sign_host_token(JWT_ALG_ES256, fixture("es256_private.pem"), claims_for(subject()), "ec-1")));
    EXPECT_TRUE(accepted(sign_host_token(JWT_ALG_RS256, new_key, claims_for(subject()))))
        << "no kid: each RS256 key is tried";

    EXPECT_TRUE(
        IsRejected(exchange(server.port(), sign_host_token(JWT_ALG_RS256, old_key, claims_for(subject()), "2026-12")),
                   "bad signature"))
        << "the kid names the key that must verify it";
    EXPECT_TRUE(
        IsRejected(exchange(server.port(), sign_host_token(JWT_ALG_RS256, new_key, claims_for(subject()), "enc-only")),
                   "unknown key"))
        << "an encryption key does not verify sign-ins";
    EXPECT_TRUE(
        IsRejected(exchange(server.port(), sign_host_token(JWT_ALG_RS256, new_key, claims_for(subject()), "2025-01")),
                   "unknown key"));
    EXPECT_TRUE(IsRejected(exchange(server.port(), sign_host_token(JWT_ALG_ES256, fixture("es256_private.pem"),
                                                                   claims_for(subject()), "2026-11")),
                           "unknown key"))
        << "an RS256 key's kid on an ES256 token";
    EXPECT_TRUE(IsRejected(exchange(server.port(), hs256(claims_for(subject()))), "unsupported algorithm"));
    EXPECT_EQ(server.terminate(10s), 0);
}

TEST(JwtSignIn, AnUnreadableJwkSetStopsTheServer) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(shared_database().url(),
                         {.env = jwt_settings({{"CONFAB_JWT_JWKS_FILE", fixture_path("es256_public.pem")}}),
                          .wait_healthy = false});
    const auto status = server.wait_exit(30s);
    ASSERT_TRUE(status.has_value()) << "the server started with a PEM file for a JWK set";
    EXPECT_NE(*status, 0);
    EXPECT_NE(server.log_contents().find("jwt.jwks_file"), std::string::npos) << server.log_tail();
}

TEST(JwtSignIn, TokenSignInSwitchedOffIsRefused) {
    CONFAB_REQUIRE_DATABASE();
    const auto response = exchange(shared_server().port(), hs256(claims_for("off-" + random_alnum(8))));
    EXPECT_TRUE(IsRejected(response, "disabled")) << response.describe();
}

// Rejected tokens spend the address's budget of bad tokens, as bad bearer tokens do; past it
// even a good one waits, as a right password does past the failures of its account.
TEST(JwtSignIn, RejectedTokensAreRateLimitedPerAddress) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(shared_database().url(),
                         jwt_settings({{"CONFAB_OVERLOAD_FAILED_AUTH_PER_IP_PER_MINUTE", "2"}}));
    auto expired = claims_for("rl-" + random_alnum(8));
    expired["exp"] = now() - 3600;
    EXPECT_TRUE(IsRejected(exchange(server.port(), hs256(expired)), "expired"));
    EXPECT_TRUE(IsRejected(exchange(server.port(), hs256(expired)), "expired"));
    const auto limited = exchange(server.port(), hs256(claims_for("rl-" + random_alnum(8))));
    EXPECT_TRUE(IsError(limited, 429, "rate_limited")) << limited.describe();
    EXPECT_FALSE(limited.header("retry-after").empty());
    EXPECT_EQ(server.terminate(10s), 0);
}

}  // namespace
}  // namespace confab::test
