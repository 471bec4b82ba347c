// Push notifications (docs/api.md, Push notifications): devices registered per session and
// removed with it; per-chat settings; a push on each device of each member who should be told
// of a new message (not its sender, not a connected member, not one who silenced the chat),
// through a fake push gateway in this process (support/fake_http_server) that checks each
// request as an operator's gateway would, fails some on purpose, and reports dead tokens.
// Pushes survive a kill -9 of the server with their dedupe keys unchanged.

#include "support/chat_api.hpp"
#include "support/fake_http_server.hpp"
#include "support/opened_on_exit.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <set>

namespace confab::test {
namespace {

using namespace std::chrono_literals;

const std::string gateway_key = "the gateway's key";
const std::string devices_url = "/api/v1/devices";
constexpr auto collapse = 1500ms;

std::string notifications_url(const std::string& chat_id) { return chat_url(chat_id) + "/notifications"; }

FakeHttpServer::Reply accepted(const FakeHttpServer::Request&) { return {200, "{}"}; }

// The pushes the gateway accepted (2xx), each {"token", "notification"} checked for the key.
std::vector<json> pushes_to(const FakeHttpServer& gateway, const std::string& token) {
    std::vector<json> found;
    for (const auto& request : gateway.requests()) {
        const auto body = json::parse(request.body, nullptr, false);
        if (body.is_object() && body.value("token", "") == token) found.push_back(body["notification"]);
    }
    return found;
}

json register_device(std::uint16_t port, const std::string& session_token, const std::string& device_token) {
    return expect_json(post(port, session_token, devices_url, {{"provider", "gateway"}, {"token", device_token}}), 201,
                       "POST /devices");
}

std::string device_token_of(const TestUser& user) { return "gw-" + user.username; }

class PushTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (!TestDatabase::configured()) return;
        gateway_ = std::make_unique<FakeHttpServer>(accepted);
        server_ = std::make_unique<ServerProcess>(shared_database().url(),
                                                  std::map<std::string, std::string>{
                                                      {"CONFAB_PUSH_GATEWAY_URL", gateway_->url() + "/push"},
                                                      {"CONFAB_PUSH_GATEWAY_API_KEY", gateway_key},
                                                      {"CONFAB_PUSH_COLLAPSE_MS", std::to_string(collapse.count())},
                                                      {"CONFAB_PUSH_RETRY_MIN_MS", "100"},
                                                      {"CONFAB_PUSH_RETRY_MAX_MS", "400"},
                                                  });
    }
    static void TearDownTestSuite() {
        server_.reset();
        gateway_.reset();
    }
    void SetUp() override {
        CONFAB_REQUIRE_DATABASE();
        gateway_->set_handler(accepted);
    }
    static std::uint16_t port() { return server_->port(); }

    // A user with one gateway device, registered by their own session.
    static TestUser with_device(const std::string& prefix) {
        auto user = register_user(port(), prefix);
        register_device(port(), user.token, device_token_of(user));
        return user;
    }
    static std::vector<json> pushes_of(const TestUser& user) { return pushes_to(*gateway_, device_token_of(user)); }
    static std::vector<json> pushes_to_chat(const TestUser& user, const std::string& chat_id) {
        auto pushes = pushes_of(user);
        std::erase_if(pushes, [&](const json& notification) { return notification["chat_id"] != chat_id; });
        return pushes;
    }
    // Every notification derived so far has been handed over (and none is still collecting).
    // One statement, so one snapshot: a derivation committing between two reads is not missed.
    static bool settled() {
        return eventually(
            [] {
                return shared_database().query_value(
                           "SELECT (SELECT count(*) FROM push_jobs) + (SELECT count(*) FROM chats c LEFT JOIN "
                           "push_cursors p ON p.chat_id = c.id WHERE coalesce(p.seq, 0) < c.last_seq)") == "0";
            },
            15s);
    }

    static std::unique_ptr<FakeHttpServer> gateway_;
    static std::unique_ptr<ServerProcess> server_;
};
std::unique_ptr<FakeHttpServer> PushTest::gateway_;
std::unique_ptr<ServerProcess> PushTest::server_;

