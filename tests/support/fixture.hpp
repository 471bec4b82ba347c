#pragma once

// One confab server and one fresh database per test binary, started lazily by the first
// test that needs them and torn down by a gtest Environment at the end of the run.
// Tests that need a server of their own (signals, special limits, database outages)
// construct a ServerProcess against shared_database_url().

#include <cstdint>
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

}  // namespace confab::test
