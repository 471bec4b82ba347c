#include "confab/config/config.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <system_error>
#include <type_traits>
#include <utility>

namespace confab::config {
namespace {

constexpr std::uint64_t kMaxBytes = (std::uint64_t{1} << 40) - 1;
constexpr std::uint64_t kMaxCount = 1'000'000;
constexpr std::uint64_t kMaxHeaderBytes = 1024 * 1024;
constexpr double kMaxRate = 1'000'000.0;

// Thrown by a rule; the caller knows which key and which source, and adds them.
struct Invalid {
    std::string problem;
};

// Thrown when a required setting is still empty after every source has been applied.
struct Missing {};

// ---------------------------------------------------------------------------
// Rendering values inside a one-line message.

std::string in_quotes(std::string_view text) {
    static constexpr std::string_view kHex = "0123456789abcdef";
    std::string out = "\"";
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (byte < 0x20 || byte == 0x7f) {
            out += "\\x";
            out += kHex[byte >> 4U];
            out += kHex[byte & 0xfU];
        } else {
            out += c;
        }
    }
    out += '"';
    return out;
}

std::string one_line(std::string_view text) {
    std::string out(text);
    std::replace_if(
        out.begin(), out.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
    return out;
}

std::string join(const std::vector<std::string_view>& items) {
    std::string joined;
    for (const auto item : items) {
        if (!joined.empty()) joined += ", ";
        joined += item;
    }
    return joined;
}

std::string format_number(double value) {
    // Fixed notation reads better than "1e+06" in a message; 400 chars fit any double.
    std::array<char, 400> buffer{};
    const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value, std::chars_format::fixed);
    return {buffer.data(), result.ptr};
}

// What a TOML value is, for "expected X, got Y" when the type is wrong.
std::string what_toml_value_is(const toml::node& node) {
    switch (node.type()) {
        case toml::node_type::string: return "a string " + in_quotes(node.value_or(std::string_view{}));
        case toml::node_type::integer: return "an integer " + std::to_string(node.value_or(std::int64_t{0}));
        case toml::node_type::floating_point: return "a float " + format_number(node.value_or(0.0));
        case toml::node_type::boolean: return node.value_or(false) ? "a boolean true" : "a boolean false";
        case toml::node_type::array: return "an array";
        case toml::node_type::table: return "a table";
        case toml::node_type::date: return "a date";
        case toml::node_type::time: return "a time";
        case toml::node_type::date_time: return "a date-time";
        case toml::node_type::none: break;
    }
    return "nothing";
}

Invalid wrong_type(const std::string& expected, const toml::node& node) {
    return Invalid{"expected " + expected + ", got " + what_toml_value_is(node)};
}

std::string position(const std::filesystem::path& file, const toml::source_position& where) {
    return file.string() + ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
}

// ---------------------------------------------------------------------------
// Rules: each reads one value from a TOML node or an environment string, rejecting what it
// cannot accept, and re-checks the merged value (which may be a header default).

struct Integer {
    std::uint64_t min;
    std::uint64_t max;

    [[nodiscard]] std::string expected() const {
        return "an integer from " + std::to_string(min) + " to " + std::to_string(max);
    }

    [[nodiscard]] bool accepts(std::uint64_t value) const { return value >= min && value <= max; }

    [[nodiscard]] std::uint64_t parse(const toml::node& node) const {
        const auto* integer = node.as_integer();
        if (integer == nullptr) throw wrong_type(expected(), node);
        const std::int64_t value = integer->get();
        if (value < 0 || !accepts(static_cast<std::uint64_t>(value)))
            throw Invalid{"expected " + expected() + ", got " + std::to_string(value)};
        return static_cast<std::uint64_t>(value);
    }

    // Only plain decimal digits: no sign, no whitespace, no suffix.
    [[nodiscard]] std::uint64_t parse(std::string_view text) const {
        std::uint64_t value = 0;
        const bool digits_only =
            !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
        const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
        if (!digits_only || result.ec != std::errc{} || !accepts(value))
            throw Invalid{"expected " + expected() + ", got " + in_quotes(text)};
        return value;
    }

    void check(std::uint64_t value) const {
        if (!accepts(value)) throw Invalid{"expected " + expected() + ", got " + std::to_string(value)};
    }
};

struct PositiveNumber {
    double max;

    [[nodiscard]] std::string expected() const { return "a number greater than 0 and at most " + format_number(max); }

    [[nodiscard]] bool accepts(double value) const { return std::isfinite(value) && value > 0.0 && value <= max; }

    [[nodiscard]] double parse(const toml::node& node) const {
        double value = 0.0;
        if (const auto* floating = node.as_floating_point()) {
            value = floating->get();
        } else if (const auto* integer = node.as_integer()) {
            value = static_cast<double>(integer->get());
        } else {
            throw wrong_type(expected(), node);
        }
        check(value);
        return value;
    }

    [[nodiscard]] double parse(std::string_view text) const {
        double value = 0.0;
        const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
        if (text.empty() || result.ec != std::errc{} || result.ptr != text.data() + text.size() || !accepts(value))
            throw Invalid{"expected " + expected() + ", got " + in_quotes(text)};
        return value;
    }

    void check(double value) const {
        if (!accepts(value)) throw Invalid{"expected " + expected() + ", got " + format_number(value)};
    }
};

struct Boolean {
    [[nodiscard]] bool parse(const toml::node& node) const {
        const auto* value = node.as_boolean();
        if (value == nullptr) throw wrong_type("true or false", node);
        return value->get();
    }

    [[nodiscard]] bool parse(std::string_view text) const {
        if (text == "true") return true;
        if (text == "false") return false;
        throw Invalid{"expected true or false, got " + in_quotes(text)};
    }

