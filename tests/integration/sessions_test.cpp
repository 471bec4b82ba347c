// Sessions (docs/api.md, Accounts and Sessions): signing out everywhere, changing the password
// (which signs out every other session), a token's expiry ending its open WebSockets, the
// sessions list, revoking one session or all others, and sliding expiry.

#include "support/chat_api.hpp"
#include "support/fixture.hpp"

#include <pqxx/pqxx>

#include <gtest/gtest.h>

#include <algorithm>

namespace confab::test {
namespace {

using SessionsTest = ChatTest;

const std::string password_url = "/api/v1/users/me/password";

TEST_F(SessionsTest, SigningOutEverywhereEndsEveryTokenAndSocketOfTheUser) {
    auto user = register_user(port(), "se");
    const auto second = login(port(), user.username);
    auto other = register_user(port(), "se");
    auto on_first = ws_connect(port(), user.token);
    auto on_second = ws_connect(port(), second);
    auto bystander = ws_connect(port(), other.token);

    EXPECT_EQ(post(port(), user.token, "/api/v1/auth/logout-all").status, 204);
    EXPECT_EQ(on_first->wait_for_close(5s), std::optional<int>(4001));
    EXPECT_EQ(on_second->wait_for_close(5s), std::optional<int>(4001));
    EXPECT_TRUE(IsError(get(port(), user.token, "/api/v1/users/me"), 401, "unauthorized"));
    EXPECT_TRUE(IsError(get(port(), second, "/api/v1/users/me"), 401, "unauthorized"));
    EXPECT_EQ(bystander->request("ping")["type"], "ack") << "another user's socket is untouched";
    EXPECT_EQ(get(port(), login(port(), user.username), "/api/v1/users/me").status, 200) << "signing in again works";
}

TEST_F(SessionsTest, ChangingThePasswordSignsOutEveryOtherSession) {
    auto user = register_user(port(), "sp");
    const auto other_session = login(port(), user.username);
    auto here = ws_connect(port(), user.token);
    auto elsewhere = ws_connect(port(), other_session);

    EXPECT_EQ(put(port(), user.token, password_url,
                  {{"current_password", kPassword}, {"new_password", "a brand new secret"}})
                  .status,
              204);
    EXPECT_EQ(elsewhere->wait_for_close(5s), std::optional<int>(4001));
    EXPECT_TRUE(IsError(get(port(), other_session, "/api/v1/users/me"), 401, "unauthorized"));
    EXPECT_EQ(get(port(), user.token, "/api/v1/users/me").status, 200) << "the caller's own session stays";
    EXPECT_EQ(here->request("ping")["type"], "ack");
    EXPECT_TRUE(IsError(http(port(), "POST", "/api/v1/auth/login",
                             json{{"username", user.username}, {"password", kPassword}}.dump(),
                             {{"Content-Type", "application/json"}}),
                        401, "unauthorized"));
    EXPECT_EQ(get(port(), login(port(), user.username, "a brand new secret"), "/api/v1/users/me").status, 200);
}

TEST_F(SessionsTest, APasswordChangeNeedsTheCurrentPasswordAndAValidNewOne) {
    auto user = register_user(port(), "sq");
    const auto other_session = login(port(), user.username);
    auto wrong = put(port(), user.token, password_url,
                     {{"current_password", "not it at all"}, {"new_password", "whatever 123"}});
    EXPECT_TRUE(IsError(wrong, 403, "forbidden")) << wrong.describe();
    EXPECT_EQ(wrong.json()["error"]["details"]["field"], "current_password");
    EXPECT_TRUE(
        IsError(put(port(), user.token, password_url, {{"current_password", kPassword}, {"new_password", "short"}}),
                400, "bad_request"));
    EXPECT_TRUE(IsError(put(port(), user.token, password_url, {{"current_password", kPassword}}), 400, "bad_request"));
    EXPECT_TRUE(IsError(put(port(), user.token, password_url,
                            {{"current_password", kPassword}, {"new_password", "long enough 1"}, {"extra", 1}}),
                        400, "bad_request"));
    EXPECT_TRUE(
        IsError(http(port(), "PUT", password_url, json{{"current_password", kPassword}}.dump()), 401, "unauthorized"));
    EXPECT_EQ(get(port(), other_session, "/api/v1/users/me").status, 200) << "a refused change signs nobody out";
    EXPECT_EQ(get(port(), login(port(), user.username), "/api/v1/users/me").status, 200) << "the password is unchanged";
}

const std::string sessions_url = "/api/v1/sessions";

// POST /auth/login with a device name; returns the token.
std::string login_from(std::uint16_t port, const std::string& username, const std::string& device_name) {
    const auto response =
        http(port, "POST", "/api/v1/auth/login",
             json{{"username", username}, {"password", kPassword}, {"device_name", device_name}}.dump(),
             {{"Content-Type", "application/json"}});
    if (response.status != 200) throw std::runtime_error("login failed: " + response.describe());
    return response.json()["token"].get<std::string>();
}

json sessions_of(std::uint16_t port, const std::string& token) {
    const auto response = get(port, token, sessions_url);
    if (response.status != 200) throw std::runtime_error("GET /sessions failed: " + response.describe());
    return response.json()["sessions"];
}

// The id of the one session of `sessions` with that device name.
std::string session_named(const json& sessions, const std::string& device_name) {
    for (const auto& session : sessions)
        if (session["device_name"] == device_name) return session["id"].get<std::string>();
    throw std::runtime_error("no session named " + device_name + " in " + sessions.dump());
}

struct Renewal {
    std::string expires_in;  // e.g. "2 hours", how far from now expires_at is set
    std::string used_ago;    // e.g. "1 hour", how long ago last_used_at is set
};

// Moves every session of the user behind the server's back: what time would do.
void age_sessions(const std::string& user_id, const Renewal& to) {
    shared_database().query_value("update auth_tokens set expires_at = now() + interval '" + to.expires_in +
                                  "', last_used_at = now() - interval '" + to.used_ago + "' where user_id = '" +
                                  user_id + "'");
}

// Whether `condition` holds for every session of the user, in the database.
bool every_session(const std::string& user_id, const std::string& condition) {
    return shared_database().query_value("select bool_and(" + condition + ") from auth_tokens where user_id = '" +
                                         user_id + "'") == "t";
}

TEST_F(SessionsTest, TheSessionsListShowsEachDeviceAndMarksTheCallersOwn) {
    auto user = register_user(port(), "sl");
    const auto phone = login_from(port(), user.username, "Phone");
    const auto laptop = login_from(port(), user.username, "Laptop");
    ASSERT_EQ(post(port(), user.token, "/api/v1/auth/logout").status, 204) << "a revoked session is not listed";

    const auto response = get(port(), phone, sessions_url);
    ASSERT_TRUE(IsJson(response, 200)) << response.describe();
    const auto sessions = response.json()["sessions"];
    ASSERT_EQ(sessions.size(), 2u) << sessions.dump();
    for (const auto& session : sessions) {
        EXPECT_TRUE(is_uuid(session["id"]));
        EXPECT_TRUE(is_timestamp(session["created_at"]));
        EXPECT_TRUE(is_timestamp(session["last_used_at"]));
        EXPECT_EQ(session["address"], "127.0.0.1");
        EXPECT_EQ(session["current"], session["device_name"] == "Phone");
        EXPECT_EQ(session.size(), 6u) << "no token or hash is exposed: " << session.dump();
        EXPECT_EQ(response.body.find(phone), std::string::npos);
    }
    EXPECT_NE(session_named(sessions, "Phone"), session_named(sessions, "Laptop"));
    for (const auto& session : sessions_of(port(), laptop))
        EXPECT_EQ(session["current"], session["device_name"] == "Laptop") << "current is the asking token's";
    EXPECT_TRUE(IsError(http(port(), "GET", sessions_url), 401, "unauthorized"));
}

TEST_F(SessionsTest, SessionsArePagedMostRecentlyUsedFirstThenByIdEachOnce) {
    auto user = register_user(port(), "sp");
    for (int i = 0; i < 4; ++i) login_from(port(), user.username, "Tied " + std::to_string(i));
    const auto latest = login_from(port(), user.username, "Latest");
    // Sessions last used at one time: their ids order them. Within the renewal interval, so
    // that paging renews none of them (which would move it).
    shared_database().query_value(
        "update auth_tokens set last_used_at = now() - interval '1 minute' where user_id = '" + user.id + "'");
    shared_database().query_value(
        "update auth_tokens set last_used_at = now() where device_name = 'Latest' and "
        "user_id = '" +
        user.id + "'");
    const auto all = sessions_of(port(), latest);
    ASSERT_EQ(all.size(), 6u) << all.dump();
    const auto first = session_named(all, "Latest");
    std::vector<std::string> tied;
    for (const auto& session : all)
        if (session["id"] != first) tied.push_back(session["id"]);
    std::sort(tied.rbegin(), tied.rend());
    std::vector<std::string> expected{first};
    expected.insert(expected.end(), tied.begin(), tied.end());

    EXPECT_EQ(ids_of(std::vector<json>(all.begin(), all.end())), expected) << "one page, the default 200";
    for (const int limit : {1, 2, 6})
        EXPECT_EQ(ids_of(every_page(port(), latest, sessions_url, "sessions", limit)), expected) << "limit " << limit;

    const std::string chat = create_group(port(), user)["id"];
    for (int i = 0; i < 2; ++i)
        expect_json(post(port(), latest, chat_url(chat) + "/invite-links"), 201, "create invite link");
    const auto links_cursor = first_cursor(port(), latest, chat_url(chat) + "/invite-links");
    EXPECT_TRUE(RefusesBadPages(port(), latest, sessions_url, links_cursor));
}

TEST_F(SessionsTest, ASessionWithoutADeviceNameListsItAsNull) {
    auto user = register_user(port(), "sn");
    const auto sessions = sessions_of(port(), user.token);
    ASSERT_EQ(sessions.size(), 1u);
    EXPECT_TRUE(sessions[0]["device_name"].is_null());
    EXPECT_EQ(sessions[0]["current"], true);
}

TEST_F(SessionsTest, ADeviceNameIsOneTo64CharactersOfPlainText) {
    auto user = register_user(port(), "sv");
    for (const auto& bad : {std::string(65, 'x'), std::string(), std::string("tab\there")}) {
        const auto response =
            http(port(), "POST", "/api/v1/auth/login",
                 json{{"username", user.username}, {"password", kPassword}, {"device_name", bad}}.dump(),
                 {{"Content-Type", "application/json"}});
        EXPECT_TRUE(IsError(response, 400, "bad_request")) << response.describe();
        EXPECT_EQ(response.json()["error"]["details"]["field"], "device_name");
    }
    const auto registered =
        http(port(), "POST", "/api/v1/auth/register",
             json{{"username", unique_username("sv")}, {"password", kPassword}, {"device_name", std::string(65, 'x')}}
                 .dump(),
             {{"Content-Type", "application/json"}});
    EXPECT_TRUE(IsError(registered, 400, "bad_request")) << registered.describe();
    EXPECT_EQ(sessions_of(port(), user.token).size(), 1u) << "no refused sign-in made a session";
}

TEST_F(SessionsTest, RevokingASessionEndsItsTokenAndClosesItsSockets) {
    auto user = register_user(port(), "sd");
    const auto tablet = login_from(port(), user.username, "Tablet");
    auto here = ws_connect(port(), user.token);
    auto there = ws_connect(port(), tablet);
    const auto tablet_id = session_named(sessions_of(port(), user.token), "Tablet");

    EXPECT_EQ(del(port(), user.token, sessions_url + "/" + tablet_id).status, 204);
    EXPECT_EQ(there->wait_for_close(5s), std::optional<int>(4001));
    EXPECT_TRUE(IsError(get(port(), tablet, "/api/v1/users/me"), 401, "unauthorized"));
    EXPECT_EQ(here->request("ping")["type"], "ack") << "the caller's socket stays open";
    EXPECT_EQ(sessions_of(port(), user.token).size(), 1u);
    EXPECT_TRUE(IsError(del(port(), user.token, sessions_url + "/" + tablet_id), 404, "not_found"))
        << "a revoked session is gone";
}

TEST_F(SessionsTest, RevokingTheCallersOwnSessionSignsItOut) {
    auto user = register_user(port(), "so");
    const auto own_id = sessions_of(port(), user.token)[0]["id"].get<std::string>();
    EXPECT_EQ(del(port(), user.token, sessions_url + "/" + own_id).status, 204);
    EXPECT_TRUE(IsError(get(port(), user.token, "/api/v1/users/me"), 401, "unauthorized"));
}

TEST_F(SessionsTest, AnotherUsersSessionOrAnUnknownIdIsNotFound) {
    auto user = register_user(port(), "sa");
    auto other = register_user(port(), "sa");
    auto others_socket = ws_connect(port(), other.token);
    const auto others_id = sessions_of(port(), other.token)[0]["id"].get<std::string>();

    for (const auto& id : {others_id, random_uuid(), std::string("not-a-uuid")}) {
        auto target = sessions_url + "/";
        target += id;
        EXPECT_TRUE(IsError(del(port(), user.token, target), 404, "not_found")) << id;
    }
    EXPECT_EQ(get(port(), other.token, "/api/v1/users/me").status, 200) << "the other user is still signed in";
    EXPECT_EQ(others_socket->request("ping")["type"], "ack");
    EXPECT_TRUE(IsError(http(port(), "DELETE", sessions_url + "/" + others_id), 401, "unauthorized"));
}

TEST_F(SessionsTest, RevokingAllOtherSessionsKeepsTheCallersOwn) {
    auto user = register_user(port(), "sk");
    const auto second = login_from(port(), user.username, "Second");
    const auto third = login_from(port(), user.username, "Third");
    auto here = ws_connect(port(), user.token);
    auto on_second = ws_connect(port(), second);
    auto on_third = ws_connect(port(), third);

    EXPECT_EQ(del(port(), user.token, sessions_url).status, 204);
    EXPECT_EQ(on_second->wait_for_close(5s), std::optional<int>(4001));
    EXPECT_EQ(on_third->wait_for_close(5s), std::optional<int>(4001));
    EXPECT_TRUE(IsError(get(port(), second, "/api/v1/users/me"), 401, "unauthorized"));
    EXPECT_TRUE(IsError(get(port(), third, "/api/v1/users/me"), 401, "unauthorized"));
    EXPECT_EQ(here->request("ping")["type"], "ack");
    const auto left = sessions_of(port(), user.token);
    ASSERT_EQ(left.size(), 1u);
    EXPECT_EQ(left[0]["current"], true);
}

// A session used after the renewal interval (auth.session_renew_interval_seconds, 300 by
// default) is renewed for auth.token_ttl_hours (720) from that use; one used within it is not
// written at all.
TEST_F(SessionsTest, ASessionUsedAfterTheRenewalIntervalSlidesItsExpiry) {
    auto user = register_user(port(), "sr");
    age_sessions(user.id, {.expires_in = "2 hours", .used_ago = "1 hour"});
    EXPECT_EQ(get(port(), user.token, "/api/v1/users/me").status, 200);
    EXPECT_TRUE(every_session(user.id, "expires_at > now() + interval '700 hours'")) << "720 hours from this use";
    EXPECT_TRUE(every_session(user.id, "last_used_at > now() - interval '1 minute'"));
}

TEST_F(SessionsTest, ASessionUsedWithinTheRenewalIntervalIsNotWritten) {
    auto user = register_user(port(), "sw");
    age_sessions(user.id, {.expires_in = "2 hours", .used_ago = "1 minute"});
    EXPECT_EQ(get(port(), user.token, "/api/v1/users/me").status, 200);
    EXPECT_TRUE(every_session(user.id, "expires_at < now() + interval '3 hours'")) << "still the expiry it had";
    EXPECT_TRUE(every_session(user.id, "last_used_at < now() - interval '50 seconds'"));
}

// The token's expiry is moved close behind the server's back; a socket opened on it closes
// with 4001 when it passes, without any request.
TEST_F(SessionsTest, AnExpiringTokenClosesItsOpenSockets) {
    auto user = register_user(port(), "sx");
    {
        pqxx::connection db(database_url());
        pqxx::work tx(db);
        tx.exec("update auth_tokens set expires_at = now() + interval '2 seconds' where user_id = '" + user.id + "'");
        tx.commit();
    }
    auto ws = ws_connect(port(), user.token);
    EXPECT_EQ(ws->request("ping")["type"], "ack");
    EXPECT_EQ(ws->wait_for_close(10s), std::optional<int>(4001));
    EXPECT_TRUE(IsError(get(port(), user.token, "/api/v1/users/me"), 401, "unauthorized"));
}

// The socket's token is renewed behind its back (as a use on another connection does): when
// the expiry it knew passes, it finds the new one and stays open.
TEST_F(SessionsTest, ASocketWhoseTokenWasRenewedMeanwhileStaysOpenPastTheOldExpiry) {
    auto user = register_user(port(), "sy");
    age_sessions(user.id, {.expires_in = "2 seconds", .used_ago = "0 seconds"});
    auto ws = ws_connect(port(), user.token);
    EXPECT_EQ(ws->request("ping")["type"], "ack");
    age_sessions(user.id, {.expires_in = "1 hour", .used_ago = "0 seconds"});
    EXPECT_EQ(ws->wait_for_close(5s), std::nullopt) << "still open past the old expiry";
    EXPECT_EQ(ws->request("ping")["type"], "ack");
}

// A socket checks its token against the database once it is in the hub: what catches a
// logout that revoked the token after the upgrade authenticated and closed the user's
// sockets before this one joined. Here the upgrade is authenticated from the token cache
// while the database already has the token revoked (behind the cache's back), which is the
// state that race leaves: before the check, such a socket stayed open.
TEST(SessionsRecheck, ASocketWhoseTokenWasRevokedBeforeItJoinedTheHubIsClosed) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(shared_database().url(),
                         std::map<std::string, std::string>{{"CONFAB_OVERLOAD_TOKEN_CACHE_SECONDS", "300"}});
    auto user = register_user(server.port(), "sr");
    ASSERT_EQ(get(server.port(), user.token, "/api/v1/users/me").status, 200);  // now cached
    {
        pqxx::connection db(shared_database().url());
        pqxx::work tx(db);
        tx.exec("update auth_tokens set revoked_at = now() where user_id = '" + user.id + "'");
        tx.commit();
    }
    auto ws = WsClient::connect(server.port(), "/api/v1/ws", auth_header(user.token));
    ASSERT_TRUE(ws.ok()) << "the upgrade itself is answered from the cache";
    EXPECT_EQ(ws.client->wait_for_close(10s), std::optional<int>(4001));
    EXPECT_EQ(server.terminate(10s), 0);
}

}  // namespace
}  // namespace confab::test
