#include "confab/domain/auth_service.hpp"

#include "confab/domain/blocking.hpp"
#include "confab/domain/host_accounts.hpp"
#include "confab/domain/model.hpp"
#include "confab/domain/rules.hpp"
#include "confab/domain/validation.hpp"
#include "confab/model/base64url.hpp"
#include "confab/obs/metrics.hpp"
#include "confab/realtime/hub.hpp"
#include "confab/store/pool.hpp"
#include "confab/store/users.hpp"
#include "confab/model/user.hpp"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <variant>

namespace confab::domain {
namespace {

constexpr std::size_t token_bytes = 32;
constexpr std::size_t min_password = 8, max_password = 256;
// About 200 bytes an entry: the cache stays under 15 MiB however many tokens are in use.
constexpr std::size_t token_cache_capacity = 65536;

std::string argon2id(const std::string& password, const config::Auth& settings) {
    std::array<char, crypto_pwhash_STRBYTES> out{};
    if (crypto_pwhash_str_alg(out.data(), password.data(), password.size(), settings.password_hash_ops,
                              settings.password_hash_mem_kib * 1024, crypto_pwhash_ALG_ARGON2ID13) != 0) {
        throw std::runtime_error("crypto_pwhash_str_alg failed (out of memory)");
    }
    return out.data();
}

void validate_password(const std::string& password, const char* field) {
    const auto length = code_points(password);
    if (length < min_password || length > max_password)
        throw bad_request(std::string(field) + " must be 8-256 characters", field);
}

// Display and device names: shown to people, so 1-64 code points of plain text.
void validate_name(const std::optional<std::string>& name, const std::string& field) {
    if (name) require_name(*name, field);
}

void validate(const Registration& r) {
    if (!is_valid_username(r.username))
        throw bad_request("username must be 3-32 characters of a-z, 0-9, _ and .", "username");
    validate_password(r.password, "password");
    validate_name(r.display_name, "display_name");
    validate_name(r.device_name, "device_name");
}

}  // namespace

namespace {

// sodium_init is idempotent and thread-safe; the helpers below may run before any service exists.
void ensure_sodium() {
    static const bool ready = sodium_init() >= 0;
    if (!ready) throw std::runtime_error("libsodium failed to initialise");
}

// 401 "token rejected: <reason>", the reason also in details.reason as one word
// ("bad signature": bad_signature) for clients to branch on.
Error rejected(TokenRejection rejection) {
    const std::string why(reason(rejection));
    auto word = why;
    std::replace(word.begin(), word.end(), ' ', '_');
    return with_reason(ErrorCode::unauthorized, "token rejected: " + why, std::move(word), "token");
}

Error deactivated() { return with_reason(ErrorCode::forbidden, "the account is deactivated", "account_deactivated"); }

// A sign-in that lost a race: the account was deactivated, deleted or given a new password
// after the credentials were checked and before the token was stored.
void require_issued(store::tokens::Issue issue) {
    switch (issue) {
        case store::tokens::Issue::issued: return;
        case store::tokens::Issue::deactivated: throw deactivated();
        case store::tokens::Issue::stale: throw unauthorized("invalid username or password");
    }
}

}  // namespace

std::string new_token() {
    ensure_sodium();
    std::array<unsigned char, token_bytes> raw{};
    randombytes_buf(raw.data(), raw.size());
    return model::to_base64url({reinterpret_cast<const char*>(raw.data()), raw.size()});
}

bool looks_like_token(std::string_view token) {
    return token.size() == sodium_base64_ENCODED_LEN(token_bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING) - 1 &&
           std::all_of(token.begin(), token.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '_';
           });
}

std::string token_hash(std::string_view token) {
    ensure_sodium();
    std::array<unsigned char, crypto_generichash_BYTES> digest{};
    crypto_generichash(digest.data(), digest.size(), reinterpret_cast<const unsigned char*>(token.data()), token.size(),
                       nullptr, 0);
    std::string hex(digest.size() * 2 + 1, '\0');
    sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
    hex.pop_back();
    return hex;
}