    void check(std::uint64_t /*any boolean*/) const {}
};

// What an error says it got: the value, or for a secret only its length (never logged).
std::string got(std::string_view text, bool secret) {
    return secret ? "a secret of " + std::to_string(text.size()) + " characters" : in_quotes(text);
}

struct Text {
    std::string expected;
    std::function<bool(std::string_view)> accepts;
    bool secret = false;

    [[nodiscard]] std::string parse(const toml::node& node) const {
        const auto* text = node.as_string();
        if (text == nullptr) throw wrong_type(expected, node);
        return parse(text->get());
    }

    [[nodiscard]] std::string parse(std::string_view text) const {
        check(text);
        return std::string(text);
    }

    void check(std::string_view text) const {
        if (!accepts(text)) throw Invalid{"expected " + expected + ", got " + got(text, secret)};
    }
};

// Any string may come from a single source (the shipped file leaves it empty for scripts/dev
// to supply); only the merged value must be non-empty.
struct RequiredText {
    [[nodiscard]] std::string parse(const toml::node& node) const {
        const auto* text = node.as_string();
        if (text == nullptr) throw wrong_type("a string", node);
        return text->get();
    }

    [[nodiscard]] std::string parse(std::string_view text) const { return std::string(text); }

    void check(std::string_view text) const {
        if (text.empty()) throw Missing{};
    }
};

bool is_ip_literal(std::string_view text) {
    const std::string address(text);
    in_addr v4{};
    in6_addr v6{};
    return inet_pton(AF_INET, address.c_str(), &v4) == 1 || inet_pton(AF_INET6, address.c_str(), &v6) == 1;
}

// An Origin header value is "scheme://host[:port]"; a path (even a trailing "/") never matches one.
bool is_origin(std::string_view text) {
    const auto separator = text.find("://");
    if (separator == std::string_view::npos || separator == 0) return false;
    const std::string_view authority = text.substr(separator + 3);
    const bool has_bad_char = std::any_of(text.begin(), text.end(),
                                          [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; });
    return !authority.empty() && authority.find('/') == std::string_view::npos && !has_bad_char;
}

// A list of strings, each checked by `valid`: a TOML array, or a comma-separated variable.
struct TextList {
    std::string expected;  // e.g. "a list of origins like ..."
    std::function<bool(std::string_view)> valid;
    bool secret = false;

    [[nodiscard]] std::vector<std::string> parse(const toml::node& node) const {
        const auto* array = node.as_array();
        if (array == nullptr) throw wrong_type(expected, node);
        std::vector<std::string> items;
        for (const toml::node& element : *array) {
            const auto* item = element.as_string();
            if (item == nullptr)
                throw Invalid{"expected " + expected + ", got an array containing " + what_toml_value_is(element)};
            items.push_back(item->get());
        }
        check(items);
        return items;
    }

    // Blanks around items and empty items (a trailing comma) are ignored, so an empty
    // variable means an empty list.
    [[nodiscard]] std::vector<std::string> parse(std::string_view text) const {
        std::vector<std::string> items;
        while (!text.empty()) {
            const auto comma = text.find(',');
            std::string_view item = text.substr(0, comma);
            text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
            while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
            while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
            if (!item.empty()) items.emplace_back(item);
        }
        check(items);
        return items;
    }

