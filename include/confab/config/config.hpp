#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace confab::config {

// The limits of PROTOCOL.md's Conventions plus the server's own bounds.
struct Limits {
    std::size_t content_chars = 4000;
    std::size_t body_bytes = 256 * 1024;
    std::size_t frame_bytes = 64 * 1024;
    std::size_t upload_bytes = 25 * 1024 * 1024;
    std::size_t group_members = 1000;
    unsigned message_burst = 20;
    double message_rate = 10.0;
    unsigned auth_per_ip_per_minute = 30;
    std::size_t title_chars = 255;
    std::size_t header_bytes = 16 * 1024;
    // Bytes of HTTP answers over 64 KiB held while being written (net::ResponseBudget).
    std::size_t response_buffer_bytes = 256 * 1024 * 1024;
    // Of those, what one user (or one address before sign-in) may hold beyond their first.
    std::size_t response_buffer_bytes_per_user = 32 * 1024 * 1024;
    std::size_t ws_outbound_queue = 1024;    // frames queued to one WebSocket before it is closed
    std::size_t ws_requests_in_flight = 16;  // requests of one WebSocket read ahead of their replies
    std::size_t connections_per_user = 16;   // open WebSockets of one user
    std::size_t connections_per_ip = 256;    // open TCP connections from one client address
    unsigned request_burst = 100;            // any other authenticated request or WebSocket frame
    double request_rate = 20.0;
    unsigned typing_burst = 10;
    double typing_rate = 1.0;
    unsigned change_burst = 30;  // message edits and reaction changes
    double change_rate = 5.0;
    unsigned upload_burst = 20;
    double upload_rate = 2.0;
    // Resource bounds (issue #13):
    std::size_t media_quota_bytes = std::size_t{2} * 1024 * 1024 * 1024;  // media rows one user's uploads may hold
    unsigned login_failures_per_account_per_minute = 10;  // wrong passwords per username, from any address
    std::size_t access_cache_members = 1'000'000;         // memberships the access cache holds before evicting chats
    std::size_t large_group_members = 200'000;            // most members of a large group (docs/api.md, Large groups)
    std::size_t history_cache_bytes = 32 * 1024 * 1024;   // newest history pages kept (domain::HistoryCache); 0: none

    bool operator==(const Limits&) const = default;
};

struct Server {
    std::string listen_address = "127.0.0.1";
    std::uint16_t port = 8080;  // 0: any free port, reported in the log and port_file
    std::string port_file;      // empty: the bound port is not written to a file
    unsigned io_threads = 2;
    std::chrono::seconds shutdown_grace{10};
    std::chrono::seconds idle_timeout{60};      // HTTP keep-alive and WebSocket idle
    std::chrono::seconds ws_ping_interval{30};  // keep-alive ping on a quiet WebSocket
    std::vector<std::string> allowed_origins;   // empty: any Origin may upgrade
    std::string ws_echo_path;                   // empty: no unauthenticated echo WebSocket

    bool operator==(const Server&) const = default;
};

struct Database {
    std::string url;  // required
    unsigned pool_size = 4;
    std::chrono::milliseconds connect_timeout{3000};
    std::chrono::milliseconds commit_gather{10};  // store::PoolLimits::gather

    bool operator==(const Database&) const = default;
};

struct Auth {
    std::chrono::hours token_ttl{24 * 30};
    unsigned long long password_hash_ops = 2;       // crypto_pwhash OPSLIMIT_INTERACTIVE
    std::size_t password_hash_mem_kib = 64 * 1024;  // crypto_pwhash MEMLIMIT_INTERACTIVE
    unsigned hash_threads = 2;                      // threads for Argon2id only
    std::size_t hash_queue = 64;                    // hashes waiting for a thread; more: 503
    // A token used again after this long is renewed: expires token_ttl after that use.
    std::chrono::seconds session_renew_interval{300};
    bool password_enabled = true;  // register, login and password change; off: 403
    // What a deleted account leaves in others' chats: "keep" (its messages, from a deleted
    // user) or "remove" (their content, deleted for everyone).
    std::string deleted_user_messages = "keep";

    bool operator==(const Auth&) const = default;
};

