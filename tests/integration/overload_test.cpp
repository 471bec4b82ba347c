// Overload and outage protection (issue #13): the total connection cap, the database outage
// with back-off, bad-token limits, the token cache and logout, and the cached readiness probe.

#include "support/fixture.hpp"

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <algorithm>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace confab::test {
namespace {

// How many lines of `log` contain `text`.
std::size_t lines_with(const std::string& log, const std::string& text) {
    std::istringstream lines(log);
    std::size_t count = 0;
    for (std::string line; std::getline(lines, line);)
        if (line.find(text) != std::string::npos) ++count;
    return count;
}

// Well-formed (43 characters of the token alphabet) but issued to nobody.
std::string unknown_token() { return random_alnum(43); }

// A 429 that says when to come back (PROTOCOL.md).
::testing::AssertionResult IsRateLimited(const HttpResponse& r) {
    if (auto shape = IsError(r, 429, "rate_limited"); !shape) return shape;
    if (r.header("retry-after").empty()) return ::testing::AssertionFailure() << "no Retry-After: " << r.describe();
    return ::testing::AssertionSuccess();
}

// A 503 that says when to come back (PROTOCOL.md).
::testing::AssertionResult IsUnavailableWithRetryAfter(const HttpResponse& r) {
    if (auto shape = IsError(r, 503, "unavailable"); !shape) return shape;
    if (r.header("retry-after").empty()) return ::testing::AssertionFailure() << "no Retry-After: " << r.describe();
    return ::testing::AssertionSuccess();
}

TEST(OverloadTest, ConnectionsPastTheTotalCapAreRefusedWith503UntilOneCloses) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(shared_database().url(),
                         std::map<std::string, std::string>{{"CONFAB_OVERLOAD_CONNECTIONS_TOTAL", "3"}});
    const auto port = server.port();
    auto ana = register_user(port, "oc");
    std::vector<std::unique_ptr<WsClient>> held;
    // Each place is given back once the server has closed the connection before it, which
    // may be a moment after its response arrived.
    while (held.size() < 3) {
        ASSERT_TRUE(eventually([&] {
            auto ws = WsClient::connect(port, "/api/v1/ws", auth_header(ana.token));
            if (!ws.ok()) return false;
            held.push_back(std::move(ws.client));
            return true;
        })) << "connection "
            << held.size() + 1 << " of 3 is within the cap";
    }

    // The fourth is answered before anything is read from it, and closed; like every response,
    // each refusal carries a request id of its own.
    std::set<std::string> request_ids;
    const std::regex request_id_line("\r\nX-Request-Id: ([0-9a-f]{16})\r\n");
    for (int i = 0; i < 3; ++i) {
        const auto answer = raw_exchange(port, "", 10s);
        EXPECT_TRUE(answer.starts_with("HTTP/1.1 503 ")) << answer;
        EXPECT_NE(answer.find("Retry-After: "), std::string::npos) << answer;
        EXPECT_NE(answer.find(R"("code":"unavailable")"), std::string::npos) << answer;
        std::smatch id;
        EXPECT_TRUE(std::regex_search(answer, id, request_id_line)) << answer;
        if (!id.empty()) request_ids.insert(id[1]);
    }
    EXPECT_EQ(request_ids.size(), 3u) << "a new id for each refusal";
    EXPECT_EQ(held.front()->request("ping", json::object())["type"], "ack") << "open connections are untouched";
    EXPECT_EQ(lines_with(server.log_contents(), "refusing new ones with 503"), 1u) << "logged once, not per connection";

    held.pop_back();
    EXPECT_TRUE(eventually([&] { return http(port, "GET", "/healthz").status == 200; }))
        << "a closed connection frees its place";
    EXPECT_TRUE(eventually([&] { return lines_with(server.log_contents(), "below the connection cap again") == 1; }));
}

// The open-file limit of this process while it lives, which a server started meanwhile inherits.
class DescriptorLimit {
public:
    explicit DescriptorLimit(rlim_t soft) {
        ::getrlimit(RLIMIT_NOFILE, &saved_);
        rlimit lowered = saved_;
        lowered.rlim_cur = std::min(soft, saved_.rlim_max);
        ::setrlimit(RLIMIT_NOFILE, &lowered);
    }
    ~DescriptorLimit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
    DescriptorLimit(const DescriptorLimit&) = delete;
    DescriptorLimit& operator=(const DescriptorLimit&) = delete;

private:
    rlimit saved_{};
};

TEST(OverloadTest, ACapTheDescriptorLimitCannotHoldIsRefusedAtStart) {
    CONFAB_REQUIRE_DATABASE();
    std::optional<ServerProcess> started;
    {
        DescriptorLimit limit(1024);
        started.emplace(shared_database().url(),
                        ServerProcess::Options{{{"CONFAB_OVERLOAD_CONNECTIONS_TOTAL", "1000"}}, false});
    }
    auto& server = *started;
    const auto status = server.wait_exit(30s);
    ASSERT_TRUE(status) << "the server kept running with a cap above RLIMIT_NOFILE";
    EXPECT_NE(*status, 0);
    EXPECT_NE(server.log_contents().find("overload.connections_total (CONFAB_OVERLOAD_CONNECTIONS_TOTAL)"),
              std::string::npos)
        << server.log_tail();
}

// While PostgreSQL is down, requests fail at once with 503 and Retry-After, the pool knocks
// with back-off instead of once per request, and the outage is logged once when it starts
// and once when it ends.
TEST(OverloadTest, ADatabaseOutageIsLoggedOnceAndRequestsFailFastUntilItEnds) {
    CONFAB_REQUIRE_DATABASE();
    CONFAB_REQUIRE_PG_CONTROL();
    ServerProcess server(shared_database().url(),
                         std::map<std::string, std::string>{{"CONFAB_OVERLOAD_DB_RECONNECT_MAX_MS", "1000"}});
    const auto port = server.port();
    auto user = register_user(port, "oo");
    ASSERT_EQ(get(port, user.token, "/api/v1/users/me").status, 200);

    PgStopGuard pg;
    ASSERT_NO_THROW(pg.stop());
    const auto attempts_before = metric(port, "confab_db_connect_attempts_total");
    constexpr int requests = 200;
    for (int i = 0; i < requests; ++i) {
        const auto me = get(port, user.token, "/api/v1/users/me");
        ASSERT_TRUE(IsUnavailableWithRetryAfter(me)) << "request " << i;
    }
    const auto ready = http(port, "GET", "/readyz");
    EXPECT_TRUE(IsUnavailableWithRetryAfter(ready));
    const auto attempts = metric(port, "confab_db_connect_attempts_total") - attempts_before;
    // Once per back-off step (100 ms doubling to 1 s), not once per request: 50 attempts
    // would take the steps more than 40 s.
    EXPECT_LT(attempts, requests / 4) << "connection attempts during the outage";

    // Debug and info lines reach the file within a second; errors at once.
    EXPECT_TRUE(eventually([&] { return lines_with(server.log_contents(), "unavailable: database unreachable") > 0; }))
        << "a 503 of /readyz logs its reason";
    const auto log = server.log_contents();
    EXPECT_EQ(lines_with(log, "database outage: cannot connect"), 1u);
    std::istringstream lines(log);
    for (std::string line; std::getline(lines, line);)
        EXPECT_FALSE(line.ends_with("failed: ")) << "a failure logged without its reason: " << line;

    ASSERT_NO_THROW(pg.start());
    EXPECT_TRUE(eventually([&] { return get(port, user.token, "/api/v1/users/me").status == 200; }, 20s))
        << "service resumes once PostgreSQL is back";
    EXPECT_TRUE(eventually([&] { return http(port, "GET", "/readyz").status == 200; }, 20s));
    EXPECT_TRUE(eventually([&] { return lines_with(server.log_contents(), "database outage over") == 1; }));
    EXPECT_EQ(lines_with(server.log_contents(), "database outage: cannot connect"), 1u) << "one outage, one line";

    // The shared server lost its connections too: leave it ready for the rest of the suite.
    auto& shared = shared_server();
    EXPECT_TRUE(eventually([&] { return http(shared.port(), "GET", "/readyz").status == 200; }, 20s));
}

TEST(OverloadTest, BadTokensFromOneAddressAreRateLimitedBeforeTheyCostAQuery) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(shared_database().url(),
                         std::map<std::string, std::string>{{"CONFAB_OVERLOAD_FAILED_AUTH_PER_IP_PER_MINUTE", "5"},
                                                            {"CONFAB_OVERLOAD_TOKEN_CACHE_SECONDS", "60"}});
    const auto port = server.port();
    auto user = register_user(port, "ob");
    ASSERT_EQ(get(port, user.token, "/api/v1/users/me").status, 200);

    for (int i = 0; i < 5; ++i)
        EXPECT_TRUE(IsError(get(port, unknown_token(), "/api/v1/users/me"), 401, "unauthorized")) << i;
    const auto lookups = metric(port, "confab_auth_token_lookups_total{source=\"database\"}");
    const auto refused = get(port, unknown_token(), "/api/v1/users/me");
    EXPECT_TRUE(IsRateLimited(refused)) << refused.describe();
    EXPECT_NE(refused.json()["error"]["message"].get<std::string>().find("from this address"), std::string::npos);
    const auto ws = WsClient::connect(port, "/api/v1/ws", auth_header(unknown_token()));
    EXPECT_EQ(ws.status, 429) << ws.body << ws.error;
    EXPECT_EQ(metric(port, "confab_auth_token_lookups_total{source=\"database\"}"), lookups)
        << "a refused token costs no query";
    EXPECT_EQ(get(port, user.token, "/api/v1/users/me").status, 200) << "a known token is not held back";
}

