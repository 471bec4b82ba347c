#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace confab::realtime {

using Frame = std::shared_ptr<const std::string>;

// WebSocket close codes the server chooses (RFC 6455 and the contract's 4001).
enum class CloseCode : unsigned short {
    going_away = 1001,         // shutdown
    unsupported_data = 1003,   // binary frame
    policy_violation = 1008,   // outbound queue overflow
    message_too_big = 1009,    // a frame over limits.frame_bytes
    token_revoked = 4001,      // logout of the token the connection authenticated with
};

// A live connection as the hub sees it. Implementations (net::WsSession) must make both
// calls safe from any thread: they hop onto the connection's own strand.
class Connection {
public:
    virtual ~Connection() = default;
    virtual const std::string& user_id() const = 0;
    virtual const std::string& token_hash() const = 0;
    virtual void deliver(Frame frame) = 0;
    virtual void close(CloseCode code) = 0;
};

// The registry of live connections. Locks are held only to copy pointers; delivery and
// closing happen after the lock is released.
class Hub {
public:
    void attach(const std::shared_ptr<Connection>& connection);
    void detach(const Connection& connection);

    void send_to_user(const std::string& user_id, const Frame& frame);
    // Every live connection of these users gets the same frame; returns how many.
    std::size_t send_to_users(const std::vector<std::string>& user_ids, const Frame& frame);
    // Closes the user's connections that authenticated with this token.
    void close_token(const std::string& user_id, const std::string& token_hash, CloseCode code);
    void close_all(CloseCode code);

    std::size_t connection_count() const;
    std::size_t connections_of(const std::string& user_id) const;

private:
    std::vector<std::shared_ptr<Connection>> snapshot_of_user(const std::string& user_id) const;

    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::vector<std::shared_ptr<Connection>>> by_user_;
};

}  // namespace confab::realtime
