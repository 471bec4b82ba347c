#pragma once

// The real confab process and a throwaway PostgreSQL database for the integration tests.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace confab::test {

using namespace std::chrono_literals;

// Skips the current test (from a test body or SetUp) when CONFAB_TEST_DATABASE_URL is unset.
#define CONFAB_REQUIRE_DATABASE()                                                                      \
    do {                                                                                               \
        if (!::confab::test::TestDatabase::configured())                                               \
            GTEST_SKIP() << "CONFAB_TEST_DATABASE_URL is not set (superuser URL ending in /postgres)"; \
    } while (0)

// Skips the current test when CONFAB_TEST_PG_STOP / CONFAB_TEST_PG_START are unset.
#define CONFAB_REQUIRE_PG_CONTROL()                                                   \
    do {                                                                              \
        if (!::confab::test::pg_control_configured())                                 \
            GTEST_SKIP() << "CONFAB_TEST_PG_STOP / CONFAB_TEST_PG_START are not set"; \
    } while (0)

// A fresh database `confab_it_<pid>_<random>` on the cluster of CONFAB_TEST_DATABASE_URL,
// dropped (WITH (FORCE)) by the destructor.
class TestDatabase {
public:
    static bool configured();
    static std::string admin_url();  // throws if unset

    TestDatabase();  // throws std::runtime_error if unset or creation fails
    ~TestDatabase();
    TestDatabase(const TestDatabase&) = delete;
    TestDatabase& operator=(const TestDatabase&) = delete;

    const std::string& url() const { return url_; }
    const std::string& name() const { return name_; }

    // Runs one SQL statement against this database (non-transactional) and returns the first
    // column of the first row, if any. For tests that inspect stored state.
    std::optional<std::string> query_value(const std::string& sql) const;

    // `url` with its database name replaced by `db_name`.
    static std::string url_with_database(const std::string& url, const std::string& db_name);

private:
    std::string name_;
    std::string url_;
};

bool pg_control_configured();
// Run CONFAB_TEST_PG_STOP / CONFAB_TEST_PG_START with std::system; throw if unset or failing.
void pg_stop();
void pg_start();

// Restarts PostgreSQL when it goes out of scope if it is still stopped, so a failed test
// does not leave the cluster down for the rest of the suite.
class PgStopGuard {
public:
    PgStopGuard() = default;
    ~PgStopGuard();
    void stop();
    void start();
    bool stopped() const { return stopped_; }

private:
    bool stopped_ = false;
};

// The confab binary under test: $CONFAB_TEST_SERVER_BIN when set (scripts/dev points it at
// the ThreadSanitizer build's server, so that phase needs no instrumented test clients), else
// $CONFAB_BIN (ctest sets it to this build's). Throws when neither names an executable.
std::string server_binary();

// The server_binary(), started with posix_spawn. Its environment is the
// parent's plus CONFAB_DATABASE_URL, CONFAB_HTTP_PORT=0 and CONFAB_PORT_FILE=<temp dir>/port
// (the system picks a free port, the server reports it), CONFAB_LISTEN_ADDRESS=127.0.0.1,
// CONFAB_LOG_LEVEL=debug, CONFAB_MEDIA_DIR=<temp dir>,
// CONFAB_LIMIT_AUTH_PER_IP_PER_MINUTE=1000000 (the suite registers many users from one IP),
// CONFAB_LIMIT_LOGIN_FAILURES_PER_ACCOUNT_PER_MINUTE=1000000 (tests try many wrong passwords),
// CONFAB_PASSWORD_HASH_OPS=1 and CONFAB_PASSWORD_HASH_MEM_KIB=1024 (cheap Argon2id),
// no failed-token limits and no token cache (CONFAB_OVERLOAD_*),
// then `extra_env` (which overrides any of these; an empty value still sets the variable).
// stdout and stderr go to <temp dir>/confab.log.
class ServerProcess {
public:
    struct Options {
        std::map<std::string, std::string> env;
        bool wait_healthy = true;  // block in the constructor until /healthz is 200
        std::chrono::milliseconds startup_timeout = 30s;
        std::string name = "confab";              // used in diagnostics
        std::vector<std::string> args = {};       // command-line arguments after the binary
        std::vector<std::string> unset_env = {};  // variables the server must not see at all
    };

    ServerProcess(std::string database_url, Options options);
    explicit ServerProcess(std::string database_url, std::map<std::string, std::string> extra_env = {});
    ~ServerProcess();
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

    // The port the server reported; 0 until it listens (after the constructor, or after
    // wait_healthy() when Options::wait_healthy is false).
    std::uint16_t port() const { return port_; }
    pid_t pid() const { return pid_; }
    const std::filesystem::path& temp_dir() const { return dir_; }
    const std::filesystem::path& media_dir() const { return media_dir_; }
    const std::filesystem::path& log_path() const { return log_path_; }

    // Waits for the port file, then polls GET /healthz until 200; throws std::runtime_error
    // (with the log tail) if the process exits or the timeout passes.
    void wait_healthy(std::chrono::milliseconds timeout = 30s);

    // SIGTERM, then wait up to `timeout` for exit. Returns the exit status (128+signal if
    // killed by a signal). If it does not exit in time it is SIGKILLed, a test failure is
    // recorded, and the status is returned as well (forced_kill() is then true).
    int terminate(std::chrono::milliseconds timeout = 10s);
    // SIGKILL and reap.
    void kill();
    bool running();
    bool forced_kill() const { return forced_kill_; }
    // Raw exit status (after the process was reaped), as from waitpid.
    std::optional<int> wait_status() const { return status_; }
    // Waits up to `timeout` for the process to exit on its own; returns the exit status.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout);

    std::string log_contents() const;
    std::string log_tail(std::size_t max_bytes = 8192) const;
    // Prints the log tail to stderr with a header naming this server.
    void print_log_tail(const std::string& why, std::size_t max_bytes = 8192) const;
    // Keep the temp dir (log, media) when this object is destroyed.
    void keep_files() { keep_files_ = true; }

private:
    void start();
    bool reap(bool block);
    void throw_if_exited_during_startup();
    void wait_listening(std::chrono::steady_clock::time_point deadline);

    std::string database_url_;
    Options options_;
    std::uint16_t port_ = 0;
    pid_t pid_ = -1;
    std::optional<int> status_;
    bool forced_kill_ = false;
    bool expected_exit_ = false;
    bool crashed_ = false;  // exited without being asked to
    bool keep_files_ = false;
    mutable std::uintmax_t printed_size_ = static_cast<std::uintmax_t>(-1);  // log size at the last print
    std::filesystem::path dir_, media_dir_, log_path_, port_file_;
};

// Starts `bin` (looked up in PATH unless it has a '/') with exactly `env`, stdin from
// /dev/null, stdout and stderr into `log_path`, and no descriptor of the test's but those and
// `inherited`, which the child gets as descriptor 3 (a listening socket handed down).
pid_t spawn_logged(const std::string& bin, std::vector<std::string> args, std::vector<std::string> env,
                   const std::filesystem::path& log_path, std::optional<int> inherited = std::nullopt);

// Exit status from a waitpid status: the exit code, or 128 + signal number.
int decode_wait_status(int status);

}  // namespace confab::test