    void check(const std::vector<std::string>& items) const {
        for (const auto& item : items)
            if (!valid(item)) throw Invalid{"expected " + expected + ", got " + got(item, secret)};
    }
};

Integer integer(std::uint64_t min, std::uint64_t max) { return Integer{min, max}; }

Boolean boolean() { return Boolean{}; }

PositiveNumber positive_number(double max) { return PositiveNumber{max}; }

Text non_empty_text() {
    return Text{"a non-empty string", [](std::string_view text) { return !text.empty(); }};
}

// Empty allowed; when set, long enough to be a secret.
Text optional_secret() {
    return Text{"empty, or a secret of at least 16 characters",
                [](std::string_view text) { return text.empty() || text.size() >= 16; }, true};
}

// Empty allowed; when set, an HMAC-SHA256 key of at least 256 bits (RFC 7518 3.2).
Text optional_hs256_secret() {
    return Text{"empty, or a secret of at least 32 characters",
                [](std::string_view text) { return text.empty() || text.size() >= 32; }, true};
}

// Empty allowed; when set, the path part of a request target.
Text optional_path() {
    return Text{"empty, or a path such as \"/ws-echo\" (starting with \"/\", no query or blanks)",
                [](std::string_view text) {
                    return text.empty() ||
                           (text.front() == '/' && text.find_first_of("?# \t") == std::string_view::npos);
                }};
}

// Empty allowed (the setting is off); any other text is a path the server checks when it uses it.
Text any_text() {
    return Text{"a string", [](std::string_view) { return true; }};
}

// Whether the text starts with `scheme` (given in lower case) in any case: a URL's scheme is
// case-insensitive (RFC 3986 3.1), and the HTTP client reads it so. Only the URLs that are just
// requested take it: push.fcm_token_url is also a token's audience, compared as written.
bool starts_with_scheme(std::string_view text, std::string_view scheme) {
    return text.size() >= scheme.size() &&
           std::equal(scheme.begin(), scheme.end(), text.begin(),
                      [](char lower, char given) { return lower == std::tolower(static_cast<unsigned char>(given)); });
}

// Empty allowed (the feature is off); when set, an http:// URL with a host.
Text optional_http_url() {
    return Text{"empty, or a URL such as \"http://127.0.0.1:5000\" (http:// only, no query or blanks)",
                [](std::string_view text) {
                    constexpr std::string_view scheme = "http://";
                    return text.empty() ||
                           (starts_with_scheme(text, scheme) && text.size() > scheme.size() &&
                            text[scheme.size()] != '/' && text.find_first_of("?# \t") == std::string_view::npos);
                }};
}

// An https:// URL with a host and no path, query or blanks (an HTTP/2 service's origin).
Text https_url() {
    return Text{"a URL such as \"https://api.push.apple.com\" (https:// with a host and optional port, no path)",
                [](std::string_view text) {
                    constexpr std::string_view scheme = "https://";
                    return text.starts_with(scheme) && text.size() > scheme.size() &&
                           text.find_first_of("/?# \t", scheme.size()) == std::string_view::npos;
                }};
}

// An http:// or https:// URL with a host, no query or blanks.
Text web_url() {
    return Text{"a URL such as \"https://push.example.com\" (http:// or https://, no query or blanks)",
                [](std::string_view text) {
                    for (const std::string_view scheme : {"http://", "https://"})
                        if (text.starts_with(scheme) && text.size() > scheme.size() && text[scheme.size()] != '/' &&
                            text.find_first_of("?# \t") == std::string_view::npos)
                            return true;
                    return false;
                }};
}

// Empty allowed; when set, a contact URI: "mailto:..." or "https://...".
Text optional_contact_uri() {
    return Text{"empty, or a contact such as \"mailto:ops@example.com\" or \"https://example.com\"",
                [](std::string_view text) {
                    return text.empty() || (text.starts_with("mailto:") && text.size() > 7) ||
                           (text.starts_with("https://") && text.size() > 8);
                }};
}

Text ip_address() { return Text{"an IPv4 or IPv6 address such as \"127.0.0.1\" or \"::\"", is_ip_literal}; }

Text one_of(std::vector<std::string_view> choices) {
    std::string expected = "one of " + join(choices);
    return Text{std::move(expected), [allowed = std::move(choices)](std::string_view text) {
                    return std::find(allowed.begin(), allowed.end(), text) != allowed.end();
                }};
}

RequiredText required_text() { return RequiredText{}; }

TextList origin_list() {
    return TextList{"a list of origins like \"https://chat.example.com\" (scheme://host[:port], no path)", is_origin};
}

TextList nats_url_list() {
    return TextList{"a list of URLs like \"nats://127.0.0.1:4222\" (nats:// only, no blanks)",
                    [](std::string_view text) {
                        constexpr std::string_view scheme = "nats://";
                        return text.starts_with(scheme) && text.size() > scheme.size() &&
                               text.find_first_of(", \t/?#", scheme.size()) == std::string_view::npos;
                    }};
}

// A NATS subject token: letters, digits, '-' and '_' (no wildcards or separators).
Text subject_token() {
    return Text{"a non-empty name of letters, digits, '-' and '_'", [](std::string_view text) {
                    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
                        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
                    });
                }};
}

// ICE server URLs (RFC 7064, RFC 7065): stun:, turn: or turns:, no blanks or commas.
TextList ice_url_list() {
    return TextList{"a list of URLs like \"turn:turn.example.com:3478?transport=udp\" (stun:, turn: or turns:)",
                    [](std::string_view text) {
                        const bool scheme =
                            text.starts_with("stun:") || text.starts_with("turn:") || text.starts_with("turns:");
                        return scheme && text.find_first_of(", \t") == std::string_view::npos && text.back() != ':';
                    }};
}

TextList secret_list() {
    return TextList{"a list of secrets of at least 32 characters, with no commas or blanks",
                    [](std::string_view text) {
                        return text.size() >= 32 && text.find_first_of(", \t") == std::string_view::npos;
                    },
                    true};
}

// ---------------------------------------------------------------------------
// Moving values between a rule's representation and the Config field's type.

template <typename T>
struct is_duration : std::false_type {};
template <typename Rep, typename Period>
struct is_duration<std::chrono::duration<Rep, Period>> : std::true_type {};

template <typename T>
std::uint64_t largest_storable() {
    if constexpr (is_duration<T>::value) {
        return static_cast<std::uint64_t>(std::numeric_limits<typename T::rep>::max());
    } else {
        return static_cast<std::uint64_t>(std::numeric_limits<T>::max());
    }
}

template <typename T, typename Value>
void store(T& target, Value value) {
    if constexpr (is_duration<T>::value) {
        target = T{static_cast<typename T::rep>(value)};
    } else if constexpr (std::is_integral_v<T> && std::is_integral_v<Value>) {
        target = static_cast<T>(value);
    } else {
        target = std::move(value);
    }
}

template <typename T>
auto stored(const T& value) {
    if constexpr (is_duration<T>::value) {
        return static_cast<std::uint64_t>(value.count());
    } else if constexpr (std::is_integral_v<T>) {
        return static_cast<std::uint64_t>(value);
    } else {
        return value;
    }
}

// ---------------------------------------------------------------------------
// The table: one row per setting, binding its names to a rule and a Config field.

struct Key {
    std::string_view path;  // "section.key" in the TOML file
    std::string_view env;   // environment variable that overrides the file
    std::function<void(Config&, const toml::node&)> read_toml;
    std::function<void(Config&, std::string_view)> read_env;
    std::function<void(const Config&)> check;

