// Sessions (docs/api.md, Accounts): signing out everywhere, changing the password (which
// signs out every other session), and a token's expiry ending its open WebSockets.

#include "support/chat_api.hpp"
#include "support/fixture.hpp"

#include <pqxx/pqxx>

#include <gtest/gtest.h>

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
