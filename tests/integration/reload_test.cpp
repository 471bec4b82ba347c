// SIGHUP reloads the log level from the config file without a restart.

#include "support/fixture.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <thread>

namespace confab::test {
namespace {

TEST(ReloadTest, SighupReloadsTheLogLevelFromTheConfigFile) {
    CONFAB_REQUIRE_DATABASE();
    const auto file = std::filesystem::temp_directory_path() / ("confab-reload-" + random_alnum(8) + ".toml");
    auto write_level = [&](const std::string& level) { std::ofstream(file) << "[log]\nlevel = \"" << level << "\"\n"; };
    write_level("warn");
    ServerProcess::Options options;
    options.args = {"--config", file.string()};
    options.unset_env = {"CONFAB_LOG_LEVEL"};  // the fixture's level would override the file's
    options.name = "reload confab";
    ServerProcess server(shared_database().url(), options);
    const auto marker = [&](const std::string& id) {
        return server.log_contents().find("request_id=" + id) != std::string::npos;
    };
    http(server.port(), "GET", "/healthz", std::nullopt, {{"X-Request-Id", "before-reload"}});

    write_level("info");
    ASSERT_EQ(::kill(server.pid(), SIGHUP), 0);
    EXPECT_TRUE(eventually([&] {
        http(server.port(), "GET", "/healthz", std::nullopt, {{"X-Request-Id", "after-reload"}});
        return marker("after-reload");
    })) << server.log_contents();
    // The log is written in order, so a line for the earlier request would be in by now.
    EXPECT_FALSE(marker("before-reload")) << "info lines are not logged at warn";

    write_level("loud");  // an invalid file is refused and the running level kept
    ASSERT_EQ(::kill(server.pid(), SIGHUP), 0);
    EXPECT_TRUE(eventually([&] { return server.log_contents().find("reload refused") != std::string::npos; }));
    EXPECT_TRUE(server.running());
    std::filesystem::remove(file);
}

}  // namespace
}  // namespace confab::test