// Sign-in with tokens the host application's backend signs (docs/api.md).
struct Jwt {
    bool enabled = false;
    std::string hs256_secret;                 // empty: HS256 tokens are refused
    std::string public_key_file;              // PEM: RSA (RS256) or EC P-256 (ES256); empty: none
    std::string issuer;                       // required when enabled
    std::string audience;                     // required when enabled
    std::string user_id_claim = "sub";        // a string claim naming the user at the issuer
    std::string display_name_claim = "name";  // empty: the display name is the username
    std::string username_claim;               // empty: usernames are generated
    std::chrono::seconds clock_skew{60};      // allowed for exp and nbf
    std::string jwks_file;                    // a JWK set (RFC 7517) of RS256/ES256 keys; empty: none

    bool operator==(const Jwt&) const = default;
};

struct Log {
    std::string level = "info";   // trace|debug|info|warn|error|critical|off
    std::string format = "text";  // text|json

    bool operator==(const Log&) const = default;
};

struct Media {
    std::string dir = ".confab/media";
    std::chrono::seconds cleanup_interval{600};       // how often unattached uploads older than 24 h are removed
    unsigned worker_threads = 2;                      // sniffing, hashing, fsync, thumbnails, cleanup
    std::chrono::seconds tmp_max_age{3600};           // a temporary file untouched this long is abandoned
    std::uint64_t thumbnail_max_pixels = 40'000'000;  // larger images get no thumbnail (never decoded)

    bool operator==(const Media&) const = default;
};

// Who may read GET /metrics: with a token, requests bearing it; without, loopback peers only.
struct MetricsAccess {
    std::string token;

    bool operator==(const MetricsAccess&) const = default;
};

// How the server protects itself when overloaded or when the database is down.
struct Overload {
    std::size_t connections_total = 0;                     // open TCP connections; 0: RLIMIT_NOFILE minus a reserve
    std::chrono::milliseconds db_reconnect_min{100};       // first wait after a failed database connection
    std::chrono::milliseconds db_reconnect_max{5000};      // the wait doubles up to this
    std::size_t db_queue_limit = 4096;                     // transactions waiting for a connection
    std::size_t worker_queue_limit = 256;                  // jobs waiting for a blocking worker thread
    unsigned failed_auth_per_ip_per_minute = 60;           // bad bearer tokens from one address
    unsigned failed_auth_per_minute = 6000;                // bad bearer tokens from everyone
    std::chrono::seconds token_cache{5};                   // how long a valid token is remembered; 0: off
    std::chrono::milliseconds ready_probe_interval{1000};  // GET /readyz probes the database at most this often

    bool operator==(const Overload&) const = default;
};

// The host backend's server API (docs/api.md, Server API): requests bearing one of the keys.
struct ServerApi {
    std::vector<std::string> keys;  // empty: the server API is off; two during a key rotation

    bool operator==(const ServerApi&) const = default;
};

// The translation provider: an HTTP API in LibreTranslate's shape (docs/configuration.md).
struct Translation {
    std::string url;                          // base URL, http:// only; empty: translation is off
    std::string api_key;                      // sent as api_key; empty: none sent
    std::chrono::milliseconds timeout{5000};  // one provider call, connecting included

    bool operator==(const Translation&) const = default;
};

// Several nodes behind a load balancer (docs/architecture.md, Cluster): what one node sends to
// its connections also crosses to the others over NATS.
struct Cluster {
    std::vector<std::string> nats_urls;  // a NATS cluster's servers; empty: a single node
    std::string node_id;                 // names the node in logs; empty: <hostname>-<pid>
    std::string subject = "confab";      // prefix of its subjects, so clusters can share one NATS
    // How long a message.new after a gap in its chat's seqs waits for the earlier one from
    // another node before its recipients are told to resync (realtime/sequencer.hpp).
    std::chrono::milliseconds order_wait{1000};
    // A node (or an earlier life of this process) silent this long is taken as gone: its
    // users' connections are forgotten for presence. Each node heartbeats at a third of it.
    std::chrono::milliseconds presence_timeout{10000};

    bool clustered() const { return !nats_urls.empty(); }
    bool operator==(const Cluster&) const = default;
};

// The web client Confab serves beside the API (docs/configuration.md, [web]).
struct Web {
    std::string root;  // the built client's directory; empty: nothing is served outside /api

    bool operator==(const Web&) const = default;
};

