#pragma once

#include "confab/model/member_roles.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/container/small_vector.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
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
    try_again_later = 1013,   // the node lost events for a while (cluster): reconnect and resync
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

// Which of a user's connections a close is for: those of one token, or all but one token's.
struct TokenFilter {
    std::string token_hash;
    bool all_but = false;  // every token except token_hash (none kept when it is empty)

    static TokenFilter only(std::string token_hash) { return {std::move(token_hash), false}; }
    static TokenFilter all_except(std::string token_hash) { return {std::move(token_hash), true}; }

    bool operator==(const TokenFilter&) const = default;
    bool matches(const Connection& connection) const { return (connection.token_hash() == token_hash) != all_but; }
};

// A chat event's place in its chat, by which a cluster puts what its nodes send back in order:
// a message.new is at its seq; any other event a write commits (a member removed or added, an
// edit, a reaction) goes right after the chat's latest message when the write committed.
struct Order {
    enum class Place : std::uint8_t {
        at,     // the message.new of seq `seq`
        after,  // another event, after message `seq` (0: before the chat's first)
    };
    std::string_view chat_id;
    std::int64_t seq = 0;
    Place place = Place::at;
};

// The other nodes of a cluster (realtime/cluster.hpp). A hub hands its relay every send and
// close it makes, so that the same users' connections on the other nodes get them too.
class Relay {
public:
    virtual ~Relay() = default;
    virtual void relay_send(const std::vector<std::string>& user_ids, const Frame& frame,
                            const std::optional<Order>& order) = 0;
    // This node's share of an ordered send: what the other nodes' sends of the chat require
    // may first have to arrive (for an event after a seq, that message). Returns how many of this node's connections got it now.
    virtual std::size_t send_here_in_order(const std::vector<std::string>& user_ids, const Frame& frame,
                                           const Order& order) = 0;
    virtual void relay_close(const std::string& user_id, const TokenFilter& tokens, CloseCode code) = 0;
    // Whether the other nodes can be reached now.
    virtual bool linked() const = 0;
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
    // Before the first send; none on a single node.
    void relay_through(Relay* relay) { relay_ = relay; }
    const Relay* relay() const { return relay_; }

    void attach(const std::shared_ptr<Connection>& connection);
    void detach(const Connection& connection);

    // Every live connection of these users, on every node, gets the same frame; returns how
    // many of this node's. A chat's event gives its order (a message.new its seq, another
    // event the seq it follows): on a single node commit order is already that order, a
    // cluster has to restore it.
    std::size_t send_to_users(const std::vector<std::string>& user_ids, const Frame& frame,
                              const std::optional<Order>& order = std::nullopt);
    // This node's connections of the user that authenticated with this token (one device) get
    // the frame: a call's signalling, whose call lives on this node; returns how many.
    std::size_t send_to_token(const std::string& user_id, const std::string& token_hash, const Frame& frame);
    // Closes the user's connections that match `tokens`, on every node, after what was sent to
    // them before.
    void close(const std::string& user_id, const TokenFilter& tokens, CloseCode code);

    // What another node sent or closed: for this node's connections only.
    std::size_t send_here(const std::vector<std::string>& user_ids, const Frame& frame);
    void close_here(const std::string& user_id, const TokenFilter& tokens, CloseCode code);
    // Every connection of this node attached before that time, after what was sent to it before.
    void close_everyone_here(CloseCode code, std::chrono::system_clock::time_point attached_before =
                                                 std::chrono::system_clock::time_point::max());

    // The users of `members` with a connection on this node, found through whichever of the
    // two is smaller: a large group's event costs its connected members, not all of them.
    std::vector<std::string> connected_among(const model::MemberRoles& members) const;

    std::size_t connection_count() const;
    std::size_t connections_of(const std::string& user_id) const;
    // This node's connections of the user that authenticated with this token.
    std::size_t connections_of(const std::string& user_id, const std::string& token_hash) const;

private:
    // One send or close, to these connections.
    struct Dispatch {
        std::vector<std::shared_ptr<Connection>> targets;
        Frame frame;
        std::optional<CloseCode> close;
    };

    // With mutex_ held: adds the user's connections that match the filter.
    void target(Dispatch& dispatch, const std::string& user_id, const TokenFilter& tokens) const;
    // With mutex_ held; true when no drain is pending, and the caller must post one.
    bool queue(Dispatch dispatch);
    void post_drain();
    void drain();
    static void hand_over(std::vector<Dispatch>& dispatches);

    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::vector<std::shared_ptr<Connection>>> by_user_;
    std::unordered_map<const Connection*, std::chrono::system_clock::time_point> attached_at_;
    std::vector<Dispatch> queued_;
    bool draining_ = false;  // a drain is posted or running
    boost::asio::any_io_executor executor_;
    Relay* relay_ = nullptr;
};

}  // namespace confab::realtime
