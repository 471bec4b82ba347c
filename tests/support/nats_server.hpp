#pragma once

// A private nats-server (Debian's package) for the cluster tests.

#include <sys/types.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace confab::test {

// Skips the current test when nats-server is not installed.
#define CONFAB_REQUIRE_NATS()                                                                         \
    do {                                                                                              \
        if (!::confab::test::NatsServer::installed()) GTEST_SKIP() << "nats-server is not installed"; \
    } while (0)

// nats-server on a loopback port the system picks, in a temp dir of its own; stopped by its
// pid. stop() and start() keep the port, so the nodes' clients find it again.
class NatsServer {
public:
    static bool installed();

    NatsServer();  // started; throws std::runtime_error when it does not come up
    ~NatsServer();
    NatsServer(const NatsServer&) = delete;
    NatsServer& operator=(const NatsServer&) = delete;

    const std::string& url() const { return url_; }  // nats://127.0.0.1:<port>
    void stop();                                     // SIGTERM and reap
    void kill();                                     // SIGKILL and reap: it dies, as in a crash
    void start();                                    // again, on the same port
    void pause();                                    // SIGSTOP: there, but answering nobody
    void resume();                                   // SIGCONT
    std::string log_tail() const;

private:
    std::filesystem::path dir_;
    std::string port_ = "-1";  // the system's choice until the first start reports it
    std::string url_;
    pid_t pid_ = -1;
};

}  // namespace confab::test