AuthService::AuthService(store::Pool& pool, Workers& hashing, realtime::Hub& hub, const config::Config& config,
                         const HostTokenVerifier* host_tokens)
    : pool_(pool),
      hashing_(hashing),
      hub_(hub),
      settings_(config.auth),
      jwt_(config.jwt),
      host_tokens_(host_tokens),
      attempts_("sign_in", config.limits.auth_per_ip_per_minute, config.limits.auth_per_ip_per_minute / 60.0),
      failures_("login_failures", config.limits.login_failures_per_account_per_minute,
                config.limits.login_failures_per_account_per_minute / 60.0),
      requests_("requests", config.limits.request_burst, config.limits.request_rate),
      failed_per_client_("failed_auth_per_ip", config.overload.failed_auth_per_ip_per_minute,
                         config.overload.failed_auth_per_ip_per_minute / 60.0),
      failed_overall_("failed_auth", config.overload.failed_auth_per_minute,
                      config.overload.failed_auth_per_minute / 60.0),
      tokens_(config.overload.token_cache, token_cache_capacity) {
    ensure_sodium();
    decoy_hash_ = argon2id("confab decoy password", settings_);
    for (const auto& key : config.server_api.keys) server_key_hashes_.push_back(token_hash(key));
}

boost::asio::awaitable<std::string> AuthService::hash_password(std::string password) {
    co_return co_await offload(hashing_,
                               [password = std::move(password), this] { return argon2id(password, settings_); });
}

boost::asio::awaitable<bool> AuthService::verify_password(std::string hash, std::string password) {
    co_return co_await offload(hashing_, [hash = std::move(hash), password = std::move(password)] {
        return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
    });
}

boost::asio::awaitable<SignedIn> AuthService::issue_token(User user, std::optional<std::string> device_name,
                                                          std::string client,
                                                          std::optional<std::string> verified_password_hash) {
    auto token = new_token();
    store::tokens::NewToken row{
        .token_hash = token_hash(token),
        .user_id = user.id,
        .ttl = settings_.token_ttl,
        .device_name = std::move(device_name),
        .address = std::move(client),
        .password_hash = std::move(verified_password_hash),
    };
    const auto issue =
        co_await pool_.run([row = std::move(row)](store::Tx& tx) { return store::tokens::insert(tx, row); });
    require_issued(issue);
    co_return SignedIn{std::move(user), std::move(token)};
}

void AuthService::require_password_sign_in() const {
    if (!settings_.password_enabled) throw forbidden("password sign-in is disabled");
}

boost::asio::awaitable<SignedIn> AuthService::register_user(Registration registration, std::string client) {
    require_password_sign_in();
    attempts_.require(address_key(client), "sign-in attempts");
    validate(registration);
    auto display_name = registration.display_name.value_or(registration.username);
    auto hash = co_await hash_password(std::move(registration.password));
    auto user = co_await pool_.run([username = registration.username, display_name, hash](store::Tx& tx) {
        return store::users::insert(tx, username, display_name, hash);
    });
    if (!user) throw Error(ErrorCode::conflict, "username is taken", "username");
    spdlog::info("user registered user_id={}", user->id);
    co_return co_await issue_token(std::move(*user), std::move(registration.device_name), std::move(client));
}

boost::asio::awaitable<SignedIn> AuthService::login(std::string username, std::string password,
                                                    std::optional<std::string> device_name, std::string client) {
    require_password_sign_in();
    attempts_.require(address_key(client), "sign-in attempts");
    validate_name(device_name, "device_name");
    // Only names an account could have are tracked: anything else can never match, and must
    // not fill the limiter with keys of any size.
    const bool tracked = is_valid_username(username);
    if (tracked) failures_.require_left(username, "failed sign-ins for this account");
    auto credentials =
        co_await pool_.run([username](store::Tx& tx) { return store::users::find_credentials(tx, username); });
    // A user of the host application has no password: the decoy keeps the timing the same.
    const bool has_password = credentials && credentials->password_hash;
    std::string hash = has_password ? *credentials->password_hash : decoy_hash_;
    const bool matches = co_await verify_password(std::move(hash), std::move(password));
    if (!has_password || !matches) {
        // Unknown names are charged too, so the limit says nothing about which accounts exist.
        if (tracked) failures_.acquire(username);
        throw unauthorized("invalid username or password");
    }
    co_return co_await issue_token(std::move(credentials->user), std::move(device_name), std::move(client),
                                   std::move(credentials->password_hash));
}