    template <typename Rule, typename Section, typename T>
    Key(std::string_view toml_path, std::string_view env_name, Rule rule, Section Config::*section, T Section::*member)
        : path(toml_path), env(env_name) {
        if constexpr (std::is_same_v<Rule, Integer>) {
            if (rule.max > largest_storable<T>()) throw std::logic_error(std::string(toml_path) + ": bound too large");
        }
        read_toml = [rule, section, member](Config& config, const toml::node& node) {
            store((config.*section).*member, rule.parse(node));
        };
        read_env = [rule, section, member](Config& config, std::string_view text) {
            store((config.*section).*member, rule.parse(text));
        };
        check = [rule, section, member](const Config& config) { rule.check(stored((config.*section).*member)); };
    }

    [[nodiscard]] std::string_view section() const { return path.substr(0, path.find('.')); }
    [[nodiscard]] std::string_view name() const { return path.substr(path.find('.') + 1); }
};

const std::vector<Key>& keys() {
    static const std::vector<Key> table = {
        {"server.listen_address", "CONFAB_LISTEN_ADDRESS", ip_address(), &Config::server, &Server::listen_address},
        {"server.port", "CONFAB_HTTP_PORT", integer(0, 65535), &Config::server, &Server::port},
        {"server.port_file", "CONFAB_PORT_FILE", any_text(), &Config::server, &Server::port_file},
        {"server.io_threads", "CONFAB_IO_THREADS", integer(1, 256), &Config::server, &Server::io_threads},
        {"server.shutdown_grace_seconds", "CONFAB_SHUTDOWN_GRACE_SECONDS", integer(1, 300), &Config::server,
         &Server::shutdown_grace},
        {"server.idle_timeout_seconds", "CONFAB_IDLE_TIMEOUT_SECONDS", integer(1, 86400), &Config::server,
         &Server::idle_timeout},
        {"server.ws_ping_interval_seconds", "CONFAB_WS_PING_INTERVAL_SECONDS", integer(1, 3600), &Config::server,
         &Server::ws_ping_interval},
        {"server.allowed_origins", "CONFAB_ALLOWED_ORIGINS", origin_list(), &Config::server, &Server::allowed_origins},
        {"server.ws_echo_path", "CONFAB_WS_ECHO_PATH", optional_path(), &Config::server, &Server::ws_echo_path},

        {"database.url", "CONFAB_DATABASE_URL", required_text(), &Config::database, &Database::url},
        {"database.pool_size", "CONFAB_DATABASE_POOL_SIZE", integer(1, 256), &Config::database, &Database::pool_size},
        {"database.connect_timeout_ms", "CONFAB_DATABASE_CONNECT_TIMEOUT_MS", integer(100, 60000), &Config::database,
         &Database::connect_timeout},
        {"database.commit_gather_ms", "CONFAB_DATABASE_COMMIT_GATHER_MS", integer(0, 100), &Config::database,
         &Database::commit_gather},

        {"auth.token_ttl_hours", "CONFAB_TOKEN_TTL_HOURS", integer(1, 87600), &Config::auth, &Auth::token_ttl},
        {"auth.password_hash_ops", "CONFAB_PASSWORD_HASH_OPS", integer(1, 10), &Config::auth, &Auth::password_hash_ops},
        {"auth.password_hash_mem_kib", "CONFAB_PASSWORD_HASH_MEM_KIB", integer(8, 1048576), &Config::auth,
         &Auth::password_hash_mem_kib},
        {"auth.hash_threads", "CONFAB_HASH_THREADS", integer(1, 64), &Config::auth, &Auth::hash_threads},
        {"auth.hash_queue", "CONFAB_HASH_QUEUE", integer(1, kMaxCount), &Config::auth, &Auth::hash_queue},
        {"auth.session_renew_interval_seconds", "CONFAB_SESSION_RENEW_INTERVAL_SECONDS", integer(1, 86400),
         &Config::auth, &Auth::session_renew_interval},
        {"auth.password_enabled", "CONFAB_PASSWORD_ENABLED", boolean(), &Config::auth, &Auth::password_enabled},
        {"auth.deleted_user_messages", "CONFAB_DELETED_USER_MESSAGES", one_of({"keep", "remove"}), &Config::auth,
         &Auth::deleted_user_messages},

        {"jwt.enabled", "CONFAB_JWT_ENABLED", boolean(), &Config::jwt, &Jwt::enabled},
        {"jwt.hs256_secret", "CONFAB_JWT_HS256_SECRET", optional_hs256_secret(), &Config::jwt, &Jwt::hs256_secret},
        {"jwt.public_key_file", "CONFAB_JWT_PUBLIC_KEY_FILE", any_text(), &Config::jwt, &Jwt::public_key_file},
        {"jwt.issuer", "CONFAB_JWT_ISSUER", any_text(), &Config::jwt, &Jwt::issuer},
        {"jwt.audience", "CONFAB_JWT_AUDIENCE", any_text(), &Config::jwt, &Jwt::audience},
        {"jwt.user_id_claim", "CONFAB_JWT_USER_ID_CLAIM", non_empty_text(), &Config::jwt, &Jwt::user_id_claim},
        {"jwt.display_name_claim", "CONFAB_JWT_DISPLAY_NAME_CLAIM", any_text(), &Config::jwt, &Jwt::display_name_claim},
        {"jwt.username_claim", "CONFAB_JWT_USERNAME_CLAIM", any_text(), &Config::jwt, &Jwt::username_claim},
        {"jwt.clock_skew_seconds", "CONFAB_JWT_CLOCK_SKEW_SECONDS", integer(0, 600), &Config::jwt, &Jwt::clock_skew},
        {"jwt.jwks_file", "CONFAB_JWT_JWKS_FILE", any_text(), &Config::jwt, &Jwt::jwks_file},

        {"limits.content_chars", "CONFAB_LIMIT_CONTENT_CHARS", integer(1, kMaxCount), &Config::limits,
         &Limits::content_chars},
        {"limits.body_bytes", "CONFAB_LIMIT_BODY_BYTES", integer(1024, kMaxBytes), &Config::limits,
         &Limits::body_bytes},
        {"limits.frame_bytes", "CONFAB_LIMIT_FRAME_BYTES", integer(1024, kMaxBytes), &Config::limits,
         &Limits::frame_bytes},
        {"limits.upload_bytes", "CONFAB_LIMIT_UPLOAD_BYTES", integer(1, kMaxBytes), &Config::limits,
         &Limits::upload_bytes},
        {"limits.group_members", "CONFAB_LIMIT_GROUP_MEMBERS", integer(1, kMaxCount), &Config::limits,
         &Limits::group_members},
        {"limits.message_burst", "CONFAB_LIMIT_MESSAGE_BURST", integer(1, kMaxCount), &Config::limits,
         &Limits::message_burst},
        {"limits.message_rate", "CONFAB_LIMIT_MESSAGE_RATE", positive_number(kMaxRate), &Config::limits,
         &Limits::message_rate},
        {"limits.auth_per_ip_per_minute", "CONFAB_LIMIT_AUTH_PER_IP_PER_MINUTE", integer(1, kMaxCount), &Config::limits,
         &Limits::auth_per_ip_per_minute},
        {"limits.title_chars", "CONFAB_LIMIT_TITLE_CHARS", integer(1, kMaxCount), &Config::limits,
         &Limits::title_chars},
        {"limits.header_bytes", "CONFAB_LIMIT_HEADER_BYTES", integer(1024, kMaxHeaderBytes), &Config::limits,
         &Limits::header_bytes},
        {"limits.response_buffer_bytes", "CONFAB_LIMIT_RESPONSE_BUFFER_BYTES", integer(1024 * 1024, kMaxBytes),
         &Config::limits, &Limits::response_buffer_bytes},
        {"limits.response_buffer_bytes_per_user", "CONFAB_LIMIT_RESPONSE_BUFFER_BYTES_PER_USER",
         integer(1024 * 1024, kMaxBytes), &Config::limits, &Limits::response_buffer_bytes_per_user},
        {"limits.ws_outbound_queue", "CONFAB_LIMIT_WS_OUTBOUND_QUEUE", integer(1, kMaxCount), &Config::limits,
         &Limits::ws_outbound_queue},
        {"limits.ws_requests_in_flight", "CONFAB_LIMIT_WS_REQUESTS_IN_FLIGHT", integer(1, 1024), &Config::limits,
         &Limits::ws_requests_in_flight},
        {"limits.connections_per_user", "CONFAB_LIMIT_CONNECTIONS_PER_USER", integer(1, kMaxCount), &Config::limits,
         &Limits::connections_per_user},
        {"limits.connections_per_ip", "CONFAB_LIMIT_CONNECTIONS_PER_IP", integer(1, kMaxCount), &Config::limits,
         &Limits::connections_per_ip},
        {"limits.request_burst", "CONFAB_LIMIT_REQUEST_BURST", integer(1, kMaxCount), &Config::limits,
         &Limits::request_burst},
        {"limits.request_rate", "CONFAB_LIMIT_REQUEST_RATE", positive_number(kMaxRate), &Config::limits,
         &Limits::request_rate},
        {"limits.typing_burst", "CONFAB_LIMIT_TYPING_BURST", integer(1, kMaxCount), &Config::limits,
         &Limits::typing_burst},
        {"limits.typing_rate", "CONFAB_LIMIT_TYPING_RATE", positive_number(kMaxRate), &Config::limits,
         &Limits::typing_rate},
        {"limits.change_burst", "CONFAB_LIMIT_CHANGE_BURST", integer(1, kMaxCount), &Config::limits,
         &Limits::change_burst},
        {"limits.change_rate", "CONFAB_LIMIT_CHANGE_RATE", positive_number(kMaxRate), &Config::limits,
         &Limits::change_rate},
        {"limits.upload_burst", "CONFAB_LIMIT_UPLOAD_BURST", integer(1, kMaxCount), &Config::limits,
         &Limits::upload_burst},
        {"limits.upload_rate", "CONFAB_LIMIT_UPLOAD_RATE", positive_number(kMaxRate), &Config::limits,
         &Limits::upload_rate},
        {"limits.media_quota_bytes", "CONFAB_LIMIT_MEDIA_QUOTA_BYTES", integer(1, kMaxBytes), &Config::limits,
         &Limits::media_quota_bytes},
        {"limits.login_failures_per_account_per_minute", "CONFAB_LIMIT_LOGIN_FAILURES_PER_ACCOUNT_PER_MINUTE",
         integer(1, kMaxCount), &Config::limits, &Limits::login_failures_per_account_per_minute},
        {"limits.access_cache_members", "CONFAB_LIMIT_ACCESS_CACHE_MEMBERS", integer(1000, kMaxCount * 1000),
         &Config::limits, &Limits::access_cache_members},
        {"limits.large_group_members", "CONFAB_LIMIT_LARGE_GROUP_MEMBERS", integer(1, kMaxCount), &Config::limits,
         &Limits::large_group_members},
        {"limits.history_cache_bytes", "CONFAB_LIMIT_HISTORY_CACHE_BYTES", integer(0, kMaxBytes), &Config::limits,
         &Limits::history_cache_bytes},

        {"log.level", "CONFAB_LOG_LEVEL", one_of({"trace", "debug", "info", "warn", "error", "critical", "off"}),
         &Config::log, &Log::level},
        {"log.format", "CONFAB_LOG_FORMAT", one_of({"text", "json"}), &Config::log, &Log::format},

        {"media.dir", "CONFAB_MEDIA_DIR", non_empty_text(), &Config::media, &Media::dir},
        {"metrics.token", "CONFAB_METRICS_TOKEN", optional_secret(), &Config::metrics, &MetricsAccess::token},
        {"media.cleanup_interval_seconds", "CONFAB_MEDIA_CLEANUP_INTERVAL_SECONDS", integer(1, 86400), &Config::media,
         &Media::cleanup_interval},
        {"media.worker_threads", "CONFAB_MEDIA_WORKER_THREADS", integer(1, 64), &Config::media, &Media::worker_threads},
        {"media.tmp_max_age_seconds", "CONFAB_MEDIA_TMP_MAX_AGE_SECONDS", integer(60, 604800), &Config::media,
         &Media::tmp_max_age},
        {"media.thumbnail_max_pixels", "CONFAB_MEDIA_THUMBNAIL_MAX_PIXELS", integer(1, kMaxBytes), &Config::media,
         &Media::thumbnail_max_pixels},

        {"overload.connections_total", "CONFAB_OVERLOAD_CONNECTIONS_TOTAL", integer(0, kMaxCount), &Config::overload,
         &Overload::connections_total},
        {"overload.db_reconnect_min_ms", "CONFAB_OVERLOAD_DB_RECONNECT_MIN_MS", integer(10, 60000), &Config::overload,
         &Overload::db_reconnect_min},
        {"overload.db_reconnect_max_ms", "CONFAB_OVERLOAD_DB_RECONNECT_MAX_MS", integer(10, 300000), &Config::overload,
         &Overload::db_reconnect_max},
        {"overload.db_queue_limit", "CONFAB_OVERLOAD_DB_QUEUE_LIMIT", integer(1, kMaxCount), &Config::overload,
         &Overload::db_queue_limit},
        {"overload.worker_queue_limit", "CONFAB_OVERLOAD_WORKER_QUEUE_LIMIT", integer(1, kMaxCount), &Config::overload,
         &Overload::worker_queue_limit},
        {"overload.failed_auth_per_ip_per_minute", "CONFAB_OVERLOAD_FAILED_AUTH_PER_IP_PER_MINUTE",
         integer(1, kMaxCount), &Config::overload, &Overload::failed_auth_per_ip_per_minute},
        {"overload.failed_auth_per_minute", "CONFAB_OVERLOAD_FAILED_AUTH_PER_MINUTE", integer(1, kMaxCount),
         &Config::overload, &Overload::failed_auth_per_minute},
        {"overload.token_cache_seconds", "CONFAB_OVERLOAD_TOKEN_CACHE_SECONDS", integer(0, 300), &Config::overload,
         &Overload::token_cache},
        {"overload.ready_probe_interval_ms", "CONFAB_OVERLOAD_READY_PROBE_INTERVAL_MS", integer(100, 600000),
         &Config::overload, &Overload::ready_probe_interval},

        {"server_api.keys", "CONFAB_SERVER_API_KEYS", secret_list(), &Config::server_api, &ServerApi::keys},
        {"translation.url", "CONFAB_TRANSLATION_URL", optional_http_url(), &Config::translation, &Translation::url},
        {"translation.api_key", "CONFAB_TRANSLATION_API_KEY", any_text(), &Config::translation, &Translation::api_key},
        {"translation.timeout_ms", "CONFAB_TRANSLATION_TIMEOUT_MS", integer(100, 60000), &Config::translation,
         &Translation::timeout},
        {"cluster.nats_urls", "CONFAB_CLUSTER_NATS_URLS", nats_url_list(), &Config::cluster, &Cluster::nats_urls},
        {"cluster.node_id", "CONFAB_CLUSTER_NODE_ID", any_text(), &Config::cluster, &Cluster::node_id},
        {"cluster.subject", "CONFAB_CLUSTER_SUBJECT", subject_token(), &Config::cluster, &Cluster::subject},
        {"cluster.order_wait_ms", "CONFAB_CLUSTER_ORDER_WAIT_MS", integer(10, 60000), &Config::cluster,
         &Cluster::order_wait},
        {"cluster.presence_timeout_ms", "CONFAB_CLUSTER_PRESENCE_TIMEOUT_MS", integer(300, 600000), &Config::cluster,
         &Cluster::presence_timeout},
        {"web.root", "CONFAB_WEB_ROOT", any_text(), &Config::web, &Web::root},

        {"webhooks.retry_for_seconds", "CONFAB_WEBHOOKS_RETRY_FOR_SECONDS", integer(1, 604800), &Config::webhooks,
         &Webhooks::retry_for},
        {"webhooks.backoff_min_ms", "CONFAB_WEBHOOKS_BACKOFF_MIN_MS", integer(1, 3600000), &Config::webhooks,
         &Webhooks::backoff_min},
        {"webhooks.backoff_max_ms", "CONFAB_WEBHOOKS_BACKOFF_MAX_MS", integer(1, 86400000), &Config::webhooks,
         &Webhooks::backoff_max},
        {"webhooks.timeout_ms", "CONFAB_WEBHOOKS_TIMEOUT_MS", integer(100, 60000), &Config::webhooks,
         &Webhooks::timeout},
        {"webhooks.poll_interval_ms", "CONFAB_WEBHOOKS_POLL_INTERVAL_MS", integer(10, 60000), &Config::webhooks,
         &Webhooks::poll_interval},
        {"webhooks.concurrency", "CONFAB_WEBHOOKS_CONCURRENCY", integer(1, 10000), &Config::webhooks,
         &Webhooks::concurrency},
        {"webhooks.allow_loopback", "CONFAB_WEBHOOKS_ALLOW_LOOPBACK", boolean(), &Config::webhooks,
         &Webhooks::allow_loopback},
        {"webhooks.allow_private_networks", "CONFAB_WEBHOOKS_ALLOW_PRIVATE_NETWORKS", boolean(), &Config::webhooks,
         &Webhooks::allow_private_networks},

        {"push.content_free", "CONFAB_PUSH_CONTENT_FREE", boolean(), &Config::push, &Push::content_free},
        {"push.collapse_ms", "CONFAB_PUSH_COLLAPSE_MS", integer(0, 60000), &Config::push, &Push::collapse},
        {"push.timeout_ms", "CONFAB_PUSH_TIMEOUT_MS", integer(100, 60000), &Config::push, &Push::timeout},
        {"push.retry_min_ms", "CONFAB_PUSH_RETRY_MIN_MS", integer(10, 3600000), &Config::push, &Push::retry_min},
        {"push.retry_max_ms", "CONFAB_PUSH_RETRY_MAX_MS", integer(10, 86400000), &Config::push, &Push::retry_max},
        {"push.max_attempts", "CONFAB_PUSH_MAX_ATTEMPTS", integer(1, 1000), &Config::push, &Push::max_attempts},
        {"push.gateway_url", "CONFAB_PUSH_GATEWAY_URL", optional_http_url(), &Config::push, &Push::gateway_url},
        {"push.gateway_api_key", "CONFAB_PUSH_GATEWAY_API_KEY", any_text(), &Config::push, &Push::gateway_api_key},
        {"push.webpush_vapid_key", "CONFAB_PUSH_WEBPUSH_VAPID_KEY", any_text(), &Config::push,
         &Push::webpush_vapid_key},
        {"push.webpush_subject", "CONFAB_PUSH_WEBPUSH_SUBJECT", optional_contact_uri(), &Config::push,
         &Push::webpush_subject},
        {"push.webpush_ttl_seconds", "CONFAB_PUSH_WEBPUSH_TTL_SECONDS", integer(0, 2419200), &Config::push,
         &Push::webpush_ttl},
        {"push.webpush_urgency", "CONFAB_PUSH_WEBPUSH_URGENCY", one_of({"very-low", "low", "normal", "high"}),
         &Config::push, &Push::webpush_urgency},
        {"push.fcm_service_account", "CONFAB_PUSH_FCM_SERVICE_ACCOUNT", any_text(), &Config::push,
         &Push::fcm_service_account},
        {"push.fcm_token_url", "CONFAB_PUSH_FCM_TOKEN_URL", web_url(), &Config::push, &Push::fcm_token_url},
        {"push.fcm_base_url", "CONFAB_PUSH_FCM_BASE_URL", web_url(), &Config::push, &Push::fcm_base_url},
        {"push.apns_key_file", "CONFAB_PUSH_APNS_KEY_FILE", any_text(), &Config::push, &Push::apns_key_file},
        {"push.apns_key_id", "CONFAB_PUSH_APNS_KEY_ID", any_text(), &Config::push, &Push::apns_key_id},
        {"push.apns_team_id", "CONFAB_PUSH_APNS_TEAM_ID", any_text(), &Config::push, &Push::apns_team_id},
        {"push.apns_topic", "CONFAB_PUSH_APNS_TOPIC", any_text(), &Config::push, &Push::apns_topic},
        {"push.apns_url", "CONFAB_PUSH_APNS_URL", https_url(), &Config::push, &Push::apns_url},
        {"push.apns_ca_file", "CONFAB_PUSH_APNS_CA_FILE", any_text(), &Config::push, &Push::apns_ca_file},

        {"calls.ring_timeout_ms", "CONFAB_CALLS_RING_TIMEOUT_MS", integer(100, 600000), &Config::calls,
         &Calls::ring_timeout},
        {"calls.reconnect_grace_ms", "CONFAB_CALLS_RECONNECT_GRACE_MS", integer(0, 300000), &Config::calls,
         &Calls::reconnect_grace},
        {"calls.mesh_limit", "CONFAB_CALLS_MESH_LIMIT", integer(2, 16), &Config::calls, &Calls::mesh_limit},
        {"calls.turn_urls", "CONFAB_CALLS_TURN_URLS", ice_url_list(), &Config::calls, &Calls::turn_urls},
        {"calls.turn_secret", "CONFAB_CALLS_TURN_SECRET", optional_secret(), &Config::calls, &Calls::turn_secret},
        {"calls.turn_ttl_seconds", "CONFAB_CALLS_TURN_TTL_SECONDS", integer(60, 86400), &Config::calls,
         &Calls::turn_ttl},
    };
    return table;
}

