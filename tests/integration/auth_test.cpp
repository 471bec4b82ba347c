// POST /api/v1/auth/register, /login, /logout and bearer-token authentication.

#include <set>
#include <thread>
#include <vector>
#include <string>

#include <gtest/gtest.h>

#include "support/fixture.hpp"

namespace confab::test {
namespace {

using AuthTest = ConfabTest;

std::string repeat(const std::string& s, std::size_t n) {
    std::string out;
    for (std::size_t i = 0; i < n; ++i) out += s;
    return out;
}

HttpResponse register_raw(std::uint16_t port, const std::string& body) {
    return http(port, "POST", "/api/v1/auth/register", body);
}

HttpResponse register_json(std::uint16_t port, const json& body) { return register_raw(port, body.dump()); }

HttpResponse login_json(std::uint16_t port, const json& body) {
    return http(port, "POST", "/api/v1/auth/login", body.dump());
}

// ---------------------------------------------------------------------------------------------
// register

TEST_F(AuthTest, RegisterReturns201WithUserModelAndToken) {
    auto name = unique_username("reg");
    auto r = register_json(port(), {{"username", name}, {"password", kPassword}});
    ASSERT_TRUE(IsJson(r, 201));
    EXPECT_FALSE(r.header("x-request-id").empty());
    auto j = r.json();
    ASSERT_TRUE(j.contains("user")) << r.body;
    ASSERT_TRUE(j.contains("token")) << r.body;
    const auto& u = j["user"];
    EXPECT_TRUE(IsUserModel(u));
    EXPECT_EQ(u["username"], name);
    EXPECT_EQ(u["display_name"], name) << "display_name defaults to the username";
    EXPECT_TRUE(u["avatar_url"].is_null()) << r.body;
    ASSERT_TRUE(j["token"].is_string()) << r.body;
    EXPECT_FALSE(j["token"].get<std::string>().empty());

    // The token works right away and /users/me is the same user.
    auto me = get(port(), j["token"], "/api/v1/users/me");
    ASSERT_TRUE(IsJson(me, 200));
    EXPECT_EQ(me.json(), u);
}

TEST_F(AuthTest, RegisterKeepsDisplayNameExactly) {
    // No trimming, no normalisation: "e" + combining acute, leading/trailing spaces, emoji.
    std::string display = " Zoe\xCC\x81 \xF0\x9F\x9A\x80 ";
    auto name = unique_username("dn");
    auto r = register_json(port(), {{"username", name}, {"password", kPassword}, {"display_name", display}});
    ASSERT_TRUE(IsJson(r, 201));
    EXPECT_EQ(r.json()["user"]["display_name"], display);
    auto me = get(port(), r.json()["token"], "/api/v1/users/me");
    EXPECT_EQ(me.json()["display_name"], display);
}

TEST_F(AuthTest, RegisterAcceptsUsernameBoundaries) {
    // Exactly 3 and exactly 32 characters, every allowed character class.
    for (std::string name :
         {"a" + random_alnum(2), "x_." + random_alnum(29), "9" + random_alnum(1) + "_", "." + random_alnum(5) + "."}) {
        auto r = register_json(port(), {{"username", name}, {"password", kPassword}});
        EXPECT_TRUE(IsJson(r, 201)) << "username \"" << name << "\" (" << name.size() << " chars)";
        if (r.status == 201) {
            EXPECT_EQ(r.json()["user"]["username"], name);
        }
    }
}

TEST_F(AuthTest, RegisterRejectsInvalidUsernames) {
    std::string base = random_alnum(6);
    const std::vector<std::string> bad = {
        "",                      // empty
        "ab",                    // too short
        "a" + random_alnum(32),  // 33 characters
        "Upper" + base,          // upper case
        "has space" + base,      // space
        "dash-" + base,          // '-'
        "at@" + base,            // '@'
        "\xC3\xA9mile" + base,   // non-ASCII letter
        " " + base,              // leading space
        base + "\n",             // trailing newline
    };
    for (const auto& name : bad) {
        auto r = register_json(port(), {{"username", name}, {"password", kPassword}});
        EXPECT_TRUE(IsError(r, 400, "bad_request")) << "username \"" << name << "\"";
    }
}

TEST_F(AuthTest, RegisterCountsPasswordLengthInCodePoints) {
    struct Case {
        std::string password;
        int status;
        const char* what;
    };
    const std::string e_acute = "\xC3\xA9";  // 1 code point, 2 bytes
    const std::vector<Case> cases = {
        {"1234567", 400, "7 ASCII characters"},
        {"12345678", 201, "8 ASCII characters"},
        {repeat(e_acute, 7), 400, "7 code points (14 bytes)"},
        {repeat(e_acute, 8), 201, "8 code points (16 bytes)"},
        {repeat("p", 256), 201, "256 ASCII characters"},
        {repeat(e_acute, 256), 201, "256 code points (512 bytes)"},
        {repeat("p", 257), 400, "257 ASCII characters"},
        {repeat(e_acute, 257), 400, "257 code points"},
        {"", 400, "empty"},
    };
    for (const auto& c : cases) {
        auto r = register_json(port(), {{"username", unique_username("pw")}, {"password", c.password}});
        if (c.status == 201) {
            EXPECT_TRUE(IsJson(r, 201)) << c.what;
        } else {
            EXPECT_TRUE(IsError(r, 400, "bad_request")) << c.what;
        }
    }
}

TEST_F(AuthTest, PasswordWithMultibyteCharactersLogsIn) {
    std::string password = "p\xC3\xA4ssw\xC3\xB6rt \xF0\x9F\x94\x91";
    auto name = unique_username("mb");
    ASSERT_TRUE(IsJson(register_json(port(), {{"username", name}, {"password", password}}), 201));
    EXPECT_TRUE(IsJson(login_json(port(), {{"username", name}, {"password", password}}), 200));
    EXPECT_TRUE(
        IsError(login_json(port(), {{"username", name}, {"password", "p\xC3\xA4ssw\xC3\xB6rt"}}), 401, "unauthorized"));
}

TEST_F(AuthTest, RegisterChecksDisplayNameLength) {
    const std::string zhe = "\xD0\xB6";  // 1 code point, 2 bytes
    auto ok64 = register_json(port(), {{"username", unique_username("dl")},
                                       {"password", kPassword},
                                       {"display_name", repeat(zhe, 64)}});
    EXPECT_TRUE(IsJson(ok64, 201)) << "64 code points (128 bytes) is allowed";
    auto ok1 =
        register_json(port(), {{"username", unique_username("dl")}, {"password", kPassword}, {"display_name", "X"}});
    EXPECT_TRUE(IsJson(ok1, 201)) << "1 code point is allowed";
    auto too_long = register_json(port(), {{"username", unique_username("dl")},
                                           {"password", kPassword},
                                           {"display_name", repeat(zhe, 65)}});
    EXPECT_TRUE(IsError(too_long, 400, "bad_request")) << "65 code points";
    auto empty =
        register_json(port(), {{"username", unique_username("dl")}, {"password", kPassword}, {"display_name", ""}});
    EXPECT_TRUE(IsError(empty, 400, "bad_request")) << "empty display_name";
}

TEST_F(AuthTest, RegisterRejectsWrongTypesAndMissingFields) {
    auto name = unique_username("ty");
    const std::vector<json> bodies = {
        {{"password", kPassword}},                                           // no username
        {{"username", name}},                                                // no password
        json::object(),                                                      // nothing
        {{"username", 12345}, {"password", kPassword}},                      // number username
        {{"username", nullptr}, {"password", kPassword}},                    // null username
        {{"username", name}, {"password", 12345678}},                        // number password
        {{"username", name}, {"password", true}},                            // bool password
        {{"username", json::array({name})}, {"password", kPassword}},        // array username
        {{"username", name}, {"password", kPassword}, {"display_name", 5}},  // number display_name
        {{"username", name}, {"password", kPassword}, {"display_name", json::object()}},
    };
    for (const auto& body : bodies) {
        EXPECT_TRUE(IsError(register_json(port(), body), 400, "bad_request")) << body.dump();
    }
    // None of those created the user.
    EXPECT_TRUE(IsJson(register_json(port(), {{"username", name}, {"password", kPassword}}), 201));
}

TEST_F(AuthTest, RegisterRejectsMalformedJsonAndNonObjects) {
    auto name = unique_username("mj");
    const std::vector<std::string> bodies = {
        "",
        "{",
        "{\"username\": \"" + name + "\", \"password\": ",
        "not json",
        "[]",
        "[{\"username\": \"" + name + "\", \"password\": \"correct horse 1\"}]",
        "\"" + name + "\"",
        "42",
        "null",
        "{\"username\": \"" + name + "\", \"password\": \"correct horse 1\"} trailing",
        "{\"username\": \"" + name + "\", \"password\": \"bad \xFF utf8\"}",
    };
    for (const auto& body : bodies) {
        EXPECT_TRUE(IsError(register_raw(port(), body), 400, "bad_request")) << "body: " << body;
    }
}

TEST_F(AuthTest, RegisterDuplicateUsernameIs409) {
    auto name = unique_username("dup");
    ASSERT_TRUE(IsJson(register_json(port(), {{"username", name}, {"password", kPassword}}), 201));
    auto again = register_json(port(), {{"username", name}, {"password", "another password"}});
    EXPECT_TRUE(IsError(again, 409, "conflict"));
    // The original password still works: the duplicate did not overwrite anything.
    EXPECT_TRUE(IsJson(login_json(port(), {{"username", name}, {"password", kPassword}}), 200));
    EXPECT_TRUE(
        IsError(login_json(port(), {{"username", name}, {"password", "another password"}}), 401, "unauthorized"));
}

TEST_F(AuthTest, ConcurrentDuplicateRegistrationsCreateOneUser) {
    auto name = unique_username("race");
    std::vector<std::thread> threads;
    std::vector<int> statuses(6, 0);
    for (std::size_t i = 0; i < statuses.size(); ++i) {
        threads.emplace_back([&, i] {
            try {
                statuses[i] = register_json(port(), {{"username", name}, {"password", kPassword}}).status;
            } catch (...) {
                statuses[i] = -1;
            }
        });
    }
    for (auto& t : threads) t.join();
    int created = 0, conflicts = 0;
    for (int s : statuses) {
        if (s == 201) ++created;
        if (s == 409) ++conflicts;
    }
    EXPECT_EQ(created, 1);
    EXPECT_EQ(conflicts, static_cast<int>(statuses.size()) - 1);
}

// ---------------------------------------------------------------------------------------------
// login

TEST_F(AuthTest, LoginReturnsUserAndAFreshTokenEachTime) {
    auto u = register_user(port(), "li");
    auto r1 = login_json(port(), {{"username", u.username}, {"password", kPassword}});
    ASSERT_TRUE(IsJson(r1, 200));
    auto j1 = r1.json();
    EXPECT_TRUE(IsUserModel(j1["user"]));
    EXPECT_EQ(j1["user"], u.user);
    ASSERT_TRUE(j1["token"].is_string());
    auto r2 = login_json(port(), {{"username", u.username}, {"password", kPassword}});
    ASSERT_TRUE(IsJson(r2, 200));
    auto t1 = j1["token"].get<std::string>();
    auto t2 = r2.json()["token"].get<std::string>();
    EXPECT_FALSE(t1.empty());
    EXPECT_NE(t1, u.token);
    EXPECT_NE(t1, t2);
    // All three tokens work.
    for (const auto& t : {u.token, t1, t2}) EXPECT_EQ(get(port(), t, "/api/v1/users/me").status, 200);
}

TEST_F(AuthTest, LoginFailuresAre401WithTheSameMessage) {
    auto u = register_user(port(), "lf");
    auto wrong_password = login_json(port(), {{"username", u.username}, {"password", "wrong password!"}});
    auto unknown_user = login_json(port(), {{"username", unique_username("nobody")}, {"password", kPassword}});
    ASSERT_TRUE(IsError(wrong_password, 401, "unauthorized"));
    ASSERT_TRUE(IsError(unknown_user, 401, "unauthorized"));
    EXPECT_EQ(wrong_password.json()["error"]["message"], unknown_user.json()["error"]["message"])
        << "the message must not reveal whether the user exists";
    // Case matters: usernames are lower-case only, so an upper-cased one is not the user.
    const auto upper = upper_cased(u.username);
    auto r = login_json(port(), {{"username", upper}, {"password", kPassword}});
    EXPECT_NE(r.status, 200) << r.describe();
}

TEST_F(AuthTest, LoginRejectsMalformedBodies) {
    EXPECT_TRUE(IsError(http(port(), "POST", "/api/v1/auth/login", std::string("{")), 400, "bad_request"));
    EXPECT_TRUE(IsError(http(port(), "POST", "/api/v1/auth/login", std::string("[]")), 400, "bad_request"));
    EXPECT_TRUE(IsError(login_json(port(), {{"username", "someone"}}), 400, "bad_request"));
    EXPECT_TRUE(IsError(login_json(port(), {{"username", 5}, {"password", kPassword}}), 400, "bad_request"));
}

// ---------------------------------------------------------------------------------------------
// bearer tokens

TEST_F(AuthTest, ProtectedEndpointsRequireAValidBearerToken) {
    auto u = register_user(port(), "bt");
    const std::vector<std::pair<std::string, std::map<std::string, std::string>>> cases = {
        {"no Authorization header", {}},
        {"empty header", {{"Authorization", ""}}},
        {"scheme only", {{"Authorization", "Bearer"}}},
        {"scheme and space", {{"Authorization", "Bearer "}}},
        {"garbage token", {{"Authorization", "Bearer !!garbage!!"}}},
        {"unknown well-formed token", {{"Authorization", "Bearer " + random_alnum(43)}}},
        {"token with a changed character",
         {{"Authorization", "Bearer " + u.token.substr(0, u.token.size() - 1) + (u.token.back() == 'A' ? "B" : "A")}}},
        {"Basic scheme", {{"Authorization", "Basic dXNlcjpwYXNz"}}},
        {"token without scheme", {{"Authorization", u.token}}},
        {"Token scheme", {{"Authorization", "Token " + u.token}}},
    };
    for (const auto& [what, headers] : cases) {
        for (const char* target : {"/api/v1/users/me", "/api/v1/users?query=a"}) {
            auto r = http(port(), "GET", target, std::nullopt, headers);
            EXPECT_TRUE(IsError(r, 401, "unauthorized")) << what << " on " << target;
        }
        auto r = http(port(), "POST", "/api/v1/auth/logout", std::nullopt, headers);
        EXPECT_TRUE(IsError(r, 401, "unauthorized")) << what << " on logout";
    }
    // The real token still works after all that.
    EXPECT_EQ(get(port(), u.token, "/api/v1/users/me").status, 200);
}

TEST_F(AuthTest, BearerSchemeIsCaseInsensitive) {
    // RFC 9110 11.1: the auth scheme is case-insensitive.
    auto u = register_user(port(), "ci");
    for (const char* scheme : {"Bearer ", "bearer ", "BEARER "}) {
        auto r = http(port(), "GET", "/api/v1/users/me", std::nullopt, {{"Authorization", scheme + u.token}});
        EXPECT_EQ(r.status, 200) << "scheme \"" << scheme << "\": " << r.describe();
    }
}

// Enable once per-IP auth rate limiting (PROTOCOL.md limits table) is implemented.
TEST(AuthRateLimitTest, RegisterAndLoginArePerIpRateLimited) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(shared_database().url(), ServerProcess::Options{{{"CONFAB_LIMIT_AUTH_PER_IP_PER_MINUTE", "5"}},
                                                                         true,
                                                                         30s,
                                                                         "rate-limited confab"});
    auto u = register_user(server.port(), "rl");  // attempt 1
    for (int i = 2; i <= 5; ++i) {
        auto r = login_json(server.port(), {{"username", u.username}, {"password", i % 2 ? kPassword : "wrong pass"}});
        EXPECT_NE(r.status, 429) << "attempt " << i << " is within the limit";
    }
    auto limited = login_json(server.port(), {{"username", u.username}, {"password", kPassword}});
    ASSERT_TRUE(IsError(limited, 429, "rate_limited"));
    EXPECT_FALSE(limited.header("retry-after").empty());
    auto details = limited.json()["error"].value("details", json::object());
    EXPECT_TRUE(details.contains("retry_after_ms") && details["retry_after_ms"].is_number_integer()) << limited.body;
    auto reg = register_json(server.port(), {{"username", unique_username("rl")}, {"password", kPassword}});
    EXPECT_TRUE(IsError(reg, 429, "rate_limited")) << "register and login share the limit";
    // Authenticated endpoints are not affected.
    EXPECT_EQ(get(server.port(), u.token, "/api/v1/users/me").status, 200);
    EXPECT_EQ(server.terminate(10s), 0);
}

// The test can only connect from 127.0.0.1, so the per-address limit is left at the suite's
// 1,000,000: every 429 below comes from the per-account limit, which does not care where the
// guesses come from (unit tests: AddressKey.* for the /64 keying of the per-address limit).
TEST(AuthRateLimitTest, WrongPasswordsArePerAccountLimitedWhateverTheAddress) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(shared_database().url(), std::map<std::string, std::string>{
                                                      {"CONFAB_LIMIT_LOGIN_FAILURES_PER_ACCOUNT_PER_MINUTE", "3"}});
    const auto port = server.port();
    auto victim = register_user(port, "pa");
    auto bystander = register_user(port, "pa");
    EXPECT_EQ(login_json(port, {{"username", victim.username}, {"password", kPassword}}).status, 200)
        << "a right password is no failure";
    for (int i = 1; i <= 3; ++i)
        EXPECT_TRUE(
            IsError(login_json(port, {{"username", victim.username}, {"password", "wrong pass"}}), 401, "unauthorized"))
            << "failure " << i << " is within the limit";
    const auto limited = login_json(port, {{"username", victim.username}, {"password", kPassword}});
    ASSERT_TRUE(IsError(limited, 429, "rate_limited")) << "no password is checked once the account's limit is spent";
    EXPECT_FALSE(limited.header("retry-after").empty());
    EXPECT_TRUE(limited.json()["error"]["details"]["retry_after_ms"].is_number_integer());
    EXPECT_EQ(login_json(port, {{"username", bystander.username}, {"password", kPassword}}).status, 200)
        << "other accounts from the same address are not affected";

