// The cluster when NATS restarts, is cut off, or every node restarts in turn (issue #20 item 5,
// docs/architecture.md, Cluster): nodes reconnect on their own, and every connected client gets
// what it missed live or is told to resync (1013, 1001): never a silent gap. Nothing
// acknowledged is lost or stored twice.

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/chat_api.hpp"
#include "support/haproxy.hpp"
#include "support/nats_server.hpp"

namespace confab::test {
namespace {

// A real client's retry interval after a refused connection or a failed send.
constexpr auto kRetryInterval = 20ms;

// One member's client as a real one behaves: it keeps a socket open, and after every close
// reconnects (to `again`: its first node may be restarting) and syncs by since_version from the
// last version it saw. Within one socket, a chat's message.new must come in seq order, each
// once, with no gap; what one socket missed after its close, the next one's sync brings.
class Follower {
public:
    Follower(std::uint16_t first, std::uint16_t again, TestUser user, std::string chat_id)
        : first_(first),
          again_(again),
          user_(std::move(user)),
          chat_id_(std::move(chat_id)),
          thread_([this, first](const std::stop_token& stop) { follow(first, stop); }) {}

    // Whether `id` came, live or by a sync, within `timeout`.
    bool got(const std::string& id, std::chrono::milliseconds timeout = 20s) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, timeout, [&] { return ids_.contains(id); });
    }
    std::set<std::string> ids() const {
        std::lock_guard lock(mutex_);
        return ids_;
    }
    std::vector<std::string> problems() const {
        std::lock_guard lock(mutex_);
        return problems_;
    }
    std::multiset<int> closes() const {
        std::lock_guard lock(mutex_);
        return closes_;
    }
    // For a failure's message: whose client, on which node, what it went through.
    std::string describe() const {
        std::lock_guard lock(mutex_);
        std::string text = user_.username + " first on port " + std::to_string(first_) + ", " +
                           std::to_string(ids_.size()) + " messages, version " + std::to_string(version_) + ", closes:";
        for (const auto code : closes_) text += " " + std::to_string(code);
        return text;
    }

private:
    void follow(std::uint16_t port, const std::stop_token& stop) {
        while (!stop.stop_requested()) {
            try {
                // Connected before the sync: what is committed after it comes live.
                auto ws = ws_connect(port, user_.token);
                sync(port);
                listen(*ws, stop);
            } catch (const std::exception&) {  // the node is down or going: try again
                std::this_thread::sleep_for(kRetryInterval);
            }
            port = again_;
        }
    }

    void sync(std::uint16_t port) {
        for (;;) {
            const auto page = expect_json(get(port, user_.token,
                                              chat_messages_url(chat_id_) +
                                                  "?since_version=" + std::to_string(version_) + "&limit=200"),
                                          200, "sync");
            std::lock_guard lock(mutex_);
            for (const auto& message : page["messages"]) {
                ids_.insert(message["id"].get<std::string>());
                version_ = std::max(version_, message["version"].get<std::int64_t>());
                highest_ = std::max(highest_, message["seq"].get<std::int64_t>());
            }
            changed_.notify_all();
            if (!page["has_more"].get<bool>()) return;
        }
    }

    // After the sync, a socket's message.new may repeat what the client has, but each comes
    // once, in seq order, and none after a gap in what the client has.
    void listen(WsClient& ws, const std::stop_token& stop) {
        std::optional<std::int64_t> last_live;
        while (!stop.stop_requested()) {
            const auto frame = ws.receive(100ms);
            if (!frame) {
                if (ws.is_open()) continue;
                std::lock_guard lock(mutex_);
                closes_.insert(ws.close_code().value_or(0));
                return;
            }
            if ((*frame)["type"] != "message.new") continue;
            const auto& message = (*frame)["data"]["message"];
            const auto seq = message["seq"].get<std::int64_t>();
            std::lock_guard lock(mutex_);
            if (seq > highest_ + 1 || (last_live && seq <= *last_live))
                problems_.push_back("seq " + std::to_string(seq) + " to a client that had up to " +
                                    std::to_string(highest_) +
                                    (last_live ? ", the socket's last " + std::to_string(*last_live) : ""));
            last_live = seq;
            highest_ = std::max(highest_, seq);
            ids_.insert(message["id"].get<std::string>());
            version_ = std::max(version_, message["version"].get<std::int64_t>());
            changed_.notify_all();
        }
    }

