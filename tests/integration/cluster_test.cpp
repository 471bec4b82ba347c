// Several nodes on one database, their live events crossing over NATS (docs/architecture.md,
// Cluster): a member connected to one node hears what happens on another.

#include <algorithm>
#include <csignal>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/chat_api.hpp"
#include "support/haproxy.hpp"
#include "support/nats_server.hpp"
#include "support/tcp_relay.hpp"

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

    std::unique_ptr<ServerProcess> start_node(const std::string& name,
                                              const std::map<std::string, std::string>& more_env = {}) {
        ServerProcess::Options options;
        options.name = name;
        // With the token cache on: a token revoked on one node must not live on in another's.
        // A short presence timeout, so that a killed node's users go offline within the test.
        options.env = {{"CONFAB_CLUSTER_NATS_URLS", nats->url()},
                       {"CONFAB_CLUSTER_NODE_ID", name},
                       {"CONFAB_OVERLOAD_TOKEN_CACHE_SECONDS", "300"},
                       {"CONFAB_CLUSTER_PRESENCE_TIMEOUT_MS", "1500"}};
        for (const auto& [key, value] : more_env) options.env.insert_or_assign(key, value);
        return std::make_unique<ServerProcess>(database->url(), options);
    }

    // A node whose link to NATS goes through `link`, which the test can cut.
    std::unique_ptr<ServerProcess> start_node_through(const TcpRelay& link, const std::string& name) {
        return start_node(name, {{"CONFAB_CLUSTER_NATS_URLS", "nats://127.0.0.1:" + std::to_string(link.port())}});
    }
    std::uint16_t nats_port() const {
        return static_cast<std::uint16_t>(std::stoi(nats->url().substr(nats->url().rfind(':') + 1)));
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

// Each node keeps newest pages for the chat's version in the database (docs/architecture.md,
// History cache), so a change made through another node is in the next read of a kept page.
TEST_F(ClusterTest, APageKeptOnOneNodeShowsAChangeMadeOnAnother) {
    const auto ana = register_user(a(), "ana");
    const auto ben = register_user(b(), "ben");
    const std::string chat_id = create_direct(a(), ana, ben)["id"];
    const auto sent = send_text(a(), ana, chat_id, "first");
    const auto newest = [&] {
        return expect_json(get(a(), ana.token, chat_messages_url(chat_id)), 200, "newest page")["messages"];
    };
    newest();
    const auto cached = metric(a(), "confab_history_pages_total{source=\"cache\"}");
    ASSERT_EQ(newest()[0]["content"], "first");
    ASSERT_EQ(metric(a(), "confab_history_pages_total{source=\"cache\"}"), cached + 1) << "node a kept the page";

    ASSERT_TRUE(IsJson(put(b(), ana.token, message_url(sent["id"]), {{"content", "edited on b"}}), 200));
    EXPECT_EQ(newest()[0]["content"], "edited on b");
    const auto reply = send_text(b(), ben, chat_id, "sent on b");
    const auto page = newest();
    ASSERT_EQ(page.size(), 2u);
    EXPECT_EQ(page[0]["id"], reply["id"]);
}

// Two nodes commit to one chat at once: each publishes its own in order, but they race on NATS.
// Every connection, wherever it is, still gets the chat's message.new in seq order, each once.
TEST_F(ClusterTest, WritesToOneChatOnTwoNodesAtOnceReachEveryoneInSeqOrder) {
    const auto ana = register_user(a(), "ana");
    const auto ben = register_user(b(), "ben");
    const std::string chat_id = create_direct(a(), ana, ben)["id"];
    auto on_a = ws_connect(a(), ana.token);
    auto on_b = ws_connect(b(), ben.token);

    constexpr int kEach = 40;
    std::thread from_b([&] {
        for (int i = 0; i < kEach; ++i) send_text(b(), ben, chat_id, "b" + std::to_string(i));
    });
    for (int i = 0; i < kEach; ++i) send_text(a(), ana, chat_id, "a" + std::to_string(i));
    from_b.join();
    const auto end = send_text(a(), ana, chat_id, "end");

    for (auto* ws : {on_a.get(), on_b.get()}) {
        const auto before = frames_until(*ws, frame_of("message.new", about_message(end["id"])));
        ASSERT_TRUE(before) << "the end marker did not arrive (or the socket was closed to resync)";
        std::vector<std::int64_t> seqs;
        for (const auto& frame : *before)
            if (frame["type"] == "message.new") seqs.push_back(frame["data"]["message"]["seq"]);
        ASSERT_EQ(seqs.size(), static_cast<std::size_t>(2 * kEach)) << "each message once";
        for (std::size_t i = 1; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], seqs[i - 1] + 1) << "in seq order";
    }
}

// Each node's transaction looks for the client_id before the other's commits: the one that
// loses the race to store it runs again and answers with the stored message.
TEST_F(ClusterTest, TheSameClientIdSentThroughTwoNodesAtOnceIsOneMessageAnsweredToBoth) {
    const auto ana = register_user(a(), "ana");
    const auto ben = register_user(b(), "ben");
    const std::string chat_id = create_direct(a(), ana, ben)["id"];
    constexpr int kRaces = 30;
    for (int i = 0; i < kRaces; ++i) {
        const json body{{"type", "text"}, {"content", "once"}, {"client_id", "race-" + std::to_string(i)}};
        HttpResponse on_b;
        std::thread other([&] { on_b = post(b(), ana.token, chat_messages_url(chat_id), body); });
        const auto on_a = post(a(), ana.token, chat_messages_url(chat_id), body);
        other.join();
        const std::multiset<int> statuses{on_a.status, on_b.status};
        ASSERT_EQ(statuses, (std::multiset<int>{200, 201})) << on_a.describe() << "\n" << on_b.describe();
        EXPECT_EQ(on_a.json()["id"], on_b.json()["id"]);
    }
    const auto newest = expect_json(get(a(), ana.token, chat_messages_url(chat_id) + "?limit=200"), 200, "history");
    EXPECT_EQ(newest["messages"].size(), static_cast<std::size_t>(kRaces)) << "one message per client_id";
}

