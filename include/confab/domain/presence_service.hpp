#pragma once

#include "confab/config/config.hpp"
#include "confab/domain/blocking.hpp"
#include "confab/domain/commit.hpp"
#include "confab/domain/rate_limiter.hpp"
#include "confab/store/presence.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

namespace confab::realtime {
class Hub;
}

namespace confab::domain {

// Typing indicators (in memory; each process also records its typists, so that whoever sweeps
// it when it dies stops them) and online presence. Presence holds across the
// nodes of a cluster and across restarts: which process holds a connection of which user is
// kept in PostgreSQL (store/presence.hpp), so a user is online while any process holds one, and
// the change is announced by the process whose write made it. Each process heartbeats; one
// silent for cluster.presence_timeout_ms (killed, or an earlier life of a restarted node) is
// swept by the others, or by itself after a restart, and its users go offline.
class PresenceService {
public:
    static constexpr auto typing_expiry = std::chrono::seconds(6);

    PresenceService(ChatWrites& writes, realtime::Hub& hub, Workers& workers, const config::Limits& limits,
                    const config::Cluster& cluster);
    ~PresenceService();  // stop()s
    PresenceService(const PresenceService&) = delete;
    PresenceService& operator=(const PresenceService&) = delete;

    // Starts the heartbeat, which also sweeps silent processes.
    void start();
    // Joins the typing sweeper, which publishes through the hub onto the I/O threads: called
    // while their io_context still exists (Application::stop), so no expiry is posted to a
    // destroyed one; stops the heartbeat. Idempotent.
    void stop();

    // This process as PostgreSQL knows it (random per start): names its calls' owner too.
    const std::string& process_id() const { return process_id_; }

    boost::asio::awaitable<void> typing(std::string actor, std::string chat_id, bool is_typing);

    // Called after a connection joined / left the hub: the first one anywhere makes the user
    // online, the last one anywhere offline; the last one here stops their typing.
    boost::asio::awaitable<void> connected(std::string user_id);
    boost::asio::awaitable<void> disconnected(std::string user_id);

private:
    using Key = std::pair<std::string, std::string>;  // chat, user
    using Clock = std::chrono::steady_clock;
    struct Typist {
        Clock::time_point until;  // counts as typing until then
        // Those in a block with the typist, read when the typing started: its stop is hidden
        // from the same users as its start.
        std::vector<std::string> hidden_from;
    };

    void announce_typing(const std::string& chat_id, const std::string& user_id, bool is_typing,
                         std::vector<std::string> hidden_from);
    // Records whether this process holds a connection of the user, as the hub says at that
    // moment, and announces a change of the user's presence anywhere.
    boost::asio::awaitable<void> record(std::string user_id);
    // A user's presence changed, and whom to tell.
    struct PresenceChange {
        std::string user_id;
        Presence presence;
        std::vector<std::string> contacts;  // none when the user's privacy hides their presence
    };
    // In the transaction of a change: going offline stamps last_seen_at, and the event carries
    // the stamp as stored, so it matches what GET /users/{id} reads.
    static PresenceChange presence_change(store::Tx& tx, const std::string& user_id, bool online);
    void announce_presence(PresenceChange change);
    // Who this process shows as typing, for the record a sweep of it would stop (store::presence).
    std::vector<store::presence::Typist> typists_now();
    boost::asio::awaitable<void> heartbeat();
    void expire_typing();

    ChatWrites& writes_;
    realtime::Hub& hub_;
    std::chrono::milliseconds presence_timeout_;
    const std::string process_id_;  // random per start, so a restarted node is a new process
    boost::asio::strand<boost::asio::thread_pool::executor_type> strand_;
    boost::asio::steady_timer heartbeat_timer_;
    std::mutex held_mutex_;
    std::unordered_set<std::string> held_;  // the users this process has recorded as held
    bool stopping_heartbeat_ = false;       // on strand_
    RateLimiter typing_events_;             // typing.start and typing.stop per user
    std::mutex mutex_;
    std::map<Key, Typist> typing_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread sweeper_;
};

}  // namespace confab::domain