TEST(OverloadTest, BadTokensFromEveryoneHaveAnOverallLimit) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(shared_database().url(),
                         std::map<std::string, std::string>{{"CONFAB_OVERLOAD_FAILED_AUTH_PER_MINUTE", "3"}});
    const auto port = server.port();
    for (int i = 0; i < 3; ++i)
        EXPECT_TRUE(IsError(get(port, unknown_token(), "/api/v1/users/me"), 401, "unauthorized")) << i;
    const auto refused = get(port, unknown_token(), "/api/v1/users/me");
    EXPECT_TRUE(IsRateLimited(refused)) << refused.describe();
    EXPECT_EQ(refused.json()["error"]["message"], "too many invalid tokens; retry later");
}

TEST(OverloadTest, ValidTokensAreCachedAndLogoutEndsThemAtOnce) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(shared_database().url(),
                         std::map<std::string, std::string>{{"CONFAB_OVERLOAD_TOKEN_CACHE_SECONDS", "60"}});
    const auto port = server.port();
    auto user = register_user(port, "ot");
    const auto cached = "confab_auth_token_lookups_total{source=\"cache\"}";
    const auto looked_up = "confab_auth_token_lookups_total{source=\"database\"}";
    ASSERT_EQ(get(port, user.token, "/api/v1/users/me").status, 200);
    const auto cached_before = metric(port, cached), looked_up_before = metric(port, looked_up);
    for (int i = 0; i < 10; ++i) ASSERT_EQ(get(port, user.token, "/api/v1/users/me").status, 200);
    EXPECT_EQ(metric(port, cached) - cached_before, 10);
    EXPECT_EQ(metric(port, looked_up), looked_up_before) << "a cached token costs no query";

    auto ws = ws_connect(port, user.token);
    ASSERT_EQ(post(port, user.token, "/api/v1/auth/logout").status, 204);
    EXPECT_EQ(ws->wait_for_close(), 4001);
    EXPECT_TRUE(IsError(get(port, user.token, "/api/v1/users/me"), 401, "unauthorized"))
        << "a logged-out token must not work even once";
    EXPECT_EQ(WsClient::connect(port, "/api/v1/ws", auth_header(user.token)).status, 401);
}

TEST(OverloadTest, ReadyzProbesTheDatabaseAtMostOncePerInterval) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(shared_database().url(),
                         std::map<std::string, std::string>{{"CONFAB_OVERLOAD_READY_PROBE_INTERVAL_MS", "600000"}});
    const auto port = server.port();
    const auto probes = metric(port, "confab_readiness_probes_total");
    for (int i = 0; i < 50; ++i) ASSERT_EQ(http(port, "GET", "/readyz").status, 200) << i;
    EXPECT_EQ(metric(port, "confab_readiness_probes_total") - probes, 1);
}

}  // namespace
}  // namespace confab::test