// Node b has the group's members cached from a send; node a then removes ben and restricts cy.
// b's next write must see both at once: ben gets nothing more of the chat on any node, and cy's
// post through b is refused as through a.
TEST_F(ClusterTest, AMemberRemovedOrRestrictedOnOneNodeIsSoAtOnceOnAnother) {
    const auto ana = register_user(a(), "ana");
    const auto ben = register_user(a(), "ben");
    const auto cy = register_user(a(), "cy");
    const auto dee = register_user(a(), "dee");
    const std::string chat_id = create_group(a(), ana, {ben.id, cy.id, dee.id})["id"];
    auto ben_on_b = ws_connect(b(), ben.token);
    auto dee_on_b = ws_connect(b(), dee.token);
    const auto warm = send_text(b(), ana, chat_id, "b caches the members");
    ASSERT_TRUE(wait_for(*ben_on_b, "message.new", about_message(warm["id"])));

    expect_json(del(a(), ana.token, member_url(chat_id, ben.id)), 204, "remove ben on node a");
    set_role(a(), ana, chat_id, cy.id, "restricted");

    const auto after = send_text(b(), ana, chat_id, "after ben left");
    ASSERT_TRUE(wait_for(*dee_on_b, "message.new", about_message(after["id"])));
    EXPECT_TRUE(
        NoFrameBefore(*ben_on_b, frame_of("message.new", about_chat(chat_id)), direct_message_marker(b(), dee, ben)))
        << "node b fanned out to a member node a had removed";
    const auto refused = send_message(b(), cy, chat_id, {{"type", "text"}, {"content", "restricted now"}});
    EXPECT_EQ(refused.status, 403) << refused.body;
}

// A block bumps the direct chat's access version (migrations/0025_user_blocks.sql): node b,
// which cached the chat before, refuses the next send there, and lets the one after node a
// lifts the block through, whether or not node a's access change has crossed NATS yet.
TEST_F(ClusterTest, ABlockOnOneNodeStopsTheDirectChatOnAnother) {
    const auto ana = register_user(a(), "ana");
    const auto ben = register_user(a(), "ben");
    const std::string chat_id = create_direct(a(), ana, ben)["id"];
    send_text(b(), ben, chat_id, "b caches the chat");

    ASSERT_EQ(put(a(), ana.token, "/api/v1/users/me/blocks/" + ben.id).status, 204);
    const auto refused = send_message(b(), ben, chat_id, {{"type", "text"}, {"content", "blocked now"}});
    EXPECT_EQ(refused.status, 403) << refused.body;
    EXPECT_EQ(refused.json()["error"]["details"]["reason"], "blocked") << refused.body;

    ASSERT_EQ(del(a(), ana.token, "/api/v1/users/me/blocks/" + ben.id).status, 204);
    const auto unblocked = send_message(b(), ben, chat_id, {{"type", "text"}, {"content", "unblocked"}});
    EXPECT_EQ(unblocked.status, 201) << unblocked.body;
    EXPECT_EQ(all_messages(b(), ben, chat_id).size(), 2u) << "a refused send left a message";
}

// What one of ben's sockets ends up with: message.new frames live until `last`, and, when its
// node closed it or died, what a fresh socket through the load balancer then syncs.
// Every frame one socket gets, kept as it is read: a test waits for an event and still looks at
// all that came before and between.
class Transcript {
public:
    explicit Transcript(std::unique_ptr<WsClient> ws) : ws_(std::move(ws)) {}

    // Reads until a frame satisfying `pred` arrives: false when none comes within `timeout`
    // or the socket closes.
    bool read_until(const FramePred& pred, std::chrono::milliseconds timeout = 15s) {
        while (auto frame = ws_->receive(timeout)) {
            frames.push_back(*frame);
            if (pred(*frame)) return true;
        }
        return false;
    }
    std::string describe() const {
        return ws_->is_open() ? "no such frame came" : "closed " + std::to_string(ws_->close_code().value_or(0));
    }

    std::vector<json> frames;

private:
    std::unique_ptr<WsClient> ws_;
};

FramePred removal_of(const std::string& chat_id, const std::string& user_id) {
    return frame_of("member.removed", [=](const json& frame) {
        return frame["data"]["chat_id"] == chat_id && frame["data"]["user_id"] == user_id;
    });
}

// The outside probe's removed member (three nodes behind HAProxy with NATS): a message
// committed before the removal, on another node, reached the member after its member.removed
// while a node held it for a gap from a third node. Every event a write commits follows the
// chat's latest message at its commit (docs/architecture.md, Cluster). Here node c's link to
// NATS stalls: cy's message through c waits in it, so ben's next one through b waits on nodes
// a and b for that gap, and ana removes dee through node a. dee has a socket on every node.
TEST_F(ClusterTest, AMemberRemovedWhileTwoOtherNodesSendGetsNoMessageAfterItsRemoval) {
    TcpRelay link(nats_port());
    const auto node_c = start_node_through(link, "node-c");
    const auto c = node_c->port();
    const auto ana = register_user(a(), "ana");
    const auto ben = register_user(a(), "ben");
    const auto cy = register_user(a(), "cy");
    const auto dee = register_user(a(), "dee");
    const std::string chat_id = create_group(a(), ana, {ben.id, cy.id, dee.id})["id"];
    std::vector<Transcript> dee_on;  // a socket on each node
    for (const auto port : {a(), b(), c}) dee_on.emplace_back(ws_connect(port, dee.token));
    const auto warm = send_text(c, cy, chat_id, "every node knows the chat");
    for (auto& socket : dee_on)
        ASSERT_TRUE(socket.read_until(frame_of("message.new", about_message(warm["id"])))) << socket.describe();

    link.hold();
    const auto from_c = send_text(c, cy, chat_id, "from c, stalled");
    const auto from_b = send_text(b(), ben, chat_id, "from b, after the gap");
    expect_json(del(a(), ana.token, member_url(chat_id, dee.id)), 204, "remove dee on node a");
    send_text(b(), ben, chat_id, "from b, after the removal");
    link.release();

    // Sent after all of it: a socket that has it got whatever could come after the removal.
    const auto marker = direct_message_marker(a(), ana, dee);
    for (std::size_t node = 0; node < dee_on.size(); ++node) {
        auto& socket = dee_on[node];
        ASSERT_TRUE(socket.read_until(removal_of(chat_id, dee.id))) << socket.describe();
        if (std::none_of(socket.frames.begin(), socket.frames.end(), marker)) {
            ASSERT_TRUE(socket.read_until(marker)) << socket.describe();
        }
        std::vector<std::string> order;
        for (const auto& frame : socket.frames)
            if (frame_of("message.new", about_chat(chat_id))(frame)) order.push_back(frame["data"]["message"]["id"]);
            else if (removal_of(chat_id, dee.id)(frame)) order.push_back("removed");
        EXPECT_EQ(order, (std::vector<std::string>{warm["id"], from_c["id"], from_b["id"], "removed"})) << "on node "
                                                                                                        << "abc"[node];
    }
}