    const auto nobody = unique_username("pa");  // unknown names are limited alike, so 429 tells nothing
    for (int i = 1; i <= 3; ++i)
        EXPECT_EQ(login_json(port, {{"username", nobody}, {"password", "wrong pass"}}).status, 401);
    EXPECT_TRUE(IsError(login_json(port, {{"username", nobody}, {"password", "wrong pass"}}), 429, "rate_limited"));
    EXPECT_EQ(server.terminate(10s), 0);
}

// ---------------------------------------------------------------------------------------------
// logout

TEST_F(AuthTest, LogoutRevokesOnlyThatToken) {
    auto u = register_user(port(), "lo");
    auto second = login(port(), u.username);

    auto r = http(port(), "POST", "/api/v1/auth/logout", std::nullopt, auth_header(u.token));
    ASSERT_EQ(r.status, 204) << r.describe();
    EXPECT_TRUE(r.body.empty()) << r.describe();
    EXPECT_FALSE(r.header("x-request-id").empty());

    EXPECT_TRUE(IsError(get(port(), u.token, "/api/v1/users/me"), 401, "unauthorized"));
    EXPECT_TRUE(IsError(get(port(), u.token, "/api/v1/users/" + u.id), 401, "unauthorized"));
    EXPECT_TRUE(IsError(get(port(), u.token, "/api/v1/users?query=lo"), 401, "unauthorized"));
    EXPECT_TRUE(
        IsError(http(port(), "POST", "/api/v1/auth/logout", std::nullopt, auth_header(u.token)), 401, "unauthorized"))
        << "a revoked token cannot log out again";

    // The user's other session is untouched, and the user can log in again.
    auto me = get(port(), second, "/api/v1/users/me");
    ASSERT_TRUE(IsJson(me, 200));
    EXPECT_EQ(me.json()["id"], u.id);
    auto third = login(port(), u.username);
    EXPECT_EQ(get(port(), third, "/api/v1/users/me").status, 200);
}