TEST_F(PushTest, DevicesAreRegisteredListedAndRemovedByTheirOwner) {
    auto ann = register_user(port(), "pd");
    auto bob = register_user(port(), "pd");
    const auto device = register_device(port(), ann.token, "gw-ann-phone");
    EXPECT_EQ(device["provider"], "gateway");
    EXPECT_EQ(device["token"], "gw-ann-phone");
    EXPECT_TRUE(device["id"].is_string());
    EXPECT_TRUE(device["session_id"].is_string());
    EXPECT_TRUE(device["created_at"].is_string());
    EXPECT_EQ(device.size(), 5u) << device.dump();

    const auto again = register_device(port(), ann.token, "gw-ann-phone");
    EXPECT_EQ(again["id"], device["id"]) << "the same token registered again is the same device";
    const auto listed = expect_json(get(port(), ann.token, devices_url), 200, "GET /devices")["devices"];
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0], device);
    EXPECT_TRUE(expect_json(get(port(), bob.token, devices_url), 200, "GET /devices")["devices"].empty());

    const std::string id = device["id"];
    EXPECT_TRUE(IsError(del(port(), bob.token, devices_url + "/" + id), 404, "not_found")) << "another user's device";
    EXPECT_TRUE(IsError(del(port(), ann.token, devices_url + "/not-a-uuid"), 400, "bad_request"));
    EXPECT_EQ(del(port(), ann.token, devices_url + "/" + id).status, 204);
    EXPECT_TRUE(IsError(del(port(), ann.token, devices_url + "/" + id), 404, "not_found")) << "removed already";
    EXPECT_TRUE(expect_json(get(port(), ann.token, devices_url), 200, "GET /devices")["devices"].empty());
    EXPECT_TRUE(IsError(get(port(), "", devices_url), 401, "unauthorized"));
}

TEST_F(PushTest, DevicesArePagedOldestFirstThenByIdEachOnce) {
    auto ann = register_user(port(), "pg");
    std::vector<std::string> tied;
    tied.reserve(4);
    for (int i = 0; i < 4; ++i)
        tied.push_back(register_device(port(), ann.token, "gw-pg-" + ann.username + "-" + std::to_string(i))["id"]);
    // Devices of one time: their ids order them, oldest first still.
    shared_database().query_value("update push_devices set created_at = now() - interval '1 minute' where user_id = '" +
                                  ann.id + "'");
    const std::string latest = register_device(port(), ann.token, "gw-pg-" + ann.username + "-latest")["id"];
    std::sort(tied.begin(), tied.end());
    auto expected = tied;
    expected.push_back(latest);

    EXPECT_TRUE(PagesInOrder(port(), ann.token, devices_url, "devices", expected));

    login(port(), ann.username);
    const auto sessions_cursor = first_cursor(port(), ann.token, "/api/v1/sessions");
    EXPECT_TRUE(RefusesBadPages(port(), ann.token, devices_url, sessions_cursor));
}

TEST_F(PushTest, AUserKeepsAtMost50DevicesARegistrationPastThemRemovesTheOldest) {
    auto ann = register_user(port(), "pm");
    auto bob = register_user(port(), "pm");
    // Bob's device is older than every one of ann's.
    const auto bobs = register_device(port(), bob.token, "gw-pm-" + bob.username);
    std::vector<std::string> registered;  // ann's, oldest first
    registered.reserve(51);
    for (int i = 0; i < 51; ++i)
        registered.push_back(
            register_device(port(), ann.token, "gw-pm-" + ann.username + "-" + std::to_string(i))["id"]);
    const auto devices_of = [&](const TestUser& user) {
        return ids_of(every_page(port(), user.token, devices_url, "devices", 200));
    };
    std::vector<std::string> expected(registered.begin() + 1, registered.end());
    EXPECT_EQ(devices_of(ann), expected) << "the 51st took the place of the oldest";

    // The same device registered again is no new one: nothing goes.
    register_device(port(), ann.token, "gw-pm-" + ann.username + "-50");
    EXPECT_EQ(devices_of(ann), expected);

    // A device moving over from another user keeps its earlier created_at, yet it stays: the
    // oldest of the others goes.
    const auto moved = register_device(port(), ann.token, "gw-pm-" + bob.username);
    EXPECT_EQ(moved["id"], bobs["id"]);
    expected.erase(expected.begin());
    expected.insert(expected.begin(), bobs["id"].get<std::string>());
    EXPECT_EQ(devices_of(ann), expected);
    EXPECT_TRUE(devices_of(bob).empty());
    EXPECT_EQ(shared_database().query_value("select count(*) from push_devices where user_id = '" + ann.id + "'"),
              "50");
}