// The outside probe's added member: a change made on another node right after the add (an edit,
// a reaction: message.updated) reached it before its chat.created. Fresh members are added on
// node a, round after round, while ben edits his message through node b and cy reacts to it
// through node c; each new member has a socket on every node.
TEST_F(ClusterTest, AMemberAddedGetsNoOtherNodesChangeOfTheChatBeforeItsChatCreated) {
    auto node_c = start_node("node-c");
    const auto c = node_c->port();
    const auto ana = register_user(a(), "ana");
    const auto ben = register_user(a(), "ben");
    const auto cy = register_user(a(), "cy");
    const std::string chat_id = create_group(a(), ana, {ben.id, cy.id})["id"];
    const std::string message_id = send_text(b(), ben, chat_id, "to edit and react to")["id"];

    const auto edits = std::jthread([&](const std::stop_token& stop) {
        for (int i = 0; !stop.stop_requested(); ++i)
            guarded([&] {
                return put(b(), ben.token, message_url(message_id), {{"content", "edit " + std::to_string(i)}});
            });
    });
    const auto reactions = std::jthread([&](const std::stop_token& stop) {
        const auto reaction = reaction_url(message_id, "\xF0\x9F\x91\x8D");
        for (int i = 0; !stop.stop_requested(); ++i)
            guarded(
                [&] { return i % 2 == 0 ? put(c, cy.token, reaction, json::object()) : del(c, cy.token, reaction); });
    });
    constexpr int kRounds = 15;
    int before_created = 0;
    for (int round = 0; round < kRounds; ++round) {
        const auto joiner = register_user(a(), "joiner" + std::to_string(round));
        std::vector<Transcript> joiner_on;
        for (const auto port : {a(), b(), c}) joiner_on.emplace_back(ws_connect(port, joiner.token));
        add_members(a(), ana, chat_id, {joiner.id});
        for (std::size_t node = 0; node < joiner_on.size(); ++node) {
            auto& socket = joiner_on[node];
            ASSERT_TRUE(socket.read_until(frame_of("chat.created", about_chat(chat_id)))) << socket.describe();
            const auto early = std::count_if(socket.frames.begin(), socket.frames.end(), about_chat(chat_id)) - 1;
            before_created += static_cast<int>(early);
            EXPECT_EQ(early, 0) << "round " << round << ": the chat's events before chat.created on node "
                                << "abc"[node] << ": " << json(socket.frames).dump();
        }
    }
    EXPECT_EQ(before_created, 0);
}

struct Heard {
    std::vector<json> live;
    std::vector<json> synced;
    std::optional<int> closed;  // the code, when the socket closed before `last` came
};

Heard listen_until(WsClient& ws, const std::string& last, std::uint16_t lb, const TestUser& ben,
                   const std::string& chat_id) {
    Heard heard;
    std::int64_t version = 0;
    while (auto frame = ws.receive(10s)) {
        if ((*frame)["type"] != "message.new") continue;
        const auto& message = (*frame)["data"]["message"];
        heard.live.push_back(message);
        version = message["version"];
        if (message["id"] == last) return heard;
    }
    heard.closed = ws.close_code();
    if (!heard.closed) return heard;  // silent without a close: the caller's assertions fail
    auto again = ws_connect(lb, ben.token);
    heard.synced =
        expect_json(get(lb, ben.token,
                        chat_messages_url(chat_id) + "?since_version=" + std::to_string(version) + "&limit=200"),
                    200, "sync after reconnecting")["messages"]
            .get<std::vector<json>>();
    return heard;
}

// Three nodes behind HAProxy, one of ben's sockets on each. Node b is killed (-9) while ana
// sends through the load balancer, retrying a failed send with its client_id. Every send
// acknowledged is in the chat once; every socket gets each of them, live in seq order or,
// when its node died (or told it to resync), by a sync through HAProxy to the others.
TEST_F(ClusterTest, ANodeKilledLosesNothingAcknowledgedAndItsClientsResyncThroughTheOthers) {
    CONFAB_REQUIRE_HAPROXY();
    auto node_c = start_node("node-c");
    HaProxy proxy({a(), b(), node_c->port()});
    const auto lb = proxy.port();
    const auto ana = register_user(lb, "ana");
    const auto ben = register_user(lb, "ben");
    const std::string chat_id = create_direct(lb, ana, ben)["id"];
    std::vector<std::unique_ptr<WsClient>> sockets;
    // One on each node, straight to it: HAProxy's round robin skips a node whose health check
    // was slow a moment, so three connections through it may miss one.
    for (const auto port : {a(), b(), node_c->port()}) sockets.push_back(ws_connect(port, ben.token));

    constexpr int kCount = 60;
    std::vector<std::string> acknowledged;
    for (int i = 0; i < kCount; ++i) {
        if (i == kCount / 3) node_b->kill();
        const json body = {{"type", "text"},
                           {"content", "m" + std::to_string(i)},
                           {"client_id", "c" + std::to_string(i)}};
        for (int attempt = 0;; ++attempt) {
            ASSERT_LT(attempt, 20) << "send " << i << " never succeeded through the load balancer";
            try {
                const auto sent = send_message(lb, ana, chat_id, body);
                if (sent.status == 201 || sent.status == 200) {
                    acknowledged.push_back(sent.json()["id"]);
                    break;
                }
            } catch (const std::exception&) {  // the connection died with the node: send again
            }
        }
    }

    const auto history = all_messages(lb, ana, chat_id);
    std::set<std::string> stored;
    for (const auto& message : history) EXPECT_TRUE(stored.insert(message["id"]).second) << "stored twice";
    for (const auto& id : acknowledged) EXPECT_TRUE(stored.contains(id)) << "acknowledged, then lost: " << id;

    int resynced = 0;
    for (auto& socket : sockets) {
        const auto heard = listen_until(*socket, acknowledged.back(), lb, ben, chat_id);
        if (heard.closed) ++resynced;
        EXPECT_TRUE(heard.closed || (!heard.live.empty() && heard.live.back()["id"] == acknowledged.back()))
            << "a socket went silent without being closed";
        std::set<std::string> got;
        for (std::size_t i = 0; i < heard.live.size(); ++i) {
            EXPECT_TRUE(got.insert(heard.live[i]["id"]).second) << "a message twice";
            if (i > 0)
                EXPECT_EQ(heard.live[i]["seq"], heard.live[i - 1]["seq"].get<std::int64_t>() + 1) << "out of order";
        }
        for (const auto& message : heard.synced) got.insert(message["id"]);
        for (const auto& id : acknowledged) EXPECT_TRUE(got.contains(id)) << "never reached a socket: " << id;
    }
    EXPECT_GE(resynced, 1) << "the socket on the killed node should have been cut";
    if (HasFailure()) std::cerr << "haproxy log:\n" << proxy.log_tail() << "\n";
}