    const std::uint16_t first_, again_;
    const TestUser user_;
    const std::string chat_id_;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::set<std::string> ids_;
    std::vector<std::string> problems_;
    std::multiset<int> closes_;
    std::int64_t version_ = 0;
    std::int64_t highest_ = 0;  // the highest seq the client has
    std::jthread thread_;       // last: it stops before the rest goes
};

// Sends to a chat in turn through `ports` until stopped, each send with a client_id and retried
// (with it) until acknowledged, as a real client does when its connection drops.
class Sender {
public:
    Sender(std::vector<std::uint16_t> ports, TestUser user, std::string chat_id)
        : ports_(std::move(ports)),
          user_(std::move(user)),
          chat_id_(std::move(chat_id)),
          thread_([this](const std::stop_token& stop) { send_until(stop); }) {}

    std::size_t sent() const { return count_.load(); }
    std::string last() const {
        std::lock_guard lock(mutex_);
        return acknowledged_.empty() ? "" : acknowledged_.back();
    }
    // Waits until `more` further sends are acknowledged; false after `timeout`.
    bool sends(std::size_t more, std::chrono::milliseconds timeout = 30s) {
        const auto target = sent() + more;
        return eventually([&] { return sent() >= target || failed_; }, timeout) && !failed_;
    }
    // Stops and returns every acknowledged message id, in order.
    std::vector<std::string> stop() {
        thread_.request_stop();
        thread_.join();
        std::lock_guard lock(mutex_);
        return acknowledged_;
    }
    bool failed() const { return failed_; }

private:
    void send_until(const std::stop_token& stop) {
        for (std::size_t i = 0; !stop.stop_requested(); ++i) {
            const json body = {{"type", "text"},
                               {"content", user_.username + "-" + std::to_string(i)},
                               {"client_id", "c" + std::to_string(i)}};
            auto id = send_once(body, ports_[i % ports_.size()]);
            if (!id) {
                failed_ = true;
                return;
            }
            std::lock_guard lock(mutex_);
            acknowledged_.push_back(std::move(*id));
            ++count_;
        }
    }

    std::optional<std::string> send_once(const json& body, std::uint16_t port) const {
        for (int attempt = 0; attempt < 500; ++attempt) {
            try {
                const auto sent = send_message(port, user_, chat_id_, body);
                if (sent.status == 201 || sent.status == 200) return sent.json()["id"].get<std::string>();
            } catch (const std::exception&) {  // the connection died with its node: send again
            }
            std::this_thread::sleep_for(kRetryInterval);
        }
        return std::nullopt;
    }

    const std::vector<std::uint16_t> ports_;
    const TestUser user_;
    const std::string chat_id_;
    mutable std::mutex mutex_;
    std::vector<std::string> acknowledged_;
    std::atomic<std::size_t> count_{0};
    std::atomic<bool> failed_{false};
    std::jthread thread_;
};

std::string nats_link(std::uint16_t port) {
    try {
        const auto response = http(port, "GET", "/readyz");
        return response.status == 200 ? json::parse(response.body).value("nats", "") : "";
    } catch (const std::exception&) {
        return "";  // not up
    }
}

class ClusterResilienceTest : public ::testing::Test {
protected:
    void SetUp() override {
        CONFAB_REQUIRE_DATABASE();
        CONFAB_REQUIRE_NATS();
        database = std::make_unique<TestDatabase>();
        nats = std::make_unique<NatsServer>();
        for (const auto& name : names) nodes.push_back(start_node(name));
    }

    void TearDown() override {
        if (!HasFailure()) return;
        if (nats) std::cerr << "nats-server log:\n" << nats->log_tail() << "\n";
        for (const auto& node : nodes)
            if (node) node->print_log_tail("cluster resilience test failed");
    }

