#pragma once

#include "confab/config/config.hpp"
#include "confab/domain/blocking.hpp"
#include "confab/domain/external_token.hpp"
#include "confab/domain/rate_limiter.hpp"
#include "confab/domain/token_cache.hpp"
#include "confab/domain/model.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace confab::store {
class Pool;
}
namespace confab::realtime {
class Hub;
struct TokenFilter;
}  // namespace confab::realtime

namespace confab::domain {

struct Registration {
    std::string username;
    std::string password;
    std::optional<std::string> display_name;
    std::optional<std::string> device_name;
};

struct SignedIn {
    User user;
    std::string token;     // shown to the client once; only its hash is stored
    bool renamed = false;  // the host's token gave the user a new display name
};

// Accounts and bearer tokens: Argon2id password hashes computed on the hashing workers,
// 256-bit random tokens stored as BLAKE2b hashes, revocation that closes live sockets.
// Valid tokens are cached briefly; bad ones are rate-limited per address and overall
// before they cost a database query.
class AuthService {
public:
    // `host_tokens` checks host applications' tokens (null: none, as with jwt.enabled off) and
    // outlives the service.
    AuthService(store::Pool& pool, Workers& hashing, realtime::Hub& hub, const config::Config& config,
                const HostTokenVerifier* host_tokens);