TokenClaims AuthService::accepted_claims(const std::string& token, const std::string& client) {
    if (!jwt_.enabled || !host_tokens_) throw rejected(TokenRejection::disabled);
    auto verdict = host_tokens_->verify(token);
    std::optional<TokenRejection> rejection;
    if (const auto* refused = std::get_if<TokenRejection>(&verdict)) {
        rejection = *refused;
    } else {
        const auto now = model::unix_seconds(std::chrono::system_clock::now());
        rejection = check_claims(std::get<TokenClaims>(verdict), {jwt_.issuer, jwt_.audience, jwt_.clock_skew}, now);
    }
    if (!rejection) return std::get<TokenClaims>(std::move(verdict));
    (void)failed_per_client_.acquire(address_key(client));
    spdlog::info("host token rejected: {}", reason(*rejection));
    throw rejected(*rejection);
}

namespace {

// The display name claim when it makes a valid display name.
std::optional<std::string> valid_display_name(const std::optional<std::string>& wanted) {
    if (!wanted) return std::nullopt;
    const auto length = code_points(*wanted);
    if (length < 1 || length > max_name_chars || !is_plain_text(*wanted)) return std::nullopt;
    return wanted;
}

}  // namespace

boost::asio::awaitable<std::pair<User, bool>> AuthService::host_user(TokenClaims claims) {
    HostIdentity identity{*claims.issuer, *claims.subject, claims.username, valid_display_name(claims.display_name)};
    co_return co_await pool_.run([identity = std::move(identity)](store::Tx& tx) -> std::pair<User, bool> {
        auto host = find_or_create(tx, identity);
        auto& user = host.account.user;
        // The host application's name for its user wins over one set here meanwhile.
        const auto& name = identity.display_name;
        if (host.created || !name || *name == user.display_name) return {std::move(user), false};
        auto renamed = store::users::update_profile(tx, user.id, ProfileChange{.display_name = name});
        if (!renamed) throw std::runtime_error("host user vanished while being renamed");
        return {std::move(renamed->user), renamed->changed};
    });
}

boost::asio::awaitable<SignedIn> AuthService::sign_in_with_host_token(std::string token,
                                                                      std::optional<std::string> device_name,
                                                                      std::string client) {
    attempts_.require(address_key(client), "sign-in attempts");
    validate_name(device_name, "device_name");
    failed_per_client_.require_left(address_key(client), "invalid tokens from this address");
    auto [user, renamed] = co_await host_user(accepted_claims(token, client));
    auto signed_in = co_await issue_token(std::move(user), std::move(device_name), std::move(client));
    signed_in.renamed = renamed;
    co_return signed_in;
}

// Forgotten after the revocation commits: a lookup that read the token as valid before the
// commit is then of an older generation and cannot put it back into the cache.
boost::asio::awaitable<void> AuthService::logout(const Principal& principal) {
    co_await pool_.run([hash = principal.token_hash](store::Tx& tx) { store::tokens::revoke(tx, hash); });
    tokens_.forget(principal.token_hash);
    hub_.close(principal.user_id, realtime::TokenFilter::only(principal.token_hash),
               realtime::CloseCode::token_revoked);
}

boost::asio::awaitable<void> AuthService::sign_out_everywhere(std::string user_id) {
    co_await pool_.run([user_id](store::Tx& tx) { store::tokens::revoke_all(tx, user_id, ""); });
    signed_out(user_id);
    spdlog::info("signed out everywhere user_id={}", user_id);
}

