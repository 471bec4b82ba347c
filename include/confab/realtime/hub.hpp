#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/container/small_vector.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace confab::realtime {

using Frame = std::shared_ptr<const std::string>;
// One connection's share of a drain, in order: usually a single frame, held without an allocation.
using Frames = boost::container::small_vector<Frame, 1>;

// WebSocket close codes the server chooses (RFC 6455 and the contract's 4001).
enum class CloseCode : unsigned short {
    going_away = 1001,        // shutdown
    unsupported_data = 1003,  // binary frame
    policy_violation = 1008,  // outbound queue overflow
    message_too_big = 1009,   // a frame over limits.frame_bytes
    token_revoked = 4001,     // the token the connection authenticated with was revoked or expired
};

// A live connection as the hub sees it. Implementations (net::WsSession) must make both
// calls safe from any thread: they hop onto the connection's own strand.
class Connection {
public:
    virtual ~Connection() = default;
    virtual const std::string& user_id() const = 0;
    virtual const std::string& token_hash() const = 0;
    virtual void deliver(Frames frames) = 0;  // sent in this order
    virtual void close(CloseCode code) = 0;
};

// The registry of live connections. Sending only queues, under the lock that copies the
// target pointers: publishers are database threads that hold a chat's order mutex, and
// should not spend it on a thousand connections. The queue is handed over on the executor
// given to deliver_on() (an I/O thread), one drain at a time, so everything sent to one
// connection reaches it in the order it was sent; whatever a drain finds queued goes to
// each connection as one batch, one hop onto its strand however many frames it holds.
class Hub {
public:
    // Before the first connection attaches.
    void deliver_on(boost::asio::any_io_executor executor);

    void attach(const std::shared_ptr<Connection>& connection);
    void detach(const Connection& connection);

    // Every live connection of these users gets the same frame; returns how many.
    std::size_t send_to_users(const std::vector<std::string>& user_ids, const Frame& frame);
    // Closes the user's connections that authenticated with this token, after what was sent
    // to them before.
    void close_token(const std::string& user_id, const std::string& token_hash, CloseCode code);
    // Closes every connection of the user but those of token `keep` (none kept when empty).
    void close_tokens_except(const std::string& user_id, const std::string& keep, CloseCode code);

    std::size_t connection_count() const;
    std::size_t connections_of(const std::string& user_id) const;

private:
    // One send or close, to these connections.
    struct Dispatch {
        std::vector<std::shared_ptr<Connection>> targets;
        Frame frame;
        std::optional<CloseCode> close;
    };

    // With mutex_ held; true when no drain is pending, and the caller must post one.
    bool queue(Dispatch dispatch);
    void close_where(const std::string& user_id, CloseCode code, const std::function<bool(const Connection&)>& which);
    void post_drain();
    void drain();
    static void hand_over(std::vector<Dispatch>& dispatches);

    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::vector<std::shared_ptr<Connection>>> by_user_;
    std::vector<Dispatch> queued_;
    bool draining_ = false;  // a drain is posted or running
    boost::asio::any_io_executor executor_;
};

}  // namespace confab::realtime
