#include "confab/config/config.hpp"
#include "support/source_tree.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace confab::config {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDatabaseUrl = "postgresql://confab@localhost/confab_test";

EnvLookup env_of(std::map<std::string, std::string> variables) {
    return [variables = std::move(variables)](const std::string& name) -> std::optional<std::string> {
        const auto found = variables.find(name);
        if (found == variables.end()) return std::nullopt;
        return found->second;
    };
}

// Most tests are about something other than the required URL, so supply it.
EnvLookup env_with_url(std::map<std::string, std::string> variables = {}) {
    variables.emplace("CONFAB_DATABASE_URL", kDatabaseUrl);
    return env_of(std::move(variables));
}

::testing::AssertionResult contains(const std::string& text, const std::string& part) {
    if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

class ConfigLoad : public ::testing::Test {
protected:
    void SetUp() override {
        const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
        dir_ = fs::temp_directory_path() / ("confab_config_test_" + std::to_string(::getpid()) + "_" + test->name());
        fs::create_directories(dir_);
    }

    void TearDown() override {
        std::error_code ignored;
        fs::remove_all(dir_, ignored);
    }

    fs::path write_toml(const std::string& text) {
        const fs::path file = dir_ / "confab.toml";
        std::ofstream(file) << text;
        return file;
    }

    // The ConfigError message load() throws; fails the test if it does not throw one.
    static std::string load_error(const std::optional<fs::path>& file, const EnvLookup& env) {
        try {
            load(file, env);
        } catch (const ConfigError& error) {
            const std::string message = error.what();
            EXPECT_EQ(message.find('\n'), std::string::npos) << "not one line: " << message;
            return message;
        }
        ADD_FAILURE() << "load() did not throw ConfigError";
        return {};
    }

    std::string file_error(const std::string& toml) { return load_error(write_toml(toml), env_with_url()); }

    static std::string env_error(const std::string& name, const std::string& value) {
        return load_error(std::nullopt, env_with_url({{name, value}}));
    }

    fs::path dir_;
};

Config defaults_with_url() {
    Config config;
    config.database.url = kDatabaseUrl;
    return config;
}

// --- sources and precedence -------------------------------------------------

TEST_F(ConfigLoad, DefaultsApplyWhenNoFileAndNoOverrides) {
    const Config config = load(std::nullopt, env_with_url());
    EXPECT_EQ(config, defaults_with_url());
    EXPECT_EQ(config.server.port, 8080);
    EXPECT_EQ(config.log.level, "info");
}

TEST_F(ConfigLoad, FileOverridesDefaults) {
    const Config config = load(write_toml(R"(
[server]
listen_address = "::"
port = 9090
shutdown_grace_seconds = 5
allowed_origins = ["https://chat.example.com", "http://localhost:5173"]

[database]
url = "postgresql://from-file/confab"
connect_timeout_ms = 1500
commit_gather_ms = 8

[auth]
token_ttl_hours = 48

[limits]
message_rate = 2.5
upload_bytes = 1048576

[log]
level = "debug"
format = "json"
)"),
                               env_of({}));
    EXPECT_EQ(config.server.listen_address, "::");
    EXPECT_EQ(config.server.port, 9090);
    EXPECT_EQ(config.server.shutdown_grace, std::chrono::seconds{5});
    EXPECT_EQ(config.server.allowed_origins,
              (std::vector<std::string>{"https://chat.example.com", "http://localhost:5173"}));
    EXPECT_EQ(config.database.url, "postgresql://from-file/confab");
    EXPECT_EQ(config.database.connect_timeout, std::chrono::milliseconds{1500});
    EXPECT_EQ(config.database.commit_gather, std::chrono::milliseconds{8});
    EXPECT_EQ(config.auth.token_ttl, std::chrono::hours{48});
    EXPECT_DOUBLE_EQ(config.limits.message_rate, 2.5);
    EXPECT_EQ(config.limits.upload_bytes, 1048576U);
    EXPECT_EQ(config.log.level, "debug");
    EXPECT_EQ(config.log.format, "json");
    // Untouched keys keep their defaults.
    EXPECT_EQ(config.server.io_threads, Server{}.io_threads);
    Limits expected_limits;
    expected_limits.message_rate = 2.5;
    expected_limits.upload_bytes = 1048576;
    EXPECT_EQ(config.limits, expected_limits);
}

TEST_F(ConfigLoad, EnvironmentOverridesFile) {
    const fs::path file = write_toml(R"(
[server]
port = 9090
[database]
url = "postgresql://from-file/confab"
[log]
level = "debug"
)");
    const Config config = load(file, env_of({{"CONFAB_HTTP_PORT", "7000"},
                                             {"CONFAB_DATABASE_URL", "postgresql://from-env/confab"},
                                             {"CONFAB_LIMIT_MESSAGE_RATE", "0.5"},
                                             {"CONFAB_IDLE_TIMEOUT_SECONDS", "120"}}));
    EXPECT_EQ(config.server.port, 7000);
    EXPECT_EQ(config.database.url, "postgresql://from-env/confab");
    EXPECT_DOUBLE_EQ(config.limits.message_rate, 0.5);
    EXPECT_EQ(config.server.idle_timeout, std::chrono::seconds{120});
    EXPECT_EQ(config.log.level, "debug");  // only in the file
}

TEST_F(ConfigLoad, EveryEnvironmentVariableIsApplied) {
    const Config config =
        load(std::nullopt,
             env_of({
                 {"CONFAB_LISTEN_ADDRESS", "0.0.0.0"},
                 {"CONFAB_HTTP_PORT", "1"},
                 {"CONFAB_PORT_FILE", "/run/confab/port"},
                 {"CONFAB_IO_THREADS", "3"},
                 {"CONFAB_SHUTDOWN_GRACE_SECONDS", "4"},
                 {"CONFAB_IDLE_TIMEOUT_SECONDS", "5"},
                 {"CONFAB_WS_PING_INTERVAL_SECONDS", "6"},
                 {"CONFAB_ALLOWED_ORIGINS", "https://a.example"},
                 {"CONFAB_WS_ECHO_PATH", "/echo"},
                 {"CONFAB_DATABASE_URL", "postgresql://x/y"},
                 {"CONFAB_DATABASE_POOL_SIZE", "7"},
                 {"CONFAB_DATABASE_CONNECT_TIMEOUT_MS", "800"},
                 {"CONFAB_TOKEN_TTL_HOURS", "9"},
                 {"CONFAB_PASSWORD_HASH_OPS", "3"},
                 {"CONFAB_PASSWORD_HASH_MEM_KIB", "1024"},
                 {"CONFAB_HASH_THREADS", "11"},
                 {"CONFAB_HASH_QUEUE", "28"},
                 {"CONFAB_SESSION_RENEW_INTERVAL_SECONDS", "35"},
                 {"CONFAB_PASSWORD_ENABLED", "false"},
                 {"CONFAB_DELETED_USER_MESSAGES", "remove"},
                 {"CONFAB_JWT_ENABLED", "true"},
                 {"CONFAB_JWT_HS256_SECRET", "0123456789abcdef0123456789abcdef"},
                 {"CONFAB_JWT_PUBLIC_KEY_FILE", "/etc/confab/host.pem"},
                 {"CONFAB_JWT_ISSUER", "https://host.example"},
                 {"CONFAB_JWT_AUDIENCE", "chat"},
                 {"CONFAB_JWT_USER_ID_CLAIM", "uid"},
                 {"CONFAB_JWT_DISPLAY_NAME_CLAIM", "nick"},
                 {"CONFAB_JWT_USERNAME_CLAIM", "login"},
                 {"CONFAB_JWT_CLOCK_SKEW_SECONDS", "36"},
                 {"CONFAB_JWT_JWKS_FILE", "/etc/confab/host-keys.json"},
                 {"CONFAB_LIMIT_CONTENT_CHARS", "12"},
                 {"CONFAB_LIMIT_BODY_BYTES", "2048"},
                 {"CONFAB_LIMIT_FRAME_BYTES", "4096"},
                 {"CONFAB_LIMIT_UPLOAD_BYTES", "13"},
                 {"CONFAB_LIMIT_GROUP_MEMBERS", "14"},
                 {"CONFAB_LIMIT_MESSAGE_BURST", "15"},
                 {"CONFAB_LIMIT_MESSAGE_RATE", "16"},
                 {"CONFAB_LIMIT_AUTH_PER_IP_PER_MINUTE", "17"},
                 {"CONFAB_LIMIT_TITLE_CHARS", "18"},
                 {"CONFAB_LIMIT_HEADER_BYTES", "8192"},
                 {"CONFAB_LIMIT_RESPONSE_BUFFER_BYTES", "2097152"},
                 {"CONFAB_LIMIT_RESPONSE_BUFFER_BYTES_PER_USER", "1048576"},
                 {"CONFAB_LIMIT_WS_OUTBOUND_QUEUE", "19"},
                 {"CONFAB_LIMIT_WS_REQUESTS_IN_FLIGHT", "27"},
                 {"CONFAB_LIMIT_CONNECTIONS_PER_USER", "20"},
                 {"CONFAB_LIMIT_CONNECTIONS_PER_IP", "21"},
                 {"CONFAB_LIMIT_REQUEST_BURST", "22"},
                 {"CONFAB_LIMIT_REQUEST_RATE", "23.5"},
                 {"CONFAB_LIMIT_TYPING_BURST", "24"},
                 {"CONFAB_LIMIT_TYPING_RATE", "25"},
                 {"CONFAB_LIMIT_CHANGE_BURST", "28"},
                 {"CONFAB_LIMIT_CHANGE_RATE", "29"},
                 {"CONFAB_LIMIT_UPLOAD_BURST", "26"},
                 {"CONFAB_LIMIT_UPLOAD_RATE", "0.5"},
                 {"CONFAB_LIMIT_MEDIA_QUOTA_BYTES", "29"},
                 {"CONFAB_LIMIT_LOGIN_FAILURES_PER_ACCOUNT_PER_MINUTE", "30"},
                 {"CONFAB_LIMIT_ACCESS_CACHE_MEMBERS", "31000"},
                 {"CONFAB_LIMIT_LARGE_GROUP_MEMBERS", "31500"},
                 {"CONFAB_LOG_LEVEL", "warn"},
                 {"CONFAB_LOG_FORMAT", "json"},
                 {"CONFAB_MEDIA_DIR", "/var/lib/confab/media"},
                 {"CONFAB_MEDIA_WORKER_THREADS", "32"},
                 {"CONFAB_MEDIA_TMP_MAX_AGE_SECONDS", "120"},
                 {"CONFAB_MEDIA_THUMBNAIL_MAX_PIXELS", "34"},
                 {"CONFAB_TRANSLATION_URL", "http://translate.internal:5000/v1"},
                 {"CONFAB_TRANSLATION_API_KEY", "k"},
                 {"CONFAB_TRANSLATION_TIMEOUT_MS", "1500"},
                 {"CONFAB_CLUSTER_NATS_URLS", "nats://10.0.0.1:4222, nats://10.0.0.2"},
                 {"CONFAB_CLUSTER_NODE_ID", "node-a"},
                 {"CONFAB_CLUSTER_SUBJECT", "chat_prod-1"},
                 {"CONFAB_CLUSTER_ORDER_WAIT_MS", "43"},
                 {"CONFAB_CLUSTER_PRESENCE_TIMEOUT_MS", "4400"},
                 {"CONFAB_WEB_ROOT", "/usr/share/confab/web"},
                 {"CONFAB_WEBHOOKS_RETRY_FOR_SECONDS", "37"},
                 {"CONFAB_WEBHOOKS_BACKOFF_MIN_MS", "38"},
                 {"CONFAB_WEBHOOKS_BACKOFF_MAX_MS", "39"},
                 {"CONFAB_WEBHOOKS_TIMEOUT_MS", "400"},
                 {"CONFAB_WEBHOOKS_POLL_INTERVAL_MS", "41"},
                 {"CONFAB_WEBHOOKS_CONCURRENCY", "42"},
                 {"CONFAB_WEBHOOKS_ALLOW_LOOPBACK", "true"},
                 {"CONFAB_WEBHOOKS_ALLOW_PRIVATE_NETWORKS", "true"},
                 {"CONFAB_PUSH_CONTENT_FREE", "true"},
                 {"CONFAB_PUSH_COLLAPSE_MS", "37"},
                 {"CONFAB_PUSH_TIMEOUT_MS", "3800"},
                 {"CONFAB_PUSH_RETRY_MIN_MS", "39"},
                 {"CONFAB_PUSH_RETRY_MAX_MS", "40000"},
                 {"CONFAB_PUSH_MAX_ATTEMPTS", "41"},
                 {"CONFAB_PUSH_GATEWAY_URL", "http://push.internal:8080/notify"},
                 {"CONFAB_PUSH_GATEWAY_API_KEY", "g"},
                 {"CONFAB_PUSH_WEBPUSH_VAPID_KEY", "/etc/confab/vapid.pem"},
                 {"CONFAB_PUSH_WEBPUSH_SUBJECT", "mailto:ops@example.com"},
                 {"CONFAB_PUSH_WEBPUSH_TTL_SECONDS", "42"},
                 {"CONFAB_PUSH_WEBPUSH_URGENCY", "normal"},
                 {"CONFAB_PUSH_FCM_SERVICE_ACCOUNT", "/etc/confab/fcm.json"},
                 {"CONFAB_PUSH_FCM_TOKEN_URL", "http://oauth.internal/token"},
                 {"CONFAB_PUSH_FCM_BASE_URL", "https://fcm.internal"},
                 {"CONFAB_PUSH_APNS_KEY_FILE", "/etc/confab/apns.p8"},
                 {"CONFAB_PUSH_APNS_KEY_ID", "ABC123DEFG"},
                 {"CONFAB_PUSH_APNS_TEAM_ID", "DEF123GHIJ"},
                 {"CONFAB_PUSH_APNS_TOPIC", "com.example.chat"},
                 {"CONFAB_PUSH_APNS_URL", "https://api.sandbox.push.apple.com:2197"},
                 {"CONFAB_PUSH_APNS_CA_FILE", "/etc/confab/apns-ca.pem"},
                 {"CONFAB_CALLS_RING_TIMEOUT_MS", "4200"},
                 {"CONFAB_CALLS_RECONNECT_GRACE_MS", "43"},
                 {"CONFAB_CALLS_MESH_LIMIT", "4"},
                 {"CONFAB_CALLS_TURN_URLS", "turn:turn.internal:3478?transport=udp, turns:turn.internal:5349"},
                 {"CONFAB_CALLS_TURN_SECRET", "0123456789abcdef"},
                 {"CONFAB_CALLS_TURN_TTL_SECONDS", "600"},
             }));
    Config expected;
    expected.server = {"0.0.0.0",
                       1,
                       "/run/confab/port",
                       3,
                       std::chrono::seconds{4},
                       std::chrono::seconds{5},
                       std::chrono::seconds{6},
                       {"https://a.example"},
                       "/echo"};
    expected.database = {"postgresql://x/y", 7, std::chrono::milliseconds{800}};
    expected.auth = {std::chrono::hours{9}, 3, 1024, 11, 28, std::chrono::seconds{35}, false, "remove"};
    expected.jwt = {true,
                    "0123456789abcdef0123456789abcdef",
                    "/etc/confab/host.pem",
                    "https://host.example",
                    "chat",
                    "uid",
                    "nick",
                    "login",
                    std::chrono::seconds{36},
                    "/etc/confab/host-keys.json"};
    expected.limits = {12, 2048, 4096, 13,   14, 15,   16.0, 17,   18, 8192, 2097152, 1048576, 19,    27,
                       20, 21,   22,   23.5, 24, 25.0, 28,   29.0, 26, 0.5,  29,      30,      31000, 31500};
    expected.log = {"warn", "json"};
    expected.media = {"/var/lib/confab/media", std::chrono::seconds{600}, 32, std::chrono::seconds{120}, 34};
    EXPECT_EQ(config.server, expected.server);
    EXPECT_EQ(config.database, expected.database);
    EXPECT_EQ(config.auth, expected.auth);
    EXPECT_EQ(config.jwt, expected.jwt);
    EXPECT_EQ(config.limits, expected.limits);
    EXPECT_EQ(config.log, expected.log);
    EXPECT_EQ(config.media, expected.media);
    expected.translation = {"http://translate.internal:5000/v1", "k", std::chrono::milliseconds{1500}};
    EXPECT_EQ(config.translation, expected.translation);
    expected.push = {true,
                     std::chrono::milliseconds{37},
                     std::chrono::milliseconds{3800},
                     std::chrono::milliseconds{39},
                     std::chrono::milliseconds{40000},
                     41,
                     "http://push.internal:8080/notify",
                     "g",
                     "/etc/confab/vapid.pem",
                     "mailto:ops@example.com",
                     std::chrono::seconds{42},
                     "normal",
                     "/etc/confab/fcm.json",
                     "http://oauth.internal/token",
                     "https://fcm.internal",
                     "/etc/confab/apns.p8",
                     "ABC123DEFG",
                     "DEF123GHIJ",
                     "com.example.chat",
                     "https://api.sandbox.push.apple.com:2197",
                     "/etc/confab/apns-ca.pem"};
    EXPECT_EQ(config.push, expected.push);
    expected.calls = {std::chrono::milliseconds{4200},
                      std::chrono::milliseconds{43},
                      4,
                      {"turn:turn.internal:3478?transport=udp", "turns:turn.internal:5349"},
                      "0123456789abcdef",
                      std::chrono::seconds{600}};
    EXPECT_EQ(config.calls, expected.calls);
    expected.webhooks = {std::chrono::seconds{37},
                         std::chrono::milliseconds{38},
                         std::chrono::milliseconds{39},
                         std::chrono::milliseconds{400},
                         std::chrono::milliseconds{41},
                         42,
                         true,
                         true};
    EXPECT_EQ(config.webhooks, expected.webhooks);
    EXPECT_EQ(config.web.root, "/usr/share/confab/web");
    expected.cluster = {{"nats://10.0.0.1:4222", "nats://10.0.0.2"},
                        "node-a",
                        "chat_prod-1",
                        std::chrono::milliseconds{43},
                        std::chrono::milliseconds{4400}};
    EXPECT_EQ(config.cluster, expected.cluster);
}

TEST_F(ConfigLoad, ClusterTakesNatsUrlsAndASubjectName) {
    for (const std::string bad : {"http://10.0.0.1:4222", "nats://", "10.0.0.1:4222", "nats://x/path"})
        EXPECT_TRUE(contains(env_error("CONFAB_CLUSTER_NATS_URLS", bad),
                             "cluster.nats_urls (CONFAB_CLUSTER_NATS_URLS): expected a list of URLs like"))
            << bad;
    for (const std::string bad : {"", "confab.events", "a*", "a b", "x>"})
        EXPECT_TRUE(contains(env_error("CONFAB_CLUSTER_SUBJECT", bad), "cluster.subject (CONFAB_CLUSTER_SUBJECT)"))
            << bad;
    const Config single = load(std::nullopt, env_with_url({}));
    EXPECT_TRUE(single.cluster.nats_urls.empty());
    EXPECT_EQ(single.cluster.subject, "confab");
}

TEST_F(ConfigLoad, WebhookBackoffMaxIsAtLeastItsMin) {
    EXPECT_TRUE(contains(env_error("CONFAB_WEBHOOKS_BACKOFF_MAX_MS", "10"),
                         "webhooks.backoff_max_ms (CONFAB_WEBHOOKS_BACKOFF_MAX_MS): expected at least "
                         "webhooks.backoff_min_ms (1000), got 10"));
}

TEST_F(ConfigLoad, TranslationUrlIsEmptyOrHttp) {
    for (const std::string bad : {"https://translate.example", "translate.example", "http://", "http:///translate",
                                  "http://x/translate?key=1", "http://x /y"})
        EXPECT_TRUE(contains(env_error("CONFAB_TRANSLATION_URL", bad),
                             "translation.url (CONFAB_TRANSLATION_URL): expected empty, or a URL such as"))
            << bad;
    EXPECT_EQ(load(std::nullopt, env_with_url({{"CONFAB_TRANSLATION_URL", ""}})).translation.url, "");
}

// A URL's scheme is case-insensitive (RFC 3986 3.1): the push gateway's is taken as written,
// as the HTTP client that posts to it reads it.
TEST_F(ConfigLoad, PushGatewayUrlTakesItsSchemeInAnyCase) {
    for (const std::string url : {"HTTP://push.internal:8080/notify", "Http://PUSH.internal/notify"})
        EXPECT_EQ(load(std::nullopt, env_with_url({{"CONFAB_PUSH_GATEWAY_URL", url}})).push.gateway_url, url);
    EXPECT_TRUE(contains(env_error("CONFAB_PUSH_GATEWAY_URL", "HTTPS://push.internal/notify"),
                         "push.gateway_url (CONFAB_PUSH_GATEWAY_URL): expected empty, or a URL such as"));
}

TEST_F(ConfigLoad, AllowedOriginsFromEnvironmentCommaList) {
    const Config config =
        load(std::nullopt, env_with_url({{"CONFAB_ALLOWED_ORIGINS", " https://a.example , http://b.example:8080,"}}));
    EXPECT_EQ(config.server.allowed_origins, (std::vector<std::string>{"https://a.example", "http://b.example:8080"}));
}

TEST_F(ConfigLoad, EmptyAllowedOriginsInEnvironmentClearsFileList) {
    const fs::path file = write_toml("[server]\nallowed_origins = [\"https://a.example\"]\n");
    const Config config = load(file, env_with_url({{"CONFAB_ALLOWED_ORIGINS", ""}}));
    EXPECT_TRUE(config.server.allowed_origins.empty());
}

TEST_F(ConfigLoad, MessageRateAcceptsTomlInteger) {
    const Config config = load(write_toml("[limits]\nmessage_rate = 3\n"), env_with_url());
    EXPECT_DOUBLE_EQ(config.limits.message_rate, 3.0);
}

// --- errors -----------------------------------------------------------------

TEST_F(ConfigLoad, NonNumericEnvironmentIntegerNamesKeyAndVariable) {
    EXPECT_EQ(env_error("CONFAB_LIMIT_BODY_BYTES", "abc"),
              "environment: limits.body_bytes (CONFAB_LIMIT_BODY_BYTES): expected an integer from 1024 to "
              "1099511627775, got \"abc\"");
}

TEST_F(ConfigLoad, EnvironmentIntegerMustBePlainDecimal) {
    for (const std::string bad : {"12abc", " 80", "80 ", "+80", "-1", "0x50", "8.0", "", "99999999999999999999999"}) {
        EXPECT_TRUE(contains(env_error("CONFAB_HTTP_PORT", bad), "server.port (CONFAB_HTTP_PORT): expected an integer"))
            << "value: " << bad;
    }
}

TEST_F(ConfigLoad, OutOfRangeValuesAreRejected) {
    EXPECT_TRUE(contains(env_error("CONFAB_HTTP_PORT", "65536"),
                         "server.port (CONFAB_HTTP_PORT): expected an integer from 0 to 65535, got \"65536\""));
    EXPECT_TRUE(contains(env_error("CONFAB_IO_THREADS", "0"), "server.io_threads (CONFAB_IO_THREADS)"));
    EXPECT_TRUE(contains(file_error("[limits]\nframe_bytes = 1023\n"),
                         "limits.frame_bytes (CONFAB_LIMIT_FRAME_BYTES): expected an integer from 1024 to "
                         "1099511627775, got 1023"));
    EXPECT_TRUE(contains(file_error("[server]\nport = -1\n"), "got -1"));
    EXPECT_TRUE(contains(file_error("[database]\nconnect_timeout_ms = 99\n"),
                         "database.connect_timeout_ms (CONFAB_DATABASE_CONNECT_TIMEOUT_MS)"));
    EXPECT_TRUE(contains(env_error("CONFAB_DATABASE_COMMIT_GATHER_MS", "101"),
                         "database.commit_gather_ms (CONFAB_DATABASE_COMMIT_GATHER_MS): expected an integer from 0 "
                         "to 100, got \"101\""));
}

TEST_F(ConfigLoad, PortZeroAsksForAnyFreePort) {
    EXPECT_EQ(load(std::nullopt, env_with_url({{"CONFAB_HTTP_PORT", "0"}})).server.port, 0);
    const Server from_file =
        load(write_toml("[server]\nport = 0\nport_file = \"/tmp/confab.port\"\n"), env_with_url()).server;
    EXPECT_EQ(from_file.port, 0);
    EXPECT_EQ(from_file.port_file, "/tmp/confab.port");
}

TEST_F(ConfigLoad, FileErrorsCarryFileLineAndColumn) {
    const fs::path file = write_toml("[server]\nport = 70000\n");
    EXPECT_EQ(load_error(file, env_with_url()), file.string() +
                                                    ":2:8: server.port (CONFAB_HTTP_PORT): expected an integer "
                                                    "from 0 to 65535, got 70000");
}

TEST_F(ConfigLoad, MessageRateMustBePositiveAndFinite) {
    for (const std::string bad : {"0", "-1", "abc", "inf", "nan", "1.5x", "1e9"}) {
        EXPECT_TRUE(contains(env_error("CONFAB_LIMIT_MESSAGE_RATE", bad),
                             "limits.message_rate (CONFAB_LIMIT_MESSAGE_RATE): expected a number greater than 0"))
            << "value: " << bad;
    }
    EXPECT_TRUE(contains(file_error("[limits]\nmessage_rate = 0.0\n"), "limits.message_rate"));
    EXPECT_TRUE(contains(file_error("[limits]\nmessage_rate = inf\n"), "limits.message_rate"));
}

TEST_F(ConfigLoad, WrongTomlTypeNamesKey) {
    EXPECT_TRUE(contains(file_error("[server]\nport = \"8080\"\n"),
                         "server.port (CONFAB_HTTP_PORT): expected an integer from 0 to 65535, got a string \"8080\""));
    EXPECT_TRUE(contains(file_error("[server]\nport = 80.5\n"), "server.port (CONFAB_HTTP_PORT)"));
    EXPECT_TRUE(contains(file_error("[log]\nlevel = 3\n"), "log.level (CONFAB_LOG_LEVEL): expected one of"));
    EXPECT_TRUE(contains(file_error("[server]\nallowed_origins = \"https://a.example\"\n"),
                         "server.allowed_origins (CONFAB_ALLOWED_ORIGINS)"));
    EXPECT_TRUE(contains(file_error("[server]\nallowed_origins = [1]\n"), "got an array containing an integer 1"));
    EXPECT_TRUE(contains(file_error("[database]\nurl = true\n"), "database.url (CONFAB_DATABASE_URL)"));
}

TEST_F(ConfigLoad, UnknownKeyIsRejected) {
    const std::string message = file_error("[server]\nprot = 8080\n");
    EXPECT_TRUE(contains(message, ":2:1: unknown key \"server.prot\""));
    EXPECT_TRUE(contains(message, "port"));  // lists the keys that do exist
}

TEST_F(ConfigLoad, UnknownSectionIsRejected) {
    EXPECT_TRUE(contains(file_error("[srever]\nport = 8080\n"), "unknown section \"srever\""));
    EXPECT_TRUE(contains(file_error("port = 8080\n"), "unknown section \"port\""));
    EXPECT_TRUE(contains(file_error("server = 1\n"), "server: expected a table"));
    EXPECT_TRUE(contains(file_error("[server.tls]\ncert = \"x\"\n"), "unknown key \"server.tls\""));
}

TEST_F(ConfigLoad, BadLogLevelAndFormatAreRejected) {
    EXPECT_EQ(env_error("CONFAB_LOG_LEVEL", "verbose"),
              "environment: log.level (CONFAB_LOG_LEVEL): expected one of trace, debug, info, warn, error, "
              "critical, off, got \"verbose\"");
    EXPECT_TRUE(contains(env_error("CONFAB_LOG_LEVEL", "INFO"), "log.level"));
    EXPECT_TRUE(contains(file_error("[log]\nformat = \"xml\"\n"), "log.format (CONFAB_LOG_FORMAT)"));
}

TEST_F(ConfigLoad, ListenAddressMustBeIpLiteral) {
    EXPECT_TRUE(contains(env_error("CONFAB_LISTEN_ADDRESS", "localhost"),
                         "server.listen_address (CONFAB_LISTEN_ADDRESS): expected an IPv4 or IPv6 address"));
    EXPECT_TRUE(contains(env_error("CONFAB_LISTEN_ADDRESS", ""), "server.listen_address"));
    EXPECT_TRUE(contains(env_error("CONFAB_LISTEN_ADDRESS", "256.1.1.1"), "server.listen_address"));
    EXPECT_EQ(load(std::nullopt, env_with_url({{"CONFAB_LISTEN_ADDRESS", "::1"}})).server.listen_address, "::1");
}

TEST_F(ConfigLoad, OriginsMustBeSchemeHostPort) {
    EXPECT_TRUE(contains(env_error("CONFAB_ALLOWED_ORIGINS", "https://a.example/"),
                         "server.allowed_origins (CONFAB_ALLOWED_ORIGINS): expected a list of origins"));
    EXPECT_TRUE(contains(env_error("CONFAB_ALLOWED_ORIGINS", "a.example"), "got \"a.example\""));
    EXPECT_TRUE(
        contains(file_error("[server]\nallowed_origins = [\"https://a.example/chat\"]\n"), "server.allowed_origins"));
}

TEST_F(ConfigLoad, EchoPathIsEmptyOrARequestPath) {
    EXPECT_TRUE(load(std::nullopt, env_with_url()).server.ws_echo_path.empty());
    EXPECT_EQ(load(std::nullopt, env_with_url({{"CONFAB_WS_ECHO_PATH", "/ws-echo"}})).server.ws_echo_path, "/ws-echo");
    for (const std::string bad : {"ws-echo", "/echo?x=1", "/ws echo"}) {
        EXPECT_TRUE(contains(env_error("CONFAB_WS_ECHO_PATH", bad),
                             "server.ws_echo_path (CONFAB_WS_ECHO_PATH): expected empty, or a path"))
            << "value: " << bad;
    }
}

TEST_F(ConfigLoad, MediaDirMustNotBeEmpty) {
    EXPECT_TRUE(contains(env_error("CONFAB_MEDIA_DIR", ""), "media.dir (CONFAB_MEDIA_DIR): expected a non-empty"));
}

TEST_F(ConfigLoad, MissingDatabaseUrlSaysHowToSetIt) {
    EXPECT_EQ(load_error(std::nullopt, env_of({})),
              "database.url (CONFAB_DATABASE_URL): required but not set; set database.url in the config file or "
              "the CONFAB_DATABASE_URL environment variable");
    // An empty value from the environment does not count as set.
    const fs::path file = write_toml("[database]\nurl = \"postgresql://from-file/confab\"\n");
    EXPECT_TRUE(contains(load_error(file, env_of({{"CONFAB_DATABASE_URL", ""}})), "database.url"));
}

TEST_F(ConfigLoad, MalformedTomlNamesFileAndPosition) {
    const fs::path file = write_toml("[server]\nport = = 8080\n");
    const std::string message = load_error(file, env_with_url());
    EXPECT_TRUE(contains(message, file.string() + ":2:"));
    EXPECT_TRUE(contains(message, "invalid TOML"));
}

TEST_F(ConfigLoad, MissingFileNamesFile) {
    const fs::path file = dir_ / "does-not-exist.toml";
    EXPECT_TRUE(contains(load_error(file, env_with_url()), file.string() + ": cannot read the config file"));
    EXPECT_TRUE(contains(load_error(dir_, env_with_url()), dir_.string() + ": cannot read the config file"));
}

TEST_F(ConfigLoad, EmptyFileKeepsDefaults) { EXPECT_EQ(load(write_toml(""), env_with_url()), defaults_with_url()); }

TEST_F(ConfigLoad, EnvironmentIsAskedOnlyForKnownVariables) {
    std::vector<std::string> asked;
    const EnvLookup spy = [&](const std::string& name) -> std::optional<std::string> {
        asked.push_back(name);
        return name == "CONFAB_DATABASE_URL" ? std::optional<std::string>(kDatabaseUrl) : std::nullopt;
    };
    load(std::nullopt, spy);
    std::vector<std::string> expected;
    for (const auto& name : setting_names()) expected.emplace_back(name.env_var);
    EXPECT_EQ(asked, expected);
}

TEST_F(ConfigLoad, OverloadSettingsComeFromTheEnvironment) {
    const Config config = load(std::nullopt, env_with_url({
                                                 {"CONFAB_OVERLOAD_CONNECTIONS_TOTAL", "100"},
                                                 {"CONFAB_OVERLOAD_DB_RECONNECT_MIN_MS", "20"},
                                                 {"CONFAB_OVERLOAD_DB_RECONNECT_MAX_MS", "30"},
                                                 {"CONFAB_OVERLOAD_DB_QUEUE_LIMIT", "40"},
                                                 {"CONFAB_OVERLOAD_WORKER_QUEUE_LIMIT", "50"},
                                                 {"CONFAB_OVERLOAD_FAILED_AUTH_PER_IP_PER_MINUTE", "60"},
                                                 {"CONFAB_OVERLOAD_FAILED_AUTH_PER_MINUTE", "70"},
                                                 {"CONFAB_OVERLOAD_TOKEN_CACHE_SECONDS", "0"},
                                                 {"CONFAB_OVERLOAD_READY_PROBE_INTERVAL_MS", "900"},
                                             }));
    const Overload expected{100, std::chrono::milliseconds{20}, std::chrono::milliseconds{30}, 40, 50, 60,
                            70,  std::chrono::seconds{0},       std::chrono::milliseconds{900}};
    EXPECT_EQ(config.overload, expected);
}

TEST_F(ConfigLoad, ServerApiKeysComeFromTheEnvironmentCommaSeparated) {
    const std::string first(32, 'a'), second(40, 'b');
    const Config config = load(std::nullopt, env_with_url({{"CONFAB_SERVER_API_KEYS", first + ", " + second + ","}}));
    EXPECT_EQ(config.server_api.keys, (std::vector<std::string>{first, second}));
    EXPECT_TRUE(load(std::nullopt, env_with_url({})).server_api.keys.empty());
}

// A refused secret is described by its length: the error goes to the log and the terminal.
TEST_F(ConfigLoad, ARefusedSecretIsNeverEchoed) {
    const std::string short_secret = "Sup3rS3cretVal!";
    for (const auto* name :
         {"CONFAB_CALLS_TURN_SECRET", "CONFAB_JWT_HS256_SECRET", "CONFAB_METRICS_TOKEN", "CONFAB_SERVER_API_KEYS"}) {
        const auto error = env_error(name, short_secret);
        EXPECT_FALSE(contains(error, short_secret)) << error;
        EXPECT_TRUE(contains(error, "got a secret of 15 characters")) << error;
    }
}

TEST_F(ConfigLoad, ServerApiKeysMustBeLongSecrets) {
    EXPECT_TRUE(contains(file_error("[server_api]\nkeys = [\"short\"]\n"),
                         "server_api.keys (CONFAB_SERVER_API_KEYS): expected a list of secrets of at least 32 "
                         "characters"));
    EXPECT_TRUE(contains(file_error("[server_api]\nkeys = \"" + std::string(32, 'k') + "\"\n"),
                         "server_api.keys (CONFAB_SERVER_API_KEYS)"));
}

TEST_F(ConfigLoad, ReconnectBackOffMayNotShrink) {
    EXPECT_TRUE(contains(file_error("[overload]\ndb_reconnect_min_ms = 500\ndb_reconnect_max_ms = 400\n"),
                         "overload.db_reconnect_max_ms (CONFAB_OVERLOAD_DB_RECONNECT_MAX_MS): expected at least "
                         "overload.db_reconnect_min_ms (500), got 400"));
}

// --- the shipped file and docs never drift from the code ---------------------

TEST(ShippedConfig, LoadsAndEqualsHeaderDefaults) {
    const fs::path file = test::source_dir() / "config/confab.toml";
    ASSERT_TRUE(fs::exists(file)) << file;
    const Config config = load(file, env_with_url());
    const Config defaults = defaults_with_url();
    EXPECT_EQ(config.server, defaults.server);
    EXPECT_EQ(config.database, defaults.database);
    EXPECT_EQ(config.auth, defaults.auth);
    EXPECT_EQ(config.jwt, defaults.jwt);
    EXPECT_EQ(config.limits, defaults.limits);
    EXPECT_EQ(config.log, defaults.log);
    EXPECT_EQ(config.media, defaults.media);
    EXPECT_EQ(config.overload, defaults.overload);
    EXPECT_EQ(config.translation, defaults.translation);
    EXPECT_EQ(config.webhooks, defaults.webhooks);
}

TEST(ShippedConfig, ListsEverySettingWithItsVariable) {
    const std::string text = test::source_file("config/confab.toml");
    for (const auto& name : setting_names()) {
        const std::string key(name.toml_key);
        const std::string section = key.substr(0, key.find('.'));
        const std::string leaf = key.substr(key.find('.') + 1);
        const auto section_at = text.find("\n[" + section + "]\n");
        ASSERT_NE(section_at, std::string::npos) << section;
        EXPECT_NE(text.find("\n" + leaf + " = ", section_at), std::string::npos) << key;
        EXPECT_TRUE(contains(text, std::string(name.env_var)));
    }
}

TEST(ShippedConfig, RequiresDatabaseUrlFromEnvironment) {
    EXPECT_THROW(load(test::source_dir() / "config/confab.toml", env_of({})), ConfigError);
}

TEST(ConfigurationDocs, DocumentEverySettingAndVariable) {
    const std::string text = test::source_file("docs/configuration.md");
    ASSERT_FALSE(text.empty());
    for (const auto& name : setting_names()) {
        EXPECT_TRUE(contains(text, "`" + std::string(name.toml_key) + "`"));
        EXPECT_TRUE(contains(text, "`" + std::string(name.env_var) + "`"));
    }
}

TEST(ProcessEnv, ReadsTheProcessEnvironment) {
    const EnvLookup env = process_env();
    EXPECT_EQ(env("CONFAB_SURELY_NOT_SET_IN_ANY_TEST_ENVIRONMENT"), std::nullopt);
    EXPECT_TRUE(env("PATH").has_value());
}

}  // namespace
}  // namespace confab::config