boost::asio::awaitable<std::string> AuthService::replace_bot_token(std::string bot_id, std::string client) {
    auto token = new_token();
    store::tokens::NewToken row{.token_hash = token_hash(token),
                                .user_id = bot_id,
                                .ttl = settings_.token_ttl,
                                .device_name = "bot",
                                .address = std::move(client)};
    co_await pool_.run([row](store::Tx& tx) {
        store::tokens::revoke_all(tx, row.user_id, "");
        require_issued(store::tokens::insert(tx, row));
    });
    signed_out(bot_id, row.token_hash);
    co_return token;
}

boost::asio::awaitable<void> AuthService::change_password(const Principal& principal, std::string current,
                                                          std::string next, std::string client) {
    require_password_sign_in();
    attempts_.require(address_key(client), "sign-in attempts");
    validate_password(next, "new_password");
    auto credentials =
        co_await pool_.run([id = principal.user_id](store::Tx& tx) { return store::users::credentials_of(tx, id); });
    if (!credentials) throw unauthorized();
    if (!credentials->password_hash)
        throw Error(ErrorCode::forbidden, "this account signs in through the host application and has no password",
                    "current_password");
    // A stolen token must not make a password oracle: wrong guesses count as failed sign-ins.
    const auto& username = credentials->user.username;
    failures_.require_left(username, "failed sign-ins for this account");
    if (!co_await verify_password(std::move(*credentials->password_hash), std::move(current))) {
        failures_.acquire(username);
        throw Error(ErrorCode::forbidden, "current_password is wrong", "current_password");
    }
    auto hash = co_await hash_password(std::move(next));
    co_await pool_.run([principal, hash](store::Tx& tx) {
        store::users::set_password_hash(tx, principal.user_id, hash);
        store::tokens::revoke_all(tx, principal.user_id, principal.token_hash);
    });
    signed_out(principal.user_id, principal.token_hash);
    spdlog::info("password changed, other sessions signed out user_id={}", principal.user_id);
}

boost::asio::awaitable<void> AuthService::confirm_deletion(const Principal& principal,
                                                           std::optional<std::string> password, std::string client) {
    auto credentials =
        co_await pool_.run([id = principal.user_id](store::Tx& tx) { return store::users::credentials_of(tx, id); });
    if (!credentials) throw unauthorized();
    const bool has_password = credentials->password_hash.has_value();
    std::optional<bool> matches;
    if (has_password && password) {
        attempts_.require(address_key(client), "sign-in attempts");
        const auto& username = credentials->user.username;
        failures_.require_left(username, "failed sign-ins for this account");
        matches = co_await verify_password(std::move(*credentials->password_hash), std::move(*password));
        if (!*matches) failures_.acquire(username);
    }
    rules::may_delete_account(has_password, matches);
}

void AuthService::signed_out(const std::string& user_id, const std::string& kept_token_hash) {
    tokens_.forget_user(user_id, kept_token_hash);
    hub_.close(user_id, realtime::TokenFilter::all_except(kept_token_hash), realtime::CloseCode::token_revoked);
}

void AuthService::revoked_elsewhere(const std::string& user_id, const realtime::TokenFilter& tokens) {
    if (tokens.all_but) tokens_.forget_user(user_id, tokens.token_hash);
    else tokens_.forget(tokens.token_hash);
}

boost::asio::awaitable<ListPage<Session>> AuthService::sessions(const Principal& principal,
                                                                std::optional<ListPlace> after, int limit) {
    if (after) require_uuid(after->id, "cursor");
    auto rows = co_await pool_.run([principal, after, limit](store::Tx& tx) {
        return store::tokens::sessions(tx, principal.user_id, principal.token_hash, after, limit + 1);
    });
    co_return list_page(std::move(rows), limit);
}

boost::asio::awaitable<void> AuthService::revoke_session(const Principal& principal, std::string session_id) {
    // Another user's session is as unknown as one that never existed.
    if (!is_uuid(session_id)) throw not_found("session");
    auto hash = co_await pool_.run([user = principal.user_id, session_id](store::Tx& tx) {
        return store::tokens::revoke_session(tx, user, session_id);
    });
    if (!hash) throw not_found("session");
    tokens_.forget(*hash);
    hub_.close(principal.user_id, realtime::TokenFilter::only(*hash), realtime::CloseCode::token_revoked);
    spdlog::info("session revoked user_id={} session_id={}", principal.user_id, session_id);
}

