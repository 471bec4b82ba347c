#pragma once

// A private HAProxy (Debian's package) in front of Confab nodes on loopback, for the cluster
// tests: what docker-compose.cluster.yml runs with config/haproxy.cfg, checking the nodes
// every 100 ms so that a killed node leaves the rotation at once (a check may take 2 s to be
// answered: a slow answer is not a dead node).

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace confab::test {

// Skips the current test when haproxy is not installed.
#define CONFAB_REQUIRE_HAPROXY()                                                               \
    do {                                                                                       \
        if (!::confab::test::HaProxy::installed()) GTEST_SKIP() << "haproxy is not installed"; \
    } while (0)

// haproxy on a loopback port the system picks (HAProxy refuses port 0, so the test binds the
// socket and hands it down as `fd@3`), in a temp dir of its own, round robin over
// `node_ports`; stopped by its pid.
class HaProxy {
public:
    static bool installed();

    // Started, once its own health checks (/readyz) passed on every node; throws
    // std::runtime_error when they do not within 30 s.
    explicit HaProxy(const std::vector<std::uint16_t>& node_ports);
    ~HaProxy();
    HaProxy(const HaProxy&) = delete;
    HaProxy& operator=(const HaProxy&) = delete;

    std::uint16_t port() const { return port_; }
    std::string log_tail() const;

private:
    std::filesystem::path dir_;
    pid_t pid_ = -1;
    std::uint16_t port_ = 0;
};

}  // namespace confab::test