const Key* find_key(std::string_view path) {
    const auto& table = keys();
    const auto found = std::find_if(table.begin(), table.end(), [&](const Key& key) { return key.path == path; });
    return found == table.end() ? nullptr : &*found;
}

bool is_section(std::string_view name) {
    const auto& table = keys();
    return std::any_of(table.begin(), table.end(), [&](const Key& key) { return key.section() == name; });
}

std::string known_sections() {
    std::vector<std::string_view> sections;
    for (const auto& key : keys())
        if (std::find(sections.begin(), sections.end(), key.section()) == sections.end())
            sections.push_back(key.section());
    return join(sections);
}

std::string known_keys_in(std::string_view section) {
    std::vector<std::string_view> names;
    for (const auto& key : keys())
        if (key.section() == section) names.push_back(key.name());
    return join(names);
}

// Runs one rule and turns its complaint into the one-line ConfigError.
template <typename Action>
void applying(const Key& key, const std::string& source, Action&& action) {
    const std::string prefix =
        (source.empty() ? "" : source + ": ") + std::string(key.path) + " (" + std::string(key.env) + "): ";
    try {
        std::forward<Action>(action)();
    } catch (const Invalid& invalid) {
        throw ConfigError(prefix + invalid.problem);
    } catch (const Missing&) {
        throw ConfigError(prefix + "required but not set; set " + std::string(key.path) +
                          " in the config file or the " + std::string(key.env) + " environment variable");
    }
}