    // `port` 0: the system picks one; else the port of the node it replaces.
    std::unique_ptr<ServerProcess> start_node(const std::string& name, std::uint16_t port = 0) {
        ServerProcess::Options options;
        options.name = name;
        options.env = {{"CONFAB_CLUSTER_NATS_URLS", nats->url()},
                       {"CONFAB_CLUSTER_NODE_ID", name},
                       {"CONFAB_HTTP_PORT", std::to_string(port)},
                       {"CONFAB_LIMIT_MESSAGE_BURST", "100000"},
                       {"CONFAB_LIMIT_MESSAGE_RATE", "100000"}};
        return std::make_unique<ServerProcess>(database->url(), options);
    }

    std::vector<std::uint16_t> ports() const {
        std::vector<std::uint16_t> all;
        for (const auto& node : nodes) all.push_back(node->port());
        return all;
    }

    bool every_node_on_nats() const {
        return eventually([&] {
            for (const auto port : ports())
                if (nats_link(port) != "connected") return false;
            return true;
        });
    }

    // Two members of a direct chat, each sending through every node in turn (or through the
    // load balancer `lb`), and a follower of each on every node, reconnecting to its own node (or
    // through `lb`). Returns once every follower has what was sent so far.
    void start_traffic(std::optional<std::uint16_t> lb = std::nullopt) {
        const auto port = ports().front();
        ana = register_user(port, "ana");
        ben = register_user(port, "ben");
        chat_id = create_direct(port, ana, ben)["id"];
        for (const auto node : ports())
            for (const auto* user : {&ana, &ben})
                followers.push_back(std::make_unique<Follower>(node, lb.value_or(node), *user, chat_id));
        const auto through = lb ? std::vector<std::uint16_t>{*lb} : ports();
        for (const auto* user : {&ana, &ben}) senders.push_back(std::make_unique<Sender>(through, *user, chat_id));
        ASSERT_TRUE(both_send(5));
        for (const auto& sender : senders)
            for (const auto& follower : followers)
                ASSERT_TRUE(follower->got(sender->last())) << "a follower never started";
    }

    // Until each sender has `more` further sends acknowledged, within `timeout` for all.
    bool both_send(std::size_t more, std::chrono::milliseconds timeout = 30s) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (const auto& sender : senders)
            if (!sender->sends(more, std::chrono::duration_cast<std::chrono::milliseconds>(
                                         deadline - std::chrono::steady_clock::now())))
                return false;
        return true;
    }

    // Every acknowledged send is stored once, the chat's seqs run 1..n, and every follower got
    // each of them, live or by its resyncs, with no gap on any one socket, after being told to
    // resync with `told` at least once.
    void expect_nothing_lost_or_doubled(int told) {
        std::vector<std::string> acknowledged;
        for (const auto& sender : senders) {
            ASSERT_FALSE(sender->failed()) << "a send was never acknowledged";
            const auto ids = sender->stop();
            acknowledged.insert(acknowledged.end(), ids.begin(), ids.end());
        }
        auto history = all_messages(ports().front(), ana, chat_id);
        std::sort(history.begin(), history.end(), [](const json& x, const json& y) {
            return x["seq"].get<std::int64_t>() < y["seq"].get<std::int64_t>();
        });
        std::set<std::string> stored, contents;
        std::map<std::string, std::int64_t> seq_of;
        for (std::size_t i = 0; i < history.size(); ++i) {
            seq_of[history[i]["id"]] = history[i]["seq"];
            EXPECT_EQ(history[i]["seq"], i + 1) << "the chat's seqs have a gap";
            stored.insert(history[i]["id"].get<std::string>());
            EXPECT_TRUE(contents.insert(history[i]["content"].get<std::string>()).second)
                << "a retried send stored twice: " << history[i]["content"];
        }
        for (const auto& id : acknowledged) EXPECT_TRUE(stored.contains(id)) << "acknowledged, then lost: " << id;
        EXPECT_EQ(stored.size(), std::set<std::string>(acknowledged.begin(), acknowledged.end()).size());

        for (const auto& follower : followers) {
            for (const auto& id : acknowledged)
                ASSERT_TRUE(follower->got(id)) << "a client neither got " << id << " (seq " << seq_of[id]
                                               << ") nor was told to resync: " << follower->describe();
            EXPECT_EQ(follower->problems(), std::vector<std::string>{});
            EXPECT_TRUE(follower->closes().contains(told)) << "a client was never told to resync with " << told;
        }
    }

    TestUser ana, ben;
    const std::vector<std::string> names = {"node-a", "node-b", "node-c"};
    std::unique_ptr<TestDatabase> database;
    std::unique_ptr<NatsServer> nats;
    std::vector<std::unique_ptr<ServerProcess>> nodes;  // in the order of `names`
    std::string chat_id;
    std::vector<std::unique_ptr<Follower>> followers;
    std::vector<std::unique_ptr<Sender>> senders;
};