TEST_F(PushTest, BadDeviceBodiesAreRefusedNamingTheField) {
    auto ann = register_user(port(), "pb");
    const auto refused = [&](const json& body, const std::string& field) {
        const auto r = post(port(), ann.token, devices_url, body);
        auto shape = IsError(r, 400, "bad_request");
        if (!shape) return shape;
        if (r.json()["error"]["details"].value("field", "") != field)
            return ::testing::AssertionFailure() << "details.field is not " << field << ": " << r.body;
        return ::testing::AssertionSuccess();
    };
    EXPECT_TRUE(refused({{"provider", "sms"}, {"token", "t"}}, "provider")) << "unknown provider";
    EXPECT_TRUE(refused({{"token", "t"}}, "provider"));
    EXPECT_TRUE(refused({{"provider", "gateway"}}, "token"));
    EXPECT_TRUE(refused({{"provider", "gateway"}, {"token", ""}}, "token"));
    EXPECT_TRUE(refused({{"provider", "gateway"}, {"token", std::string(4097, 'x')}}, "token"));
    EXPECT_TRUE(refused({{"provider", "gateway"}, {"token", 7}}, "token"));
    EXPECT_TRUE(refused({{"provider", "gateway"}, {"token", "t"}, {"p256dh", "k"}}, "p256dh"))
        << "keys are for webpush devices";
    EXPECT_TRUE(refused({{"provider", "gateway"}, {"token", "t"}, {"colour", "red"}}, "colour"));
    const auto unconfigured = post(port(), ann.token, devices_url, {{"provider", "fcm"}, {"token", "t"}});
    ASSERT_TRUE(IsError(unconfigured, 400, "bad_request"));
    EXPECT_EQ(unconfigured.json()["error"]["details"]["reason"], "provider_not_configured");
    EXPECT_TRUE(IsError(post_raw(port(), devices_url, "{", auth_header(ann.token)), 400, "bad_request"));
    EXPECT_TRUE(expect_json(get(port(), ann.token, devices_url), 200, "GET /devices")["devices"].empty());
}

TEST_F(PushTest, AnOfflineMemberIsPushedButNotTheSenderNorAConnectedMember) {
    auto ann = with_device("po");
    auto bob = with_device("po");
    auto carol = with_device("po");
    auto ws_carol = ws_connect(port(), carol.token);
    const std::string chat = create_group(port(), ann, {bob.id, carol.id}, {{"title", "Lunch"}})["id"];
    const auto message = send_text(port(), ann, chat, "Pizza at noon?");
    ASSERT_TRUE(settled());

    const auto to_bob = pushes_of(bob);
    ASSERT_EQ(to_bob.size(), 1u);
    const auto& push = to_bob[0];
    EXPECT_EQ(push["chat_id"], chat);
    EXPECT_EQ(push["message_id"], message["id"]);
    EXPECT_EQ(push["count"], 1);
    EXPECT_EQ(push["sender_id"], ann.id);
    EXPECT_EQ(push["sender_name"], ann.user["display_name"]);
    EXPECT_EQ(push["chat_title"], "Lunch");
    EXPECT_EQ(push["type"], "text");
    EXPECT_EQ(push["body"], "Pizza at noon?");
    EXPECT_TRUE(push["dedupe_key"].is_string());
    EXPECT_TRUE(pushes_of(ann).empty()) << "not the sender";
    EXPECT_TRUE(pushes_of(carol).empty()) << "not a member whose socket received the message";
    for (const auto& request : gateway_->requests()) {
        EXPECT_EQ(request.method, "POST");
        EXPECT_EQ(request.target, "/push");
        EXPECT_EQ(request.headers.at("authorization"), "Bearer " + gateway_key);
        EXPECT_EQ(request.headers.at("content-type"), "application/json");
    }
}