TEST_F(AuthTest, LogoutWithABodyStillWorks) {
    auto u = register_user(port(), "lb");
    auto r = post(port(), u.token, "/api/v1/auth/logout", json::object());
    EXPECT_EQ(r.status, 204) << r.describe();
    EXPECT_EQ(get(port(), u.token, "/api/v1/users/me").status, 401);
}

TEST_F(AuthTest, LogoutClosesWebSocketsOnThatTokenWith4001) {
    auto u = register_user(port(), "lw");
    auto other_token = login(port(), u.username);
    auto ws = ws_connect(port(), u.token);
    auto ws_query = WsClient::connect(port(), "/api/v1/ws?access_token=" + url_encode(u.token));
    ASSERT_TRUE(ws_query.ok()) << ws_query.status << " " << ws_query.body;
    auto ws_other = ws_connect(port(), other_token);
    // Make sure all three sessions are fully registered before logging out.
    EXPECT_EQ(ws->request("ping")["type"], "ack");
    EXPECT_EQ(ws_query.client->request("ping")["type"], "ack");
    EXPECT_EQ(ws_other->request("ping")["type"], "ack");

    auto r = http(port(), "POST", "/api/v1/auth/logout", std::nullopt, auth_header(u.token));
    ASSERT_EQ(r.status, 204) << r.describe();

    EXPECT_EQ(ws->wait_for_close(5s), std::optional<int>(4001));
    EXPECT_EQ(ws_query.client->wait_for_close(5s), std::optional<int>(4001));
    // The session on the other token stays open.
    EXPECT_TRUE(ws_other->is_open());
    auto ack = ws_other->request("ping");
    EXPECT_EQ(ack["type"], "ack") << ack.dump();

    // And the revoked token cannot open a new WebSocket.
    auto again = WsClient::connect(port(), "/api/v1/ws", auth_header(u.token));
    EXPECT_FALSE(again.ok());
    EXPECT_EQ(again.status, 401);
}

}  // namespace
}  // namespace confab::test
