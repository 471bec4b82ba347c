// Guarantees 1, 2 and 6 under load: every acknowledged message survives a SIGKILL, a
// PostgreSQL restart and a SIGTERM, in order with contiguous seq, and clients resync with
// since_version.

#include "support/chat_api.hpp"
#include "support/fixture.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

namespace confab::test {
namespace {

// The load must be under way, not just started, when the server or the database is disturbed.
constexpr std::size_t kEnoughAcks = 20;

// Several members sending into one group over REST as fast as they can, recording each
// message the server acknowledged (201). Failures (503, refused connections) are expected
// while the server or the database is down and are simply retried.
class AckedSends {
public:
    AckedSends(std::uint16_t port, std::vector<TestUser> senders, std::string chat)
        : port_(port), senders_(std::move(senders)), chat_(std::move(chat)) {}

    void start() {
        for (std::size_t i = 0; i < senders_.size(); ++i)
            threads_.emplace_back([this, i] {
                for (int n = 0; !stop_; ++n) {
                    try {
                        auto r =
                            send_message(port_, senders_[i], chat_,
                                         {{"type", "text"}, {"content", std::to_string(i) + ":" + std::to_string(n)}});
                        if (r.status == 201) {
                            std::lock_guard lock(mutex_);
                            acked_.insert(r.json()["id"].get<std::string>());
                        } else {
                            ++refused_;
                        }
                    } catch (const std::exception&) {
                        ++refused_;
                        std::this_thread::sleep_for(20ms);  // pacing, not a wait: no server to retry yet
                    }
                }
            });
    }
    void stop() {
        stop_ = true;
        for (auto& thread : threads_) thread.join();
        threads_.clear();
    }
    void retarget(std::uint16_t port) { port_ = port; }
    std::set<std::string> acked() {
        std::lock_guard lock(mutex_);
        return acked_;
    }
    // Whether at least `count` sends were acknowledged within 20 s.
    bool wait_for_acks(std::size_t count) {
        return eventually([&] { return acked().size() >= count; }, 20s);
    }
    int refused() const { return refused_; }
    ~AckedSends() { stop(); }

private:
    std::atomic<std::uint16_t> port_;
    std::vector<TestUser> senders_;
    std::string chat_;
    std::atomic<bool> stop_{false};
    std::atomic<int> refused_{0};
    std::mutex mutex_;
    std::set<std::string> acked_;
    std::vector<std::thread> threads_;
};

// Every acknowledged message is stored, and the chat's seqs are exactly 1..n.
void expect_acked_stored_in_order(std::uint16_t port, const TestUser& reader, const std::string& chat,
                                  const std::set<std::string>& acked) {
    const auto stored = all_messages(port, reader, chat);
    std::set<std::string> ids;
    for (const auto& m : stored) ids.insert(m["id"].get<std::string>());
    for (const auto& id : acked) EXPECT_TRUE(ids.count(id)) << "acknowledged message " << id << " was lost";
    auto seqs = seqs_of(stored);
    std::sort(seqs.begin(), seqs.end());
    for (std::size_t i = 0; i < seqs.size(); ++i) ASSERT_EQ(seqs[i], static_cast<std::int64_t>(i + 1)) << "gap in seq";
}

struct Room {
    std::vector<TestUser> members;
    std::string chat;
};

Room make_room(std::uint16_t port) {
    Room room;
    for (int i = 0; i < 4; ++i) room.members.push_back(register_user(port, "du"));
    std::vector<std::string> others;
    for (std::size_t i = 1; i < room.members.size(); ++i) others.push_back(room.members[i].id);
    room.chat = create_group(port, room.members[0], others)["id"];
    return room;
}

TEST(DurabilityTest, SigkillUnderLoadLosesNoAcknowledgedMessage) {
    CONFAB_REQUIRE_DATABASE();
    auto& db = shared_database();
    auto server = std::make_unique<ServerProcess>(db.url());
    auto room = make_room(server->port());
    auto watcher = ws_connect(server->port(), room.members[0].token);
    const auto before = get_chat(server->port(), room.members[0], room.chat)["version"].get<std::int64_t>();

    AckedSends load(server->port(), room.members, room.chat);
    load.start();
    ASSERT_TRUE(load.wait_for_acks(kEnoughAcks)) << "too little load to mean anything";
    server->kill();  // SIGKILL mid-load
    load.stop();

    ServerProcess restarted(db.url());
    expect_acked_stored_in_order(restarted.port(), room.members[1], room.chat, load.acked());
    // A client that saw the chat at `before` resyncs everything since, acknowledged or not.
    auto sync = get(restarted.port(), room.members[0].token,
                    chat_messages_url(room.chat) + "?since_version=" + std::to_string(before) + "&limit=200");
    ASSERT_EQ(sync.status, 200);
    EXPECT_FALSE(sync.json()["messages"].empty());
    EXPECT_EQ(sync.json()["version"], get_chat(restarted.port(), room.members[0], room.chat)["version"]);
}

TEST(DurabilityTest, DatabaseRestartUnderLoadIs503ThenRecoversWithNothingLost) {
    CONFAB_REQUIRE_DATABASE();
    CONFAB_REQUIRE_PG_CONTROL();
    auto& db = shared_database();
    ServerProcess server(db.url());
    auto room = make_room(server.port());
    AckedSends load(server.port(), room.members, room.chat);
    load.start();
    ASSERT_TRUE(load.wait_for_acks(kEnoughAcks)) << "too little load to mean anything";
    {
        PgStopGuard pg;
        pg.stop();
        EXPECT_TRUE(eventually([&] { return http(server.port(), "GET", "/readyz").status == 503; }, 10s));
        EXPECT_TRUE(IsError(http(server.port(), "GET", "/readyz"), 503, "unavailable"));
        EXPECT_TRUE(IsError(get(server.port(), room.members[0].token, "/api/v1/users/me"), 503, "unavailable"));
        pg.start();
    }
    EXPECT_TRUE(eventually([&] { return http(server.port(), "GET", "/readyz").status == 200; }, 20s));
    const auto acked_before = load.acked().size();
    EXPECT_TRUE(eventually([&] { return load.acked().size() > acked_before + 10; }, 20s)) << "sends did not resume";
    load.stop();
    EXPECT_GT(load.refused(), 0) << "the outage was not noticed";
    EXPECT_TRUE(server.running()) << "the server must survive a database restart";
    expect_acked_stored_in_order(server.port(), room.members[1], room.chat, load.acked());
}

TEST(DurabilityTest, SigtermUnderLoadClosesWebSocketsWith1001AndKeepsEveryAck) {
    CONFAB_REQUIRE_DATABASE();
    auto& db = shared_database();
    auto server = std::make_unique<ServerProcess>(db.url());
    auto room = make_room(server->port());
    auto watcher = ws_connect(server->port(), room.members[2].token);
    AckedSends load(server->port(), room.members, room.chat);
    load.start();
    ASSERT_TRUE(load.wait_for_acks(kEnoughAcks)) << "too little load to mean anything";
    const auto started = std::chrono::steady_clock::now();
    const int status = server->terminate(10s);
    const auto took = std::chrono::steady_clock::now() - started;
    load.stop();
    EXPECT_EQ(status, 0);
    EXPECT_FALSE(server->forced_kill());
    EXPECT_LT(took, 10s);
    EXPECT_EQ(watcher->wait_for_close(5s), std::optional<int>(1001));

    ServerProcess restarted(db.url());
    expect_acked_stored_in_order(restarted.port(), room.members[1], room.chat, load.acked());
}

}  // namespace
}  // namespace confab::test