TEST_F(PushTest, SettingsSilenceAChatOrKeepItToMentions) {
    auto ann = register_user(port(), "ps");
    auto muted = with_device("ps");
    auto mentions_only = with_device("ps");
    auto muted_for_now = with_device("ps");
    auto silenced = with_device("ps");
    auto told = with_device("ps");
    const std::string chat =
        create_group(port(), ann, {muted.id, mentions_only.id, muted_for_now.id, silenced.id, told.id})["id"];
    ASSERT_TRUE(IsJson(patch(port(), muted.token, member_url(chat, muted.id), {{"is_muted", true}}), 200));
    const auto mentions = put(port(), mentions_only.token, notifications_url(chat), {{"level", "mentions"}});
    ASSERT_TRUE(IsJson(mentions, 200));
    EXPECT_EQ(mentions.json(), (json{{"level", "mentions"}, {"muted_until", nullptr}, {"is_muted", false}}));
    const std::string later = "2999-01-01T00:00:00.000Z";
    const auto until =
        put(port(), muted_for_now.token, notifications_url(chat), {{"level", "all"}, {"muted_until", later}});
    ASSERT_TRUE(IsJson(until, 200));
    EXPECT_EQ(until.json()["muted_until"], later);
    ASSERT_TRUE(IsJson(put(port(), silenced.token, notifications_url(chat), {{"level", "none"}}), 200));
    EXPECT_EQ(expect_json(get(port(), muted.token, notifications_url(chat)), 200, "GET notifications"),
              (json{{"level", "all"}, {"muted_until", nullptr}, {"is_muted", true}}));

    send_text(port(), ann, chat, "plain news");
    ASSERT_TRUE(settled());
    EXPECT_EQ(pushes_of(told).size(), 1u);
    for (const auto* quiet : {&muted, &mentions_only, &muted_for_now, &silenced})
        EXPECT_TRUE(pushes_of(*quiet).empty()) << quiet->username;

    const json mentioning =
        json::array({{{"type", "mention"}, {"offset", 0}, {"length", 3}, {"user_id", mentions_only.id}},
                     {{"type", "mention"}, {"offset", 4}, {"length", 3}, {"user_id", silenced.id}},
                     {{"type", "mention"}, {"offset", 8}, {"length", 3}, {"user_id", muted_for_now.id}}});
    const auto mention = send_text(port(), ann, chat, "@aa @bb @cc look", {{"entities", mentioning}});
    ASSERT_TRUE(settled());
    const auto to_mentioned = pushes_of(mentions_only);
    ASSERT_EQ(to_mentioned.size(), 1u) << "mentions only: the message that mentions them";
    EXPECT_EQ(to_mentioned[0]["message_id"], mention["id"]);
    EXPECT_EQ(to_mentioned[0]["count"], 1) << "the earlier message did not count for them";
    EXPECT_TRUE(pushes_of(silenced).empty()) << "level none is silent even when mentioned";
    EXPECT_TRUE(pushes_of(muted_for_now).empty()) << "muted until a later time";
    EXPECT_TRUE(pushes_of(muted).empty());
}

// A large group (docs/api.md, Large groups) pushes by default only the members its messages
// mention; a member who chose `all` gets every message, one who chose `none` nothing.
TEST_F(PushTest, ALargeGroupPushesTheMentionedAndThoseWhoAskedForAll) {
    auto ann = register_user(port(), "pl");
    auto quiet = with_device("pl");
    auto mentioned = with_device("pl");
    auto everything = with_device("pl");
    auto silenced = with_device("pl");
    const std::string chat = create_group(port(), ann, {quiet.id, mentioned.id, everything.id, silenced.id})["id"];
    ASSERT_TRUE(IsJson(patch(port(), ann.token, chat_url(chat), {{"large", true}}), 200));
    EXPECT_EQ(expect_json(get(port(), quiet.token, notifications_url(chat)), 200, "GET notifications")["level"],
              "mentions")
        << "a large group's default level";
    ASSERT_TRUE(IsJson(put(port(), everything.token, notifications_url(chat), {{"level", "all"}}), 200));
    ASSERT_TRUE(IsJson(put(port(), silenced.token, notifications_url(chat), {{"level", "none"}}), 200));

    const auto plain = send_text(port(), ann, chat, "plain news");
    const json mentioning =
        json::array({{{"type", "mention"}, {"offset", 0}, {"length", 3}, {"user_id", mentioned.id}},
                     {{"type", "mention"}, {"offset", 4}, {"length", 3}, {"user_id", silenced.id}}});
    const auto mention = send_text(port(), ann, chat, "@aa @bb look", {{"entities", mentioning}});
    ASSERT_TRUE(settled());
    EXPECT_TRUE(pushes_of(quiet).empty()) << "not mentioned, no level chosen";
    const auto to_mentioned = pushes_of(mentioned);
    ASSERT_EQ(to_mentioned.size(), 1u);
    EXPECT_EQ(to_mentioned[0]["message_id"], mention["id"]);
    EXPECT_EQ(to_mentioned[0]["count"], 1) << "the plain message did not count for them";
    const auto to_everything = pushes_of(everything);
    ASSERT_FALSE(to_everything.empty());
    int covered = 0;
    for (const auto& push : to_everything) covered += push["count"].get<int>();
    EXPECT_EQ(covered, 2) << "level all: both messages (" << plain["id"] << ")";
    EXPECT_TRUE(pushes_of(silenced).empty()) << "level none is silent even when mentioned";
}