// The documented bound (docs/operations.md, Cluster): a user's send rate is limited per node, so
// on N nodes a burst gets at most N times the per-node burst through, and no more.
TEST_F(ClusterTest, ASendersBurstIsLimitedOnEachNodeSoAtMostNTimesOverAll) {
    const std::map<std::string, std::string> tight = {{"CONFAB_LIMIT_MESSAGE_BURST", "5"},
                                                      {"CONFAB_LIMIT_MESSAGE_RATE", "0.001"}};
    node_a.reset();
    node_b.reset();
    node_a = start_node("node-a", tight);
    node_b = start_node("node-b", tight);
    const auto ana = register_user(a(), "ana");
    const auto ben = register_user(a(), "ben");
    const std::string chat_id = create_direct(a(), ana, ben)["id"];
    std::map<std::uint16_t, int> accepted;
    for (const auto port : {a(), b()})
        for (int i = 0; i < 12; ++i) {
            const auto sent = send_message(port, ana, chat_id, {{"type", "text"}, {"content", "x"}});
            if (sent.status == 201) {
                ++accepted[port];
            } else {
                EXPECT_EQ(sent.status, 429) << sent.describe();
            }
        }
    EXPECT_EQ(accepted[a()], 5);
    EXPECT_EQ(accepted[b()], 5) << "each node has a burst of its own: 2 nodes, at most twice one";
}

// The same bound for WebSockets: each node caps a user's connections on its own.
TEST_F(ClusterTest, AUsersWebSocketsAreCappedOnEachNodeSoAtMostNTimesOverAll) {
    const std::map<std::string, std::string> tight = {{"CONFAB_LIMIT_CONNECTIONS_PER_USER", "2"}};
    node_a.reset();
    node_b.reset();
    node_a = start_node("node-a", tight);
    node_b = start_node("node-b", tight);
    const auto ana = register_user(a(), "ana");
    std::vector<std::unique_ptr<WsClient>> open;
    for (const auto port : {a(), b()}) {
        for (int i = 0; i < 2; ++i) open.push_back(ws_connect(port, ana.token));
        const auto refused = WsClient::connect(port, "/api/v1/ws", auth_header(ana.token));
        EXPECT_EQ(refused.status, 429) << "a third on one node";
    }
    for (const auto& ws : open) EXPECT_EQ(ws->request("ping", json::object())["type"], "ack");
}

json call_acked(WsClient& ws, const std::string& type, json data) {
    auto reply = ws_request(ws, type, std::move(data));
    EXPECT_TRUE(IsAck(reply)) << type << ": " << reply.dump();
    return reply.value("data", json::object());
}

FramePred of_call(const std::string& call_id) {
    return [call_id](const json& frame) {
        const auto& data = frame["data"];
        return data.value("call_id", "") == call_id || (data.contains("call") && data["call"]["id"] == call_id);
    };
}

// The first call.updated of the call whose CallModel satisfies `pred`.
bool updated_where(WsClient& ws, const std::string& call_id, const std::function<bool(const json& call)>& pred) {
    return wait_for(ws, "call.updated",
                    [&](const json& f) { return f["data"]["call"]["id"] == call_id && pred(f["data"]["call"]); })
        .has_value();
}

bool participant_connected(const json& call, const std::string& user_id, bool connected) {
    for (const auto& participant : call["participants"])
        if (participant["user_id"] == user_id) return participant["connected"] == connected;
    return false;
}

// A call lives on the node that started it (docs/api.md, Calls); a device on another node
// rings, answers, signals, shares its screen and hangs up through its own node, which
// forwards its commands to the owner; the owner's frames for it cross back.
TEST_F(ClusterTest, ACallBetweenDevicesOnTwoNodesRingsRelaysEachWayAndLeavesItsMessage) {
    const auto ann = register_user(a(), "ann");
    const auto bob = register_user(a(), "bob");
    const std::string chat = create_direct(a(), ann, bob)["id"];
    auto ann_on_a = ws_connect(a(), ann.token);
    auto bob_on_b = ws_connect(b(), bob.token);

    const std::string call = call_acked(*ann_on_a, "call.start", {{"chat_id", chat}, {"kind", "video"}})["call"]["id"];
    ASSERT_TRUE(wait_for(*bob_on_b, "call.ring", of_call(call))) << "a callee on node b rings";
    const auto accepted = call_acked(*bob_on_b, "call.accept", {{"call_id", call}})["call"];
    EXPECT_EQ(accepted["state"], "active") << accepted.dump();
    EXPECT_TRUE(updated_where(*ann_on_a, call, [](const json& c) { return c["state"] == "active"; }));

    const json offer{{"type", "offer"}, {"sdp", "v=0 ann"}};
    call_acked(*ann_on_a, "call.signal",
               {{"call_id", call}, {"to_user_id", bob.id}, {"kind", "offer"}, {"payload", offer}});
    const auto offered = wait_for(*bob_on_b, "call.signal", of_call(call));
    ASSERT_TRUE(offered) << "an offer crosses to the callee's node";
    EXPECT_EQ((*offered)["data"],
              (json{{"call_id", call}, {"from_user_id", ann.id}, {"kind", "offer"}, {"payload", offer}}));
    const json answer{{"type", "answer"}, {"sdp", "v=0 bob"}};
    const json candidate{{"candidate", "candidate:1 1 udp 2122260223 10.0.0.2 50000 typ host"}, {"sdpMid", "0"}};
    call_acked(*bob_on_b, "call.signal",
               {{"call_id", call}, {"to_user_id", ann.id}, {"kind", "answer"}, {"payload", answer}});
    call_acked(*bob_on_b, "call.signal",
               {{"call_id", call}, {"to_user_id", ann.id}, {"kind", "candidate"}, {"payload", candidate}});
    const auto answered = wait_for(*ann_on_a, "call.signal", of_call(call));
    ASSERT_TRUE(answered) << "an answer from node b reaches the caller";
    EXPECT_EQ((*answered)["data"]["payload"], answer);
    EXPECT_EQ((*answered)["data"]["from_user_id"], bob.id);
    const auto candidated = wait_for(*ann_on_a, "call.signal", of_call(call));
    ASSERT_TRUE(candidated);
    EXPECT_EQ((*candidated)["data"]["payload"], candidate) << "in the order sent";
    call_acked(*ann_on_a, "call.signal",
               {{"call_id", call}, {"to_user_id", bob.id}, {"kind", "candidate"}, {"payload", candidate}});
    EXPECT_TRUE(wait_for(*bob_on_b, "call.signal", [&](const json& f) { return f["data"]["kind"] == "candidate"; }));

    call_acked(*bob_on_b, "call.screen_share.start", {{"call_id", call}});
    EXPECT_TRUE(updated_where(*ann_on_a, call, [&](const json& c) {
        for (const auto& participant : c["participants"])
            if (participant["user_id"] == bob.id) return participant["screen_sharing"].get<bool>();
        return false;
    })) << "a screen share from node b";

    EXPECT_EQ(refusal(ws_request(*bob_on_b, "call.accept", {{"call_id", call}})), "conflict/not_ringing")
        << "the owner's refusal comes back as it is";
    call_acked(*bob_on_b, "call.hangup", {{"call_id", call}});
    const auto ended = wait_for(*ann_on_a, "call.ended", of_call(call));
    ASSERT_TRUE(ended);
    EXPECT_EQ((*ended)["data"]["call"]["outcome"], "completed");
    EXPECT_TRUE(wait_for(*bob_on_b, "call.ended", of_call(call)));
    json message;
    eventually([&] {
        for (const auto& m : system_messages(b(), bob, chat))
            if (m["metadata"].value("call_id", "") == call) message = m;
        return !message.is_null();
    });
    EXPECT_EQ(message["metadata"]["event"], "call.completed") << message.dump();
    EXPECT_EQ(
        refusal(ws_request(*bob_on_b, "call.signal",
                           {{"call_id", call}, {"to_user_id", ann.id}, {"kind", "candidate"}, {"payload", candidate}})),
        "not_found")
        << "a candidate for a call that has ended, from another node";
}

