// Several nodes on one database, their live events crossing over NATS (docs/architecture.md,
// Cluster): a member connected to one node hears what happens on another.

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/chat_api.hpp"
#include "support/nats_server.hpp"

namespace confab::test {
namespace {

class ClusterTest : public ::testing::Test {
protected:
    void SetUp() override {
        CONFAB_REQUIRE_DATABASE();
        CONFAB_REQUIRE_NATS();
        database = std::make_unique<TestDatabase>();
        nats = std::make_unique<NatsServer>();
        // One after the other: the second finds the schema migrated.
        node_a = start_node("node-a");
        node_b = start_node("node-b");
    }

    void TearDown() override {
        if (HasFailure() && nats) std::cerr << "nats-server log:\n" << nats->log_tail() << "\n";
        for (auto* node : {node_a.get(), node_b.get()})
            if (node && HasFailure()) node->print_log_tail("cluster test failed");
    }

    std::unique_ptr<ServerProcess> start_node(const std::string& name) {
        ServerProcess::Options options;
        options.name = name;
        // With the token cache on: a token revoked on one node must not live on in another's.
        options.env = {{"CONFAB_CLUSTER_NATS_URLS", nats->url()},
                       {"CONFAB_CLUSTER_NODE_ID", name},
                       {"CONFAB_OVERLOAD_TOKEN_CACHE_SECONDS", "300"}};
        return std::make_unique<ServerProcess>(database->url(), options);
    }

    std::uint16_t a() const { return node_a->port(); }
    std::uint16_t b() const { return node_b->port(); }

