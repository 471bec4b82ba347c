// Rate limits and connection caps (PROTOCOL.md Conventions, docs/api.md "Limits"): per-user
// budgets for messages, typing, uploads and every other request, shared by REST and
// WebSocket, answered with 429, Retry-After and details.retry_after_ms while the WebSocket
// stays open; caps on open WebSockets per user and TCP connections per address.
// (Sign-in attempts per address: auth_test.cpp.)

#include "support/chat_api.hpp"
#include "support/fixture.hpp"
#include "support/media_fixtures.hpp"

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

// Every authenticated request and frame spends the request budget: REST and WebSocket together.
TEST(LimitsTest, RequestBudgetIsSharedByRestAndWebSocket) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(shared_database().url(),
                         std::map<std::string, std::string>{{"CONFAB_LIMIT_REQUEST_BURST", "6"},
                                                            {"CONFAB_LIMIT_REQUEST_RATE", "0.05"}});
    const auto port = server.port();
    auto ana = register_user(port, "rq");
    auto ben = register_user(port, "rq");
    const std::string chat = create_direct(port, ben, ana)["id"];  // ben's budget

    auto ws = ws_connect(port, ana.token);                                                      // 1: the upgrade
    EXPECT_EQ(get(port, ana.token, "/api/v1/chats").status, 200);                               // 2
    EXPECT_EQ(get(port, ana.token, "/api/v1/chats").status, 200);                               // 3
    for (int i = 0; i < 3; ++i) EXPECT_EQ(ws->request("ping", json::object())["type"], "ack");  // 4-6

    const auto id = ws->next_request_id();
    ws->send_json({{"type", "ping"}, {"id", id}});
    const auto refused = ws->receive_type("error");
    EXPECT_TRUE(IsWsError(refused, "rate_limited", id)) << refused.value_or(json()).dump();
    EXPECT_GT((*refused)["error"]["details"].value("retry_after_ms", 0), 0);
    ws->send_text("{not json");  // malformed frames spend the budget too
    EXPECT_TRUE(IsWsError(ws->receive_type("error"), "rate_limited"));
    EXPECT_TRUE(IsRateLimited(get(port, ana.token, "/api/v1/chats")));

    // Another user's budget is untouched, and the refused user's WebSocket still delivers.
    const auto sent = send_text(port, ben, chat, "still there?");
    EXPECT_TRUE(wait_for(*ws, "message.new", about_message(sent["id"]))) << "the WebSocket stays open";
    EXPECT_TRUE(ws->is_open());
}

TEST(LimitsTest, TypingEventsHaveTheirOwnBudget) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(shared_database().url(),
                         std::map<std::string, std::string>{{"CONFAB_LIMIT_TYPING_BURST", "2"},
                                                            {"CONFAB_LIMIT_TYPING_RATE", "0.05"}});
    const auto port = server.port();
    auto ana = register_user(port, "ty");
    auto ben = register_user(port, "ty");
    const std::string chat = create_direct(port, ana, ben)["id"];
    auto ws = ws_connect(port, ana.token);
    // No ping first: the server joins a connection to the hub before its 101, so even a slow
    // server (AddressSanitizer) cannot let the watcher miss the first typing.update.
    auto watcher = ws_connect(port, ben.token);

    EXPECT_TRUE(IsAck(ws->request("typing.start", {{"chat_id", chat}})));
    EXPECT_TRUE(IsAck(ws->request("typing.stop", {{"chat_id", chat}})));
    EXPECT_TRUE(IsWsError(ws->request("typing.start", {{"chat_id", chat}}), "rate_limited"));
    for (const bool is_typing : {true, false}) {
        const auto update = watcher->receive_type("typing.update");
        ASSERT_TRUE(update);
        EXPECT_EQ((*update)["data"]["is_typing"], is_typing) << update->dump();
    }
    // Typing refusals leave messages alone; the message's event is also the marker before which
    // the refused typing.start would have been announced.
    const auto sent = ws->request("message.send", {{"chat_id", chat}, {"type", "text"}, {"content", "hi"}});
    ASSERT_TRUE(IsAck(sent)) << sent.dump();
    EXPECT_TRUE(NoFrameBefore(*watcher, frame_of("typing.update"),
                              frame_of("message.new", about_message(sent["data"]["message"]["id"]))))
        << "the refused typing.start was not announced";
}