// Every device of the callee rings wherever it is connected; the first answer, on any node,
// takes the call and the others stop ringing, and are not in it: the owner, forwarded their
// commands, tells the device from its token.
TEST_F(ClusterTest, TheFirstAnswerOnAnyNodeStopsTheRingOnTheOthers) {
    auto node_c = start_node("node-c");
    const auto ann = register_user(a(), "ann");
    const auto bob = register_user(a(), "bob");
    const std::string chat = create_direct(a(), ann, bob)["id"];
    auto ann_on_a = ws_connect(a(), ann.token);
    auto bob_phone_on_b = ws_connect(b(), bob.token);
    auto bob_laptop_on_c = ws_connect(node_c->port(), login(a(), bob.username));

    const std::string call = call_acked(*ann_on_a, "call.start", {{"chat_id", chat}, {"kind", "voice"}})["call"]["id"];
    ASSERT_TRUE(wait_for(*bob_phone_on_b, "call.ring", of_call(call)));
    ASSERT_TRUE(wait_for(*bob_laptop_on_c, "call.ring", of_call(call)));
    call_acked(*bob_laptop_on_c, "call.accept", {{"call_id", call}});
    const auto stopped = wait_for(*bob_phone_on_b, "call.ring_stopped", of_call(call));
    ASSERT_TRUE(stopped) << "the phone on node b stops ringing";
    EXPECT_EQ((*stopped)["data"]["reason"], "answered");
    EXPECT_EQ(refusal(ws_request(*bob_phone_on_b, "call.accept", {{"call_id", call}})), "conflict/not_ringing");

    const json offer{{"type", "offer"}, {"sdp", "v=0"}};
    call_acked(*ann_on_a, "call.signal",
               {{"call_id", call}, {"to_user_id", bob.id}, {"kind", "offer"}, {"payload", offer}});
    EXPECT_TRUE(wait_for(*bob_laptop_on_c, "call.signal", of_call(call))) << "signals go to the device that answered";
    EXPECT_TRUE(NoFrameBefore(*bob_phone_on_b, frame_of("call.signal"), direct_message_marker(a(), ann, bob)))
        << "and to no other";
    EXPECT_EQ(refusal(ws_request(*bob_phone_on_b, "call.hangup", {{"call_id", call}})), "forbidden")
        << "the owner knows which device is in the call: the phone forwarding a hang-up is not";
    call_acked(*bob_laptop_on_c, "call.hangup", {{"call_id", call}});
    EXPECT_TRUE(wait_for(*ann_on_a, "call.ended", of_call(call)));
    if (HasFailure()) node_c->print_log_tail("node c");
}

// One call runs in a chat across the cluster: a call.start through another node is refused
// while it runs, and taken once it ended.
TEST_F(ClusterTest, ACallStartOnAnotherNodeWhileOneRunsIsRefused) {
    const auto ann = register_user(a(), "ann");
    const auto bob = register_user(a(), "bob");
    const auto cat = register_user(a(), "cat");
    const std::string group = create_group(a(), ann, {bob.id, cat.id})["id"];
    auto ann_on_a = ws_connect(a(), ann.token);
    auto cat_on_b = ws_connect(b(), cat.token);
    const std::string call = call_acked(*ann_on_a, "call.start", {{"chat_id", group}, {"kind", "voice"}})["call"]["id"];

    EXPECT_EQ(refusal(ws_request(*cat_on_b, "call.start", {{"chat_id", group}, {"kind", "voice"}})),
              "conflict/call_running");
    call_acked(*ann_on_a, "call.cancel", {{"call_id", call}});
    ASSERT_TRUE(wait_for(*cat_on_b, "call.ended", of_call(call)));
    json restarted;
    eventually([&] {
        const auto reply = ws_request(*cat_on_b, "call.start", {{"chat_id", group}, {"kind", "voice"}});
        if (IsAck(reply)) restarted = reply["data"]["call"];
        return !restarted.is_null();
    });
    ASSERT_FALSE(restarted.is_null()) << "the chat is free once its call ended";
    EXPECT_EQ(refusal(ws_request(*ann_on_a, "call.start", {{"chat_id", group}, {"kind", "voice"}})),
              "conflict/call_running")
        << "and node b's call is the one now";
}

// Every node answers GET /chats/{id}/call and tells a connection opening there of the call,
// whichever node holds it.
TEST_F(ClusterTest, EveryNodeTellsOfARunningCallAfterTheFact) {
    const auto ann = register_user(a(), "ann");
    const auto bob = register_user(a(), "bob");
    const auto cat = register_user(a(), "cat");
    const std::string group = create_group(a(), ann, {bob.id, cat.id})["id"];
    auto ann_ws = ws_connect(a(), ann.token);
    auto bob_ws = ws_connect(a(), bob.token);
    const auto started = ws_request(*ann_ws, "call.start", {{"chat_id", group}, {"kind", "voice"}});
    ASSERT_TRUE(IsAck(started)) << started.dump();
    const std::string call = started["data"]["call"]["id"];
    const auto running = chat_url(group) + "/call";

    for (const auto port : {a(), b()})
        EXPECT_EQ(expect_json(get(port, cat.token, running), 200, "running call")["id"], call) << port;
    const auto outsider = register_user(b(), "dan");
    EXPECT_TRUE(IsError(get(b(), outsider.token, running), 404, "not_found")) << "the owner's refusal of a non-member";
    auto cat_on_b = ws_connect(b(), cat.token);
    EXPECT_TRUE(wait_for(*cat_on_b, "call.updated", of_call(call))) << "a connection opening on node b is told";
    EXPECT_TRUE(wait_for(*cat_on_b, "call.ring", of_call(call))) << "and rings";

    ASSERT_TRUE(IsAck(ws_request(*bob_ws, "call.accept", {{"call_id", call}})));
    EXPECT_TRUE(updated_where(*cat_on_b, call, [](const json& c) { return c["state"] == "active"; }))
        << "the live frames cross";
}

