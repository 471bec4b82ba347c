#pragma once

// Environment (ctest passes the first one; the others come from whoever runs the suite):
//   CONFAB_BIN                 path of the confab binary under test
//   CONFAB_TEST_DATABASE_URL   superuser URL ending in /postgres, e.g.
//                              postgresql://postgres@127.0.0.1:56432/postgres (unset: tests skip)
//   CONFAB_TEST_PG_STOP/START  shell commands that stop/start that PostgreSQL (unset: outage tests skip)
//   CONFAB_TEST_KEEP_TMP       set to keep every server's temp dir (log, media); by default only
//                              those of failed tests or crashed servers are kept
//
// One confab server and one fresh database per test process, started lazily by the first
// test that needs them and torn down by a gtest Environment at the end of the run. ctest
// starts one process per test file (tests/CMakeLists.txt), so files never share them and
// run in parallel.
// Tests that need a server of their own (signals, special limits, database outages)
// construct a ServerProcess against shared_database_url().

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "support/api.hpp"
#include "support/client.hpp"
#include "support/server.hpp"

namespace confab::test {

// The suite-wide database and server (created on first use). Throw if they cannot start.
TestDatabase& shared_database();
ServerProcess& shared_server();

class ConfabTest : public ::testing::Test {
protected:
    // Skips when CONFAB_TEST_DATABASE_URL is unset; starts the shared server if needed and
    // restarts it (recording a failure) if it died during an earlier test.
    void SetUp() override;
    // Prints the shared server's log tail when the test failed.
    void TearDown() override;

    std::uint16_t port() const { return port_; }
    ServerProcess& server() const { return shared_server(); }
    const std::string& database_url() const { return shared_database().url(); }

private:
    std::uint16_t port_ = 0;
};

// Every rate budget out of the way, for a suite that makes hundreds of requests from one user
// and one address on purpose.
std::map<std::string, std::string> unlimited();

// A suite with a database and a server of its own, started once for the whole suite with
// the environment `environment()` gives (its limits, the addresses of fake providers, ...).
template <std::map<std::string, std::string> (*environment)()>
class OwnServerSuite : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (!TestDatabase::configured()) return;
        database_ = std::make_unique<TestDatabase>();
        server_ = std::make_unique<ServerProcess>(database_->url(), environment());
    }
    static void TearDownTestSuite() {
        server_.reset();
        database_.reset();
    }
    void SetUp() override { CONFAB_REQUIRE_DATABASE(); }
    static std::uint16_t port() { return server_->port(); }

    static inline std::unique_ptr<TestDatabase> database_;
    static inline std::unique_ptr<ServerProcess> server_;
};

}  // namespace confab::test