    // `client` is the caller's address: register and login attempts are rate-limited per
    // address (an IPv6 address by its /64, see address_key), and wrong passwords per
    // username, before any password is hashed, to slow down guessing. Hashing is refused
    // with Error{unavailable} when its queue is full.
    boost::asio::awaitable<SignedIn> register_user(Registration registration, std::string client);
    boost::asio::awaitable<SignedIn> login(std::string username, std::string password,
                                           std::optional<std::string> device_name, std::string client);
    // Signs in with a token the host application's backend signed (docs/api.md, Sign-in with
    // the host application): the user its (issuer, subject) names, created on first use.
    // Throws Error{unauthorized} "token rejected: <reason>" for a refused token; attempts are
    // limited per address like sign-ins, and refused tokens like bad bearer tokens.
    boost::asio::awaitable<SignedIn> sign_in_with_host_token(std::string token, std::optional<std::string> device_name,
                                                             std::string client);
    // Returns once the token works nowhere any more, the cache included.
    boost::asio::awaitable<void> logout(const Principal& principal);
    // Revokes every token of the user; their sockets close.
    boost::asio::awaitable<void> sign_out_everywhere(std::string user_id);
    // A bot's one token (docs/api.md, Bots): a new one, every earlier one revoked at once and
    // its sockets closed, as a logout does.
    boost::asio::awaitable<std::string> replace_bot_token(std::string bot_id, std::string client);
    // The user's live sessions, the caller's marked current: most recently used first (then by
    // id), `limit` after `after` (its id a uuid, else bad_request naming cursor). A session is
    // placed by its last use, so one used while its user pages may be seen twice or not at all.
    boost::asio::awaitable<ListPage<Session>> sessions(const Principal& principal, std::optional<ListPlace> after,
                                                       int limit);
    // Revokes one of the user's sessions (the caller's own included) and closes its sockets;
    // Error{not_found} when the user has no such live session.
    boost::asio::awaitable<void> revoke_session(const Principal& principal, std::string session_id);
    // Revokes every session of the user but the caller's and closes their sockets.
    boost::asio::awaitable<void> revoke_other_sessions(const Principal& principal);
    // Sets a new password once the current one is verified (attempts limited as sign-ins);
    // every other token of the user is revoked and its sockets closed, the caller's stays.
    boost::asio::awaitable<void> change_password(const Principal& principal, std::string current, std::string next,
                                                 std::string client);
    // Checks what confirms the deletion of the principal's account (rules::may_delete_account):
    // wrong passwords count as failed sign-ins, as for a password change.
    boost::asio::awaitable<void> confirm_deletion(const Principal& principal, std::optional<std::string> password,
                                                  std::string client);
    // Once the user's tokens but `kept_token_hash` (none when empty) are revoked: forgets
    // them and closes their sockets.
    void signed_out(const std::string& user_id, const std::string& kept_token_hash = {});
    // Another node of the cluster revoked these tokens and closed their sockets
    // (realtime::Cluster): this node forgets them too, rather than trust its cache a while.
    void revoked_elsewhere(const std::string& user_id, const realtime::TokenFilter& tokens);
    // Until when the principal's token works, asked of the database itself (nullopt: it does
    // not any more). A WebSocket asks once it is in the hub, so that a logout whose close ran
    // before it joined (it had authenticated before the revocation) still ends it, and again
    // when the expiry it knows passes, since use elsewhere may have renewed the token.
    boost::asio::awaitable<std::optional<Timestamp>> valid_until(const Principal& principal);
    // Throws Error{unauthorized} for a missing, malformed, unknown, expired or revoked token,
    // and Error{rate_limited} while `client` (or everyone) has sent too many bad ones. A token
    // looked up in the database is renewed (sliding expiry, auth.session_renew_interval).
    boost::asio::awaitable<Principal> authenticate(std::string_view token, const std::string& client);
    // The host backend's server API (docs/api.md, Server API). Throws Error{unauthorized}
    // (reason server_api_disabled or invalid_api_key) unless `key` is one of server_api.keys;
    // wrong keys spend the address's budget of bad tokens like unknown bearer tokens do.
    void check_server_key(std::string_view key, const std::string& client);
    // The host backend acting as the user `user_id` with the key: Error{bad_request} for no
    // such user, Error{forbidden} (reason account_deactivated) for a deactivated one.
    boost::asio::awaitable<Principal> on_behalf(std::string_view key, std::string user_id, const std::string& client);
    // Spends one token of the user's request budget (every authenticated REST request and
    // WebSocket frame); throws Error{rate_limited} when it is spent.
    void admit(const std::string& user_id);

private:
    boost::asio::awaitable<std::string> hash_password(std::string password);
    boost::asio::awaitable<bool> verify_password(std::string hash, std::string password);
    // Error{forbidden} (account_deactivated) for a deactivated user; Error{unauthorized} for
    // one deleted meanwhile, or whose password is no longer `verified_password_hash` (a
    // password sign-in's).
    boost::asio::awaitable<SignedIn> issue_token(User user, std::optional<std::string> device_name, std::string client,
                                                 std::optional<std::string> verified_password_hash = std::nullopt);
    void require_password_sign_in() const;
    // The claims of an acceptable host token; throws Error{unauthorized} with the reason.
    TokenClaims accepted_claims(const std::string& token, const std::string& client);
    // The user the claims name, created at their first sign-in (host_accounts.hpp); renamed
    // (second) when the token carries another valid display name.
    boost::asio::awaitable<std::pair<User, bool>> host_user(TokenClaims claims);

    store::Pool& pool_;
    Workers& hashing_;
    realtime::Hub& hub_;
    config::Auth settings_;
    config::Jwt jwt_;
    const HostTokenVerifier* host_tokens_;  // null: no host tokens are verified
    std::string decoy_hash_;                // verified against for unknown usernames, so timing tells nothing
    RateLimiter attempts_;                  // per client address (a /64 for IPv6)
    RateLimiter failures_;                  // wrong passwords per username, whatever the address
    RateLimiter requests_;                  // per user, REST and WebSocket together
    RateLimiter failed_per_client_;         // well-formed tokens the database did not know, per address
    RateLimiter failed_overall_;            // the same from everyone: a distributed guesser
    TokenCache tokens_;
    std::vector<std::string> server_key_hashes_;  // token_hash of each server_api key
};

// Pure helpers, exposed for unit tests.
std::string new_token();
std::string token_hash(std::string_view token);
bool looks_like_token(std::string_view token);

}  // namespace confab::domain
