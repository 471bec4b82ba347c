// GET /healthz and GET /readyz, including a database outage.

#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "support/fixture.hpp"
#include "support/source_tree.hpp"

namespace confab::test {
namespace {

using HealthTest = ConfabTest;

TEST_F(HealthTest, HealthzIsOkWithoutAuth) {
    auto r = http(port(), "GET", "/healthz");
    ASSERT_TRUE(IsJson(r, 200));
    EXPECT_EQ(r.json(), json({{"status", "ok"}}));
    EXPECT_FALSE(r.header("x-request-id").empty()) << r.describe();
}

TEST_F(HealthTest, ReadyzIsReadyWithoutAuth) {
    auto r = http(port(), "GET", "/readyz");
    ASSERT_TRUE(IsJson(r, 200));
    EXPECT_EQ(r.json(), json({{"status", "ready"}}));
    EXPECT_FALSE(r.header("x-request-id").empty()) << r.describe();
}

TEST_F(HealthTest, EachRequestGetsAnIdOfItsOwn) {
    std::set<std::string> ids;
    for (int i = 0; i < 40; ++i) {
        const auto id = http(port(), "GET", "/healthz").header("x-request-id");
        EXPECT_EQ(id.size(), 16u) << id;
        EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
        ids.insert(id);
    }
    EXPECT_EQ(ids.size(), 40u) << "no id given twice, whichever I/O thread answered";
}

TEST_F(HealthTest, HealthEndpointsIgnoreAnInvalidToken) {
    auto headers = auth_header("definitely-not-a-token");
    EXPECT_EQ(http(port(), "GET", "/healthz", std::nullopt, headers).status, 200);
    EXPECT_EQ(http(port(), "GET", "/readyz", std::nullopt, headers).status, 200);
}

TEST_F(HealthTest, TheApiDocumentIsServedAsItIsInTheSourceWithoutAuth) {
    const auto r = http(port(), "GET", "/api/v1/openapi.yaml");
    ASSERT_EQ(r.status, 200) << r.describe();
    EXPECT_EQ(r.header("content-type"), "application/yaml; charset=utf-8");
    EXPECT_EQ(r.body, source_file("docs/openapi.yaml")) << "the document the build embedded is not docs/openapi.yaml";
    EXPECT_TRUE(IsError(http(port(), "POST", "/api/v1/openapi.yaml", "{}"), 405, "method_not_allowed"));
}

TEST_F(HealthTest, HealthPathsAreAnsweredAtTheRootAndUnderTheBasePathAlike) {
    for (const std::string prefix : {"", "/api/v1"}) {
        EXPECT_EQ(http(port(), "GET", prefix + "/healthz").json(), json({{"status", "ok"}})) << prefix;
        EXPECT_EQ(http(port(), "GET", prefix + "/readyz").json(), json({{"status", "ready"}})) << prefix;
    }
    EXPECT_TRUE(IsError(http(port(), "GET", "/api/healthz"), 404, "not_found"));
}

// The database goes away under a running server and comes back.
TEST(HealthOutageTest, ReadyzReports503WhileTheDatabaseIsDownAndRecovers) {
    CONFAB_REQUIRE_DATABASE();
    CONFAB_REQUIRE_PG_CONTROL();
    auto& db = shared_database();
    ServerProcess server(db.url(), ServerProcess::Options{{}, true, 30s, "outage confab"});
    auto user = register_user(server.port(), "hc");
    ASSERT_EQ(get(server.port(), user.token, "/api/v1/users/me").status, 200);

    PgStopGuard pg;
    ASSERT_NO_THROW(pg.stop());

    // /readyz notices the outage (it probes the database at most once a second).
    HttpResponse ready;
    const auto ready_status = [&](std::uint16_t port, int status) {
        return [&, port, status] {
            ready = http(port, "GET", "/readyz");
            return ready.status == status;
        };
    };
    eventually(ready_status(server.port(), 503), 10s);
    EXPECT_TRUE(IsError(ready, 503, "unavailable"));

    // The process is still up and says so.
    auto healthz = http(server.port(), "GET", "/healthz");
    EXPECT_EQ(healthz.status, 200) << healthz.describe();

    // A request that needs the database is refused with 503, not a crash or a hang.
    for (int i = 0; i < 3; ++i) {
        auto me = get(server.port(), user.token, "/api/v1/users/me");
        EXPECT_TRUE(IsError(me, 503, "unavailable")) << "attempt " << i;
    }
    auto login_attempt = http(server.port(), "POST", "/api/v1/auth/login",
                              json({{"username", user.username}, {"password", kPassword}}).dump());
    EXPECT_TRUE(IsError(login_attempt, 503, "unavailable"));
    ASSERT_TRUE(server.running()) << "the server died while the database was down";

    ASSERT_NO_THROW(pg.start());

    // /readyz comes back within ~15 s (the pool reconnects).
    ASSERT_TRUE(eventually(ready_status(server.port(), 200), 15s))
        << "readyz did not recover within 15 s of PostgreSQL restarting: " << ready.describe();
    EXPECT_EQ(ready.json(), json({{"status", "ready"}}));

    // Requests work again: every one of a series, so no stale pooled connection is left.
    for (int i = 0; i < 20; ++i) {
        auto me = get(server.port(), user.token, "/api/v1/users/me");
        EXPECT_EQ(me.status, 200) << "request " << i << " after recovery: " << me.describe();
    }
    auto other = register_user(server.port(), "hc");
    EXPECT_EQ(get(server.port(), other.token, "/api/v1/users/" + user.id).status, 200);
    EXPECT_EQ(server.terminate(10s), 0);

    // Leave the shared server (whose connections also died) ready for the rest of the suite.
    EXPECT_TRUE(eventually(ready_status(shared_server().port(), 200), 15s))
        << "the shared server did not recover: " << ready.describe();
}

}  // namespace
}  // namespace confab::test