boost::asio::awaitable<void> AuthService::revoke_other_sessions(const Principal& principal) {
    co_await pool_.run(
        [principal](store::Tx& tx) { store::tokens::revoke_all(tx, principal.user_id, principal.token_hash); });
    signed_out(principal.user_id, principal.token_hash);
    spdlog::info("other sessions signed out user_id={}", principal.user_id);
}

boost::asio::awaitable<std::optional<Timestamp>> AuthService::valid_until(const Principal& principal) {
    auto owner =
        co_await pool_.run([hash = principal.token_hash](store::Tx& tx) { return store::tokens::owner_of(tx, hash); });
    if (!owner) co_return std::nullopt;
    co_return owner->expires_at;
}

boost::asio::awaitable<Principal> AuthService::authenticate(std::string_view token, const std::string& client) {
    if (!looks_like_token(token)) throw unauthorized();
    auto hash = token_hash(token);
    static obs::Counter& from_cache = obs::metrics().token_lookups.with({"cache"});
    static obs::Counter& from_database = obs::metrics().token_lookups.with({"database"});
    if (auto cached = tokens_.find(hash)) {
        from_cache.inc();
        co_return std::move(*cached);
    }
    // Only failures spend these budgets, so clients with valid tokens are never held back
    // by them, however many they open; a guesser is stopped before its query.
    failed_per_client_.require_left(address_key(client), "invalid tokens from this address");
    failed_overall_.require_left({}, "invalid tokens");
    const auto generation = tokens_.generation();
    from_database.inc();
    store::tokens::Renewal renewal{settings_.token_ttl, settings_.session_renew_interval, client};
    auto owner = co_await pool_.run(
        [hash, renewal = std::move(renewal)](store::Tx& tx) { return store::tokens::use(tx, hash, renewal); });
    if (!owner) {
        (void)failed_per_client_.acquire(address_key(client));
        (void)failed_overall_.acquire({});
        throw unauthorized();
    }
    Principal principal{std::move(owner->user_id), std::move(hash), owner->expires_at};
    const auto now = model::now();
    tokens_.remember(principal, owner->expires_at - now, generation);
    co_return principal;
}

void AuthService::check_server_key(std::string_view key, const std::string& client) {
    if (server_key_hashes_.empty())
        throw with_reason(ErrorCode::unauthorized, "the server API is off (server_api.keys is empty)",
                          "server_api_disabled");
    failed_per_client_.require_left(address_key(client), "invalid tokens from this address");
    // Hashes of equal length compared whole: the time taken tells nothing of the keys.
    const auto offered = token_hash(key);
    bool known = false;
    for (const auto& hash : server_key_hashes_) known |= sodium_memcmp(hash.data(), offered.data(), hash.size()) == 0;
    if (known) return;
    (void)failed_per_client_.acquire(address_key(client));
    spdlog::info("server API key rejected");
    throw with_reason(ErrorCode::unauthorized, "invalid server API key", "invalid_api_key");
}

boost::asio::awaitable<Principal> AuthService::on_behalf(std::string_view key, std::string user_id,
                                                         const std::string& client) {
    check_server_key(key, client);
    if (!is_uuid(user_id)) throw bad_request("X-On-Behalf-Of must be a user id", "X-On-Behalf-Of");
    const auto standing = co_await pool_.run([user_id](store::Tx& tx) { return store::users::standing(tx, user_id); });
    if (!standing) throw bad_request("X-On-Behalf-Of names no user", "X-On-Behalf-Of");
    if (standing->deactivated_at) throw deactivated();
    co_return Principal{.user_id = std::move(user_id),
                        .token_hash = {},
                        .expires_at = Timestamp::max(),
                        .on_behalf = true};
}

void AuthService::admit(const std::string& user_id) { requests_.require(user_id, "requests"); }

}  // namespace confab::domain
