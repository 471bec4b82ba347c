#pragma once

#include "confab/config/config.hpp"
#include "confab/domain/blocking.hpp"
#include "confab/domain/rate_limiter.hpp"
#include "confab/domain/user.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace confab::store {
class Pool;
}
namespace confab::realtime {
class Hub;
}

namespace confab::domain {

struct Registration {
    std::string username;
    std::string password;
    std::optional<std::string> display_name;
};

struct SignedIn {
    User user;
    std::string token;  // shown to the client once; only its hash is stored
};

// Accounts and bearer tokens: Argon2id password hashes computed on the hashing workers,
// 256-bit random tokens stored as BLAKE2b hashes, revocation that closes live sockets.
class AuthService {
public:
    AuthService(store::Pool& pool, BoundedWorkers& hashing, realtime::Hub& hub, const config::Auth& settings,
                const config::Limits& limits);

    // `client` is the caller's address: register and login attempts are rate-limited per
    // address (an IPv6 address by its /64, see address_key), and wrong passwords per
    // username, before any password is hashed, to slow down guessing. Hashing is refused
    // with Error{unavailable} when its queue is full.
    boost::asio::awaitable<SignedIn> register_user(Registration registration, std::string client);
    boost::asio::awaitable<SignedIn> login(std::string username, std::string password, std::string client);
    boost::asio::awaitable<void> logout(const Principal& principal);
    // Throws Error{unauthorized} for a missing, malformed, unknown, expired or revoked token.
    boost::asio::awaitable<Principal> authenticate(std::string_view token);
    // Spends one token of the user's request budget (every authenticated REST request and
    // WebSocket frame); throws Error{rate_limited} when it is spent.
    void admit(const std::string& user_id);

private:
    boost::asio::awaitable<std::string> hash_password(std::string password);
    boost::asio::awaitable<bool> verify_password(std::string hash, std::string password);
    boost::asio::awaitable<SignedIn> issue_token(User user);

    store::Pool& pool_;
    BoundedWorkers& hashing_;
    realtime::Hub& hub_;
    config::Auth settings_;
    std::string decoy_hash_;  // verified against for unknown usernames, so timing tells nothing
    RateLimiter attempts_;  // per client address (a /64 for IPv6)
    RateLimiter failures_;  // wrong passwords per username, whatever the address
    RateLimiter requests_;  // per user, REST and WebSocket together
};

// Pure helpers, exposed for unit tests.
std::string new_token();
std::string token_hash(std::string_view token);
bool looks_like_token(std::string_view token);

}  // namespace confab::domain
