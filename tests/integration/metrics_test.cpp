// GET /metrics: the Prometheus text format, values that follow known traffic, and access
// limited to loopback clients or to holders of the metrics token.

#include "support/chat_api.hpp"
#include "support/fixture.hpp"
#include "support/media_fixtures.hpp"

#include <gtest/gtest.h>

namespace confab::test {
namespace {

constexpr auto sample = &metric_sample;

TEST(MetricsTest, CountersFollowAScriptedConversation) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(shared_database().url());
    const auto port = server.port();
    auto ana = register_user(port, "mt");
    auto ben = register_user(port, "mt");
    const std::string chat = create_group(port, ana, {ben.id})["id"];
    auto ben_ws = ws_connect(port, ben.token);
    for (int i = 0; i < 3; ++i) send_text(port, ana, chat, "rest " + std::to_string(i));
    auto ack = ben_ws->request("message.send", {{"chat_id", chat}, {"type", "text"}, {"content", "ws"}});
    ASSERT_EQ(ack["type"], "ack") << ack.dump();
    const auto png = media::png(8, 8, 1);
    auto headers = auth_header(ana.token);
    headers["Content-Type"] = "image/png";
    ASSERT_EQ(http(port, "POST", "/api/v1/messages/upload?chat_id=" + chat + "&kind=image", png, headers).status, 201);
    EXPECT_EQ(get(port, ana.token, "/api/v1/chats/" + random_uuid()).status, 404);

    auto response = http(port, "GET", "/metrics");
    ASSERT_EQ(response.status, 200) << response.body;
    EXPECT_EQ(response.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    const auto& text = response.body;
    EXPECT_NE(text.find("# TYPE confab_http_request_duration_seconds histogram"), std::string::npos);
    EXPECT_EQ(sample(text, R"(confab_http_requests_total{route="/api/v1/chats/{id}/messages",status="201"})"), 3);
    EXPECT_EQ(sample(text, R"(confab_http_requests_total{route="/api/v1/auth/register",status="201"})"), 2);
    EXPECT_EQ(sample(text, R"(confab_http_requests_total{route="/api/v1/chats/{id}",status="404"})"), 1);
    EXPECT_EQ(sample(text, R"(confab_http_request_duration_seconds_count{route="/api/v1/chats/{id}/messages"})"), 3);
    EXPECT_EQ(sample(text, R"(confab_messages_sent_total{type="text"})"), 4);
    EXPECT_EQ(sample(text, R"(confab_ws_frames_received_total{type="message.send"})"), 1);
    EXPECT_EQ(sample(text, R"(confab_connections_open{kind="websocket"})"), 1);
    EXPECT_EQ(sample(text, R"(confab_media_bytes_stored_total{kind="image"})"), static_cast<double>(png.size()));
    // Ben's connection got four message.new events (three REST, one his own) and an ack.
    EXPECT_GE(sample(text, "confab_fanout_deliveries_total").value_or(0), 4);
    EXPECT_GE(sample(text, "confab_ws_frames_sent_total").value_or(0), 5);
    EXPECT_GT(sample(text, "process_resident_memory_bytes").value_or(0), 1e6);
    EXPECT_GE(sample(text, "process_cpu_seconds_total").value_or(-1), 0);
    // Nothing holds a connection once the requests are answered; the presence heartbeat may
    // hold one for a moment, so polled.
    EXPECT_TRUE(eventually([&] { return sample(http(port, "GET", "/metrics").body, "confab_db_pool_in_use") == 0; }))
        << "a pool connection is still in use";

    ben_ws->close();
    EXPECT_TRUE(eventually([&] { return open_connections(port, "websocket") == 0; }))
        << "a closed WebSocket is still counted";
}

TEST(MetricsTest, ATokenGuardsTheEndpointWhenConfigured) {
    CONFAB_REQUIRE_DATABASE();
    const std::string token = "metrics-token-0123456789";
    ServerProcess server(shared_database().url(), std::map<std::string, std::string>{{"CONFAB_METRICS_TOKEN", token}});
    EXPECT_TRUE(IsError(http(server.port(), "GET", "/metrics"), 401, "unauthorized"));
    EXPECT_TRUE(IsError(http(server.port(), "GET", "/metrics", std::nullopt, auth_header("wrong-token-0123456789")),
                        403, "forbidden"));
    auto allowed = http(server.port(), "GET", "/metrics", std::nullopt, auth_header(token));
    EXPECT_EQ(allowed.status, 200);
    EXPECT_NE(allowed.body.find("confab_http_requests_total"), std::string::npos);
}

}  // namespace
}  // namespace confab::test
