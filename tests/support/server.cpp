#include "support/server.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include <pqxx/pqxx>

#include "support/client.hpp"

extern char** environ;

namespace confab::test {

namespace {

std::string random_lower_alnum(std::size_t n) {
    static std::mutex mu;
    static std::mt19937_64 rng{std::random_device{}()};
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::lock_guard lock(mu);
    std::uniform_int_distribution<std::size_t> dist(0, sizeof(alphabet) - 2);
    std::string out;
    for (std::size_t i = 0; i < n; ++i) out += alphabet[dist(rng)];
    return out;
}

const char* env_or_null(const char* name) {
    const char* v = std::getenv(name);
    return (v && *v) ? v : nullptr;
}

bool current_test_failed() {
    auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    return info != nullptr && ::testing::Test::HasFailure();
}

}  // namespace

int decode_wait_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

// ---------------------------------------------------------------------------------------------
// TestDatabase

bool TestDatabase::configured() { return env_or_null("CONFAB_TEST_DATABASE_URL") != nullptr; }

std::string TestDatabase::admin_url() {
    const char* v = env_or_null("CONFAB_TEST_DATABASE_URL");
    if (!v) throw std::runtime_error("CONFAB_TEST_DATABASE_URL is not set");
    return v;
}

std::string TestDatabase::url_with_database(const std::string& url, const std::string& db_name) {
    auto scheme = url.find("://");
    if (scheme == std::string::npos) throw std::runtime_error("not a PostgreSQL URL: " + url);
    auto query = url.find('?', scheme + 3);
    auto slash = url.find('/', scheme + 3);
    if (slash == std::string::npos || (query != std::string::npos && slash > query)) {
        // No path: insert one before the query string (if any).
        auto at = query == std::string::npos ? url.size() : query;
        return url.substr(0, at) + "/" + db_name + url.substr(at);
    }
    auto end = query == std::string::npos ? url.size() : query;
    return url.substr(0, slash + 1) + db_name + url.substr(end);
}

TestDatabase::TestDatabase() {
    std::string admin = admin_url();
    name_ = "confab_it_" + std::to_string(::getpid()) + "_" + random_lower_alnum(8);
    url_ = url_with_database(admin, name_);
    try {
        pqxx::connection conn(admin);
        pqxx::nontransaction tx(conn);
        tx.exec("CREATE DATABASE \"" + name_ + "\"");
    } catch (const std::exception& e) {
        throw std::runtime_error("creating test database " + name_ +
                                 " via CONFAB_TEST_DATABASE_URL failed: " + e.what());
    }
}

TestDatabase::~TestDatabase() {
    try {
        pqxx::connection conn(admin_url());
        pqxx::nontransaction tx(conn);
        tx.exec("DROP DATABASE IF EXISTS \"" + name_ + "\" WITH (FORCE)");
    } catch (const std::exception& e) {
        std::cerr << "[confab-it] warning: could not drop test database " << name_ << ": " << e.what() << "\n";
    }
}

std::optional<std::string> TestDatabase::query_value(const std::string& sql) const {
    pqxx::connection conn(url_);
    pqxx::nontransaction tx(conn);
    pqxx::result r = tx.exec(sql);
    if (r.empty() || r.columns() == 0 || r[0][0].is_null()) return std::nullopt;
    return r[0][0].as<std::string>();
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL stop/start

bool pg_control_configured() {
    return env_or_null("CONFAB_TEST_PG_STOP") != nullptr && env_or_null("CONFAB_TEST_PG_START") != nullptr;
}

static void run_pg_command(const char* var) {
    const char* cmd = env_or_null(var);
    if (!cmd) throw std::runtime_error(std::string(var) + " is not set");
    int rc = std::system(cmd);
    if (rc != 0) {
        throw std::runtime_error(std::string(var) + " (" + cmd + ") failed with status " + std::to_string(rc));
    }
}

void pg_stop() { run_pg_command("CONFAB_TEST_PG_STOP"); }
void pg_start() { run_pg_command("CONFAB_TEST_PG_START"); }

void PgStopGuard::stop() {
    stopped_ = true;
    pg_stop();
}

void PgStopGuard::start() {
    pg_start();
    stopped_ = false;
}

PgStopGuard::~PgStopGuard() {
    if (!stopped_) return;
    try {
        pg_start();
    } catch (const std::exception& e) {
        std::cerr << "[confab-it] error: could not restart PostgreSQL: " << e.what() << "\n";
    }
}

// ---------------------------------------------------------------------------------------------
// ServerProcess

ServerProcess::ServerProcess(std::string database_url, std::map<std::string, std::string> extra_env)
    : ServerProcess(std::move(database_url), Options{std::move(extra_env)}) {}

ServerProcess::ServerProcess(std::string database_url, Options options)
    : database_url_(std::move(database_url)), options_(std::move(options)) {
    start();
    if (options_.wait_healthy) {
        try {
            wait_healthy(options_.startup_timeout);
        } catch (...) {
            if (running()) kill();
            throw;
        }
    }
}

std::string server_binary() {
    const char* name = env_or_null("CONFAB_TEST_SERVER_BIN") ? "CONFAB_TEST_SERVER_BIN" : "CONFAB_BIN";
    const char* bin = env_or_null(name);
    if (!bin) throw std::runtime_error("CONFAB_BIN is not set (path of the built confab binary)");
    if (::access(bin, X_OK) != 0) throw std::runtime_error(std::string(name) + " is not executable: " + bin);
    return bin;
}

void ServerProcess::start() {
    const auto bin = server_binary();

    char tmpl[] = "/tmp/confab-it-XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
    dir_ = tmpl;
    media_dir_ = dir_ / "media";
    std::filesystem::create_directories(media_dir_);
    log_path_ = dir_ / "confab.log";
    port_file_ = dir_ / "port";

    std::map<std::string, std::string> env;
    for (char** e = environ; e && *e; ++e) {
        std::string kv(*e);
        auto eq = kv.find('=');
        if (eq == std::string::npos) continue;
        env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    env["CONFAB_DATABASE_URL"] = database_url_;
    env["CONFAB_HTTP_PORT"] = "0";
    env["CONFAB_PORT_FILE"] = port_file_.string();
    env["CONFAB_LISTEN_ADDRESS"] = "127.0.0.1";
    env["CONFAB_LOG_LEVEL"] = "debug";
    env["CONFAB_MEDIA_DIR"] = media_dir_.string();
    env["CONFAB_LIMIT_AUTH_PER_IP_PER_MINUTE"] = "1000000";
    env["CONFAB_LIMIT_LOGIN_FAILURES_PER_ACCOUNT_PER_MINUTE"] = "1000000";
    // Tests that exercise rate limits set their own; the others send in bursts.
    for (const char* limit : {"MESSAGE", "REQUEST", "TYPING", "UPLOAD", "CHANGE"}) {
        env["CONFAB_LIMIT_" + std::string(limit) + "_BURST"] = "1000000";
        env["CONFAB_LIMIT_" + std::string(limit) + "_RATE"] = "1000000";
    }
    env["CONFAB_LIMIT_CONNECTIONS_PER_USER"] = "1000000";
    env["CONFAB_LIMIT_CONNECTIONS_PER_IP"] = "1000000";
    // The suite sends many bad tokens from one address; OverloadTest sets its own limits.
    env["CONFAB_OVERLOAD_FAILED_AUTH_PER_IP_PER_MINUTE"] = "1000000";
    env["CONFAB_OVERLOAD_FAILED_AUTH_PER_MINUTE"] = "1000000";
    // Tests that expire or delete tokens in the database behind the server's back would
    // see the cache's documented delay; OverloadTest turns the cache on.
    env["CONFAB_OVERLOAD_TOKEN_CACHE_SECONDS"] = "0";
    // Real Argon2id, but cheap: the suite registers hundreds of users on 2 cores.
    env["CONFAB_PASSWORD_HASH_OPS"] = "1";
    env["CONFAB_PASSWORD_HASH_MEM_KIB"] = "1024";
    for (const auto& [k, v] : options_.env) env[k] = v;
    for (const auto& name : options_.unset_env) env.erase(name);

    std::vector<std::string> env_strings;
    env_strings.reserve(env.size());
    for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
    pid_ = spawn_logged(bin, options_.args, env_strings, log_path_);
}

pid_t spawn_logged(const std::string& bin, std::vector<std::string> args, std::vector<std::string> env,
                   const std::filesystem::path& log_path, std::optional<int> inherited) {
    std::vector<char*> envp;
    for (auto& s : env) envp.push_back(s.data());
    envp.push_back(nullptr);

    std::string bin_s(bin);
    std::vector<char*> argv{bin_s.data()};
    for (auto& argument : args) argv.push_back(argument.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    std::string log = log_path.string();
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    if (inherited) posix_spawn_file_actions_adddup2(&fa, *inherited, 3);
    // Do not leak the test process's sockets (e.g. open WebSockets) into the server.
    posix_spawn_file_actions_addclosefrom_np(&fa, inherited ? 4 : 3);

    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGPIPE);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    pid_t pid = -1;
    const int rc = ::posix_spawnp(&pid, bin_s.c_str(), &fa, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) throw std::runtime_error("posix_spawn " + bin + ": " + std::strerror(rc));
    return pid;
}

bool ServerProcess::reap(bool block) {
    if (status_ || pid_ <= 0) return true;
    int st = 0;
    pid_t r = ::waitpid(pid_, &st, block ? 0 : WNOHANG);
    if (r == pid_) {
        status_ = st;
        return true;
    }
    if (r < 0 && errno == ECHILD) {
        status_ = -1;
        return true;
    }
    return false;
}

bool ServerProcess::running() {
    if (reap(false)) {
        if (!expected_exit_) {
            expected_exit_ = true;  // report once
            crashed_ = true;
            print_log_tail("exited unexpectedly with status " + std::to_string(decode_wait_status(*status_)));
        }
        return false;
    }
    return true;
}

void ServerProcess::throw_if_exited_during_startup() {
    if (!reap(false)) return;
    expected_exit_ = true;
    crashed_ = true;
    throw std::runtime_error(options_.name + " exited during startup with status " +
                             std::to_string(decode_wait_status(*status_)) + "; log " + log_path_.string() +
                             " ends with:\n" + log_tail());
}

void ServerProcess::wait_listening(std::chrono::steady_clock::time_point deadline) {
    while (port_ == 0) {
        throw_if_exited_during_startup();
        // The server renames the file into place, so once it exists it holds the whole number.
        if (std::ifstream in(port_file_); in && in >> port_) return;
        if (std::chrono::steady_clock::now() >= deadline) {
            throw std::runtime_error(options_.name + " did not write its port to " + port_file_.string() +
                                     " in time; log " + log_path_.string() + " ends with:\n" + log_tail());
        }
        std::this_thread::sleep_for(10ms);
    }
}

void ServerProcess::wait_healthy(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    wait_listening(deadline);
    std::string last;
    while (std::chrono::steady_clock::now() < deadline) {
        throw_if_exited_during_startup();
        try {
            auto r = http(port_, "GET", "/healthz", std::nullopt, {}, 2s);
            if (r.status == 200) return;
            last = r.describe();
        } catch (const std::exception& e) {
            last = e.what();
        }
        std::this_thread::sleep_for(50ms);
    }
    throw std::runtime_error(options_.name + " did not answer GET /healthz with 200 within " +
                             std::to_string(timeout.count()) + " ms (last: " + last + "); log " + log_path_.string() +
                             " ends with:\n" + log_tail());
}

std::optional<int> ServerProcess::wait_exit(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    expected_exit_ = true;
    for (;;) {
        if (reap(false)) return decode_wait_status(*status_);
        if (std::chrono::steady_clock::now() >= deadline) {
            expected_exit_ = false;
            return std::nullopt;
        }
        std::this_thread::sleep_for(10ms);
    }
}

int ServerProcess::terminate(std::chrono::milliseconds timeout) {
    expected_exit_ = true;
    if (reap(false)) return decode_wait_status(*status_);
    ::kill(pid_, SIGTERM);
    if (auto st = wait_exit(timeout)) return *st;
    expected_exit_ = true;
    forced_kill_ = true;
    ::kill(pid_, SIGKILL);
    reap(true);
    ADD_FAILURE() << options_.name << " (pid " << pid_ << ") did not exit within " << timeout.count()
                  << " ms of SIGTERM and was SIGKILLed; log ends with:\n"
                  << log_tail();
    return decode_wait_status(*status_);
}

void ServerProcess::kill() {
    expected_exit_ = true;
    if (reap(false)) return;
    ::kill(pid_, SIGKILL);
    reap(true);
}

std::string ServerProcess::log_contents() const {
    std::ifstream in(log_path_, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string ServerProcess::log_tail(std::size_t max_bytes) const {
    std::ifstream in(log_path_, std::ios::binary | std::ios::ate);
    if (!in) return "(no log at " + log_path_.string() + ")";
    auto size = static_cast<std::size_t>(in.tellg());
    std::size_t start = size > max_bytes ? size - max_bytes : 0;
    in.seekg(static_cast<std::streamoff>(start));
    std::string out(size - start, '\0');
    in.read(out.data(), static_cast<std::streamsize>(out.size()));
    if (start > 0) {
        auto nl = out.find('\n');
        out = "...\n" + (nl == std::string::npos ? out : out.substr(nl + 1));
    }
    return out;
}

void ServerProcess::print_log_tail(const std::string& why, std::size_t max_bytes) const {
    std::error_code ec;
    auto size = std::filesystem::file_size(log_path_, ec);
    if (!ec && size == printed_size_) {
        std::cerr << "[confab-it] " << options_.name << ": nothing new in " << log_path_.string() << " (" << why
                  << ")\n";
        return;
    }
    if (!ec) printed_size_ = size;
    std::cerr << "\n[confab-it] ===== " << options_.name << " (pid " << pid_ << ", port " << port_ << ") " << why
              << "; log " << log_path_.string() << " ends with:\n"
              << log_tail(max_bytes) << "\n[confab-it] ===== end of log\n";
}

ServerProcess::~ServerProcess() {
    bool failed = current_test_failed();
    bool was_running = pid_ > 0 && !status_ && !reap(false);
    if (was_running) {
        expected_exit_ = true;
        ::kill(pid_, SIGKILL);
        reap(true);
    }
    if (failed) print_log_tail("after a failed test");
    bool keep = failed || crashed_ || keep_files_ || env_or_null("CONFAB_TEST_KEEP_TMP") != nullptr;
    if (!keep && !dir_.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    } else if (!dir_.empty()) {
        std::cerr << "[confab-it] kept " << dir_.string() << "\n";
    }
}

}  // namespace confab::test
