// Bots (docs/api.md, Bots): a user makes a bot with a token of its own, adds it to groups
// (no one else may), and the bot reads its chats over the WebSocket or by a signed webhook and
// posts through the same API as anyone; its owner rotates its token and deletes it. Over real
// HTTP and WebSocket against the server binary, with webhook receivers in this process.

#include "support/chat_api.hpp"
#include "support/webhook_receiver.hpp"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace confab::test {
namespace {

const std::string bots_url = "/api/v1/bots";

std::string bot_url(const std::string& bot_id) { return bots_url + "/" + bot_id; }

// The UserModel's keys, and a bot's own three.
::testing::AssertionResult IsBotModel(const json& j, const std::string& owner_id) {
    if (!j.is_object()) return ::testing::AssertionFailure() << "not an object: " << j.dump();
    for (const auto* key : {"id", "username", "display_name", "avatar_url", "bio", "is_bot", "created_at", "owner_id",
                            "webhook_id", "webhook_url"})
        if (!j.contains(key)) return ::testing::AssertionFailure() << "no " << key << ": " << j.dump();
    if (j.size() != 10) return ::testing::AssertionFailure() << "undocumented keys: " << j.dump();
    if (!is_uuid(j["id"]) || j["is_bot"] != true || j["owner_id"] != owner_id || !is_timestamp(j["created_at"]))
        return ::testing::AssertionFailure() << "not this owner's bot: " << j.dump();
    return ::testing::AssertionSuccess();
}

// Whether the receiver took the message's message.new.
bool delivered(const WebhookReceiver& receiver, const json& message) {
    for (const auto& body : receiver.unique("message.new"))
        if (body["data"]["message"]["id"] == message["id"]) return true;
    return false;
}

// A receiver's policy: 503 to the message.new of each message whose text starts with `prefix`
// (so those alone are parked), 200 to everything else.
WebhookReceiver::Policy refuses_texts_starting(std::string prefix) {
    return [prefix = std::move(prefix)](const json& body, std::size_t) {
        const auto message = body.value("data", json::object()).value("message", json::object());
        return message.value("content", "").rfind(prefix, 0) == 0 ? 503 : 200;
    };
}

// A bot as the tests hold it: its model, and a TestUser for its token.
struct TestBot {
    json model;
    TestUser user;
};

// Webhooks to receivers in this process, retried quickly.
std::map<std::string, std::string> bot_env(std::map<std::string, std::string> extra = {}) {
    std::map<std::string, std::string> env{{"CONFAB_WEBHOOKS_ALLOW_LOOPBACK", "true"},
                                           {"CONFAB_WEBHOOKS_BACKOFF_MIN_MS", "20"},
                                           {"CONFAB_WEBHOOKS_BACKOFF_MAX_MS", "200"},
                                           {"CONFAB_WEBHOOKS_POLL_INTERVAL_MS", "50"}};
    for (auto& [name, value] : extra) env[name] = value;
    return env;
}

// The suite's own server (OwnServerSuite).
std::map<std::string, std::string> bot_suite_env() { return bot_env(); }

class BotsTest : public OwnServerSuite<bot_suite_env> {
protected:
    static json create_bot_body(const TestUser& owner, const json& body, std::uint16_t at = 0) {
        return expect_json(post(at == 0 ? port() : at, owner.token, bots_url, body), 201, "create bot");
    }
    static TestBot make_bot(const TestUser& owner, const json& extra = json::object(), std::uint16_t at = 0) {
        json body{{"username", unique_username("bot")}};
        body.update(extra);
        auto created = create_bot_body(owner, body, at);
        TestBot bot{created["bot"], TestUser{}};
        bot.user.id = created["bot"]["id"];
        bot.user.username = created["bot"]["username"];
        bot.user.token = created["token"];
        bot.user.user = created["bot"];
        return bot;
    }

    // A server of its own that parks a delivery after a second of failures, and Ann's bot whose
    // webhook receiver refuses (503) the messages whose text starts "parked".
    struct ParkingBot {
        TestDatabase database;
        ServerProcess server{database.url(), bot_env({{"CONFAB_WEBHOOKS_RETRY_FOR_SECONDS", "1"}})};
        std::uint16_t at = server.port();
        WebhookReceiver receiver{refuses_texts_starting("parked")};
        TestUser ann = register_user(at, "ann");
        json created =
            create_bot_body(ann, {{"username", unique_username("hook")}, {"webhook_url", receiver.url()}}, at);
        std::string bot_id = created["bot"]["id"];
        std::string failures_url = bot_url(bot_id) + "/webhook/failures";