// The upload budget is checked on the header: a refused upload is answered before its body.
TEST(LimitsTest, UploadsAreRefusedBeforeTheirBody) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(shared_database().url(),
                         std::map<std::string, std::string>{{"CONFAB_LIMIT_UPLOAD_BURST", "1"},
                                                            {"CONFAB_LIMIT_UPLOAD_RATE", "0.01"}});
    const auto port = server.port();
    auto ana = register_user(port, "up");
    auto ben = register_user(port, "up");
    const std::string chat = create_direct(port, ana, ben)["id"];
    const std::string target = "/api/v1/messages/upload?chat_id=" + chat + "&kind=file";
    auto headers = auth_header(ana.token);
    headers["Content-Type"] = "text/plain";
    EXPECT_EQ(http(port, "POST", target, media::text(1), headers).status, 201);
    EXPECT_TRUE(IsRateLimited(http(port, "POST", target, media::text(2), headers)));
    EXPECT_EQ(http(port, "POST", target, media::text(3), auth_header(ben.token)).status, 201)
        << "another user's budget is untouched";

    // Only the header is sent: the refusals arrive without waiting for the promised 20 MB.
    const auto head_only = [&](const std::string& authorization) {
        return raw_exchange(port,
                            "POST " + target + " HTTP/1.1\r\nHost: x\r\n" + authorization +
                                "Content-Type: text/plain\r\nContent-Length: 20000000\r\n\r\n",
                            3s);
    };
    EXPECT_NE(head_only("Authorization: Bearer " + ana.token + "\r\n").find(" 429 "), std::string::npos);
    EXPECT_NE(head_only("").find(" 401 "), std::string::npos);
}

TEST(LimitsTest, WebSocketsPerUserAreCapped) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(shared_database().url(),
                         std::map<std::string, std::string>{{"CONFAB_LIMIT_CONNECTIONS_PER_USER", "2"}});
    const auto port = server.port();
    auto ana = register_user(port, "cu");
    auto ben = register_user(port, "cu");
    auto first = ws_connect(port, ana.token);
    auto second = ws_connect(port, ana.token);

    auto third = WsClient::connect(port, "/api/v1/ws", auth_header(ana.token));
    ASSERT_FALSE(third.ok());
    EXPECT_EQ(third.status, 429);
    EXPECT_EQ(third.json()["error"]["code"], "rate_limited") << third.body;
    EXPECT_GT(third.json()["error"]["details"].value("retry_after_ms", 0), 0) << third.body;
    EXPECT_FALSE(third.headers["retry-after"].empty());
    EXPECT_TRUE(ws_connect(port, ben.token)->is_open()) << "other users have their own cap";
    EXPECT_EQ(first->request("ping", json::object())["type"], "ack") << "open sockets are untouched";

    second->close();
    EXPECT_TRUE(eventually([&] { return WsClient::connect(port, "/api/v1/ws", auth_header(ana.token)).ok(); }))
        << "a closed WebSocket frees its place";
}

TEST(LimitsTest, ConnectionsPerAddressAreCapped) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(shared_database().url(),
                         std::map<std::string, std::string>{{"CONFAB_LIMIT_CONNECTIONS_PER_IP", "3"}});
    const auto port = server.port();
    auto ana = register_user(port, "ci");
    std::vector<std::unique_ptr<WsClient>> held;
    held.push_back(ws_connect(port, ana.token));
    held.push_back(ws_connect(port, ana.token));
    EXPECT_EQ(http(port, "GET", "/healthz").status, 200) << "the third connection is within the cap";
    // That connection's place is given back once the server has closed it, which may be a
    // moment after its response arrived.
    ASSERT_TRUE(eventually([&] {
        auto third = WsClient::connect(port, "/api/v1/ws", auth_header(ana.token));
        if (!third.ok()) return false;
        held.push_back(std::move(third.client));
        return true;
    })) << "the third connection, once the second has closed";

    const auto refused = http(port, "GET", "/healthz");
    EXPECT_TRUE(IsRateLimited(refused));
    EXPECT_EQ(refused.header("connection"), "close");
    EXPECT_EQ(held.front()->request("ping", json::object())["type"], "ack") << "open connections are untouched";

    held.pop_back();
    EXPECT_TRUE(eventually([&] { return http(port, "GET", "/healthz").status == 200; }))
        << "a closed connection frees its place";
}

}  // namespace
}  // namespace confab::test
