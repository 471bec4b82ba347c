#pragma once

#include "confab/config/config.hpp"
#include "confab/domain/commit.hpp"
#include "confab/domain/rate_limiter.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace confab::realtime {
class Hub;
}

namespace confab::domain {

// Typing indicators and online presence: ephemeral state kept in memory only.
class PresenceService {
public:
    static constexpr auto typing_expiry = std::chrono::seconds(6);

    PresenceService(ChatWrites& writes, realtime::Hub& hub, const config::Limits& limits);
    ~PresenceService();  // stop()s
    PresenceService(const PresenceService&) = delete;
    PresenceService& operator=(const PresenceService&) = delete;

    // Joins the typing sweeper, which publishes through the hub onto the I/O threads: called
    // while their io_context still exists (Application::stop), so no expiry is posted to a
    // destroyed one. Idempotent.
    void stop();

    boost::asio::awaitable<void> typing(std::string actor, std::string chat_id, bool is_typing);

    // Called after a connection joined / left the hub: the first one makes the user
    // online, the last one offline (and stops their typing).
    boost::asio::awaitable<void> connected(std::string user_id);
    boost::asio::awaitable<void> disconnected(std::string user_id);

    bool online(const std::string& user_id) const;

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
    boost::asio::awaitable<void> announce_presence(const std::string& user_id, bool online);
    void expire_typing();

    ChatWrites& writes_;
    realtime::Hub& hub_;
    RateLimiter typing_events_;  // typing.start and typing.stop per user
    std::mutex mutex_;
    std::map<Key, Typist> typing_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread sweeper_;
};

}  // namespace confab::domain