// A participant's device on another node loses its last connection: the owner marks it
// disconnected (its reconnect grace runs) and connected again when it comes back there.
TEST_F(ClusterTest, AParticipantOnAnotherNodeDropsAndComesBackWithinTheGrace) {
    const auto ann = register_user(a(), "ann");
    const auto bob = register_user(a(), "bob");
    const std::string chat = create_direct(a(), ann, bob)["id"];
    auto ann_on_a = ws_connect(a(), ann.token);
    auto bob_on_b = ws_connect(b(), bob.token);
    const std::string call = call_acked(*ann_on_a, "call.start", {{"chat_id", chat}, {"kind", "voice"}})["call"]["id"];
    ASSERT_TRUE(wait_for(*bob_on_b, "call.ring", of_call(call)));
    call_acked(*bob_on_b, "call.accept", {{"call_id", call}});

    bob_on_b->close();
    EXPECT_TRUE(updated_where(*ann_on_a, call, [&](const json& c) { return participant_connected(c, bob.id, false); }))
        << "the owner saw the device's last connection on node b go";
    auto bob_back = ws_connect(b(), bob.token);
    EXPECT_TRUE(updated_where(*ann_on_a, call, [&](const json& c) { return participant_connected(c, bob.id, true); }))
        << "and come back";
    EXPECT_TRUE(wait_for(*bob_back, "call.updated", of_call(call))) << "the device hears of its call on reconnect";
}

// The node running a call dies (-9): once it is swept as silent, a surviving node ends its call
// as failed, exactly once: the participant and the ringing member on the other nodes get
// call.ended with reason "failed", the chat gets one system message (the duration up to the
// failure), and the chat takes a new call.
TEST_F(ClusterTest, ACallWhoseNodeIsKilledEndsAsFailedOnceOnTheOthers) {
    auto node_c = start_node("node-c");
    const auto ann = register_user(a(), "ann");
    const auto bob = register_user(a(), "bob");
    const auto cat = register_user(a(), "cat");
    const std::string group = create_group(a(), ann, {bob.id, cat.id})["id"];
    auto ann_on_b = ws_connect(b(), ann.token);
    auto bob_on_a = ws_connect(a(), bob.token);
    auto cat_on_c = ws_connect(node_c->port(), cat.token);
    const std::string call = call_acked(*ann_on_b, "call.start", {{"chat_id", group}, {"kind", "voice"}})["call"]["id"];
    ASSERT_TRUE(wait_for(*bob_on_a, "call.ring", of_call(call)));
    ASSERT_TRUE(wait_for(*cat_on_c, "call.ring", of_call(call)));
    call_acked(*bob_on_a, "call.accept", {{"call_id", call}});

    node_b->kill();
    for (auto* ws : {bob_on_a.get(), cat_on_c.get()}) {
        const auto ended = wait_for(*ws, "call.ended", of_call(call), 15s);
        ASSERT_TRUE(ended) << "a device on a surviving node was never told";
        EXPECT_EQ((*ended)["data"]["reason"], "failed");
        EXPECT_EQ((*ended)["data"]["call"]["state"], "ended");
        EXPECT_EQ((*ended)["data"]["call"]["outcome"], "completed") << "it was answered";
    }
    std::vector<json> summaries;
    const auto summarized = [&] {
        summaries.clear();
        for (const auto& m : system_messages(a(), bob, group))
            if (m["metadata"].value("call_id", "") == call) summaries.push_back(m);
        return !summaries.empty();
    };
    ASSERT_TRUE(eventually(summarized)) << "no system message";
    EXPECT_TRUE(NoFrameBefore(*bob_on_a, frame_of("call.ended", of_call(call)), direct_message_marker(a(), cat, bob)))
        << "told twice";
    summarized();
    ASSERT_EQ(summaries.size(), 1u) << "one node writes the message, once";
    EXPECT_EQ(summaries[0]["metadata"]["event"], "call.completed") << summaries[0].dump();
    EXPECT_EQ(summaries[0]["sender_id"], ann.id);

    const auto restarted = ws_request(*bob_on_a, "call.start", {{"chat_id", group}, {"kind", "video"}});
    ASSERT_TRUE(IsAck(restarted)) << "the chat takes a new call: " << restarted.dump();
    EXPECT_EQ(restarted["data"]["call"]["ringing"].size(), 2u) << "ann and cat are free again";
    if (HasFailure()) node_c->print_log_tail("node c");
}

// The node running a call is only paused (SIGSTOP) past the presence timeout: another node ends
// its call as failed; back, the paused node forgets the call, so its user can call again there.
TEST_F(ClusterTest, ANodePausedPastThePresenceTimeoutForgetsTheCallsEndedMeanwhile) {
    const auto ann = register_user(a(), "ann");
    const auto bob = register_user(a(), "bob");
    const std::string chat = create_direct(a(), ann, bob)["id"];
    auto ann_on_b = ws_connect(b(), ann.token);
    auto bob_on_a = ws_connect(a(), bob.token);
    const std::string call = call_acked(*ann_on_b, "call.start", {{"chat_id", chat}, {"kind", "voice"}})["call"]["id"];
    ASSERT_TRUE(wait_for(*bob_on_a, "call.ring", of_call(call)));
    call_acked(*bob_on_a, "call.accept", {{"call_id", call}});

    ASSERT_EQ(::kill(node_b->pid(), SIGSTOP), 0);
    const auto ended = wait_for(*bob_on_a, "call.ended", of_call(call), 15s);
    ASSERT_EQ(::kill(node_b->pid(), SIGCONT), 0);
    ASSERT_TRUE(ended) << "the paused node's call was never ended";
    EXPECT_EQ((*ended)["data"]["reason"], "failed");

    auto ann_back = ws_connect(b(), ann.token);
    json restarted;
    EXPECT_TRUE(eventually([&] {
        const auto reply = ws_request(*ann_back, "call.start", {{"chat_id", chat}, {"kind", "voice"}});
        if (IsAck(reply)) restarted = reply["data"]["call"];
        return !restarted.is_null();
    })) << "node b still holds the call it lost";
}