// Outgoing webhooks (docs/configuration.md, [webhooks]).
struct Webhooks {
    std::chrono::seconds retry_for{86400};        // a failing delivery is retried this long, then parked
    std::chrono::milliseconds backoff_min{1000};  // the first retry's ceiling; doubles per attempt
    std::chrono::milliseconds backoff_max{3600000};
    std::chrono::milliseconds timeout{10000};  // one delivery, connecting included
    std::chrono::milliseconds poll_interval{500};
    std::size_t concurrency = 64;  // subscription and chat pairs delivered at once
    bool allow_loopback = false;
    bool allow_private_networks = false;  // private, shared (100.64/10) and link-local ranges

    bool operator==(const Webhooks&) const = default;
};

// Push notifications to members who are not connected (docs/api.md, Push notifications).
struct Push {
    bool content_free = false;                  // pushes carry ids only, never text or names
    std::chrono::milliseconds collapse{1000};   // a chat's messages within this wait go out as one
    std::chrono::milliseconds timeout{5000};    // one provider call, connecting included
    std::chrono::milliseconds retry_min{1000};  // the first retry's wait; doubled per attempt
    std::chrono::milliseconds retry_max{300000};
    int max_attempts = 10;        // then the notification is dropped (and counted as failed)
    std::string gateway_url;      // the generic push gateway, http:// only; empty: off
    std::string gateway_api_key;  // sent as "Authorization: Bearer <key>"; empty: none
    // Web Push (RFC 8030/8291/8292): the VAPID P-256 private key, a PEM file's path or the
    // base64url 32-byte scalar; empty: off. The subject (mailto: or https:) is required with it.
    std::string webpush_vapid_key;
    std::string webpush_subject;
    std::chrono::seconds webpush_ttl{86400};  // how long the push service keeps an undelivered push
    std::string webpush_urgency = "high";     // RFC 8030 Urgency: very-low, low, normal, high
    // FCM HTTP v1: the service-account JSON file's path; empty: off.
    std::string fcm_service_account;
    std::string fcm_token_url = "https://oauth2.googleapis.com/token";
    std::string fcm_base_url = "https://fcm.googleapis.com";
    // APNs over HTTP/2 with token authentication: the .p8 key's path (an ES256 P-256 key), its
    // key id, the team id and the apps' bundle id (apns-topic); all four or APNs is off.
    std::string apns_key_file;
    std::string apns_key_id;
    std::string apns_team_id;
    std::string apns_topic;
    std::string apns_url = "https://api.push.apple.com";  // the sandbox: https://api.sandbox.push.apple.com
    std::string apns_ca_file;                             // a PEM file of CAs trusted besides the system's; empty: none

    bool operator==(const Push&) const = default;
};

// Voice and video calls (docs/api.md, Calls): signalling limits and the TURN server.
struct Calls {
    std::chrono::milliseconds ring_timeout{45000};     // unanswered callees have missed the call then
    std::chrono::milliseconds reconnect_grace{15000};  // a participant without a connection stays this long
    std::size_t mesh_limit = 6;                        // participants of a group call
    std::vector<std::string> turn_urls;                // "turn:host:3478?transport=udp", "stun:..."
    std::string turn_secret;                           // coturn's static-auth-secret; empty: no credentials
    std::chrono::seconds turn_ttl{3600};               // how long handed-out TURN credentials are valid

    bool operator==(const Calls&) const = default;
};

struct Config {
    Server server;
    Database database;
    Auth auth;
    Jwt jwt;
    Limits limits;
    Log log;
    Media media;
    MetricsAccess metrics;
    Overload overload;
    ServerApi server_api;
    Translation translation;
    Cluster cluster;
    Web web;
    Webhooks webhooks;
    Push push;
    Calls calls;

    bool operator==(const Config&) const = default;
};

// One line naming the offending key, e.g.
// "limits.body_bytes (CONFAB_LIMIT_BODY_BYTES): expected a positive integer, got \"abc\"".
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Looks up an environment variable; injectable so tests need not touch the process environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

EnvLookup process_env();

// The TOML key ("section.key") and environment variable of every setting, in the order
// config/confab.toml and docs/configuration.md list them; lets tests catch drift.
struct SettingName {
    std::string_view toml_key;
    std::string_view env_var;
};
std::vector<SettingName> setting_names();

// Defaults, then the TOML file (if given), then CONFAB_* variables; validates the result.
Config load(const std::optional<std::filesystem::path>& file, const EnvLookup& env);

}  // namespace confab::config