TEST_F(PushTest, NotificationSettingsAreAMembersOwn) {
    auto ann = register_user(port(), "pn");
    auto outsider = register_user(port(), "pn");
    const std::string chat = create_group(port(), ann)["id"];
    EXPECT_TRUE(IsError(get(port(), outsider.token, notifications_url(chat)), 404, "not_found"));
    EXPECT_TRUE(IsError(put(port(), outsider.token, notifications_url(chat), {{"level", "none"}}), 404, "not_found"));
    EXPECT_TRUE(IsError(put(port(), ann.token, notifications_url(chat), {{"level", "loud"}}), 400, "bad_request"));
    EXPECT_TRUE(IsError(put(port(), ann.token, notifications_url(chat), json::object()), 400, "bad_request"));
    EXPECT_TRUE(IsError(put(port(), ann.token, notifications_url(chat), {{"level", "all"}, {"muted_until", "soon"}}),
                        400, "bad_request"));
    EXPECT_TRUE(IsError(get(port(), ann.token, notifications_url("nope")), 400, "bad_request"));
    const auto cleared = put(port(), ann.token, notifications_url(chat), {{"level", "all"}, {"muted_until", nullptr}});
    ASSERT_TRUE(IsJson(cleared, 200));
    EXPECT_EQ(cleared.json()["muted_until"], nullptr);
}

TEST_F(PushTest, ABurstIntoOneChatIsOneNotificationWithItsCount) {
    auto ann = register_user(port(), "pc");
    auto bob = with_device("pc");
    const std::string chat = create_group(port(), ann, {bob.id})["id"];
    json last;
    for (int i = 0; i < 3; ++i) last = send_text(port(), ann, chat, "burst " + std::to_string(i));
    ASSERT_TRUE(settled());
    const auto pushes = pushes_of(bob);
    ASSERT_EQ(pushes.size(), 1u) << "three messages within push.collapse_ms";
    EXPECT_EQ(pushes[0]["count"], 3);
    EXPECT_EQ(pushes[0]["message_id"], last["id"]);
    EXPECT_EQ(pushes[0]["body"], "burst 2") << "the latest message";
}

TEST_F(PushTest, FailedPushesAreRetriedWithTheSameDedupeKey) {
    auto ann = register_user(port(), "pr");
    auto bob = with_device("pr");
    auto refused = std::make_shared<std::atomic<int>>(0);
    gateway_->set_handler([refused](const FakeHttpServer::Request&) -> FakeHttpServer::Reply {
        if (refused->fetch_add(1) < 2) return {503, R"({"error":"try later"})"};
        return {200, "{}"};
    });
    const std::string chat = create_group(port(), ann, {bob.id})["id"];
    send_text(port(), ann, chat, "eventually");
    ASSERT_TRUE(settled());
    const auto tries = pushes_of(bob);
    ASSERT_EQ(tries.size(), 3u) << "two refusals, then accepted";
    EXPECT_EQ(tries[0]["dedupe_key"], tries[1]["dedupe_key"]);
    EXPECT_EQ(tries[1]["dedupe_key"], tries[2]["dedupe_key"]);
    const auto metrics = http(port(), "GET", "/metrics").body;
    EXPECT_GE(metric_sample(metrics, R"(confab_push_attempts_total{provider="gateway",result="retried"})").value_or(0),
              2);
    EXPECT_GE(metric_sample(metrics, R"(confab_push_failures_total{provider="gateway"})").value_or(0), 2);
    EXPECT_GE(metric_sample(metrics, "confab_push_delivery_latency_seconds_count").value_or(0), 1);
    EXPECT_TRUE(eventually([&] {
        return metric_sample(http(port(), "GET", "/metrics").body, "confab_push_jobs_pending") == 0.0;
    })) << "the queue gauge follows the table";
}