// "In another call" holds across the nodes: bob in a call owned by node b is busy for a call
// started on node a, may not start or join one there, and is free again once he hung up.
TEST_F(ClusterTest, AUserInACallOwnedByOneNodeIsBusyForCallsOnAnother) {
    const auto ann = register_user(a(), "ann");
    const auto bob = register_user(a(), "bob");
    const auto cat = register_user(a(), "cat");
    const auto eve = register_user(a(), "eve");
    const std::string with_eve = create_direct(a(), bob, eve)["id"];
    const std::string with_bob = create_direct(a(), ann, bob)["id"];
    const std::string group = create_group(a(), ann, {bob.id, cat.id})["id"];
    auto bob_on_b = ws_connect(b(), bob.token);
    auto eve_on_b = ws_connect(b(), eve.token);
    auto bob_on_a = ws_connect(a(), bob.token);
    auto ann_on_a = ws_connect(a(), ann.token);
    auto cat_on_a = ws_connect(a(), cat.token);
    const std::string on_b =
        call_acked(*bob_on_b, "call.start", {{"chat_id", with_eve}, {"kind", "voice"}})["call"]["id"];
    ASSERT_TRUE(wait_for(*eve_on_b, "call.ring", of_call(on_b)));
    call_acked(*eve_on_b, "call.accept", {{"call_id", on_b}});

    EXPECT_EQ(refusal(ws_request(*ann_on_a, "call.start", {{"chat_id", with_bob}, {"kind", "voice"}})), "conflict/busy")
        << "bob is in node b's call";
    EXPECT_EQ(refusal(ws_request(*bob_on_a, "call.start", {{"chat_id", with_bob}, {"kind", "voice"}})),
              "conflict/in_call");
    const auto group_call = call_acked(*ann_on_a, "call.start", {{"chat_id", group}, {"kind", "voice"}})["call"];
    EXPECT_EQ(group_call["ringing"], json::array({cat.id})) << "bob is not rung";
    ASSERT_TRUE(wait_for(*cat_on_a, "call.ring", of_call(group_call["id"])));
    call_acked(*cat_on_a, "call.accept", {{"call_id", group_call["id"]}});
    EXPECT_EQ(refusal(ws_request(*bob_on_a, "call.join", {{"call_id", group_call["id"]}})), "conflict/in_call");

    call_acked(*bob_on_b, "call.hangup", {{"call_id", on_b}});
    ASSERT_TRUE(wait_for(*bob_on_a, "call.ended", of_call(on_b)));
    const auto normal = wait_for(*eve_on_b, "call.ended", of_call(on_b));
    ASSERT_TRUE(normal);
    EXPECT_EQ((*normal)["data"]["reason"], "normal");
    // Free a moment after call.ended: the ended call's row goes after its frames (as a chat's).
    json joined;
    EXPECT_TRUE(eventually([&] {
        joined = ws_request(*bob_on_a, "call.join", {{"call_id", group_call["id"]}});
        return IsAck(joined);
    })) << "bob is free once he hung up: "
        << joined.dump();
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

// The typist's node is killed: nobody there can say they stopped, so the node that sweeps it
// as silent does (PROTOCOL.md: false "when the typist's last connection closes").
TEST_F(ClusterTest, ATypistsNodeKilledStopsTheirTypingOnceItIsSwept) {
    const auto ana = register_user(a(), "ana");
    const auto ben = register_user(a(), "ben");
    const std::string chat_id = create_direct(a(), ana, ben)["id"];
    auto ben_ws = ws_connect(a(), ben.token);
    auto ana_ws = ws_connect(b(), ana.token);
    ASSERT_TRUE(IsAck(ws_request(*ana_ws, "typing.start", {{"chat_id", chat_id}})));
    const auto typing_of_ana = [&](bool is_typing) {
        return frame_of("typing.update", [&, is_typing](const json& frame) {
            return frame["data"] == json({{"chat_id", chat_id}, {"user_id", ana.id}, {"is_typing", is_typing}});
        });
    };
    ASSERT_TRUE(wait_for(*ben_ws, "typing.update", typing_of_ana(true)));

    node_b->kill();
    EXPECT_TRUE(wait_for(*ben_ws, "typing.update", typing_of_ana(false), 15s))
        << "ana's typing never stopped after her node died";
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

FramePred presence_of(const std::string& user_id, std::optional<bool> online = std::nullopt) {
    return frame_of("presence.update", [user_id, online](const json& frame) {
        const auto& data = frame["data"];
        return data.value("user_id", "") == user_id && (!online || data.value("online", !*online) == *online);
    });
}

TEST_F(ClusterTest, AUserIsOnlineWhileConnectedToAnyNodeAndOfflineWhenTheLastConnectionAnywhereCloses) {
    const auto ana = register_user(a(), "ana");
    const auto ben = register_user(a(), "ben");
    const auto cy = register_user(a(), "cy");
    create_direct(a(), ana, ben);
    auto ben_ws = ws_connect(b(), ben.token);
    auto ana_on_a = ws_connect(a(), ana.token);
    ASSERT_TRUE(wait_for(*ben_ws, "presence.update", presence_of(ana.id, true)));
    auto ana_on_b = ws_connect(b(), ana.token);
    const auto connections_of_ana = [&] {
        return database->query_value("select count(*) from presence_connections where user_id = '" + ana.id + "'");
    };
    ASSERT_TRUE(eventually([&] { return connections_of_ana() == "2"; })) << "one row per node holding ana";

    ana_on_a->close();
    ASSERT_TRUE(eventually([&] { return connections_of_ana() == "1"; })) << "node a never recorded the close";
    EXPECT_TRUE(NoFrameBefore(*ben_ws, presence_of(ana.id), direct_message_marker(a(), cy, ben)))
        << "ana went online twice or offline while still connected to node b";
    const auto profile = get(a(), ben.token, "/api/v1/users/" + ana.id);
    ASSERT_EQ(profile.status, 200);
    EXPECT_EQ(json::parse(profile.body)["online"], true) << "node a answers from what every node holds";

    ana_on_b->close();
    const auto offline = wait_for(*ben_ws, "presence.update", presence_of(ana.id, false));
    ASSERT_TRUE(offline) << "the last connection anywhere closed, and nobody said so";
    EXPECT_TRUE((*offline)["data"]["last_seen_at"].is_string());
}

TEST_F(ClusterTest, TheUsersOfAKilledNodeGoOfflineOnceItIsSilentForThePresenceTimeout) {
    const auto ana = register_user(a(), "ana");
    const auto ben = register_user(a(), "ben");
    create_direct(a(), ana, ben);
    auto ben_ws = ws_connect(a(), ben.token);
    auto ana_ws = ws_connect(b(), ana.token);
    ASSERT_TRUE(wait_for(*ben_ws, "presence.update", presence_of(ana.id, true)));

    node_b->kill();
    const auto offline = wait_for(*ben_ws, "presence.update", presence_of(ana.id, false), 15s);
    ASSERT_TRUE(offline) << "node a never swept the killed node's connections";
    EXPECT_TRUE((*offline)["data"]["last_seen_at"].is_string());
    const auto profile = get(a(), ben.token, "/api/v1/users/" + ana.id);
    EXPECT_EQ(json::parse(profile.body)["online"], false);

    // Back on a node, online again.
    auto ana_back = ws_connect(a(), ana.token);
    EXPECT_TRUE(wait_for(*ben_ws, "presence.update", presence_of(ana.id, true)));
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

// A partition between one node and NATS, the others still on it: the cut link swallows what the
// node publishes until its pings go unanswered. Back on NATS, it tells the others, whose clients
// resync, since it cannot know what reached them.
TEST_F(ClusterTest, ANodeCutOffFromNatsAloneHasTheOthersClientsResyncOnceItIsBack) {
    TcpRelay link(nats_port());
    const auto node_c = start_node_through(link, "node-c");
    const auto c = node_c->port();
    const auto ana = register_user(c, "ana");
    const auto ben = register_user(c, "ben");
    const std::string chat_id = create_direct(c, ana, ben)["id"];
    auto ben_ws = ws_connect(b(), ben.token);
    const auto before = send_text(c, ana, chat_id, "before the cut");
    ASSERT_TRUE(wait_for(*ben_ws, "message.new", about_message(before["id"]), 15s));

    link.cut();
    const std::string thumbs_up = "\xF0\x9F\x91\x8D";
    ASSERT_EQ(put(c, ana.token, reaction_url(before["id"], thumbs_up), json::object()).status, 204);
    ASSERT_TRUE(eventually([&] { return readiness(c).value("nats", "") == "reconnecting"; }, 15s))
        << "node c did not notice the cut: " << readiness(c).dump();
    link.mend();
    EXPECT_EQ(ben_ws->wait_for_close(20s), 1013) << "node b's client missed the reaction silently";

    const auto message = get_message(b(), ben, before["id"]);
    EXPECT_NE(find_reaction(message, thumbs_up), nullptr) << "the resync finds it: " << message.dump();
    // Back on NATS, node c is heard again.
    auto ben_again = ws_connect(b(), ben.token);
    const auto after = send_text(c, ana, chat_id, "after the cut");
    EXPECT_TRUE(wait_for(*ben_again, "message.new", about_message(after["id"]), 15s));
    if (HasFailure()) node_c->print_log_tail("cluster test failed");
}

// Node c, cut off from NATS, never hears that node a removed ben and added dee: it checks each
// request and each typing event against the chat's access version, not against what it cached.
TEST_F(ClusterTest, ANodeNotYetToldOfAnothersMembershipChangeGoesByTheChatAsCommitted) {
    TcpRelay link(nats_port());
    const auto node_c = start_node_through(link, "node-c");
    const auto c = node_c->port();
    const auto ana = register_user(a(), "ana");
    const auto ben = register_user(a(), "ben");
    const auto cy = register_user(a(), "cy");
    const auto dee = register_user(a(), "dee");
    const std::string chat_id = create_group(a(), ana, {ben.id, cy.id})["id"];
    auto ana_on_c = ws_connect(c, ana.token);
    auto ben_on_c = ws_connect(c, ben.token);
    auto cy_on_c = ws_connect(c, cy.token);
    const auto warm = send_text(c, ana, chat_id, "c caches the members");
    ASSERT_TRUE(wait_for(*ben_on_c, "message.new", about_message(warm["id"])));

    link.cut();
    expect_json(del(a(), ana.token, member_url(chat_id, ben.id)), 204, "remove ben on node a");
    add_members(a(), ana, chat_id, {dee.id});

    EXPECT_EQ(get(c, ben.token, chat_messages_url(chat_id)).status, 404) << "ben read the chat he left";
    EXPECT_EQ(put(c, dee.token, reaction_url(warm["id"], "\xF0\x9F\x91\x8D"), json::object()).status, 204)
        << "dee, just added, was refused a reaction";
    EXPECT_EQ(send_message(c, dee, chat_id, {{"type", "text"}, {"content", "just added"}}).status, 201)
        << "dee, just added, was refused a send";
    ASSERT_TRUE(IsAck(ws_request(*ana_on_c, "typing.start", {{"chat_id", chat_id}})));
    EXPECT_TRUE(wait_for(*cy_on_c, "typing.update", about_chat(chat_id)));
    EXPECT_TRUE(
        NoFrameBefore(*ben_on_c, frame_of("typing.update", about_chat(chat_id)), direct_message_marker(c, ana, ben)))
        << "ben saw typing in the chat he left";
    if (HasFailure()) node_c->print_log_tail("cluster test failed");
}

// Node c starts after the chat's earlier messages crossed NATS, the last a moment before. Its
// first message of the chat goes out at once: what was published before c joined NATS never
// reaches it, and its clients, connected since, had it by their sync (docs/architecture.md,
// Cluster). The next ones follow in order.
TEST_F(ClusterTest, ANodeSeeingAChatForTheFirstTimeDoesNotWaitForWhatWasStoredBeforeItJoined) {
    const auto ana = register_user(a(), "ana");
    const auto ben = register_user(a(), "ben");
    const std::string chat_id = create_group(a(), ana, {ben.id})["id"];
    send_text(a(), ana, chat_id, "long ago");
    send_text(a(), ana, chat_id, "a moment ago");
    // A node waits for what was stored within 100 ms of its joining, which the nodes' clocks
    // cannot order (docs/architecture.md, Cluster); here the node joins later than that. A node
    // started at once can join within the 100 ms on a fast machine, and then rightly waits.
    const auto stored_by = std::chrono::system_clock::now();
    ASSERT_TRUE(eventually([&] { return std::chrono::system_clock::now() - stored_by > 250ms; }));
    const auto node_c = start_node("node-c", {{"CONFAB_CLUSTER_ORDER_WAIT_MS", "60000"}});
    const auto c = node_c->port();
    auto ben_on_c = ws_connect(c, ben.token);

    const auto first_seen = send_text(b(), ana, chat_id, "c sees the chat");
    const auto next = send_text(a(), ana, chat_id, "and the next");
    const auto frames = frames_until(*ben_on_c, frame_of("message.new", about_message(next["id"])), 15s);
    ASSERT_TRUE(frames) << "held for a message stored before node c joined (or closed: "
                        << ben_on_c->close_code().value_or(0) << ")";
    EXPECT_EQ(std::count_if(frames->begin(), frames->end(), frame_of("message.new", about_message(first_seen["id"]))),
              1);
    if (HasFailure()) node_c->print_log_tail("cluster test failed");
}

}  // namespace
}  // namespace confab::test
