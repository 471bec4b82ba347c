#include "support/fixture.hpp"

#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>

namespace confab::test {

namespace {

struct Shared {
    std::unique_ptr<TestDatabase> db;
    std::unique_ptr<ServerProcess> server;
    int failed_starts = 0;  // give up after a few, so a broken binary fails fast
    std::string last_start_error;
};

Shared& shared() {
    static Shared s;
    return s;
}

class SharedEnvironment : public ::testing::Environment {
public:
    void TearDown() override {
        auto& s = shared();
        if (s.server) {
            if (::testing::UnitTest::GetInstance()->failed_test_count() > 0) s.server->keep_files();
            if (s.server->running()) s.server->terminate(std::chrono::seconds(10));
            s.server.reset();
        }
        s.db.reset();
    }
};

// Registered at load time of the support library so the shared server and database are
// cleaned up before the test binary exits.
[[maybe_unused]] ::testing::Environment* const shared_environment =
    ::testing::AddGlobalTestEnvironment(new SharedEnvironment);

}  // namespace

std::map<std::string, std::string> unlimited() {
    return {{"CONFAB_LIMIT_REQUEST_BURST", "100000"},
            {"CONFAB_LIMIT_REQUEST_RATE", "100000"},
            {"CONFAB_LIMIT_AUTH_PER_IP_PER_MINUTE", "100000"},
            {"CONFAB_OVERLOAD_FAILED_AUTH_PER_IP_PER_MINUTE", "100000"},
            {"CONFAB_OVERLOAD_FAILED_AUTH_PER_MINUTE", "100000"},
            {"CONFAB_LIMIT_CHANGE_BURST", "100000"},
            {"CONFAB_LIMIT_CHANGE_RATE", "100000"},
            {"CONFAB_LIMIT_MESSAGE_BURST", "100000"},
            {"CONFAB_LIMIT_MESSAGE_RATE", "100000"},
            {"CONFAB_LIMIT_UPLOAD_BURST", "100000"},
            {"CONFAB_LIMIT_UPLOAD_RATE", "100000"}};
}

TestDatabase& shared_database() {
    auto& s = shared();
    if (!s.db) s.db = std::make_unique<TestDatabase>();
    return *s.db;
}

ServerProcess& shared_server() {
    auto& s = shared();
    if (!s.server) {
        if (s.failed_starts >= 3) {
            throw std::runtime_error("the shared confab server failed to start " + std::to_string(s.failed_starts) +
                                     " times; not trying again. Last error: " + s.last_start_error);
        }
        ServerProcess::Options opts;
        opts.name = "shared confab";
        try {
            s.server = std::make_unique<ServerProcess>(shared_database().url(), opts);
        } catch (const std::exception& e) {
            ++s.failed_starts;
            s.last_start_error = e.what();
            throw;
        }
    }
    return *s.server;
}

void ConfabTest::SetUp() {
    CONFAB_REQUIRE_DATABASE();
    auto& s = shared();
    if (s.server) {
        // Cheap liveness probe, so a server that crashed (or is still dumping core) during an
        // earlier test is replaced instead of failing every later test.
        bool alive = s.server->running();
        if (alive) {
            try {
                alive =
                    http(s.server->port(), "GET", "/healthz", std::nullopt, {}, std::chrono::seconds(5)).status == 200;
            } catch (const std::exception&) {
                alive = false;
            }
            if (!alive) {
                s.server->print_log_tail("stopped answering /healthz");
                s.server->kill();
            }
        }
        if (!alive) {
            s.server.reset();
            ADD_FAILURE() << "the shared confab server died or hung during an earlier test (see its log above); "
                             "restarted it";
        }
    }
    port_ = shared_server().port();
}

void ConfabTest::TearDown() {
    auto& s = shared();
    if (HasFailure() && s.server) s.server->print_log_tail("after failed test", 4096);
}

}  // namespace confab::test