// A device another user registers moves to them; a notification of the previous owner's chat
// still queued on it (collapsing, or retried as here) must not follow it to the new owner.
TEST_F(PushTest, WhatWasQueuedOnADeviceStaysBehindWhenAnotherUserTakesIt) {
    auto ann = register_user(port(), "pm");
    auto bob = with_device("pm");
    auto carol = register_user(port(), "pm");
    const auto token = device_token_of(bob);
    const std::string chat = create_group(port(), ann, {bob.id})["id"];
    gateway_->set_handler([](const FakeHttpServer::Request&) -> FakeHttpServer::Reply { return {503, "{}"}; });
    const auto tries_for_bob = [&] {
        std::size_t tries = 0;
        for (const auto& request : gateway_->requests()) {
            const auto body = json::parse(request.body, nullptr, false);
            if (body.is_object() && body.value("token", "") == token && body["notification"]["chat_id"] == chat)
                ++tries;
        }
        return tries;
    };
    send_text(port(), ann, chat, "for bob's eyes");
    ASSERT_TRUE(eventually([&] { return tries_for_bob() >= 1; })) << "being retried";

    register_device(port(), carol.token, token);
    const auto tried_before_the_move = tries_for_bob();
    ASSERT_TRUE(settled());
    EXPECT_LE(tries_for_bob(), tried_before_the_move + 1)
        << "at most a send already under way at the move; the rest of bob's retries went with it";
}

// A notification still queued for a member (here retried, as a failing provider's are) goes
// when they leave the chat, however they leave: each try reads the chat and the message
// anew, so a retry after the leave would tell them the new title and the text edited since.
TEST_F(PushTest, WhatWasQueuedForAMemberGoesWhenTheyLeaveTheChat) {
    gateway_->set_handler([](const FakeHttpServer::Request&) -> FakeHttpServer::Reply { return {503, "{}"}; });
    const auto ann = register_user(port(), "pl");
    for (const std::string way : {"removed", "left", "banned"}) {
        SCOPED_TRACE(way);
        const auto bob = with_device("pl");
        const std::string chat = create_group(port(), ann, {bob.id})["id"];
        const auto sent = send_text(port(), ann, chat, "before the leave");
        ASSERT_TRUE(eventually([&] { return !pushes_to_chat(bob, chat).empty(); })) << "being retried";

        if (way == "removed") ASSERT_EQ(del(port(), ann.token, member_url(chat, bob.id)).status, 204);
        if (way == "left") ASSERT_EQ(del(port(), bob.token, member_url(chat, bob.id)).status, 204);
        if (way == "banned")
            ASSERT_TRUE(IsJson(post(port(), ann.token, chat_url(chat) + "/bans", {{"user_id", bob.id}}), 201));
        const auto tried_before_the_leave = pushes_to_chat(bob, chat).size();
        ASSERT_TRUE(IsJson(put(port(), ann.token, chat_url(chat), {{"title", "after the leave"}}), 200));
        ASSERT_TRUE(IsJson(put(port(), ann.token, message_url(sent["id"]), {{"content", "edited after"}}), 200));
        ASSERT_TRUE(settled());
        const auto tries = pushes_to_chat(bob, chat);
        EXPECT_LE(tries.size(), tried_before_the_leave + 1) << "at most a send under way at the leave";
        for (const auto& notification : tries) {
            EXPECT_NE(notification.value("chat_title", ""), "after the leave");
            EXPECT_NE(notification.value("body", ""), "edited after");
        }
    }
}

// A message the member hid for themself before its notification went out is not told
// in it (as a deleted one is not).
TEST_F(PushTest, AMessageTheMemberHidBeforeItsPushIsNotInIt) {
    const auto ann = register_user(port(), "ph");
    const auto bob = with_device("ph");
    const std::string chat = create_group(port(), ann, {bob.id})["id"];
    const auto hidden = send_text(port(), ann, chat, "hidden by bob");
    EXPECT_EQ(post(port(), bob.token, message_url(hidden["id"]) + "/hide").status, 204);
    ASSERT_TRUE(settled());
    const auto pushes = pushes_to_chat(bob, chat);
    ASSERT_EQ(pushes.size(), 1u);
    EXPECT_EQ(pushes[0]["message_id"], hidden["id"]);
    EXPECT_FALSE(pushes[0].contains("body")) << pushes[0].dump();
}

TEST_F(PushTest, ADeadTokenIsRemoved) {
    auto ann = register_user(port(), "px");
    auto bob = with_device("px");
    gateway_->set_handler([](const FakeHttpServer::Request&) -> FakeHttpServer::Reply { return {410, "{}"}; });
    const std::string chat = create_group(port(), ann, {bob.id})["id"];
    send_text(port(), ann, chat, "anyone there?");
    ASSERT_TRUE(settled());
    EXPECT_EQ(pushes_of(bob).size(), 1u) << "one try: a gone device is not retried";
    EXPECT_TRUE(expect_json(get(port(), bob.token, devices_url), 200, "GET /devices")["devices"].empty());
}

