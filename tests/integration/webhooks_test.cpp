// Outgoing webhooks (docs/api.md, Webhooks): a chat's admins (and the operator, server-wide)
// subscribe a URL; every committed message and member change reaches it as a signed POST, in
// order per chat, retried until the receiver takes it, across a kill -9 of the server, and
// parked for a replay when it keeps failing. The receivers are fakes in this process
// (support/fake_http_server) that check each signature as a receiver would.

#include "support/chat_api.hpp"
#include "support/fake_http_server.hpp"
#include "support/opened_on_exit.hpp"
#include "support/webhook_receiver.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>

namespace confab::test {
namespace {

const std::string api_key = "the-operators-server-api-key-for-webhooks-0123";

std::map<std::string, std::string> webhook_env(const std::map<std::string, std::string>& extra = {}) {
    std::map<std::string, std::string> env{
        {"CONFAB_WEBHOOKS_ALLOW_LOOPBACK", "true"}, {"CONFAB_WEBHOOKS_BACKOFF_MIN_MS", "20"},
        {"CONFAB_WEBHOOKS_BACKOFF_MAX_MS", "200"},  {"CONFAB_WEBHOOKS_TIMEOUT_MS", "1000"},
        {"CONFAB_WEBHOOKS_POLL_INTERVAL_MS", "50"}, {"CONFAB_SERVER_API_KEYS", api_key},
        {"CONFAB_LIMIT_MESSAGE_BURST", "1000"},     {"CONFAB_LIMIT_MESSAGE_RATE", "1000"}};
    for (auto& [name, value] : extra) env[name] = value;
    return env;
}

// The suite's own server (OwnServerSuite).
std::map<std::string, std::string> webhook_suite_env() { return webhook_env(); }

std::map<std::string, std::string> key_headers() {
    return {{"Authorization", "Bearer " + api_key}, {"Content-Type", "application/json"}};
}

std::string webhooks_url(const std::string& chat_id) { return chat_url(chat_id) + "/webhooks"; }

// About 30% of requests fail with 500, and one in eleven stalls past the server's timeout.
int flaky(const json&, std::size_t number) {
    if (number % 11 == 5) {
        Gate never;
        never.wait(std::chrono::milliseconds(1300));
        return 500;
    }
    return number % 10 == 2 || number % 10 == 5 || number % 10 == 8 ? 500 : 200;
}

std::vector<std::int64_t> delivered_seqs(const WebhookReceiver& receiver, const std::string& chat_id) {
    std::vector<std::int64_t> seqs;
    for (const auto& body : receiver.unique("message.new"))
        if (body["chat_id"] == chat_id && body["data"]["message"]["type"] == "text")
            seqs.push_back(body["data"]["message"]["seq"].get<std::int64_t>());
    return seqs;
}

class WebhooksTest : public OwnServerSuite<webhook_suite_env> {
protected:
    // Ann's group with Bob (a member) and the receiver subscribed to it by Ann.
    struct Scene {
        TestUser ann, bob;
        std::string chat_id;
        json webhook;
    };
    static Scene subscribed_group(WebhookReceiver& receiver, std::uint16_t at = 0) {
        if (at == 0) at = port();
        Scene scene{register_user(at, "ann"), register_user(at, "bob"), "", json()};
        scene.chat_id = create_group(at, scene.ann, {scene.bob.id})["id"].get<std::string>();
        scene.webhook = expect_json(post(at, scene.ann.token, webhooks_url(scene.chat_id), {{"url", receiver.url()}}),
                                    201, "subscribe");
        receiver.add_secret(scene.webhook);
        return scene;
    }
};

TEST_F(WebhooksTest, AdminSubscribesAndEveryChangeArrivesSignedAsItsWebSocketEvent) {
    WebhookReceiver receiver;
    auto scene = subscribed_group(receiver);
    EXPECT_TRUE(is_uuid(scene.webhook["id"]));
    EXPECT_EQ(scene.webhook["chat_id"], scene.chat_id);
    EXPECT_EQ(scene.webhook["url"], receiver.url());
    EXPECT_EQ(scene.webhook["events"], json({"message.new", "message.updated", "message.deleted", "member.added",
                                             "member.updated", "member.removed"}));
    EXPECT_EQ(scene.webhook["created_by"], scene.ann.id);
    EXPECT_TRUE(scene.webhook["secret"].get<std::string>().rfind("whsec_", 0) == 0);

    std::vector<json> sent;
    for (const auto* text : {"one", "two", "three"}) sent.push_back(send_text(port(), scene.bob, scene.chat_id, text));
    ASSERT_TRUE(eventually([&] { return receiver.unique("message.new").size() == 3; }, 15s));
    const auto news = receiver.unique("message.new");
    for (std::size_t i = 0; i < sent.size(); ++i) {
        for (const auto* field : {"id", "seq", "content", "sender_id", "version"})
            EXPECT_EQ(news[i]["data"]["message"][field], sent[i][field]) << i << " " << field;
        EXPECT_EQ(news[i]["chat_id"], scene.chat_id);
        EXPECT_EQ(news[i]["webhook_id"], scene.webhook["id"]);
        EXPECT_TRUE(IsMessageModel(news[i]["data"]["message"]));
    }

    const auto first_id = sent[0]["id"].get<std::string>();
    expect_json(put(port(), scene.bob.token, message_url(first_id), {{"content", "one, edited"}}), 200, "edit");
    ASSERT_TRUE(eventually([&] { return receiver.unique("message.updated").size() == 1; }, 15s));
    EXPECT_EQ(receiver.unique("message.updated")[0]["data"]["message"]["content"], "one, edited");
    EXPECT_EQ(del(port(), scene.bob.token, message_url(sent[1]["id"].get<std::string>())).status, 204);
    ASSERT_TRUE(eventually([&] { return receiver.unique("message.deleted").size() == 1; }, 15s));
    const auto deleted = receiver.unique("message.deleted")[0]["data"];
    EXPECT_EQ(deleted["message_id"], sent[1]["id"]);
    EXPECT_EQ(deleted["chat_id"], scene.chat_id);
    EXPECT_TRUE(deleted["version"].is_number_integer());
    EXPECT_TRUE(receiver.problems().empty()) << receiver.problems().front();
    EXPECT_EQ(receiver.taken().size(), receiver.unique().size()) << "a receiver that always answers 200 got repeats";
}

// An IPv6 address in a URL is in brackets; it is resolved, and reached, bare.
TEST_F(WebhooksTest, AReceiverAtAnIpv6AddressIsSubscribedAndReached) {
    WebhookReceiver receiver(nullptr, "::1");
    ASSERT_TRUE(receiver.url().starts_with("http://[::1]:")) << receiver.url();
    auto scene = subscribed_group(receiver);
    const auto sent = send_text(port(), scene.bob, scene.chat_id, "over IPv6");
    ASSERT_TRUE(eventually([&] { return receiver.unique("message.new").size() == 1; }, 15s));
    EXPECT_EQ(receiver.unique("message.new")[0]["data"]["message"]["id"], sent["id"]);
    EXPECT_TRUE(receiver.problems().empty()) << receiver.problems().front();
}

TEST_F(WebhooksTest, MemberChangesArriveAsMemberEvents) {
    WebhookReceiver receiver;
    auto scene = subscribed_group(receiver);
    const auto carl = register_user(port(), "carl");
    // Each change waits for the one before: a member event shows the member as they are
    // when it is delivered, and one who has left by then gets no member.added.
    add_members(port(), scene.ann, scene.chat_id, {carl.id});
    ASSERT_TRUE(eventually([&] { return receiver.unique("member.added").size() == 1; }, 15s));
    set_role(port(), scene.ann, scene.chat_id, carl.id, "admin");
    ASSERT_TRUE(eventually([&] { return receiver.unique("member.updated").size() == 1; }, 15s));
    EXPECT_EQ(del(port(), scene.ann.token, member_url(scene.chat_id, carl.id)).status, 204);
    ASSERT_TRUE(eventually([&] { return receiver.unique("member.removed").size() == 1; }, 15s));
    std::vector<std::string> member_events;
    for (const auto& body : receiver.unique())
        if (body["type"].get<std::string>().rfind("member.", 0) == 0) member_events.push_back(body["type"]);
    EXPECT_EQ(member_events, (std::vector<std::string>{"member.added", "member.updated", "member.removed"}));
    const auto added = receiver.unique("member.added")[0]["data"]["member"];
    EXPECT_TRUE(IsMemberModel(added));
    EXPECT_EQ(added["user"]["id"], carl.id);
    EXPECT_EQ(receiver.unique("member.updated")[0]["data"]["member"]["role"], "admin");
    EXPECT_EQ(receiver.unique("member.removed")[0]["data"], json({{"chat_id", scene.chat_id}, {"user_id", carl.id}}));
    // Each change also came as its system message, before its member event.
    EXPECT_EQ(receiver.unique("message.new").size(), 3U);

    // A ban takes the member out too.
    ASSERT_TRUE(
        IsJson(post(port(), scene.ann.token, chat_url(scene.chat_id) + "/bans", {{"user_id", scene.bob.id}}), 201));
    ASSERT_TRUE(eventually([&] { return receiver.unique("member.removed").size() == 2; }, 15s));
    EXPECT_EQ(receiver.unique("member.removed")[1]["data"],
              json({{"chat_id", scene.chat_id}, {"user_id", scene.bob.id}}));
    EXPECT_EQ(receiver.unique("message.new").size(), 4U);
}

// A chat's subscription belongs to the chat: it outlives the account of the admin who made it,
// and names them no more (Webhook.created_by is null once that user is deleted).
TEST_F(WebhooksTest, ASubscriptionOutlivesItsCreatorsAccountAndNamesItNoMore) {
    WebhookReceiver receiver;
    auto scene = subscribed_group(receiver);
    ASSERT_EQ(scene.webhook["created_by"], scene.ann.id);
    const auto deleted = del(port(), scene.ann.token, "/api/v1/users/me", json{{"password", kPassword}});
    ASSERT_EQ(deleted.status, 204) << deleted.describe();

    const auto listed = expect_json(get(port(), scene.bob.token, webhooks_url(scene.chat_id)), 200, "list")["webhooks"];
    ASSERT_EQ(listed.size(), 1U) << "the group's new owner still sees it";
    EXPECT_EQ(listed[0]["id"], scene.webhook["id"]);
    EXPECT_TRUE(listed[0]["created_by"].is_null()) << listed.dump();
    send_text(port(), scene.bob, scene.chat_id, "still delivered");
    EXPECT_TRUE(eventually(
        [&] {
            for (const auto& body : receiver.unique("message.new"))
                if (body["data"]["message"]["content"] == "still delivered") return true;
            return false;
        },
        15s));
}

TEST_F(WebhooksTest, ASubscriptionGetsOnlyTheEventsItNames) {
    WebhookReceiver receiver;
    auto scene = subscribed_group(receiver);
    WebhookReceiver deletions;
    const auto webhook =
        expect_json(post(port(), scene.ann.token, webhooks_url(scene.chat_id),
                         {{"url", deletions.url()}, {"events", {"message.deleted", "message.deleted"}}}),
                    201, "subscribe to deletions");
    EXPECT_EQ(webhook["events"], json({"message.deleted"}));
    deletions.add_secret(webhook);
    const auto kept = send_text(port(), scene.ann, scene.chat_id, "kept");
    const auto gone = send_text(port(), scene.ann, scene.chat_id, "gone");
    ASSERT_TRUE(eventually([&] { return receiver.unique("message.new").size() == 2; }, 15s));
    EXPECT_EQ(del(port(), scene.ann.token, message_url(gone["id"])).status, 204);
    ASSERT_TRUE(eventually([&] { return receiver.unique("message.deleted").size() == 1; }, 15s));
    ASSERT_TRUE(eventually([&] { return deletions.unique().size() == 1; }, 15s));
    EXPECT_EQ(deletions.unique()[0]["type"], "message.deleted");
    EXPECT_EQ(deletions.unique()[0]["data"]["message_id"], gone["id"]);
    EXPECT_TRUE(deletions.problems().empty());
}

TEST_F(WebhooksTest, AFlakyReceiverGetsEveryEventInOrderPerChat) {
    WebhookReceiver receiver(flaky);
    auto scene = subscribed_group(receiver);
    const auto other = create_group(port(), scene.ann, {scene.bob.id})["id"].get<std::string>();
    receiver.add_secret(
        expect_json(post(port(), scene.ann.token, webhooks_url(other), {{"url", receiver.url()}}), 201, "subscribe"));
    std::map<std::string, std::vector<std::int64_t>> expected;
    for (int i = 0; i < 20; ++i)
        for (const auto& chat : {scene.chat_id, other})
            expected[chat].push_back(
                send_text(port(), i % 2 ? scene.bob : scene.ann, chat, "m" + std::to_string(i))["seq"]
                    .get<std::int64_t>());
    ASSERT_TRUE(eventually(
        [&] {
            return delivered_seqs(receiver, scene.chat_id).size() == 20 && delivered_seqs(receiver, other).size() == 20;
        },
        90s))
        << delivered_seqs(receiver, scene.chat_id).size() << " and " << delivered_seqs(receiver, other).size();
    EXPECT_EQ(delivered_seqs(receiver, scene.chat_id), expected[scene.chat_id]);
    EXPECT_EQ(delivered_seqs(receiver, other), expected[other]);
    EXPECT_GT(receiver.requests(), receiver.unique().size()) << "no request failed: the receiver was not flaky";
    EXPECT_TRUE(receiver.problems().empty()) << receiver.problems().front();
}

TEST_F(WebhooksTest, NothingIsLostAcrossAKillNineOfTheServer) {
    TestDatabase database;
    auto server = std::make_unique<ServerProcess>(database.url(), webhook_env());
    WebhookReceiver receiver(flaky);
    auto scene = subscribed_group(receiver, server->port());
    std::vector<std::int64_t> expected;
    expected.reserve(30);
    for (int i = 0; i < 30; ++i)
        expected.push_back(send_text(server->port(), scene.ann, scene.chat_id, "k" + std::to_string(i))["seq"]);
    ASSERT_TRUE(eventually([&] { return receiver.unique().size() >= 5; }, 30s));
    server->kill();
    const auto before = delivered_seqs(receiver, scene.chat_id).size();
    server = std::make_unique<ServerProcess>(database.url(), webhook_env());
    for (int i = 30; i < 35; ++i)
        expected.push_back(send_text(server->port(), scene.ann, scene.chat_id, "k" + std::to_string(i))["seq"]);
    ASSERT_TRUE(eventually([&] { return delivered_seqs(receiver, scene.chat_id).size() == 35; }, 90s))
        << delivered_seqs(receiver, scene.chat_id).size() << " delivered, " << before << " before the kill";
    EXPECT_EQ(delivered_seqs(receiver, scene.chat_id), expected);
    EXPECT_TRUE(receiver.problems().empty()) << receiver.problems().front();
}

// Stops the shared cluster: this file's ctest entry runs alone (RUN_SERIAL), and skips
// without CONFAB_TEST_PG_STOP / CONFAB_TEST_PG_START.
TEST_F(WebhooksTest, NothingIsLostAcrossAPostgresRestart) {
    CONFAB_REQUIRE_PG_CONTROL();
    TestDatabase database;
    ServerProcess server(database.url(), webhook_env());
    WebhookReceiver receiver(flaky);
    auto scene = subscribed_group(receiver, server.port());
    std::vector<std::int64_t> expected;
    expected.reserve(20);
    for (int i = 0; i < 20; ++i)
        expected.push_back(send_text(server.port(), scene.ann, scene.chat_id, "p" + std::to_string(i))["seq"]);
    ASSERT_TRUE(eventually([&] { return receiver.unique().size() >= 3; }, 30s));
    {
        PgStopGuard pg;
        pg.stop();
        const auto asked = receiver.requests();
        // Deliveries read before the stop may still go out; their cursors cannot move.
        eventually([&] { return receiver.requests() > asked; }, 3s);
        pg.start();
    }
    ASSERT_TRUE(eventually([&] { return http(server.port(), "GET", "/readyz").status == 200; }, 60s));
    for (int i = 20; i < 25; ++i)
        expected.push_back(send_text(server.port(), scene.ann, scene.chat_id, "p" + std::to_string(i))["seq"]);
    ASSERT_TRUE(eventually([&] { return delivered_seqs(receiver, scene.chat_id).size() == 25; }, 90s))
        << delivered_seqs(receiver, scene.chat_id).size() << " delivered";
    EXPECT_EQ(delivered_seqs(receiver, scene.chat_id), expected);
    EXPECT_TRUE(receiver.problems().empty()) << receiver.problems().front();
}

TEST_F(WebhooksTest, ADeliveryThatKeepsFailingIsParkedListedAndReplayed) {
    TestDatabase database;
    ServerProcess server(database.url(), webhook_env({{"CONFAB_WEBHOOKS_RETRY_FOR_SECONDS", "1"}}));
    WebhookReceiver receiver([](const json&, std::size_t) { return 503; });
    auto scene = subscribed_group(receiver, server.port());
    const auto hook = scene.webhook["id"].get<std::string>();
    const auto failures_url = webhooks_url(scene.chat_id) + "/" + hook + "/failures";
    const auto lost = send_text(server.port(), scene.ann, scene.chat_id, "parked");
    json failures;
    ASSERT_TRUE(eventually(
        [&] {
            failures = expect_json(get(server.port(), scene.ann.token, failures_url), 200, "failures")["failures"];
            return failures.size() == 1;
        },
        30s));
    const auto failure = failures[0];
    EXPECT_TRUE(is_uuid(failure["id"]));
    EXPECT_EQ(failure["webhook_id"], hook);
    EXPECT_EQ(failure["chat_id"], scene.chat_id);
    EXPECT_EQ(failure["event"], "message.new");
    EXPECT_EQ(failure["payload"]["data"]["message"]["id"], lost["id"]);
    EXPECT_EQ(failure["payload"]["delivery_id"], failure["delivery_id"]);
    EXPECT_GE(failure["attempts"].get<int>(), 2);
    EXPECT_EQ(failure["last_error"], "the receiver answered 503");
    EXPECT_TRUE(is_timestamp(failure["failed_at"]));

    // The next event is not held back by the parked one.
    receiver.set_policy(nullptr);
    const auto next = send_text(server.port(), scene.ann, scene.chat_id, "after");
    ASSERT_TRUE(eventually([&] { return receiver.unique("message.new").size() == 1; }, 15s));
    EXPECT_EQ(receiver.unique("message.new")[0]["data"]["message"]["id"], next["id"]);

    const auto replay_url = failures_url + "/" + failure["id"].get<std::string>() + "/replay";
    receiver.set_policy([](const json&, std::size_t) { return 500; });
    EXPECT_EQ(expect_json(post(server.port(), scene.ann.token, replay_url), 200, "replay refused"),
              json({{"delivered", false}, {"error", "the receiver answered 500"}}));
    receiver.set_policy(nullptr);
    EXPECT_EQ(expect_json(post(server.port(), scene.ann.token, replay_url), 200, "replay"),
              json({{"delivered", true}, {"error", nullptr}}));
    const auto replayed = receiver.unique("message.new");
    ASSERT_EQ(replayed.size(), 2U);
    EXPECT_EQ(replayed[1]["delivery_id"], failure["delivery_id"]);
    EXPECT_EQ(replayed[1]["data"]["message"]["id"], lost["id"]);
    EXPECT_EQ(expect_json(get(server.port(), scene.ann.token, failures_url), 200, "failures")["failures"],
              json::array());
    EXPECT_TRUE(IsError(post(server.port(), scene.ann.token, replay_url), 404, "not_found"));
    EXPECT_TRUE(receiver.problems().empty()) << receiver.problems().front();

    const auto metrics = http(server.port(), "GET", "/metrics").body;
    EXPECT_EQ(metric_sample(metrics, "confab_webhook_failures_total"), 1.0);
    EXPECT_GE(metric_sample(metrics, "confab_webhook_attempts_total{result=\"failed\"}").value_or(0), 3.0);
    EXPECT_GE(metric_sample(metrics, "confab_webhook_attempts_total{result=\"delivered\"}").value_or(0), 2.0);
    EXPECT_GE(metric_sample(metrics, "confab_webhook_delivery_latency_seconds_count").value_or(0), 1.0);
    EXPECT_TRUE(metric_sample(metrics, "confab_webhook_pending").has_value());
    EXPECT_TRUE(metric_sample(metrics, "confab_webhook_oldest_pending_seconds").has_value());
}

TEST_F(WebhooksTest, TheOperatorSubscribesServerWideWithTheServerKey) {
    WebhookReceiver receiver;
    const auto created = http(port(), "POST", "/api/v1/server/webhooks",
                              json({{"url", receiver.url()}, {"events", {"message.new"}}}).dump(), key_headers());
    ASSERT_EQ(created.status, 201) << created.body;
    const auto webhook = created.json();
    EXPECT_TRUE(webhook["chat_id"].is_null());
    EXPECT_TRUE(webhook["created_by"].is_null());
    receiver.add_secret(webhook);
    // A chat created after the subscription is covered too, direct chats included.
    const auto ann = register_user(port(), "ann"), bob = register_user(port(), "bob");
    const auto direct = create_direct(port(), ann, bob)["id"].get<std::string>();
    const auto sent = send_text(port(), ann, direct, "to the operator too");
    ASSERT_TRUE(eventually(
        [&] {
            for (const auto& body : receiver.unique())
                if (body["data"]["message"]["id"] == sent["id"]) return true;
            return false;
        },
        15s));
    const auto listed = http(port(), "GET", "/api/v1/server/webhooks", std::nullopt, key_headers());
    ASSERT_EQ(listed.status, 200) << listed.body;
    ASSERT_EQ(listed.json()["webhooks"].size(), 1U);
    EXPECT_FALSE(listed.json()["webhooks"][0].contains("secret"));
    EXPECT_TRUE(IsError(http(port(), "GET", "/api/v1/server/webhooks"), 401, "unauthorized"));
    EXPECT_TRUE(IsError(get(port(), ann.token, "/api/v1/server/webhooks"), 401, "unauthorized"));
    const auto id = webhook["id"].get<std::string>();
    EXPECT_EQ(http(port(), "DELETE", "/api/v1/server/webhooks/" + id, std::nullopt, key_headers()).status, 204);
    EXPECT_TRUE(IsError(http(port(), "DELETE", "/api/v1/server/webhooks/" + id, std::nullopt, key_headers()), 404,
                        "not_found"));
    EXPECT_TRUE(receiver.problems().empty()) << receiver.problems().front();
}

TEST_F(WebhooksTest, TheOperatorListsAndReplaysAServerWideDeliveryThatKeptFailing) {
    TestDatabase database;
    ServerProcess server(database.url(), webhook_env({{"CONFAB_WEBHOOKS_RETRY_FOR_SECONDS", "1"}}));
    WebhookReceiver receiver([](const json&, std::size_t) { return 503; });
    const auto created = http(server.port(), "POST", "/api/v1/server/webhooks",
                              json({{"url", receiver.url()}, {"events", {"message.new"}}}).dump(), key_headers());
    ASSERT_EQ(created.status, 201) << created.body;
    receiver.add_secret(created.json());
    const auto failures_url = "/api/v1/server/webhooks/" + created.json()["id"].get<std::string>() + "/failures";
    const auto ann = register_user(server.port(), "ann"), bob = register_user(server.port(), "bob");
    const auto chat = create_direct(server.port(), ann, bob)["id"].get<std::string>();
    const auto lost = send_text(server.port(), ann, chat, "parked for the operator");

    json failures;
    ASSERT_TRUE(eventually(
        [&] {
            const auto listed = http(server.port(), "GET", failures_url, std::nullopt, key_headers());
            failures = expect_json(listed, 200, "server failures")["failures"];
            return failures.size() == 1;
        },
        30s));
    EXPECT_EQ(failures[0]["chat_id"], chat);
    EXPECT_EQ(failures[0]["payload"]["data"]["message"]["id"], lost["id"]);
    EXPECT_EQ(failures[0]["last_error"], "the receiver answered 503");
    EXPECT_TRUE(IsError(get(server.port(), ann.token, failures_url), 401, "unauthorized"));

    const auto replay_url = failures_url + "/" + failures[0]["id"].get<std::string>() + "/replay";
    EXPECT_TRUE(IsError(post(server.port(), ann.token, replay_url), 401, "unauthorized"));
    receiver.set_policy(nullptr);
    EXPECT_EQ(expect_json(http(server.port(), "POST", replay_url, std::nullopt, key_headers()), 200, "replay"),
              json({{"delivered", true}, {"error", nullptr}}));
    ASSERT_EQ(receiver.unique("message.new").size(), 1U);
    EXPECT_EQ(receiver.unique("message.new")[0]["delivery_id"], failures[0]["delivery_id"]);
    EXPECT_EQ(expect_json(http(server.port(), "GET", failures_url, std::nullopt, key_headers()), 200,
                          "failures")["failures"],
              json::array());
    EXPECT_TRUE(IsError(http(server.port(), "POST", replay_url, std::nullopt, key_headers()), 404, "not_found"));
    EXPECT_TRUE(receiver.problems().empty()) << receiver.problems().front();
}

// A page's cursor holds the place of its last delivery (its failed_at and id), not a row to look
// up: replaying that delivery, which removes it, does not end the list. The chat's route and the
// server's alike (the bot's: bots_test).
TEST_F(WebhooksTest, APageOfParkedDeliveriesGoesOnPastOneReplayedSince) {
    TestDatabase database;
    ServerProcess server(database.url(), webhook_env({{"CONFAB_WEBHOOKS_RETRY_FOR_SECONDS", "1"}}));
    const auto at = server.port();
    WebhookReceiver receiver([](const json&, std::size_t) { return 503; });
    const auto ann = register_user(at, "ann");
    const auto chat_id = create_group(at, ann)["id"].get<std::string>();
    const auto in_chat =
        expect_json(post(at, ann.token, webhooks_url(chat_id), {{"url", receiver.url()}}), 201, "chat subscription");
    const auto server_wide =
        expect_json(http(at, "POST", "/api/v1/server/webhooks", json({{"url", receiver.url()}}).dump(), key_headers()),
                    201, "server-wide subscription");
    receiver.add_secret(in_chat);
    receiver.add_secret(server_wide);
    for (const auto* text : {"one", "two", "three"}) send_text(at, ann, chat_id, text);

    const auto chat_failures = webhooks_url(chat_id) + "/" + in_chat["id"].get<std::string>() + "/failures";
    const auto server_failures = "/api/v1/server/webhooks/" + server_wide["id"].get<std::string>() + "/failures";
    const auto parked = [&](const std::string& token, const std::string& url) {
        return expect_json(get(at, token, url), 200, "failures")["failures"].size();
    };
    ASSERT_TRUE(
        eventually([&] { return parked(ann.token, chat_failures) == 3 && parked(api_key, server_failures) == 3; },
                   60s));
    receiver.set_policy(nullptr);
    EXPECT_TRUE(PagesOnPastReplayedFailures(at, ann.token, chat_failures));
    EXPECT_TRUE(PagesOnPastReplayedFailures(at, api_key, server_failures));
    EXPECT_TRUE(receiver.problems().empty()) << receiver.problems().front();
}

// The caps hold under concurrent creations, which count one after another (the chat's row lock,
// an advisory lock for the server-wide ones): exactly 20 are made, the rest refused with a
// message naming the cap they met.
TEST_F(WebhooksTest, ConcurrentSubscriptionsStopAtTheCapOfTheChatAndOfTheServer) {
    TestDatabase database;  // the server-wide cap is the whole server's
    ServerProcess server(database.url(), webhook_env());
    const auto at = server.port();
    WebhookReceiver receiver;
    const auto ann = register_user(at, "ann");
    const auto chat_id = create_group(at, ann)["id"].get<std::string>();
    const auto body = json({{"url", receiver.url()}});
    const auto made_and_refused = [](const std::vector<HttpResponse>& answers, const std::string& refusal) {
        std::size_t made = 0;
        for (const auto& answer : answers) {
            if (answer.status == 201) {
                ++made;
                continue;
            }
            EXPECT_TRUE(IsError(answer, 409, "conflict")) << answer.describe();
            if (answer.status == 409) {
                EXPECT_EQ(answer.json()["error"]["message"], refusal);
            }
        }
        return made;
    };

    const auto in_chat = all_at_once(30, [&](std::size_t) { return post(at, ann.token, webhooks_url(chat_id), body); });
    EXPECT_EQ(made_and_refused(in_chat, "at most 20 webhooks per chat"), 20U);
    EXPECT_EQ(expect_json(get(at, ann.token, webhooks_url(chat_id)), 200, "chat list")["webhooks"].size(), 20U);

    const auto server_wide = all_at_once(30, [&](std::size_t) {
        return http(at, "POST", "/api/v1/server/webhooks", body.dump(), key_headers());
    });
    EXPECT_EQ(made_and_refused(server_wide, "at most 20 server-wide webhooks"), 20U);
    EXPECT_EQ(expect_json(get(at, api_key, "/api/v1/server/webhooks"), 200, "server list")["webhooks"].size(), 20U);
    EXPECT_EQ(expect_json(get(at, ann.token, webhooks_url(chat_id)), 200, "chat list")["webhooks"].size(), 20U)
        << "the server-wide ones are not the chat's";
}

// A server delivering at most 8 pairs at once (so an owner's share is 1), with time enough
// for a receiver that never answers to hold its pair through a test.
std::map<std::string, std::string> few_slots_env() {
    return webhook_env({{"CONFAB_WEBHOOKS_CONCURRENCY", "8"}, {"CONFAB_WEBHOOKS_TIMEOUT_MS", "60000"}});
}

// A receiver's policy: hold every request unanswered until `answer` opens, then take it.
WebhookReceiver::Policy held_until(Gate& answer) {
    return [&answer](const json&, std::size_t) {
        answer.wait(std::chrono::seconds(90));
        return 200;
    };
}

// The text messages a receiver took, each delivery once.
std::size_t texts_taken(const WebhookReceiver& receiver) {
    std::size_t texts = 0;
    for (const auto& body : receiver.unique("message.new")) texts += body["data"]["message"]["type"] == "text";
    return texts;
}

// Receivers that take a delivery and never answer hold only their owner's share of the pairs
// in flight (webhooks.concurrency / 8; here 1 of 8): Ann's eight groups and her bot, whose
// receiver holds every request, do not hold up Bob's webhook. Hers are not dropped, only
// delivered in turn.
TEST_F(WebhooksTest, ReceiversThatNeverAnswerHoldOnlyTheirOwnersShareOfTheDeliveries) {
    TestDatabase database;
    ServerProcess server(database.url(), few_slots_env());
    const auto at = server.port();
    Gate answer;
    WebhookReceiver silent(held_until(answer));
    WebhookReceiver healthy;
    const OpenedOnExit let_go(answer);
    const auto ann = register_user(at, "ann");
    const auto bob = register_user(at, "bob");
    std::vector<std::string> ann_chats;
    for (int i = 0; i < 8; ++i) {
        ann_chats.push_back(create_group(at, ann)["id"].get<std::string>());
        silent.add_secret(expect_json(post(at, ann.token, webhooks_url(ann_chats.back()), {{"url", silent.url()}}), 201,
                                      "Ann subscribes"));
    }
    // Her bot's webhook is hers too: it takes from her share, not from a share of its own.
    const auto made = expect_json(post(at, ann.token, "/api/v1/bots",
                                       {{"username", unique_username("hog")}, {"webhook_url", silent.url()}}),
                                  201, "Ann's bot");
    silent.add_secret(made["bot"]["webhook_id"].get<std::string>(), made["webhook_secret"].get<std::string>());
    add_members(at, ann, ann_chats.front(), {made["bot"]["id"].get<std::string>()});
    const auto bob_chat = create_group(at, bob)["id"].get<std::string>();
    healthy.add_secret(
        expect_json(post(at, bob.token, webhooks_url(bob_chat), {{"url", healthy.url()}}), 201, "Bob subscribes"));

    for (const auto& chat_id : ann_chats) send_text(at, ann, chat_id, "into the void");
    ASSERT_TRUE(eventually([&] { return silent.requests() >= 1; }, 15s)) << "Ann's receiver was never called";
    const auto sent = send_text(at, bob, bob_chat, "still heard");
    ASSERT_TRUE(eventually([&] { return healthy.unique("message.new").size() == 1; }, 15s))
        << "Bob's webhook waited behind Ann's " << silent.requests() << " unanswered requests";
    EXPECT_EQ(healthy.unique("message.new")[0]["data"]["message"]["id"], sent["id"]);
    EXPECT_EQ(silent.requests(), 1U) << "Ann's share is one delivery in flight";

    answer.open();
    ASSERT_TRUE(eventually([&] { return texts_taken(silent) == ann_chats.size() + 1; }, 30s))
        << texts_taken(silent) << " of Ann's " << ann_chats.size() + 1 << " delivered (her groups' and her bot's)";
    EXPECT_TRUE(silent.problems().empty()) << silent.problems().front();
    EXPECT_TRUE(healthy.problems().empty()) << healthy.problems().front();
}

// The operator's server-wide webhook, one subscription for every chat, has no share: its pairs
// are held to webhooks.concurrency alone.
TEST_F(WebhooksTest, TheOperatorsServerWideWebhookHasNoShareOfItsOwn) {
    TestDatabase database;
    ServerProcess server(database.url(), few_slots_env());
    const auto at = server.port();
    Gate answer;
    WebhookReceiver silent(held_until(answer));
    const OpenedOnExit let_go(answer);
    const auto created =
        http(at, "POST", "/api/v1/server/webhooks", json({{"url", silent.url()}}).dump(), key_headers());
    ASSERT_EQ(created.status, 201) << created.body;
    silent.add_secret(created.json());
    const auto ann = register_user(at, "ann");
    for (int i = 0; i < 3; ++i) send_text(at, ann, create_group(at, ann)["id"].get<std::string>(), "everywhere");
    EXPECT_TRUE(eventually([&] { return silent.requests() >= 3; }, 15s))
        << silent.requests() << " of the server-wide webhook's pairs in flight";
}

// Scheme and host are case-insensitive (RFC 3986): such a URL is subscribed as written, for a
// chat and for a bot (checked alike), and deliveries reach it.
TEST_F(WebhooksTest, AUrlInCapitalsIsSubscribedAsWrittenAndReached) {
    WebhookReceiver receiver;
    const auto url = "HTTP" + receiver.url().substr(4);
    ASSERT_EQ(url.rfind("HTTP://127.0.0.1:", 0), 0U) << url;
    const auto ann = register_user(port(), "ann");
    const auto chat_id = create_group(port(), ann)["id"].get<std::string>();
    const auto webhook = expect_json(post(port(), ann.token, webhooks_url(chat_id), {{"url", url}}), 201, "subscribe");
    EXPECT_EQ(webhook["url"], url);
    receiver.add_secret(webhook);
    const auto sent = send_text(port(), ann, chat_id, "to a capital URL");
    ASSERT_TRUE(eventually([&] { return receiver.unique("message.new").size() == 1; }, 15s));
    EXPECT_EQ(receiver.unique("message.new")[0]["data"]["message"]["id"], sent["id"]);
    EXPECT_TRUE(receiver.problems().empty()) << receiver.problems().front();

    const auto bot = expect_json(post(port(), ann.token, "/api/v1/bots",
                                      {{"username", unique_username("hook")}, {"webhook_url", url}}),
                                 201, "a bot with a capital webhook_url");
    EXPECT_EQ(bot["bot"]["webhook_url"], url);
}

TEST_F(WebhooksTest, OnlyTheGroupsAdminsManageItsWebhooks) {
    WebhookReceiver receiver;
    auto scene = subscribed_group(receiver);
    const auto outsider = register_user(port(), "out");
    const json body{{"url", receiver.url()}};
    EXPECT_TRUE(IsError(post(port(), scene.bob.token, webhooks_url(scene.chat_id), body), 403, "forbidden"));
    EXPECT_TRUE(IsError(get(port(), scene.bob.token, webhooks_url(scene.chat_id)), 403, "forbidden"));
    EXPECT_TRUE(IsError(post(port(), outsider.token, webhooks_url(scene.chat_id), body), 404, "not_found"));
    const auto direct = create_direct(port(), scene.ann, scene.bob)["id"].get<std::string>();
    EXPECT_TRUE(IsError(post(port(), scene.ann.token, webhooks_url(direct), body), 403, "forbidden"));
    const auto hook = webhooks_url(scene.chat_id) + "/" + scene.webhook["id"].get<std::string>();
    EXPECT_TRUE(IsError(del(port(), scene.bob.token, hook), 403, "forbidden"));

    // Listed without its secret; another chat's admin cannot reach it through their chat.
    const auto listed = expect_json(get(port(), scene.ann.token, webhooks_url(scene.chat_id)), 200, "list")["webhooks"];
    ASSERT_EQ(listed.size(), 1U);
    EXPECT_EQ(listed[0]["id"], scene.webhook["id"]);
    EXPECT_FALSE(listed[0].contains("secret"));
    const auto own = create_group(port(), outsider)["id"].get<std::string>();
    EXPECT_TRUE(IsError(del(port(), outsider.token, webhooks_url(own) + "/" + scene.webhook["id"].get<std::string>()),
                        404, "not_found"));
    EXPECT_TRUE(
        IsError(del(port(), scene.ann.token, webhooks_url(scene.chat_id) + "/" + random_uuid()), 404, "not_found"));
    EXPECT_TRUE(IsError(del(port(), scene.ann.token, webhooks_url(scene.chat_id) + "/nope"), 400, "bad_request"));
    EXPECT_TRUE(IsError(get(port(), scene.ann.token, hook + "/failures?cursor=zz"), 400, "bad_request"));
    EXPECT_TRUE(
        IsError(post(port(), scene.ann.token, hook + "/failures/" + random_uuid() + "/replay"), 404, "not_found"));
    EXPECT_EQ(del(port(), scene.ann.token, hook).status, 204);
    EXPECT_TRUE(IsError(del(port(), scene.ann.token, hook), 404, "not_found"));
    EXPECT_EQ(expect_json(get(port(), scene.ann.token, webhooks_url(scene.chat_id)), 200, "list")["webhooks"],
              json::array());
}

TEST_F(WebhooksTest, BadSubscriptionsAreRefused) {
    WebhookReceiver receiver;
    auto scene = subscribed_group(receiver);
    const auto refused = [&](const json& body, const std::string& field) {
        const auto r = post(port(), scene.ann.token, webhooks_url(scene.chat_id), body);
        auto shape = IsError(r, 400, "bad_request");
        if (!shape) return shape;
        if (r.json()["error"]["details"].value("field", "") != field)
            return ::testing::AssertionFailure() << "details.field is not " << field << ": " << r.body;
        return ::testing::AssertionSuccess();
    };
    EXPECT_TRUE(refused(json::object(), "url"));
    EXPECT_TRUE(refused({{"url", 7}}, "url"));
    EXPECT_TRUE(refused({{"url", "ftp://example.com/hook"}}, "url"));
    EXPECT_TRUE(refused({{"url", "not a url"}}, "url"));
    for (const std::string port : {"0", "65536", "99999", "4294967297"})
        EXPECT_TRUE(refused({{"url", "http://1.1.1.1:" + port + "/hook"}}, "url")) << port;
    EXPECT_TRUE(refused({{"url", receiver.url()}, {"events", {"message.read"}}}, "events"));
    EXPECT_TRUE(refused({{"url", receiver.url()}, {"events", "message.new"}}, "events"));
    EXPECT_TRUE(IsError(post(port(), scene.ann.token, webhooks_url(scene.chat_id),
                             {{"url", receiver.url()}, {"secret", "mine"}}),
                        400, "bad_request"));
}

// The suite-wide server keeps the defaults: loopback and private addresses are refused.
TEST(WebhookAddresses, LoopbackPrivateAndLinkLocalUrlsAreRefusedByDefault) {
    CONFAB_REQUIRE_DATABASE();
    const auto port = shared_server().port();
    const auto ann = register_user(port, "ann");
    const auto chat = create_group(port, ann)["id"].get<std::string>();
    for (const std::string url :
         {"http://127.0.0.1:9/hook", "http://localhost/hook", "http://[::1]/hook", "http://0.0.0.0/",
          "http://10.1.2.3/", "http://172.16.0.1/", "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data",
          "http://100.64.0.1/", "http://224.0.0.1/", "http://192.0.2.1/", "http://198.18.0.1/", "http://[fe80::1]/",
          "http://[64:ff9b::a00:1]/"}) {
        const auto r = post(port, ann.token, webhooks_url(chat), {{"url", url}});
        EXPECT_TRUE(IsError(r, 400, "bad_request")) << url;
        EXPECT_NE(r.json()["error"]["message"].get<std::string>().find("resolves to"), std::string::npos)
            << url << " was refused for another reason: " << r.body;
        EXPECT_EQ(r.json()["error"]["details"].value("reason", ""), "url_refused") << url << " " << r.body;
        EXPECT_EQ(r.json()["error"]["details"].value("field", ""), "url") << url;
    }
    EXPECT_EQ(expect_json(get(port, ann.token, webhooks_url(chat)), 200, "list")["webhooks"], json::array());
}

}  // namespace
}  // namespace confab::test