        ParkingBot() { receiver.add_secret(created["bot"]["webhook_id"], created["webhook_secret"]); }
    };
};

TEST_F(BotsTest, AUserMakesABotWhoseTokenSignsItInAsABot) {
    const auto ann = register_user(port(), "ann");
    const auto created = create_bot_body(ann, {{"username", unique_username("helper")},
                                               {"display_name", "Helper"},
                                               {"bio", "I answer questions"}});
    EXPECT_TRUE(IsBotModel(created["bot"], ann.id));
    EXPECT_EQ(created["bot"]["display_name"], "Helper");
    EXPECT_EQ(created["bot"]["bio"], "I answer questions");
    EXPECT_TRUE(created["bot"]["webhook_url"].is_null());
    EXPECT_FALSE(created.contains("webhook_secret"));

    const auto me = expect_json(get(port(), created["token"], "/api/v1/users/me"), 200, "bot's me");
    EXPECT_EQ(me["id"], created["bot"]["id"]);
    EXPECT_EQ(me["is_bot"], true);
    const auto seen = expect_json(get(port(), ann.token, "/api/v1/users/" + created["bot"]["id"].get<std::string>()),
                                  200, "the bot seen by its owner");
    EXPECT_EQ(seen["is_bot"], true);

    const auto listed = expect_json(get(port(), ann.token, bots_url), 200, "list");
    ASSERT_EQ(listed["bots"].size(), 1u);
    EXPECT_EQ(listed["bots"][0], created["bot"]);
    EXPECT_EQ(expect_json(get(port(), ann.token, bot_url(created["bot"]["id"])), 200, "get"), created["bot"]);
}

TEST_F(BotsTest, OnlyTheOwnerSeesOrManagesABot) {
    const auto ann = register_user(port(), "ann");
    const auto eve = register_user(port(), "eve");
    const auto bot = make_bot(ann);
    const auto url = bot_url(bot.user.id);
    EXPECT_TRUE(IsError(get(port(), eve.token, url), 404, "not_found"));
    EXPECT_TRUE(IsError(patch(port(), eve.token, url, {{"display_name", "Mine now"}}), 404, "not_found"));
    EXPECT_TRUE(IsError(post(port(), eve.token, url + "/token"), 404, "not_found"));
    EXPECT_TRUE(IsError(del(port(), eve.token, url), 404, "not_found"));
    EXPECT_EQ(expect_json(get(port(), eve.token, bots_url), 200, "eve's list")["bots"], json::array());
    EXPECT_TRUE(IsError(get(port(), ann.token, bot_url("not-a-uuid")), 404, "not_found"));
    EXPECT_TRUE(IsError(get(port(), ann.token, bot_url(random_uuid())), 404, "not_found"));
    EXPECT_TRUE(IsError(get(port(), ann.token, bot_url(eve.id)), 404, "not_found")) << "a person is no one's bot";
    EXPECT_EQ(get(port(), bot.user.token, "/api/v1/users/me").status, 200) << "eve's attempts changed nothing";
    EXPECT_EQ(expect_json(get(port(), ann.token, url), 200, "get")["display_name"], bot.model["display_name"]);
}

TEST_F(BotsTest, BadBodiesAreRefusedAndMakeNoBot) {
    const auto ann = register_user(port(), "ann");
    const auto taken = register_user(port(), "taken");
    const auto refused = [&](const json& body) { return post(port(), ann.token, bots_url, body); };
    EXPECT_TRUE(IsError(post_raw(port(), bots_url, "{not json", auth_header(ann.token)), 400, "bad_request"));
    EXPECT_TRUE(IsError(refused(json::object()), 400, "bad_request"));
    EXPECT_TRUE(IsError(refused({{"username", "No Capitals"}}), 400, "bad_request"));
    EXPECT_TRUE(IsError(refused({{"username", 42}}), 400, "bad_request"));
    EXPECT_TRUE(IsError(refused({{"username", unique_username("b")}, {"is_admin", true}}), 400, "bad_request"));
    EXPECT_TRUE(IsError(refused({{"username", unique_username("b")}, {"display_name", ""}}), 400, "bad_request"));
    EXPECT_TRUE(
        IsError(refused({{"username", unique_username("b")}, {"bio", std::string(201, 'x')}}), 400, "bad_request"));
    EXPECT_TRUE(IsBadField(refused({{"username", unique_username("b")}, {"webhook_url", "ftp://example.com/hook"}}),
                           "webhook_url"));
    EXPECT_TRUE(IsError(refused({{"username", taken.username}}), 409, "conflict"));
    EXPECT_EQ(expect_json(get(port(), ann.token, bots_url), 200, "list")["bots"], json::array());

    const auto bot = make_bot(ann);
    const auto url = bot_url(bot.user.id);
    EXPECT_TRUE(IsError(patch(port(), ann.token, url, json::object()), 400, "bad_request"));
    EXPECT_TRUE(IsError(patch(port(), ann.token, url, {{"username", "renamed"}}), 400, "bad_request"));
    EXPECT_TRUE(IsError(patch(port(), ann.token, url, {{"display_name", 7}}), 400, "bad_request"));
    EXPECT_TRUE(IsBadField(patch(port(), ann.token, url, {{"webhook_url", "not a url"}}), "webhook_url"));
    EXPECT_EQ(expect_json(get(port(), ann.token, url), 200, "unchanged"), bot.model);
}

TEST_F(BotsTest, TheOwnerChangesTheBotsProfile) {
    const auto ann = register_user(port(), "ann");
    const auto bot = make_bot(ann, {{"bio", "old"}});
    const auto changed =
        expect_json(patch(port(), ann.token, bot_url(bot.user.id), {{"display_name", "Renamed"}, {"bio", nullptr}}),
                    200, "patch");
    EXPECT_TRUE(IsBotModel(changed["bot"], ann.id));
    EXPECT_EQ(changed["bot"]["display_name"], "Renamed");
    EXPECT_TRUE(changed["bot"]["bio"].is_null());
    EXPECT_FALSE(changed.contains("webhook_secret"));
    EXPECT_EQ(expect_json(get(port(), bot.user.token, "/api/v1/users/me"), 200, "me")["display_name"], "Renamed");
}

TEST_F(BotsTest, ABotTokenIsRefusedOnThePersonOnlyRoutes) {
    const auto ann = register_user(port(), "ann");
    const auto bot = make_bot(ann);
    const auto& token = bot.user.token;
    EXPECT_TRUE(
        HasReason(post(port(), token, bots_url, {{"username", unique_username("sub")}}), 403, "forbidden", "bot"));
    EXPECT_TRUE(HasReason(get(port(), token, bots_url), 403, "forbidden", "bot"));
    EXPECT_TRUE(HasReason(del(port(), token, "/api/v1/users/me"), 403, "forbidden", "bot"));
    EXPECT_TRUE(HasReason(post(port(), token, "/api/v1/users/me/exports"), 403, "forbidden", "bot"));
    EXPECT_TRUE(HasReason(get(port(), token, "/api/v1/devices"), 403, "forbidden", "bot"));
    EXPECT_TRUE(HasReason(post(port(), token, "/api/v1/devices", {{"provider", "gateway"}, {"token", "device-token"}}),
                          403, "forbidden", "bot"));
    EXPECT_TRUE(HasReason(post(port(), token, "/api/v1/auth/logout"), 403, "forbidden", "bot"));
    EXPECT_TRUE(HasReason(post(port(), token, "/api/v1/auth/logout-all"), 403, "forbidden", "bot"));
    EXPECT_TRUE(HasReason(get(port(), token, "/api/v1/sessions"), 403, "forbidden", "bot"));
    EXPECT_TRUE(HasReason(put(port(), token, "/api/v1/users/me/password",
                              {{"current_password", "x"}, {"new_password", "yyyyyyyyyy"}}),
                          403, "forbidden", "bot"));
    EXPECT_EQ(get(port(), token, "/api/v1/users/me").status, 200) << "the refusals revoked nothing";
    EXPECT_EQ(get(port(), token, "/api/v1/chats").status, 200) << "a member's routes are the bot's";
}

TEST_F(BotsTest, OnlyItsOwnerPutsABotIntoAGroup) {
    const auto ann = register_user(port(), "ann");
    const auto bob = register_user(port(), "bob");
    const auto bot = make_bot(ann);
    const std::string bobs_group = create_group(port(), bob, {ann.id})["id"];
    EXPECT_TRUE(HasReason(post(port(), bob.token, members_url(bobs_group), {{"user_ids", {bot.user.id}}}), 403,
                          "forbidden", "not_bot_owner"));
    EXPECT_TRUE(HasReason(post(port(), bob.token, chats_url(),
                               {{"type", "group"}, {"title", "with a bot"}, {"member_ids", {ann.id, bot.user.id}}}),
                          403, "forbidden", "not_bot_owner"));
    EXPECT_EQ(list_members(port(), bob, bobs_group).size(), 2u);

    // Ann may, in Bob's group too, where any member adds members.
    const auto added = add_members(port(), ann, bobs_group, {bot.user.id});
    ASSERT_EQ(added.size(), 1u);
    EXPECT_TRUE(IsMemberModel(added[0]));
    EXPECT_EQ(added[0]["user"]["is_bot"], true);
    const auto members = list_members(port(), bob, bobs_group);
    const auto* listed = find_member(members, bot.user.id);
    ASSERT_NE(listed, nullptr);
    EXPECT_EQ((*listed)["user"]["is_bot"], true);
    EXPECT_EQ((*find_member(members, bob.id))["user"]["is_bot"], false);

    const std::string anns_group = create_group(port(), ann, {bot.user.id})["id"];
    EXPECT_EQ(list_members(port(), ann, anns_group).size(), 2u) << "the owner names the bot at creation";
}

TEST_F(BotsTest, ABotReadsOverTheWebSocketAndPostsOverRestAndWebSocket) {
    const auto ann = register_user(port(), "ann");
    const auto bot = make_bot(ann);
    const std::string chat_id = create_group(port(), ann, {bot.user.id})["id"];
    auto bot_ws = ws_connect(port(), bot.user.token);
    auto ann_ws = ws_connect(port(), ann.token);

    const auto sent = send_text(port(), ann, chat_id, "hello bot");
    const auto heard = wait_for(*bot_ws, "message.new", about_message(sent["id"]));
    ASSERT_TRUE(heard) << "the bot gets its chat's message.new";
    EXPECT_EQ((*heard)["data"]["message"]["content"], "hello bot");

    const auto by_rest = send_text(port(), bot.user, chat_id, "hello from REST");
    EXPECT_EQ(by_rest["sender_id"], bot.user.id);
    ASSERT_TRUE(wait_for(*ann_ws, "message.new", about_message(by_rest["id"])));

    const auto ack =
        ws_request(*bot_ws, "message.send", {{"chat_id", chat_id}, {"type", "text"}, {"content", "hello from WS"}});
    ASSERT_TRUE(IsAck(ack)) << ack.dump();
    EXPECT_EQ(ack["data"]["message"]["sender_id"], bot.user.id);
    ASSERT_TRUE(wait_for(*ann_ws, "message.new", about_message(ack["data"]["message"]["id"])));
}

TEST_F(BotsTest, RotatingTheTokenEndsTheOldOneAndItsSocketsAtOnce) {
    const auto ann = register_user(port(), "ann");
    const auto bot = make_bot(ann);
    auto old_ws = ws_connect(port(), bot.user.token);
    const auto rotated = expect_json(post(port(), ann.token, bot_url(bot.user.id) + "/token"), 200, "rotate");
    ASSERT_TRUE(rotated["token"].is_string());
    EXPECT_EQ(rotated.size(), 1u);
    EXPECT_NE(rotated["token"], bot.user.token);
    EXPECT_EQ(old_ws->wait_for_close(5s), std::optional<int>(4001));
    EXPECT_TRUE(IsError(get(port(), bot.user.token, "/api/v1/users/me"), 401, "unauthorized"));
    EXPECT_EQ(expect_json(get(port(), rotated["token"], "/api/v1/users/me"), 200, "new token")["id"], bot.user.id);
    auto new_ws = ws_connect(port(), rotated["token"]);
    EXPECT_EQ(new_ws->request("ping")["type"], "ack");
}

TEST_F(BotsTest, DeletingABotTakesItOutOfItsGroupsAndEndsItsToken) {
    const auto ann = register_user(port(), "ann");
    const auto bob = register_user(port(), "bob");
    const auto bot = make_bot(ann);
    const std::string chat_id = create_group(port(), ann, {bob.id, bot.user.id})["id"];
    auto bob_ws = ws_connect(port(), bob.token);
    auto bot_ws = ws_connect(port(), bot.user.token);

    EXPECT_EQ(del(port(), ann.token, bot_url(bot.user.id)).status, 204);
    const auto removed = wait_for(*bob_ws, "member.removed", about_chat(chat_id));
    ASSERT_TRUE(removed);
    EXPECT_EQ((*removed)["data"]["user_id"], bot.user.id);
    EXPECT_EQ(bot_ws->wait_for_close(5s), std::optional<int>(4001));
    EXPECT_TRUE(IsError(get(port(), bot.user.token, "/api/v1/users/me"), 401, "unauthorized"));
    EXPECT_EQ(find_member(list_members(port(), bob, chat_id), bot.user.id), nullptr);
    EXPECT_TRUE(IsError(get(port(), ann.token, bot_url(bot.user.id)), 404, "not_found"));
    EXPECT_EQ(expect_json(get(port(), ann.token, bots_url), 200, "list")["bots"], json::array());
    EXPECT_TRUE(IsError(del(port(), ann.token, bot_url(bot.user.id)), 404, "not_found"));
    // Its username is free again, as a deleted account's is.
    EXPECT_EQ(post(port(), ann.token, bots_url, {{"username", bot.user.username}}).status, 201);
}

TEST_F(BotsTest, DeletingTheOwnersAccountDeletesTheirBots) {
    const auto ann = register_user(port(), "ann");
    const auto bob = register_user(port(), "bob");
    const auto bot = make_bot(ann);
    const std::string chat_id = create_group(port(), bob, {ann.id})["id"];
    add_members(port(), ann, chat_id, {bot.user.id});
    EXPECT_EQ(del(port(), ann.token, "/api/v1/users/me", json{{"password", ann.password}}).status, 204);
    EXPECT_TRUE(IsError(get(port(), bot.user.token, "/api/v1/users/me"), 401, "unauthorized"));
    EXPECT_EQ(list_members(port(), bob, chat_id).size(), 1u) << "the bot left with its owner";
    EXPECT_EQ(expect_json(get(port(), bob.token, "/api/v1/users/" + bot.user.id), 200, "tombstone")["deleted"], true);
}

TEST_F(BotsTest, AUserHasAtMostTwentyBots) {
    const auto ann = register_user(port(), "ann");
    std::vector<TestBot> bots;
    bots.reserve(20);
    for (int i = 0; i < 20; ++i) bots.push_back(make_bot(ann));
    EXPECT_TRUE(HasReason(post(port(), ann.token, bots_url, {{"username", unique_username("extra")}}), 409, "conflict",
                          "too_many_bots"));
    EXPECT_EQ(del(port(), ann.token, bot_url(bots.front().user.id)).status, 204);
    EXPECT_EQ(post(port(), ann.token, bots_url, {{"username", unique_username("extra")}}).status, 201)
        << "a deleted bot no longer counts";
}

TEST_F(BotsTest, ABotsWebhookGetsItsChatsEventsSignedInOrderFromItsJoiningOn) {
    WebhookReceiver receiver;
    const auto ann = register_user(port(), "ann");
    const auto created = create_bot_body(ann, {{"username", unique_username("hook")}, {"webhook_url", receiver.url()}});
    const auto& model = created["bot"];
    EXPECT_TRUE(IsBotModel(model, ann.id));
    EXPECT_EQ(model["webhook_url"], receiver.url());
    ASSERT_TRUE(is_uuid(model["webhook_id"]));
    ASSERT_TRUE(created["webhook_secret"].get<std::string>().rfind("whsec_", 0) == 0);
    receiver.add_secret(model["webhook_id"], created["webhook_secret"]);
    const std::string bot_id = model["id"];

    const std::string chat_id = create_group(port(), ann)["id"];
    send_text(port(), ann, chat_id, "before the bot");
    add_members(port(), ann, chat_id, {bot_id});
    std::vector<json> sent;
    for (const auto* text : {"one", "two", "three"}) sent.push_back(send_text(port(), ann, chat_id, text));
    ASSERT_TRUE(eventually([&] { return receiver.unique("message.new").size() == 4; }, 15s))
        << receiver.unique("message.new").size();

    const auto news = receiver.unique("message.new");
    EXPECT_EQ(news[0]["data"]["message"]["type"], "system") << "its own joining comes first";
    for (std::size_t i = 0; i < sent.size(); ++i) {
        EXPECT_EQ(news[i + 1]["data"]["message"]["id"], sent[i]["id"]) << i;
        EXPECT_EQ(news[i + 1]["chat_id"], chat_id);
        EXPECT_EQ(news[i + 1]["webhook_id"], model["webhook_id"]);
    }
    const auto added = receiver.unique("member.added");
    ASSERT_EQ(added.size(), 1u);
    EXPECT_EQ(added[0]["data"]["member"]["user"]["id"], bot_id);
    EXPECT_EQ(added[0]["data"]["member"]["user"]["is_bot"], true);
    for (const auto& body : receiver.unique())
        EXPECT_NE(body["data"].value("message", json::object()).value("content", ""), "before the bot")
            << "nothing from before the bot joined";

    // A new URL is a new webhook with a new secret; the old secret signs nothing more.
    WebhookReceiver second;
    const auto changed =
        expect_json(patch(port(), ann.token, bot_url(bot_id), {{"webhook_url", second.url()}}), 200, "new url");
    EXPECT_NE(changed["bot"]["webhook_id"], model["webhook_id"]);
    second.add_secret(changed["bot"]["webhook_id"], changed["webhook_secret"]);
    const auto later = send_text(port(), ann, chat_id, "four");
    ASSERT_TRUE(eventually([&] { return second.unique("message.new").size() == 1; }, 15s));
    EXPECT_EQ(second.unique("message.new")[0]["data"]["message"]["id"], later["id"]);

    // Without a webhook nothing is sent; removing the bot from the chat drops its cursor.
    const auto removed = expect_json(patch(port(), ann.token, bot_url(bot_id), {{"webhook_url", nullptr}}), 200, "off");
    EXPECT_TRUE(removed["bot"]["webhook_url"].is_null());
    EXPECT_TRUE(removed["bot"]["webhook_id"].is_null());
    EXPECT_TRUE(receiver.problems().empty()) << receiver.problems().front();
    EXPECT_TRUE(second.problems().empty()) << second.problems().front();
}

TEST_F(BotsTest, ABotsWebhookStopsWhenTheBotLeavesAndStartsAfreshWhenItComesBack) {
    WebhookReceiver receiver;
    const auto ann = register_user(port(), "ann");
    const auto created = create_bot_body(ann, {{"username", unique_username("hook")}, {"webhook_url", receiver.url()}});
    receiver.add_secret(created["bot"]["webhook_id"], created["webhook_secret"]);
    const std::string bot_id = created["bot"]["id"];
    const std::string chat_id = create_group(port(), ann, {bot_id})["id"];
    const auto first = send_text(port(), ann, chat_id, "while a member");
    ASSERT_TRUE(eventually([&] { return delivered(receiver, first); }, 15s));

    EXPECT_EQ(del(port(), ann.token, member_url(chat_id, bot_id)).status, 204);
    send_text(port(), ann, chat_id, "while away");
    add_members(port(), ann, chat_id, {bot_id});
    const auto back = send_text(port(), ann, chat_id, "welcome back");
    ASSERT_TRUE(eventually([&] { return delivered(receiver, back); }, 15s));
    for (const auto& body : receiver.unique("message.new"))
        EXPECT_NE(body["data"]["message"]["content"], "while away") << "nothing from while it was not a member";
    EXPECT_TRUE(receiver.problems().empty()) << receiver.problems().front();
}

// In a channel a subscriber hears of no other subscriber (docs/api.md, Channels): a bot's
// webhook hears what the bot's connections would, whatever the chat's webhooks hear.
TEST_F(BotsTest, ASubscriberBotsWebhookHearsOfNoOtherSubscriber) {
    WebhookReceiver receiver;
    const auto ann = register_user(port(), "ann");
    const auto ben = register_user(port(), "ben");
    const auto created = create_bot_body(ann, {{"username", unique_username("hook")}, {"webhook_url", receiver.url()}});
    receiver.add_secret(created["bot"]["webhook_id"], created["webhook_secret"]);
    TestBot bot{created["bot"], TestUser{}};
    bot.user.id = created["bot"]["id"];
    bot.user.token = created["token"];
    const std::string handle = "bh" + random_alnum(12);
    const std::string channel = create_channel(port(), ann, {{"handle", handle}, {"is_public", true}})["id"];
    join_channel(port(), bot.user, handle);
    join_channel(port(), ben, handle);
    expect_json(patch(port(), ann.token, member_url(channel, ben.id), {{"role", "moderator"}}), 200, "promote ben");
    const auto marker = send_text(port(), ann, channel, "after ben's promotion");
    ASSERT_TRUE(eventually([&] { return delivered(receiver, marker); }, 15s));
    const auto about = [](const json& body) {
        return body["data"].contains("member") ? body["data"]["member"]["user"]["id"] : body["data"]["user_id"];
    };
    for (const auto* type : {"member.added", "member.updated", "member.removed"})
        for (const auto& body : receiver.unique(type)) EXPECT_EQ(about(body), bot.user.id) << body.dump();

    // What is about the bot itself still comes, and as staff it hears of everyone.
    expect_json(patch(port(), ann.token, member_url(channel, bot.user.id), {{"role", "moderator"}}), 200,
                "promote bot");
    expect_json(patch(port(), ann.token, member_url(channel, ben.id), {{"role", "member"}}), 200, "demote ben");
    ASSERT_TRUE(eventually(
        [&] {
            const auto updates = receiver.unique("member.updated");
            return std::any_of(updates.begin(), updates.end(), [&](const json& b) { return about(b) == ben.id; });
        },
        15s));
    const auto updates = receiver.unique("member.updated");
    EXPECT_TRUE(std::any_of(updates.begin(), updates.end(), [&](const json& b) { return about(b) == bot.user.id; }));
}

TEST_F(BotsTest, ItsOwnerListsAndReplaysTheBotsParkedDeliveries) {
    ParkingBot p;
    const auto eve = register_user(p.at, "eve");
    const std::string webhook_id = p.created["bot"]["webhook_id"];
    const std::string chat_id = create_group(p.at, p.ann, {p.bot_id})["id"];
    const auto lost = send_text(p.at, p.ann, chat_id, "parked");

    json page;
    ASSERT_TRUE(eventually(
        [&] {
            page = expect_json(get(p.at, p.ann.token, p.failures_url), 200, "failures");
            return page["failures"].size() == 1;
        },
        30s));
    EXPECT_TRUE(page["next_cursor"].is_null());
    const auto failure = page["failures"][0];
    EXPECT_TRUE(is_uuid(failure["id"]));
    EXPECT_EQ(failure["webhook_id"], webhook_id);
    EXPECT_EQ(failure["chat_id"], chat_id);
    EXPECT_EQ(failure["event"], "message.new");
    EXPECT_EQ(failure["payload"]["data"]["message"]["id"], lost["id"]);
    EXPECT_EQ(failure["payload"]["delivery_id"], failure["delivery_id"]);
    EXPECT_GE(failure["attempts"].get<int>(), 1);
    EXPECT_EQ(failure["last_error"], "the receiver answered 503");
    EXPECT_TRUE(is_timestamp(failure["failed_at"]));
    EXPECT_TRUE(IsError(get(p.at, p.ann.token, p.failures_url + "?cursor=zz"), 400, "bad_request"));
    EXPECT_EQ(expect_json(get(p.at, p.ann.token, p.failures_url + "?limit=1"), 200, "a page of one"), page);

    // Only its owner, and not with the bot's own token.
    const auto replay_url = p.failures_url + "/" + failure["id"].get<std::string>() + "/replay";
    EXPECT_TRUE(IsError(get(p.at, eve.token, p.failures_url), 404, "not_found"));
    EXPECT_TRUE(IsError(post(p.at, eve.token, replay_url), 404, "not_found"));
    const std::string bot_token = p.created["token"];
    EXPECT_TRUE(HasReason(get(p.at, bot_token, p.failures_url), 403, "forbidden", "bot"));
    EXPECT_TRUE(HasReason(post(p.at, bot_token, replay_url), 403, "forbidden", "bot"));
    // Another bot's webhook does not reach this one's parked delivery.
    WebhookReceiver other_receiver;
    const auto other = make_bot(p.ann, {{"webhook_url", other_receiver.url()}}, p.at);
    const auto other_failures = bot_url(other.user.id) + "/webhook/failures";
    EXPECT_EQ(expect_json(get(p.at, p.ann.token, other_failures), 200, "the other bot's")["failures"], json::array());
    EXPECT_TRUE(IsError(post(p.at, p.ann.token, other_failures + "/" + failure["id"].get<std::string>() + "/replay"),
                        404, "not_found"));
    EXPECT_TRUE(IsError(post(p.at, p.ann.token, p.failures_url + "/" + random_uuid() + "/replay"), 404, "not_found"));
    EXPECT_TRUE(IsError(post(p.at, p.ann.token, p.failures_url + "/nope/replay"), 400, "bad_request"));

    // Replayed once the receiver answers: the same body and delivery id, and no longer listed.
    p.receiver.set_policy(nullptr);
    EXPECT_EQ(expect_json(post(p.at, p.ann.token, replay_url), 200, "replay"),
              json({{"delivered", true}, {"error", nullptr}}));
    ASSERT_TRUE(delivered(p.receiver, lost));
    const auto news = p.receiver.unique("message.new");
    EXPECT_EQ(news.back(), failure["payload"]);
    EXPECT_EQ(news.back()["delivery_id"], failure["delivery_id"]);
    EXPECT_EQ(expect_json(get(p.at, p.ann.token, p.failures_url), 200, "after the replay")["failures"], json::array());
    EXPECT_TRUE(IsError(post(p.at, p.ann.token, replay_url), 404, "not_found"));
    EXPECT_TRUE(p.receiver.problems().empty()) << p.receiver.problems().front();

    // A deleted bot has no parked deliveries to show.
    EXPECT_EQ(del(p.at, p.ann.token, bot_url(p.bot_id)).status, 204);
    EXPECT_TRUE(IsError(get(p.at, p.ann.token, p.failures_url), 404, "not_found"));
}

// A page's cursor holds the place of its last delivery, not a row to look up: replaying that
// delivery, which removes it, does not end the list (as on a chat's route, webhooks_test).
TEST_F(BotsTest, TheBotsParkedDeliveriesPageOnPastOneReplayedSince) {
    ParkingBot p;
    const std::string chat_id = create_group(p.at, p.ann, {p.bot_id})["id"];
    for (const auto* text : {"parked 1", "parked 2", "parked 3"}) send_text(p.at, p.ann, chat_id, text);

    ASSERT_TRUE(eventually(
        [&] { return expect_json(get(p.at, p.ann.token, p.failures_url), 200, "failures")["failures"].size() == 3; },
        60s));
    p.receiver.set_policy(nullptr);
    EXPECT_TRUE(PagesOnPastReplayedFailures(p.at, p.ann.token, p.failures_url));
    EXPECT_TRUE(p.receiver.problems().empty()) << p.receiver.problems().front();
}

// What the bot never took of a chat it is no longer in is not its owner's to read or replay:
// its parked deliveries of that chat go when it leaves, those of its other chats stay.
TEST_F(BotsTest, ABotRemovedFromAChatLosesItsParkedDeliveriesThereOnly) {
    ParkingBot p;
    const std::string left_chat = create_group(p.at, p.ann, {p.bot_id})["id"];
    const std::string kept_chat = create_group(p.at, p.ann, {p.bot_id})["id"];
    send_text(p.at, p.ann, left_chat, "parked");
    const auto kept = send_text(p.at, p.ann, kept_chat, "parked");

    json failures;
    ASSERT_TRUE(eventually(
        [&] {
            failures = expect_json(get(p.at, p.ann.token, p.failures_url), 200, "failures")["failures"];
            return failures.size() == 2;
        },
        60s));
    const auto left_failure = failures[0]["chat_id"] == left_chat ? failures[0] : failures[1];

    EXPECT_EQ(del(p.at, p.ann.token, member_url(left_chat, p.bot_id)).status, 204);
    failures = expect_json(get(p.at, p.ann.token, p.failures_url), 200, "after the removal")["failures"];
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_EQ(failures[0]["chat_id"], kept_chat);
    EXPECT_EQ(failures[0]["payload"]["data"]["message"]["id"], kept["id"]);
    EXPECT_TRUE(
        IsError(post(p.at, p.ann.token, p.failures_url + "/" + left_failure["id"].get<std::string>() + "/replay"), 404,
                "not_found"));
    EXPECT_TRUE(p.receiver.problems().empty()) << p.receiver.problems().front();
}

// Replacements of one bot's webhook sent at once are made one after another: each is answered
// with a webhook of its own, and the bot keeps one, the last made.
TEST_F(BotsTest, ConcurrentWebhookReplacementsEachSucceedAndLeaveTheBotOne) {
    WebhookReceiver receiver;
    const auto ann = register_user(port(), "ann");
    const auto bot = make_bot(ann);
    const auto url_of = [&receiver](std::size_t i) { return receiver.url() + "/" + std::to_string(i); };
    const auto answers = all_at_once(10, [&](std::size_t i) {
        return patch(port(), ann.token, bot_url(bot.user.id), {{"webhook_url", url_of(i)}});
    });
    std::set<std::string> ids, urls;
    for (const auto& answer : answers) {
        ASSERT_TRUE(IsJson(answer, 200)) << answer.describe();
        ids.insert(answer.json()["bot"]["webhook_id"].get<std::string>());
        urls.insert(answer.json()["bot"]["webhook_url"].get<std::string>());
    }
    EXPECT_EQ(ids.size(), answers.size()) << "each replacement made a webhook of its own";
    const auto kept = expect_json(get(port(), ann.token, bot_url(bot.user.id)), 200, "the bot");
    EXPECT_EQ(ids.count(kept["webhook_id"].get<std::string>()), 1U) << kept.dump();
    EXPECT_EQ(urls.count(kept["webhook_url"].get<std::string>()), 1U) << kept.dump();
}

TEST_F(BotsTest, ParkedDeliveriesOfABotWithoutAWebhookOrOfNoBotAreNotFound) {
    const auto ann = register_user(port(), "ann");
    const auto bot = make_bot(ann);
    const auto failures_of = [](const std::string& id) { return bot_url(id) + "/webhook/failures"; };
    const auto failures_url = failures_of(bot.user.id);
    EXPECT_TRUE(IsError(get(port(), ann.token, failures_url), 404, "not_found"));
    EXPECT_TRUE(IsError(post(port(), ann.token, failures_url + "/" + random_uuid() + "/replay"), 404, "not_found"));
    EXPECT_TRUE(HasReason(get(port(), bot.user.token, failures_url), 403, "forbidden", "bot"));
    for (const auto& id : {std::string("not-a-uuid"), random_uuid(), ann.id})
        EXPECT_TRUE(IsError(get(port(), ann.token, failures_of(id)), 404, "not_found")) << id;
}

}  // namespace
}  // namespace confab::test