// Sends go on while NATS is killed and started again on its port: every node reconnects by
// itself, and each closes its sockets with 1013, whose clients then sync what they missed.
TEST_F(ClusterResilienceTest, NatsKilledAndRestartedLeavesNoClientWithASilentGap) {
    ASSERT_NO_FATAL_FAILURE(start_traffic());
    nats->kill();
    ASSERT_TRUE(both_send(10)) << "sends stopped while NATS was down";
    nats->start();
    ASSERT_TRUE(every_node_on_nats()) << "a node did not reconnect by itself";
    ASSERT_TRUE(both_send(10));
    expect_nothing_lost_or_doubled(1013);
}

// NATS stops answering (SIGSTOP) until every node has noticed, then goes on (SIGCONT) with
// whatever it held: the same as a restart for the clients.
TEST_F(ClusterResilienceTest, NatsCutOffForSecondsLeavesNoClientWithASilentGap) {
    ASSERT_NO_FATAL_FAILURE(start_traffic());
    nats->pause();
    const auto noticed = eventually(
        [&] {
            for (const auto port : ports())
                if (nats_link(port) != "reconnecting") return false;
            return true;
        },
        15s);
    // Not slowed either: a publish waits for a hung NATS on the bus's own thread, not the send's.
    const auto sent_while_cut_off = both_send(10, 20s);
    nats->resume();
    ASSERT_TRUE(noticed) << "readyz did not report NATS away";
    ASSERT_TRUE(sent_while_cut_off) << "sends stopped or crawled while NATS was cut off";
    ASSERT_TRUE(every_node_on_nats()) << "a node did not reconnect by itself";
    ASSERT_TRUE(both_send(10));
    expect_nothing_lost_or_doubled(1013);
}

// Each node in turn: SIGTERM, wait for it to exit, start it again on its port, wait until it is
// ready on NATS, while both members send through HAProxy and every client reconnects through it.
TEST_F(ClusterResilienceTest, ARollingRestartOfEveryNodeUnderLoadLosesNothing) {
    CONFAB_REQUIRE_HAPROXY();
    HaProxy proxy(ports());
    ASSERT_NO_FATAL_FAILURE(start_traffic(proxy.port()));
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        ASSERT_TRUE(both_send(10));
        const auto port = nodes[i]->port();
        EXPECT_EQ(nodes[i]->terminate(), 0) << names[i] << " did not stop cleanly";
        // Leaving on purpose is no lost link: nothing for the other nodes to resync over.
        const auto stopped_log = nodes[i]->log_contents();
        EXPECT_NE(stopped_log.find("cluster: left NATS"), std::string::npos) << names[i];
        EXPECT_EQ(stopped_log.find("cluster: disconnected from NATS"), std::string::npos) << names[i];
        nodes[i] = start_node(names[i], port);
        ASSERT_TRUE(eventually([&] { return nats_link(port) == "connected"; })) << names[i] << " is not back on NATS";
    }
    ASSERT_TRUE(both_send(10));
    expect_nothing_lost_or_doubled(1001);
    if (HasFailure()) std::cerr << "haproxy log:\n" << proxy.log_tail() << "\n";
}

}  // namespace
}  // namespace confab::test
