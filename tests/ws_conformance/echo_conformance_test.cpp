// RFC 6455 conformance: the Autobahn|Testsuite server cases (fuzzing_client.py beside this
// file) against the real confab binary's echo WebSocket (server.ws_echo_path), which runs on
// the same session code as /api/v1/ws. The case report is printed; any failed case fails
// this test.

#include "support/server.hpp"

#include <spawn.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

extern char** environ;

namespace confab::test {
namespace {

constexpr const char* echo_path = "/conformance/echo";
// Section 9 sends messages of up to 16 MiB; the echo obeys limits.frame_bytes like /api/v1/ws.
constexpr const char* largest_case_message = "16777216";
// Debian's interpreter: the one python3-autobahn is installed for.
constexpr const char* python = "/usr/bin/python3";

// Runs a program with this process's stdout and stderr; its exit status, or -1 if it cannot start.
int run(std::vector<std::string> arguments) {
    std::vector<char*> argv;
    for (auto& argument : arguments) argv.push_back(argument.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    if (::posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return -1;
    int status = 0;
    ::waitpid(pid, &status, 0);
    return decode_wait_status(status);
}

TEST(WsConformance, AutobahnServerCasesPassOnTheEchoPath) {
    CONFAB_REQUIRE_DATABASE();
    const char* source_dir = std::getenv("CONFAB_SOURCE_DIR");
    ASSERT_NE(source_dir, nullptr) << "CONFAB_SOURCE_DIR is not set (the repository root)";
    TestDatabase database;
    ServerProcess server(database.url(), {{"CONFAB_WS_ECHO_PATH", echo_path},
                                          {"CONFAB_LIMIT_FRAME_BYTES", largest_case_message},
                                          {"CONFAB_LOG_LEVEL", "info"}});
    const auto client = std::filesystem::path(source_dir) / "tests" / "ws_conformance" / "fuzzing_client.py";
    const auto url = "ws://127.0.0.1:" + std::to_string(server.port()) + echo_path;
    EXPECT_EQ(run({python, client.string(), url}), 0)
        << "a conformance case failed (see the report above), or the client could not run (exit status 2)";
}

}  // namespace
}  // namespace confab::test