// ---------------------------------------------------------------------------
// The three sources, applied in order.

std::string read_file(const std::filesystem::path& file) {
    const std::string cannot_read = file.string() + ": cannot read the config file: ";
    std::error_code ignored;
    if (std::filesystem::is_directory(file, ignored)) throw ConfigError(cannot_read + "it is a directory");
    std::ifstream in(file, std::ios::binary);
    if (!in) throw ConfigError(cannot_read + std::error_code(errno, std::generic_category()).message());
    std::ostringstream contents;
    contents << in.rdbuf();
    if (in.bad()) throw ConfigError(cannot_read + "read error");
    return std::move(contents).str();
}

toml::table parse_toml(const std::filesystem::path& file) {
    const std::string text = read_file(file);
    try {
        return toml::parse(text, file.string());
    } catch (const toml::parse_error& error) {
        throw ConfigError(position(file, error.source().begin) + ": invalid TOML: " + one_line(error.description()));
    }
}

void apply_section(Config& config, const std::filesystem::path& file, std::string_view section,
                   const toml::table& entries) {
    for (const auto& entry : entries) {
        // Named references, not structured bindings: C++20 lambdas cannot capture bindings.
        const auto& name = entry.first;
        const auto& value = entry.second;
        const std::string path = std::string(section) + "." + std::string(name.str());
        const Key* key = find_key(path);
        if (key == nullptr)
            throw ConfigError(position(file, name.source().begin) + ": unknown key " + in_quotes(path) +
                              " (known keys in [" + std::string(section) + "]: " + known_keys_in(section) + ")");
        applying(*key, position(file, value.source().begin), [&] { key->read_toml(config, value); });
    }
}

