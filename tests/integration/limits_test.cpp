// The message rate limit of PROTOCOL.md's Conventions: per user, REST and WebSocket
// together, answered with 429, Retry-After and details.retry_after_ms; the WebSocket stays
// open. (Sign-in attempts per address: auth_test.cpp.)

#include "support/chat_api.hpp"
#include "support/fixture.hpp"

#include <gtest/gtest.h>

namespace confab::test {
namespace {

::testing::AssertionResult IsRateLimited(const HttpResponse& r) {
    auto shape = IsError(r, 429, "rate_limited");
    if (!shape) return shape;
    const auto retry_ms = r.json()["error"]["details"].value("retry_after_ms", -1);
    if (retry_ms <= 0) return ::testing::AssertionFailure() << "no details.retry_after_ms: " << r.body;
    const auto header = r.header("retry-after");
    if (header.empty() || std::stoll(header) * 1000 < retry_ms)
        return ::testing::AssertionFailure() << "Retry-After '" << header << "' for " << retry_ms << " ms";
    return ::testing::AssertionSuccess();
}

TEST(LimitsTest, MessagesPerUserShareOneBucketAcrossRestAndWebSocket) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(shared_database().url(),
                         std::map<std::string, std::string>{{"CONFAB_LIMIT_MESSAGE_BURST", "3"},
                                                            {"CONFAB_LIMIT_MESSAGE_RATE", "0.5"}});
    const auto port = server.port();
    auto ana = register_user(port, "rl");
    auto ben = register_user(port, "rl");
    const std::string chat = create_direct(port, ana, ben)["id"];

    EXPECT_EQ(send_message(port, ana, chat, {{"type", "text"}, {"content", "1"}}).status, 201);
    EXPECT_EQ(send_message(port, ana, chat, {{"type", "text"}, {"content", "2"}}).status, 201);
    auto ws = ws_connect(port, ana.token);
    auto third = ws->request("message.send", {{"chat_id", chat}, {"type", "text"}, {"content", "3"}});
    EXPECT_EQ(third["type"], "ack") << third.dump();

    auto over_ws = ws->request("message.send", {{"chat_id", chat}, {"type", "text"}, {"content", "4"}});
    EXPECT_TRUE(IsWsError(over_ws, "rate_limited")) << over_ws.dump();
    EXPECT_GT(over_ws["error"]["details"].value("retry_after_ms", 0), 0) << over_ws.dump();
    EXPECT_TRUE(IsRateLimited(send_message(port, ana, chat, {{"type", "text"}, {"content", "5"}})));

    // The connection stays usable and other users are not affected.
    EXPECT_EQ(ws->request("ping", json::object())["type"], "ack");
    EXPECT_EQ(send_message(port, ben, chat, {{"type", "text"}, {"content", "ben"}}).status, 201);
    // Nothing over the limit was stored.
    EXPECT_EQ(seqs_of(all_messages(port, ben, chat)), (std::vector<std::int64_t>{1, 2, 3, 4}));
}

}  // namespace
}  // namespace confab::test
