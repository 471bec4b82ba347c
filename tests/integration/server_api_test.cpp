// The host backend's server API (docs/api.md, Server API): a configured key manages users by
// their id in the host application, deactivates them (their sessions and sockets end, their
// sign-ins are refused) and acts on their behalf on the ordinary routes, system messages
// included. A wrong or missing key, a user's token in place of the key, and a server
// without keys are each refused with their own reason.

#include "support/api.hpp"
#include "support/chat_api.hpp"
#include "support/fixture.hpp"
#include "support/host_token.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>

namespace confab::test {
namespace {

const std::string api_key = "the-host-backends-server-api-key-0123456789";
const std::string rotated_key = "the-next-server-api-key-after-rotation-42";
const std::string issuer = "https://host.example";
const std::string audience = "confab-chat";
const std::string secret = "the host app's shared secret, 32+ chars";

std::map<std::string, std::string> key_headers(const std::string& key) {
    return {{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}};
}

std::map<std::string, std::string> on_behalf(const std::string& user_id, const std::string& key = api_key) {
    auto headers = key_headers(key);
    headers["X-On-Behalf-Of"] = user_id;
    return headers;
}

std::string user_url(const std::string& external_id) { return "/api/v1/server/users/" + url_encode(external_id); }

::testing::AssertionResult IsHostUser(const json& j, const std::string& external_id) {
    if (!j.is_object() || j["external_id"] != external_id)
        return ::testing::AssertionFailure() << "not the HostUser of " << external_id << ": " << j.dump();
    if (!j.contains("deactivated_at") || (!j["deactivated_at"].is_null() && !is_timestamp(j["deactivated_at"])))
        return ::testing::AssertionFailure() << "deactivated_at neither null nor a timestamp: " << j.dump();
    return IsUserModel(j["user"]);
}

std::map<std::string, std::string> server_api_settings() {
    return {
        {"CONFAB_SERVER_API_KEYS", api_key + "," + rotated_key},
        {"CONFAB_LIMIT_AUTH_PER_IP_PER_MINUTE", "1000"},
        {"CONFAB_JWT_ENABLED", "true"},
        {"CONFAB_JWT_HS256_SECRET", secret},
        {"CONFAB_JWT_ISSUER", issuer},
        {"CONFAB_JWT_AUDIENCE", audience},
    };
}

class ServerApiTest : public OwnServerSuite<server_api_settings> {
protected:
    static HttpResponse put_user(const std::string& external_id, const json& body, const std::string& key = api_key) {
        return http(port(), "PUT", user_url(external_id), body.dump(), key_headers(key));
    }
    static HttpResponse set_active(const std::string& external_id, bool active) {
        return http(port(), "POST", user_url(external_id) + (active ? "/reactivate" : "/deactivate"), std::string("{}"),
                    key_headers(api_key));
    }
    static HttpResponse exchange(const std::string& external_id) {
        const auto now =
            std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                .count();
        const json claims{{"iss", issuer}, {"aud", audience}, {"sub", external_id}, {"exp", now + 600}};
        return http(port(), "POST", "/api/v1/auth/token-exchange",
                    json{{"token", sign_host_token(JWT_ALG_HS256, secret, claims)}}.dump(),
                    {{"Content-Type", "application/json"}});
    }
    static HttpResponse act(const std::string& method, const std::string& target, const std::string& user_id,
                            const json& body = json::object()) {
        return http(port(), method, target, method == "GET" ? std::nullopt : std::optional(body.dump()),
                    on_behalf(user_id));
    }
};

TEST_F(ServerApiTest, PutCreatesTheUserOnceThenUpdatesTheirProfile) {
    const auto external_id = "auth0|" + random_alnum(10);
    const auto username = unique_username("host");
    const auto created = put_user(external_id, {{"username", username}, {"display_name", "Grace"}, {"bio", "hi"}});
    ASSERT_TRUE(IsJson(created, 201)) << created.describe();
    ASSERT_TRUE(IsHostUser(created.json(), external_id));
    const auto user = created.json()["user"];
    EXPECT_EQ(user["username"], username);
    EXPECT_EQ(user["display_name"], "Grace");
    EXPECT_EQ(user["bio"], "hi");
    EXPECT_EQ(user["is_bot"], false);
    EXPECT_TRUE(created.json()["deactivated_at"].is_null());

    const auto fetched = http(port(), "GET", user_url(external_id), std::nullopt, key_headers(api_key));
    ASSERT_TRUE(IsJson(fetched, 200)) << fetched.describe();
    EXPECT_EQ(fetched.json(), created.json());

    // A contact of the user hears of the change.
    const auto friend_user = register_user(port(), "friend");
    const auto chat = act("POST", chats_url(), user["id"], {{"type", "direct"}, {"member_ids", {friend_user.id}}});
    ASSERT_EQ(chat.status, 201) << chat.describe();
    auto ws = ws_connect(port(), friend_user.token);
    const auto updated =
        put_user(external_id, {{"username", "ignored_name"}, {"display_name", "Grace H."}}, rotated_key);
    ASSERT_TRUE(IsJson(updated, 200)) << updated.describe();
    EXPECT_EQ(updated.json()["user"]["id"], user["id"]);
    EXPECT_EQ(updated.json()["user"]["username"], username) << "the username is set at creation only";
    EXPECT_EQ(updated.json()["user"]["display_name"], "Grace H.");
    EXPECT_EQ(updated.json()["user"]["bio"], "hi") << "what is not given stays";
    const auto told = ws->receive_type("user.updated");
    ASSERT_TRUE(told.has_value());
    EXPECT_EQ((*told)["data"]["user"]["display_name"], "Grace H.");
}

TEST_F(ServerApiTest, ATakenUsernameIsReplacedAndRepeatedPutsMeetInOneUser) {
    // A generated username stands in for a taken one; two PUTs of one id meet in one user.
    const auto taken = register_user(port(), "taken");
    const auto external_id = "host-" + random_alnum(8);
    const auto first = put_user(external_id, {{"username", taken.username}});
    ASSERT_TRUE(IsJson(first, 201)) << first.describe();
    EXPECT_NE(first.json()["user"]["username"], taken.username);
    EXPECT_EQ(first.json()["user"]["display_name"], first.json()["user"]["username"]);
    const auto again = put_user(external_id, json::object());
    ASSERT_TRUE(IsJson(again, 200)) << again.describe();
    EXPECT_EQ(again.json()["user"]["id"], first.json()["user"]["id"]);
}

TEST_F(ServerApiTest, BadRequestsAreRefusedNamingTheField) {
    const auto id = "bad-" + random_alnum(6);
    EXPECT_TRUE(IsError(put_user(id, {{"username", "No Spaces"}}), 400, "bad_request"));
    EXPECT_TRUE(IsError(put_user(id, {{"display_name", ""}}), 400, "bad_request"));
    EXPECT_TRUE(IsError(put_user(id, {{"bio", std::string(201, 'b')}}), 400, "bad_request"));
    EXPECT_TRUE(IsError(put_user(id, {{"is_bot", "yes"}}), 400, "bad_request"));
    const auto unknown = put_user(id, {{"password", "secret123"}});
    ASSERT_TRUE(IsError(unknown, 400, "bad_request"));
    EXPECT_EQ(unknown.json()["error"]["details"]["field"], "password");
    const auto control = put_user(std::string("line\nbreak"), json::object());
    ASSERT_TRUE(IsError(control, 400, "bad_request")) << control.describe();
    EXPECT_EQ(control.json()["error"]["details"]["field"], "external_id");
    EXPECT_TRUE(IsError(put_user(std::string(256, 'x'), json::object()), 400, "bad_request"));
    const auto missing = http(port(), "GET", user_url("nobody-" + random_alnum(6)), std::nullopt, key_headers(api_key));
    EXPECT_TRUE(IsError(missing, 404, "not_found")) << missing.describe();
    EXPECT_EQ(get(port(), register_user(port()).token, "/api/v1/users/me").status, 200) << "none of it was created";
}

TEST_F(ServerApiTest, TheKeyIsCheckedAndAUserTokenIsNoKey) {
    const auto user = register_user(port(), "keyless");
    EXPECT_TRUE(HasReason(put_user("x-" + random_alnum(6), json::object(), "wrong key, but long enough to be one"), 401,
                          "unauthorized", "invalid_api_key"));
    EXPECT_TRUE(HasReason(put_user("x-" + random_alnum(6), json::object(), user.token), 401, "unauthorized",
                          "invalid_api_key"));
    const auto bare = http(port(), "GET", user_url("x"), std::nullopt, {});
    EXPECT_TRUE(IsError(bare, 401, "unauthorized")) << bare.describe();
    // Nor does a user's token act on anyone's behalf.
    auto headers = on_behalf(register_user(port()).id, user.token);
    const auto impersonation = http(port(), "GET", "/api/v1/users/me", std::nullopt, headers);
    EXPECT_TRUE(HasReason(impersonation, 401, "unauthorized", "invalid_api_key")) << impersonation.describe();
}

TEST_F(ServerApiTest, ActingOnBehalfRunsAsTheUserWithTheirPermissions) {
    const auto owner_id = put_user("owner-" + random_alnum(6), {{"display_name", "Owner"}}).json()["user"]["id"];
    const auto guest = register_user(port(), "guest");
    const auto outsider = register_user(port(), "outsider");
    const auto me = act("GET", "/api/v1/users/me", owner_id);
    ASSERT_TRUE(IsJson(me, 200)) << me.describe();
    EXPECT_EQ(me.json()["id"], owner_id);

    const auto group = act("POST", chats_url(), owner_id, {{"type", "group"}, {"title", "Host made"}});
    ASSERT_TRUE(IsJson(group, 201)) << group.describe();
    const auto chat_id = group.json()["id"].get<std::string>();
    const auto added = act("POST", members_url(chat_id), owner_id, {{"user_ids", {guest.id}}});
    ASSERT_TRUE(IsJson(added, 200)) << added.describe();
    EXPECT_EQ(list_members(port(), guest, chat_id).size(), 2u);

    auto ws = ws_connect(port(), guest.token);
    const auto sent = act("POST", chat_messages_url(chat_id), owner_id, {{"type", "text"}, {"content", "from host"}});
    ASSERT_TRUE(IsJson(sent, 201)) << sent.describe();
    EXPECT_EQ(sent.json()["sender_id"], owner_id);
    const auto heard = wait_for(*ws, "message.new");
    ASSERT_TRUE(heard.has_value());
    EXPECT_EQ((*heard)["data"]["message"]["content"], "from host");

    // The rules are the user's: acting for someone who is not a member of the chat is refused.
    const auto not_member = act("POST", chat_messages_url(chat_id), outsider.id, {{"type", "text"}, {"content", "x"}});
    EXPECT_EQ(not_member.status, 404) << not_member.describe();
}

TEST_F(ServerApiTest, OnBehalfNamesAnExistingActiveUser) {
    for (const std::string& bad : {std::string("not-a-uuid"), random_uuid()}) {
        const auto r = act("GET", "/api/v1/users/me", bad);
        ASSERT_TRUE(IsError(r, 400, "bad_request")) << r.describe();
        EXPECT_EQ(r.json()["error"]["details"]["field"], "X-On-Behalf-Of");
    }
}

TEST_F(ServerApiTest, SessionsAreNotManagedOnAUsersBehalf) {
    const auto user = register_user(port(), "sessions");
    for (const auto& [method, target] :
         std::vector<std::pair<std::string, std::string>>{{"POST", "/api/v1/auth/logout"},
                                                          {"POST", "/api/v1/auth/logout-all"},
                                                          {"GET", "/api/v1/sessions"},
                                                          {"DELETE", "/api/v1/sessions"},
                                                          {"PUT", "/api/v1/users/me/password"}}) {
        const auto r = act(method, target, user.id, {{"current_password", kPassword}, {"new_password", "another1!"}});
        EXPECT_TRUE(HasReason(r, 403, "forbidden", "on_behalf_not_allowed")) << method << ' ' << target;
    }
    EXPECT_EQ(get(port(), user.token, "/api/v1/users/me").status, 200) << "the user's own session is untouched";
}

TEST_F(ServerApiTest, SystemAndBotMessagesComeOnlyThroughTheKey) {
    const auto bot =
        put_user("bot-" + random_alnum(6), {{"display_name", "Deploy Bot"}, {"is_bot", true}}).json()["user"];
    EXPECT_EQ(bot["is_bot"], true);
    const auto member = register_user(port(), "member");
    const auto chat =
        act("POST", chats_url(), bot["id"], {{"type", "group"}, {"title", "Deploys"}, {"member_ids", {member.id}}});
    ASSERT_EQ(chat.status, 201) << chat.describe();
    const auto chat_id = chat.json()["id"].get<std::string>();

    const auto notice =
        act("POST", chat_messages_url(chat_id), bot["id"],
            {{"type", "system"}, {"content", "Version 2.1 is live"}, {"metadata", {{"event", "host.deploy"}}}});
    ASSERT_TRUE(IsJson(notice, 201)) << notice.describe();
    EXPECT_EQ(notice.json()["type"], "system");
    EXPECT_EQ(notice.json()["metadata"]["event"], "host.deploy");
    const auto seen = get_message(port(), member, notice.json()["id"]);
    EXPECT_EQ(seen["content"], "Version 2.1 is live");

    const auto members = list_members(port(), member, chat_id);
    const auto* listed_bot = find_member(members, bot["id"]);
    ASSERT_NE(listed_bot, nullptr);
    EXPECT_EQ((*listed_bot)["user"]["is_bot"], true) << "the bot is marked in every model";

    EXPECT_TRUE(IsError(act("POST", chat_messages_url(chat_id), bot["id"], {{"type", "system"}, {"content", ""}}), 400,
                        "bad_request"));
    const auto by_member = send_message(port(), member, chat_id, {{"type", "system"}, {"content", "fake notice"}});
    EXPECT_TRUE(IsError(by_member, 400, "bad_request")) << "members cannot write system messages themselves";
}

TEST_F(ServerApiTest, DeactivationEndsEverySessionAndRefusesSignInUntilReactivated) {
    const auto external_id = "leaver-" + random_alnum(6);
    const auto account = put_user(external_id, {{"display_name", "Leaver"}}).json();
    const auto user_id = account["user"]["id"].get<std::string>();
    // The user's app signs them in with a host token naming the same id.
    const auto session = exchange(external_id);
    ASSERT_TRUE(IsJson(session, 200)) << session.describe();
    ASSERT_EQ(session.json()["user"]["id"], user_id) << "the key's user and the token's user are one";
    const auto token = session.json()["token"].get<std::string>();
    auto socket = ws_connect(port(), token);

    const auto member = register_user(port(), "stays");
    const auto chat =
        act("POST", chats_url(), user_id, {{"type", "group"}, {"title", "T"}, {"member_ids", {member.id}}});
    ASSERT_EQ(chat.status, 201) << chat.describe();
    const auto chat_id = chat.json()["id"].get<std::string>();
    const auto said = post(port(), token, chat_messages_url(chat_id), {{"type", "text"}, {"content", "bye"}});
    ASSERT_EQ(said.status, 201) << said.describe();

    const auto deactivated = set_active(external_id, false);
    ASSERT_TRUE(IsJson(deactivated, 200)) << deactivated.describe();
    ASSERT_TRUE(IsHostUser(deactivated.json(), external_id));
    const auto at = deactivated.json()["deactivated_at"];
    ASSERT_TRUE(is_timestamp(at)) << deactivated.body;
    EXPECT_EQ(socket->wait_for_close(), 4001) << "their open WebSocket closes";
    EXPECT_TRUE(IsError(get(port(), token, "/api/v1/users/me"), 401, "unauthorized")) << "their token stops working";
    EXPECT_TRUE(HasReason(exchange(external_id), 403, "forbidden", "account_deactivated"));
    EXPECT_TRUE(HasReason(act("GET", "/api/v1/users/me", user_id), 403, "forbidden", "account_deactivated"));
    EXPECT_EQ(set_active(external_id, false).json()["deactivated_at"], at) << "the first deactivation's time stays";
    EXPECT_EQ(get_message(port(), member, said.json()["id"])["content"], "bye") << "their messages stay";
    EXPECT_NE(find_member(list_members(port(), member, chat_id), user_id), nullptr) << "and so does their membership";

    const auto back = set_active(external_id, true);
    ASSERT_TRUE(IsJson(back, 200)) << back.describe();
    EXPECT_TRUE(back.json()["deactivated_at"].is_null());
    EXPECT_EQ(get(port(), token, "/api/v1/users/me").status, 401) << "revoked sessions stay revoked";
    const auto again = exchange(external_id);
    ASSERT_TRUE(IsJson(again, 200)) << again.describe();
    EXPECT_EQ(get(port(), again.json()["token"], "/api/v1/users/me").status, 200);
    EXPECT_TRUE(IsError(set_active("nobody-" + random_alnum(6), false), 404, "not_found"));
}

TEST_F(ServerApiTest, TheHostBackendDeletesAHostUserOnTheirBehalf) {
    const auto external_id = "gone-" + random_alnum(6);
    const auto user_id = put_user(external_id, {{"display_name", "Soon Gone"}}).json()["user"]["id"].get<std::string>();
    const auto session = exchange(external_id);
    ASSERT_TRUE(IsJson(session, 200)) << session.describe();
    auto socket = ws_connect(port(), session.json()["token"].get<std::string>());

    const auto deleted = http(port(), "DELETE", "/api/v1/users/me", std::nullopt, on_behalf(user_id));
    ASSERT_EQ(deleted.status, 204) << deleted.describe();
    EXPECT_EQ(socket->wait_for_close(), 4001);
    const auto gone = http(port(), "GET", user_url(external_id), std::nullopt, key_headers(api_key));
    EXPECT_TRUE(IsError(gone, 404, "not_found")) << "the host identity went with the account: " << gone.describe();
    const auto tombstone = get(port(), register_user(port()).token, "/api/v1/users/" + user_id);
    ASSERT_TRUE(IsJson(tombstone, 200)) << tombstone.describe();
    EXPECT_EQ(tombstone.json()["deleted"], true);
}

}  // namespace
}  // namespace confab::test
