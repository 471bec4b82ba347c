// GET /api/v1/ws: authentication on the upgrade, the frame envelope, ping, error frames
// and protocol-level closes.

#include <set>
#include <string>

#include <gtest/gtest.h>

#include "support/fixture.hpp"

namespace confab::test {
namespace {

using WsTest = ConfabTest;

// Sends a ping with an id and succeeds when the next frame is its ack: nothing was queued on
// the connection before it (a connection's replies go out in the order of its requests).
::testing::AssertionResult NothingQueuedBeforeAPing(WsClient& ws) {
    const auto id = ws.next_request_id();
    ws.send_json({{"type", "ping"}, {"id", id}});
    auto f = ws.receive_frame();
    if (!f) return ::testing::AssertionFailure() << "no reply to a ping (close " << ws.close_code().value_or(-1) << ")";
    if (!f->json || f->json->value("id", "") != id || f->json->value("type", "") != "ack")
        return ::testing::AssertionFailure() << "unexpected frame before the ping's ack: " << f->raw.substr(0, 500);
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult StillAnswersPing(WsClient& ws) {
    try {
        auto ack = ws.request("ping");
        if (ack != json({{"type", "ack"}, {"id", ack["id"]}, {"data", json::object()}}))
            return ::testing::AssertionFailure() << "unexpected ping reply: " << ack.dump();
        return ::testing::AssertionSuccess();
    } catch (const std::exception& e) {
        return ::testing::AssertionFailure() << e.what();
    }
}

// ---------------------------------------------------------------------------------------------
// upgrade and auth

TEST_F(WsTest, ConnectsWithBearerHeaderAndAnswersPing) {
    auto u = register_user(port(), "wh");
    auto c = WsClient::connect(port(), "/api/v1/ws", auth_header(u.token));
    ASSERT_TRUE(c.ok()) << c.status << " " << c.body << " " << c.error;
    c.client->send_text(R"({"type":"ping","id":"p1"})");
    auto reply = c.client->receive();
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(*reply, json({{"type", "ack"}, {"id", "p1"}, {"data", json::object()}}));
}

TEST_F(WsTest, ConnectsWithAccessTokenQueryParameter) {
    auto u = register_user(port(), "wq");
    auto c = WsClient::connect(port(), "/api/v1/ws?access_token=" + url_encode(u.token));
    ASSERT_TRUE(c.ok()) << c.status << " " << c.body << " " << c.error;
    EXPECT_TRUE(StillAnswersPing(*c.client));
}

TEST_F(WsTest, PingWithDataObjectIsAcked) {
    auto u = register_user(port(), "wd");
    auto ws = ws_connect(port(), u.token);
    ws->send_json({{"type", "ping"}, {"id", "with-data"}, {"data", json::object()}});
    auto reply = ws->receive();
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(*reply, json({{"type", "ack"}, {"id", "with-data"}, {"data", json::object()}}));
}

TEST_F(WsTest, UpgradeWithoutOrWithBadTokenIs401WithErrorBody) {
    auto u = register_user(port(), "wb");
    struct Case {
        const char* what;
        std::string target;
        std::map<std::string, std::string> headers;
    };
    const std::vector<Case> cases = {
        {"no token", "/api/v1/ws", {}},
        {"garbage bearer", "/api/v1/ws", {{"Authorization", "Bearer garbage"}}},
        {"unknown bearer", "/api/v1/ws", {{"Authorization", "Bearer " + random_alnum(43)}}},
        {"basic scheme", "/api/v1/ws", {{"Authorization", "Basic " + u.token}}},
        {"garbage access_token", "/api/v1/ws?access_token=garbage", {}},
        {"empty access_token", "/api/v1/ws?access_token=", {}},
    };
    for (const auto& c : cases) {
        auto r = WsClient::connect(port(), c.target, c.headers);
        EXPECT_FALSE(r.ok()) << c.what;
        EXPECT_EQ(r.status, 401) << c.what << ": " << r.body << " " << r.error;
        if (r.status == 401) {
            auto j = json::parse(r.body, nullptr, false);
            ASSERT_FALSE(j.is_discarded()) << c.what << ": body is not JSON: " << r.body;
            EXPECT_EQ(j["error"]["code"], "unauthorized") << c.what << ": " << r.body;
            EXPECT_TRUE(j["error"]["message"].is_string()) << r.body;
            EXPECT_EQ(r.headers["content-type"], kJsonContentType) << c.what;
            EXPECT_FALSE(r.headers["x-request-id"].empty()) << c.what << ": every response carries X-Request-Id";
        }
    }
}

// RFC 6455 4.4: a version the server does not speak is refused naming the one it does; here,
// like every refusal, in the error shape (Beast's own answer was plain text).
TEST_F(WsTest, AHandshakeOfAnotherVersionOrWithoutAKeyIs400InTheErrorShape) {
    auto u = register_user(port(), "wv");
    const std::map<std::string, std::string> handshake{{"Upgrade", "websocket"},
                                                       {"Connection", "Upgrade"},
                                                       {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                                                       {"Sec-WebSocket-Version", "13"},
                                                       {"Authorization", "Bearer " + u.token}};
    auto version_8 = handshake;
    version_8["Sec-WebSocket-Version"] = "8";
    const auto old = http(port(), "GET", "/api/v1/ws", std::nullopt, version_8);
    EXPECT_TRUE(IsError(old, 400, "bad_request"));
    EXPECT_EQ(old.header("Sec-WebSocket-Version"), "13");
    EXPECT_EQ(old.json()["error"]["details"]["field"], "Sec-WebSocket-Version");

    auto keyless = handshake;
    keyless.erase("Sec-WebSocket-Key");
    const auto no_key = http(port(), "GET", "/api/v1/ws", std::nullopt, keyless);
    EXPECT_TRUE(IsError(no_key, 400, "bad_request"));
    EXPECT_EQ(no_key.json()["error"]["details"]["field"], "Sec-WebSocket-Key");
    for (const std::string key :
         {"short", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZQ==x", "dGhl*HNhbXBsZSBub25jZQ=="}) {
        auto bad_key = handshake;
        bad_key["Sec-WebSocket-Key"] = key;
        const auto refused = http(port(), "GET", "/api/v1/ws", std::nullopt, bad_key);
        EXPECT_TRUE(IsError(refused, 400, "bad_request")) << key;
        EXPECT_EQ(refused.json()["error"]["details"]["field"], "Sec-WebSocket-Key") << key;
    }

    auto unauthenticated = version_8;
    unauthenticated.erase("Authorization");
    EXPECT_TRUE(IsError(http(port(), "GET", "/api/v1/ws", std::nullopt, unauthenticated), 400, "bad_request"))
        << "the handshake is judged before the token";
    EXPECT_TRUE(WsClient::connect(port(), "/api/v1/ws", auth_header(u.token)).ok()) << "version 13 still upgrades";
}

TEST_F(WsTest, PlainGetOnTheWebSocketPathIsNotAnUpgradeAndOtherMethodsAre405) {
    auto u = register_user(port(), "wg");
    EXPECT_TRUE(IsError(get(port(), u.token, "/api/v1/ws"), 404, "not_found"));
    for (const std::string method : {"POST", "PATCH", "DELETE"}) {
        const auto r = http(port(), method, "/api/v1/ws", std::nullopt, auth_header(u.token));
        EXPECT_TRUE(IsError(r, 405, "method_not_allowed")) << method;
        EXPECT_EQ(r.header("Allow"), "GET") << method;
    }
}

TEST_F(WsTest, AllowNamesEachMethodOnceWhereTwoRoutesMatchAPath) {
    auto u = register_user(port(), "wa");
    const auto r = http(port(), "PUT", "/api/v1/users/me", std::nullopt, auth_header(u.token));
    EXPECT_TRUE(IsError(r, 405, "method_not_allowed"));
    EXPECT_EQ(r.header("Allow"), "GET, PATCH, DELETE") << "/users/me and /users/{id} both match";
}

// ---------------------------------------------------------------------------------------------
// envelope

TEST_F(WsTest, PingWithoutIdGetsNoReply) {
    auto u = register_user(port(), "wn");
    auto ws = ws_connect(port(), u.token);
    ws->send_text(R"({"type":"ping"})");
    ws->send_text(R"({"type":"ping","data":{}})");
    EXPECT_TRUE(NothingQueuedBeforeAPing(*ws));
}

TEST_F(WsTest, NonJsonTextGetsBadRequestAndConnectionStaysOpen) {
    auto u = register_user(port(), "wj");
    auto ws = ws_connect(port(), u.token);
    for (const std::string text : {"not json", "{", "{\"type\": \"ping\", \"id\": \"x\"", ""}) {
        ws->send_text(text);
        auto reply = ws->receive();
        EXPECT_TRUE(IsWsError(reply, "bad_request")) << "frame: \"" << text << "\"";
        EXPECT_TRUE(ws->is_open());
    }
    EXPECT_TRUE(StillAnswersPing(*ws));
}

TEST_F(WsTest, NonObjectJsonGetsBadRequest) {
    auto u = register_user(port(), "wa");
    auto ws = ws_connect(port(), u.token);
    for (const std::string text : {"[]", R"([{"type":"ping","id":"p"}])", "\"ping\"", "42", "null", "true"}) {
        ws->send_text(text);
        auto reply = ws->receive();
        EXPECT_TRUE(IsWsError(reply, "bad_request")) << "frame: " << text;
    }
    EXPECT_TRUE(StillAnswersPing(*ws));
}

TEST_F(WsTest, MissingOrUnknownTypeGetsBadRequestCarryingTheId) {
    auto u = register_user(port(), "wt");
    auto ws = ws_connect(port(), u.token);

    ws->send_json({{"id", "no-type"}, {"data", json::object()}});
    EXPECT_TRUE(IsWsError(ws->receive(), "bad_request", "no-type"));

    ws->send_json({{"type", "no.such.type"}, {"id", "unknown-type"}, {"data", json::object()}});
    EXPECT_TRUE(IsWsError(ws->receive(), "bad_request", "unknown-type"));

    ws->send_json({{"type", 5}, {"id", "numeric-type"}});
    EXPECT_TRUE(IsWsError(ws->receive(), "bad_request", "numeric-type"));

    ws->send_json({{"type", nullptr}, {"id", "null-type"}});
    EXPECT_TRUE(IsWsError(ws->receive(), "bad_request", "null-type"));

    ws->send_json({{"type", "PING"}, {"id", "wrong-case"}});
    EXPECT_TRUE(IsWsError(ws->receive(), "bad_request", "wrong-case"));

    // Without an id the error is still sent, without an id.
    ws->send_json({{"type", "no.such.type"}});
    auto reply = ws->receive();
    EXPECT_TRUE(IsWsError(reply, "bad_request"));
    if (reply) {
        EXPECT_TRUE(!reply->contains("id") || (*reply)["id"].is_null()) << reply->dump();
    }

    // Server-to-client event names are not client events.
    ws->send_json({{"type", "ack"}, {"id", "ack-from-client"}});
    EXPECT_TRUE(IsWsError(ws->receive(), "bad_request", "ack-from-client"));

    EXPECT_TRUE(StillAnswersPing(*ws));
}

TEST_F(WsTest, InvalidIdsGetBadRequest) {
    auto u = register_user(port(), "wi");
    auto ws = ws_connect(port(), u.token);
    const std::vector<json> ids = {
        123, true, json::object(), json::array({"a"}), "", std::string(65, 'x'), std::string("a\0b", 3)};
    for (const auto& id : ids) {
        ws->send_json({{"type", "ping"}, {"id", id}, {"data", json::object()}});
        auto reply = ws->receive();
        EXPECT_TRUE(IsWsError(reply, "bad_request")) << "id " << id.dump();
        if (reply && id.is_string() && !id.get<std::string>().empty()) {
            EXPECT_NE((*reply)["type"], "ack") << "an over-long id must not be acked";
        }
    }
    // 64 characters is the maximum and is echoed exactly; so are non-ASCII ids.
    std::string id64(64, 'y');
    ws->send_json({{"type", "ping"}, {"id", id64}});
    auto reply = ws->receive();
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(*reply, json({{"type", "ack"}, {"id", id64}, {"data", json::object()}}));
    ws->send_json({{"type", "ping"}, {"id", "r\xC3\xA9q-1"}});
    reply = ws->receive();
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ((*reply)["id"], "r\xC3\xA9q-1");
    EXPECT_EQ((*reply)["type"], "ack");
    // Characters, not bytes: 64 two-byte characters are 128 bytes and still an id.
    std::string accented;
    for (int i = 0; i < 64; ++i) accented += "\xC3\xA9";
    ws->send_json({{"type", "ping"}, {"id", accented}});
    reply = ws->receive();
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(*reply, json({{"type", "ack"}, {"id", accented}, {"data", json::object()}}));
    ws->send_json({{"type", "ping"}, {"id", accented + "\xC3\xA9"}});
    EXPECT_TRUE(IsWsError(ws->receive(), "bad_request")) << "65 characters";
}

TEST_F(WsTest, PipelinedRequestsAreEachAnsweredOnce) {
    auto u = register_user(port(), "wp");
    auto ws = ws_connect(port(), u.token);
    for (int i = 0; i < 50; ++i) ws->send_json({{"type", "ping"}, {"id", "pp-" + std::to_string(i)}});
    std::multiset<std::string> seen;
    for (int i = 0; i < 50; ++i) {
        auto reply = ws->receive();
        ASSERT_TRUE(reply.has_value()) << "after " << i << " replies";
        EXPECT_EQ((*reply)["type"], "ack");
        seen.insert((*reply)["id"].get<std::string>());
    }
    for (int i = 0; i < 50; ++i) EXPECT_EQ(seen.count("pp-" + std::to_string(i)), 1u) << i;
    EXPECT_TRUE(NothingQueuedBeforeAPing(*ws)) << "a request was answered twice";
}

TEST_F(WsTest, TwoConnectionsOfOneUserAreIndependent) {
    auto u = register_user(port(), "w2");
    auto a = ws_connect(port(), u.token);
    auto b = ws_connect(port(), u.token);
    a->send_json({{"type", "ping"}, {"id", "only-a"}});
    auto reply = a->receive();
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ((*reply)["id"], "only-a");
    EXPECT_TRUE(NothingQueuedBeforeAPing(*b)) << "an ack goes only to the connection that asked";
    a->close();
    EXPECT_TRUE(StillAnswersPing(*b));
}

TEST_F(WsTest, LargeFrameJustUnderTheLimitIsAccepted) {
    auto u = register_user(port(), "wl");
    auto ws = ws_connect(port(), u.token);
    json frame = {{"type", "ping"}, {"id", "big"}, {"data", {{"pad", ""}}}};
    std::size_t overhead = frame.dump().size();
    frame["data"]["pad"] = std::string(64 * 1024 - overhead, 'x');
    ASSERT_EQ(frame.dump().size(), 64u * 1024u);
    ws->send_json(frame);
    auto reply = ws->receive();
    ASSERT_TRUE(reply.has_value()) << "closed with " << ws->close_code().value_or(-1);
    EXPECT_EQ((*reply)["type"], "ack");
    EXPECT_EQ((*reply)["id"], "big");
}

// ---------------------------------------------------------------------------------------------
// protocol-level closes

TEST_F(WsTest, BinaryFrameClosesWith1003) {
    auto u = register_user(port(), "wy");
    auto ws = ws_connect(port(), u.token);
    ws->send_binary(std::string("\x00\x01\x02 binary", 10));
    EXPECT_EQ(ws->wait_for_close(5s), std::optional<int>(1003));
}

TEST_F(WsTest, BinaryFrameContainingValidJsonStillClosesWith1003) {
    auto u = register_user(port(), "wz");
    auto ws = ws_connect(port(), u.token);
    ws->send_binary(R"({"type":"ping","id":"bin"})");
    EXPECT_EQ(ws->wait_for_close(5s), std::optional<int>(1003));
}

TEST_F(WsTest, TextFrameOver64KiBClosesWith1009) {
    auto u = register_user(port(), "wo");
    auto ws = ws_connect(port(), u.token);
    json frame = {{"type", "ping"}, {"id", "huge"}, {"data", {{"pad", ""}}}};
    std::size_t overhead = frame.dump().size();
    frame["data"]["pad"] = std::string(64 * 1024 - overhead + 1, 'x');
    ASSERT_EQ(frame.dump().size(), 64u * 1024u + 1u);
    try {
        ws->send_json(frame);
    } catch (const std::exception&) {
        // The server may close as soon as it has read the frame header, before our write ends.
    }
    auto code = ws->wait_for_close(5s);
    EXPECT_EQ(code, std::optional<int>(1009)) << "read error: " << ws->last_error();
}

TEST_F(WsTest, InvalidUtf8TextFrameClosesWith1007) {
    auto u = register_user(port(), "wu");
    auto ws = ws_connect(port(), u.token);
    ws->send_text("{\"type\":\"ping\",\"id\":\"\xC3\x28\"}");
    EXPECT_EQ(ws->wait_for_close(5s), std::optional<int>(1007));
}

TEST_F(WsTest, ServerSurvivesAbruptDisconnects) {
    auto u = register_user(port(), "wx");
    for (int i = 0; i < 10; ++i) {
        auto ws = ws_connect(port(), u.token);
        ws->send_json({{"type", "ping"}, {"id", "bye"}});
        // Destroyed without waiting for the reply.
    }
    auto ws = ws_connect(port(), u.token);
    EXPECT_TRUE(StillAnswersPing(*ws));
    EXPECT_EQ(http(port(), "GET", "/healthz").status, 200);
}

}  // namespace
}  // namespace confab::test