TEST_F(PushTest, EndingASessionRemovesItsDevices) {
    auto ann = register_user(port(), "pl");
    const auto phone = login(port(), ann.username);
    const auto tablet = login(port(), ann.username);
    register_device(port(), ann.token, "gw-" + ann.username + "-laptop");
    register_device(port(), phone, "gw-" + ann.username + "-phone");
    register_device(port(), tablet, "gw-" + ann.username + "-tablet");
    const auto tokens = [&] {
        std::set<std::string> found;
        const auto listed = expect_json(get(port(), ann.token, devices_url), 200, "GET /devices");
        for (const auto& d : listed["devices"]) found.insert(d["token"].get<std::string>());
        return found;
    };
    EXPECT_EQ(tokens().size(), 3u);
    ASSERT_EQ(post(port(), phone, "/api/v1/auth/logout").status, 204);
    EXPECT_EQ(tokens(), (std::set<std::string>{"gw-" + ann.username + "-laptop", "gw-" + ann.username + "-tablet"}));
    ASSERT_EQ(post(port(), ann.token, "/api/v1/auth/logout-all").status, 204);
    const auto fresh = login(port(), ann.username);
    EXPECT_TRUE(expect_json(get(port(), fresh, devices_url), 200, "GET /devices")["devices"].empty())
        << "sign-out everywhere ended every session";
}

TEST_F(PushTest, ContentFreePushesCarryIdsOnly) {
    TestDatabase db;
    ServerProcess quiet(db.url(), std::map<std::string, std::string>{
                                      {"CONFAB_PUSH_GATEWAY_URL", gateway_->url() + "/push"},
                                      {"CONFAB_PUSH_CONTENT_FREE", "true"},
                                      {"CONFAB_PUSH_COLLAPSE_MS", "0"},
                                  });
    auto ann = register_user(quiet.port(), "pf");
    auto bob = register_user(quiet.port(), "pf");
    register_device(quiet.port(), bob.token, device_token_of(bob));
    const std::string chat = create_group(quiet.port(), ann, {bob.id}, {{"title", "Secret plans"}})["id"];
    const auto message = send_text(quiet.port(), ann, chat, "the password is swordfish");
    ASSERT_TRUE(eventually([&] { return !pushes_of(bob).empty(); }, 15s));
    const auto push = pushes_of(bob)[0];
    EXPECT_EQ(
        push,
        (json{{"dedupe_key", push["dedupe_key"]}, {"chat_id", chat}, {"message_id", message["id"]}, {"count", 1}}));
}

// A URL's scheme and host are case-insensitive (RFC 3986): a gateway URL written in capitals is
// taken, and the pushes reach it.
TEST_F(PushTest, AGatewayUrlInCapitalsIsReached) {
    TestDatabase db;
    const auto url = "HTTP" + gateway_->url().substr(4) + "/push";
    ASSERT_EQ(url.rfind("HTTP://", 0), 0U) << url;
    ServerProcess capital(db.url(), std::map<std::string, std::string>{{"CONFAB_PUSH_GATEWAY_URL", url},
                                                                       {"CONFAB_PUSH_COLLAPSE_MS", "0"}});
    auto ann = register_user(capital.port(), "pc");
    auto bob = register_user(capital.port(), "pc");
    register_device(capital.port(), bob.token, device_token_of(bob));
    const std::string chat = create_group(capital.port(), ann, {bob.id})["id"];
    const auto message = send_text(capital.port(), ann, chat, "to a capital gateway");
    ASSERT_TRUE(eventually([&] { return !pushes_of(bob).empty(); }, 15s));
    EXPECT_EQ(pushes_of(bob)[0]["message_id"], message["id"]);
}