    std::unique_ptr<TestDatabase> database;
    std::unique_ptr<NatsServer> nats;
    std::unique_ptr<ServerProcess> node_a, node_b;
};

TEST_F(ClusterTest, MembersOnTwoNodesGetEachOthersMessagesOnceAndInOrder) {
    const auto ana = register_user(a(), "ana");
    const auto ben = register_user(b(), "ben");
    auto ana_ws = ws_connect(a(), ana.token);
    auto ben_ws = ws_connect(b(), ben.token);
    auto ana_elsewhere = ws_connect(b(), ana.token);

    const auto chat = create_direct(a(), ana, ben);
    const std::string chat_id = chat["id"];
    ASSERT_TRUE(wait_for(*ben_ws, "chat.created", about_chat(chat_id))) << "chat.created did not cross to node b";

    constexpr int kCount = 20;
    for (int i = 0; i < kCount; ++i) send_text(a(), ana, chat_id, "m" + std::to_string(i));
    const auto last = send_text(a(), ana, chat_id, "last");
    for (auto* ws : {ben_ws.get(), ana_elsewhere.get()}) {
        const auto before = frames_until(*ws, frame_of("message.new", about_message(last["id"])));
        ASSERT_TRUE(before) << "the last message did not reach node b";
        std::vector<std::int64_t> seqs;
        for (const auto& frame : *before)
            if (frame["type"] == "message.new") seqs.push_back(frame["data"]["message"]["seq"]);
        ASSERT_EQ(seqs.size(), static_cast<std::size_t>(kCount)) << "each message once";
        for (int i = 1; i < kCount; ++i) EXPECT_EQ(seqs[i], seqs[i - 1] + 1) << "in seq order";
    }

    const auto reply =
        ws_request(*ben_ws, "message.send", {{"chat_id", chat_id}, {"type", "text"}, {"content", "from b"}});
    ASSERT_TRUE(IsAck(reply)) << reply.dump();
    const auto heard = wait_for(*ana_ws, "message.new", about_message(reply["data"]["message"]["id"]));
    ASSERT_TRUE(heard) << "a send on node b did not reach node a";
    EXPECT_EQ((*heard)["data"]["message"]["content"], "from b");
}

TEST_F(ClusterTest, TypingCrossesNodes) {
    const auto ana = register_user(a(), "ana");
    const auto ben = register_user(a(), "ben");
    const std::string chat_id = create_direct(a(), ana, ben)["id"];
    auto ana_ws = ws_connect(a(), ana.token);
    auto ben_ws = ws_connect(b(), ben.token);
    ASSERT_TRUE(IsAck(ws_request(*ana_ws, "typing.start", {{"chat_id", chat_id}})));
    const auto typing = wait_for(*ben_ws, "typing.update", about_chat(chat_id));
    ASSERT_TRUE(typing);
    EXPECT_EQ((*typing)["data"], json({{"chat_id", chat_id}, {"user_id", ana.id}, {"is_typing", true}}));
}

TEST_F(ClusterTest, LogoutOnOneNodeClosesThatTokensSocketsOnTheOthers) {
    const auto ana = register_user(a(), "ana");
    const auto ben = register_user(a(), "ben");
    const auto other_session = login(a(), ana.username);
    auto revoked_ws = ws_connect(b(), ana.token);
    auto kept_ws = ws_connect(b(), other_session);

    ASSERT_EQ(get(b(), ana.token, "/api/v1/users/me").status, 200) << "node b now has the token in its cache";
    ASSERT_EQ(post(a(), ana.token, "/api/v1/auth/logout").status, 204);
    EXPECT_EQ(revoked_ws->wait_for_close(), 4001) << "the revoked token's socket on node b stays open";
    EXPECT_TRUE(IsError(get(b(), ana.token, "/api/v1/users/me"), 401, "unauthorized"))
        << "node b forgot the revoked token when it closed its socket";
    // The other session's socket on node b still hears what is sent to ana.
    auto ana_elsewhere = ana;
    ana_elsewhere.token = other_session;
    const auto marker = direct_message_marker(a(), ben, ana_elsewhere);
    EXPECT_TRUE(frames_until(*kept_ws, marker)) << "the other session's socket was closed too";
    EXPECT_TRUE(kept_ws->is_open());
}

TEST_F(ClusterTest, SigningOutEverywhereElseClosesTheOtherSessionsOnEveryNode) {
    const auto ana = register_user(a(), "ana");
    const auto other_session = login(a(), ana.username);
    auto other_ws = ws_connect(b(), other_session);
    auto own_ws = ws_connect(b(), ana.token);

    ASSERT_EQ(get(b(), other_session, "/api/v1/users/me").status, 200);
    ASSERT_EQ(del(a(), ana.token, "/api/v1/sessions").status, 204);
    EXPECT_EQ(other_ws->wait_for_close(), 4001);
    EXPECT_TRUE(IsError(get(b(), other_session, "/api/v1/users/me"), 401, "unauthorized"));
    EXPECT_EQ(get(b(), ana.token, "/api/v1/users/me").status, 200) << "the session kept is still valid";
    const auto ping = ws_request(*own_ws, "typing.stop", {{"chat_id", random_uuid()}});
    EXPECT_TRUE(own_ws->is_open()) << ping.dump();
}

json readiness(std::uint16_t port) {
    const auto response = http(port, "GET", "/readyz");
    return response.status == 200 ? json::parse(response.body) : json{{"status", response.status}};
}

TEST_F(ClusterTest, ReadinessReportsTheLinkToNatsAndStaysReadyWithoutIt) {
    EXPECT_EQ(readiness(a()), json({{"status", "ready"}, {"nats", "connected"}}));
    nats->stop();
    EXPECT_TRUE(eventually([&] {
        return readiness(a()) == json({{"status", "ready"}, {"nats", "reconnecting"}});
    })) << readiness(a()).dump();
    nats->start();
    EXPECT_TRUE(eventually([&] {
        return readiness(a()) == json({{"status", "ready"}, {"nats", "connected"}});
    })) << readiness(a()).dump();
}

TEST_F(ClusterTest, ANodeBackOnNatsClosesItsSocketsSoNothingSentMeanwhileIsMissedSilently) {
    const auto ana = register_user(a(), "ana");
    const auto ben = register_user(a(), "ben");
    const std::string chat_id = create_direct(a(), ana, ben)["id"];
    auto ben_ws = ws_connect(b(), ben.token);

    nats->stop();
    const auto while_away = send_text(a(), ana, chat_id, "while NATS was away");
    nats->start();
    EXPECT_EQ(ben_ws->wait_for_close(15s), 1013) << "node b did not tell its client to resync";
    const auto ids = ids_of(all_messages(b(), ben, chat_id));
    EXPECT_NE(std::find(ids.begin(), ids.end(), while_away["id"]), ids.end()) << "the resync finds it";

    // Back on NATS, the nodes hear each other again.
    auto ben_again = ws_connect(b(), ben.token);
    const auto after = send_text(a(), ana, chat_id, "after");
    EXPECT_TRUE(wait_for(*ben_again, "message.new", about_message(after["id"]), 15s));
}

}  // namespace
}  // namespace confab::test