void apply_file(Config& config, const std::filesystem::path& file) {
    const toml::table document = parse_toml(file);
    for (const auto& [name, value] : document) {
        const std::string_view section = name.str();
        if (!is_section(section))
            throw ConfigError(position(file, name.source().begin) + ": unknown section " + in_quotes(section) +
                              " (known sections: " + known_sections() + ")");
        const auto* entries = value.as_table();
        if (entries == nullptr)
            throw ConfigError(position(file, value.source().begin) + ": " + std::string(section) +
                              ": expected a table [" + std::string(section) + "], got " + what_toml_value_is(value));
        apply_section(config, file, section, *entries);
    }
}

void apply_env(Config& config, const EnvLookup& env) {
    for (const auto& key : keys()) {
        const auto text = env(std::string(key.env));
        if (text) applying(key, "environment", [&] { key.read_env(config, *text); });
    }
}

// Settings that only make sense together: token sign-in needs what to check tokens against,
// and some way to sign in must be left on.
void validate_sign_in(const Config& config) {
    const auto require = [](std::string_view path, const std::string& problem) {
        applying(*find_key(path), "", [&] { throw Invalid{problem}; });
    };
    const auto& jwt = config.jwt;
    if (jwt.enabled) {
        if (jwt.issuer.empty()) require("jwt.issuer", "required when jwt.enabled is true");
        if (jwt.audience.empty()) require("jwt.audience", "required when jwt.enabled is true");
        if (jwt.hs256_secret.empty() && jwt.public_key_file.empty() && jwt.jwks_file.empty())
            require("jwt.hs256_secret", "jwt.enabled needs jwt.hs256_secret, jwt.public_key_file or jwt.jwks_file");
    }
    if (!config.auth.password_enabled && !jwt.enabled)
        require("auth.password_enabled", "expected true unless jwt.enabled is true: nobody could sign in");
}