// Pushes pending when the server is killed are all sent after it restarts, each with the
// dedupe key it was first tried with.
TEST_F(PushTest, PendingPushesSurviveAKill) {
    TestDatabase db;
    const std::map<std::string, std::string> env{{"CONFAB_PUSH_GATEWAY_URL", gateway_->url() + "/push"},
                                                 {"CONFAB_PUSH_COLLAPSE_MS", "0"},
                                                 {"CONFAB_PUSH_RETRY_MIN_MS", "100"},
                                                 {"CONFAB_PUSH_RETRY_MAX_MS", "200"},
                                                 {"CONFAB_PUSH_MAX_ATTEMPTS", "1000"},
                                                 {"CONFAB_PUSH_TIMEOUT_MS", "1000"}};
    gateway_->set_handler([](const FakeHttpServer::Request&) -> FakeHttpServer::Reply { return {503, "{}"}; });
    auto server = std::make_unique<ServerProcess>(db.url(), env);
    auto ann = register_user(server->port(), "pk");
    std::vector<TestUser> offline;
    for (int i = 0; i < 3; ++i) {
        offline.push_back(register_user(server->port(), "pk"));
        register_device(server->port(), offline.back().token, device_token_of(offline.back()));
    }
    const std::string chat = create_group(server->port(), ann, {offline[0].id, offline[1].id, offline[2].id})["id"];
    send_text(server->port(), ann, chat, "before the crash");
    ASSERT_TRUE(eventually(
        [&] {
            return std::all_of(offline.begin(), offline.end(), [](const TestUser& u) { return !pushes_of(u).empty(); });
        },
        15s))
        << "each tried (and refused) before the kill";
    std::map<std::string, std::string> first_key;
    for (const auto& u : offline) first_key[u.id] = pushes_of(u)[0]["dedupe_key"];
    server->kill();

    gateway_->set_handler(accepted);
    const auto refused_before = gateway_->request_count();
    ServerProcess restarted(db.url(), env);
    ASSERT_TRUE(eventually([&] { return db.query_value("SELECT count(*) FROM push_jobs") == "0"; }, 20s));
    for (const auto& u : offline) {
        const auto pushes = pushes_of(u);
        ASSERT_FALSE(pushes.empty());
        EXPECT_EQ(pushes.back()["dedupe_key"], first_key[u.id]) << "the same notification, not a new one";
        std::set<std::string> keys;
        for (const auto& p : pushes) keys.insert(p["dedupe_key"]);
        EXPECT_EQ(keys.size(), 1u) << "one notification per device";
    }
    EXPECT_GT(gateway_->request_count(), refused_before);
}

// Endpoints that take a push and never answer hold only their user's share of the sends in
// flight (an eighth: 25 of 200): four users with 50 such devices each, all told of one message,
// do not hold up another user's push. Theirs are not dropped, only sent in turn.
TEST_F(PushTest, DevicesThatNeverAnswerHoldOnlyTheirUsersShareOfTheSends) {
    TestDatabase db;
    std::atomic<int> silent_requests{0};
    Gate answer;
    FakeHttpServer gateway([&](const FakeHttpServer::Request& request) -> FakeHttpServer::Reply {
        const auto body = json::parse(request.body, nullptr, false);
        if (body.is_object() && body.value("token", "").starts_with("gw-silent-")) {
            ++silent_requests;
            answer.wait(90s);
        }
        return {200, "{}"};
    });
    const OpenedOnExit let_go(answer);
    ServerProcess server(db.url(), std::map<std::string, std::string>{
                                       {"CONFAB_PUSH_GATEWAY_URL", gateway.url() + "/push"},
                                       {"CONFAB_PUSH_COLLAPSE_MS", "0"},
                                       {"CONFAB_PUSH_TIMEOUT_MS", "60000"},
                                   });
    const auto at = server.port();
    const auto sender = register_user(at, "pf");
    std::vector<std::string> silent_ids;
    for (int user = 0; user < 4; ++user) {
        const auto silent = register_user(at, "pf");
        for (int device = 0; device < 50; ++device)
            register_device(at, silent.token, "gw-silent-" + silent.username + "-" + std::to_string(device));
        silent_ids.push_back(silent.id);
    }
    const auto heard = register_user(at, "pf");
    register_device(at, heard.token, device_token_of(heard));
    const std::string crowd = create_group(at, sender, silent_ids)["id"];
    const std::string direct = create_group(at, sender, {heard.id})["id"];

    send_text(at, sender, crowd, "to fifty devices each");
    ASSERT_TRUE(eventually([&] { return silent_requests >= 100; }, 15s)) << silent_requests << " silent sends";
    send_text(at, sender, direct, "still heard");
    ASSERT_TRUE(eventually([&] { return !pushes_to(gateway, device_token_of(heard)).empty(); }, 15s))
        << "the push waited behind " << silent_requests << " unanswered sends";
    EXPECT_EQ(silent_requests, 100) << "each silent user's share is 25 sends in flight";

    answer.open();
    EXPECT_TRUE(eventually([&] { return silent_requests == 200; }, 30s)) << silent_requests << " of 200 sent";
}

}  // namespace
}  // namespace confab::test