void validate(const Config& config) {
    for (const auto& key : keys()) applying(key, "", [&] { key.check(config); });
    validate_sign_in(config);
    if (config.overload.db_reconnect_min > config.overload.db_reconnect_max)
        applying(*find_key("overload.db_reconnect_max_ms"), "", [&] {
            throw Invalid{"expected at least overload.db_reconnect_min_ms (" +
                          std::to_string(config.overload.db_reconnect_min.count()) + "), got " +
                          std::to_string(config.overload.db_reconnect_max.count())};
        });
    if (config.webhooks.backoff_min > config.webhooks.backoff_max)
        applying(*find_key("webhooks.backoff_max_ms"), "", [&] {
            throw Invalid{"expected at least webhooks.backoff_min_ms (" +
                          std::to_string(config.webhooks.backoff_min.count()) + "), got " +
                          std::to_string(config.webhooks.backoff_max.count())};
        });
}

}  // namespace

EnvLookup process_env() {
    return [](const std::string& name) -> std::optional<std::string> {
        const char* value = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe): read-only at startup
        if (value == nullptr) return std::nullopt;
        return std::string(value);
    };
}

std::vector<SettingName> setting_names() {
    std::vector<SettingName> names;
    for (const auto& key : keys()) names.push_back({key.path, key.env});
    return names;
}

Config load(const std::optional<std::filesystem::path>& file, const EnvLookup& env) {
    Config config;
    if (file) apply_file(config, *file);
    if (env) apply_env(config, env);
    validate(config);
    return config;
}

}  // namespace confab::config
