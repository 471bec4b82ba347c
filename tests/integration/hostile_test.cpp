// Hostile input (PROTOCOL.md guarantee 5): malformed and truncated JSON, wrong types,
// huge numbers and strings, NUL and control characters, lone surrogates, SQL injection and
// path traversal strings, forged ids across users (BOLA), bad / expired / orphaned tokens,
// header floods, slowloris, abusive WebSocket frames and a disallowed Origin.
//
// Every case asserts the documented answer, that the server is still healthy afterwards
// (GET /healthz 200), and, where data could have been touched, that it reads back intact.
//
// Cases already covered elsewhere are not repeated here: ws_test.cpp (non-JSON frames,
// binary 1003, 1009, 1007, invalid ids), server_test.cpp (garbage request lines, deep
// nesting on register, 128 KiB header, 2000 headers), authz_test.cpp (non-member 404 on
// every endpoint, basic wrong types), auth_test.cpp (basic token and register checks).

#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/chat_api.hpp"

namespace confab::test {
namespace {

namespace fs = std::filesystem;
using HostileTest = ChatTest;

// ---------------------------------------------------------------------------------------------
// helpers

::testing::AssertionResult Healthy(std::uint16_t port) {
    try {
        auto r = http(port, "GET", "/healthz", std::nullopt, {}, 5s);
        if (r.status != 200) return ::testing::AssertionFailure() << "GET /healthz: " << r.describe();
        return ::testing::AssertionSuccess();
    } catch (const std::exception& e) {
        return ::testing::AssertionFailure() << "GET /healthz failed: " << e.what();
    }
}

// An HTTP call that turns a transport failure into status 0 (the server closed on us).
HttpResponse call(std::uint16_t port, const std::string& method, const std::string& target,
                  std::optional<std::string> body, std::map<std::string, std::string> headers = {},
                  std::chrono::milliseconds timeout = 10s) {
    return guarded([&] { return http(port, method, target, std::move(body), std::move(headers), timeout); });
}

bool body_leaks(const HttpResponse& r, const std::vector<std::string>& secrets) {
    for (const auto& s : secrets)
        if (!s.empty() && r.body.find(s) != std::string::npos) return true;
    return false;
}

// A group of `owner` with one other member and one message, used by most cases.
struct Scene {
    TestUser owner, member;
    std::string chat_id, message_id;
    json before;
};

Scene make_scene(std::uint16_t port, const std::string& prefix) {
    Scene s;
    s.owner = register_user(port, prefix);
    s.member = register_user(port, prefix);
    s.chat_id = create_group(port, s.owner, {s.member.id})["id"];
    s.message_id = send_text(port, s.owner, s.chat_id, "original text")["id"];
    s.before = chat_snapshot(port, s.owner, s.chat_id);
    return s;
}

// One JSON endpoint with a body builder; `slot` is a JSON value text placed where a number
// or any value is acceptable (the valid body uses `valid_slot`).
struct Endpoint {
    std::string what, method, target;
    std::function<std::string(const std::string& slot)> body;
    std::string valid_slot;
    bool needs_auth = true;
};

std::vector<Endpoint> endpoints(const Scene& s) {
    auto q = [](const std::string& v) { return "\"" + v + "\""; };
    return {
        {"register", "POST", "/api/v1/auth/register",
         [q](const std::string& v) {
             return "{\"username\":" + q(unique_username("hr")) + ",\"password\":\"correct horse 1\",\"x\":" + v + "}";
         },
         "1", false},
        {"login", "POST", "/api/v1/auth/login",
         [q, s](const std::string& v) {
             return "{\"username\":" + q(s.owner.username) + ",\"password\":\"correct horse 1\",\"x\":" + v + "}";
         },
         "1", false},
        {"POST /chats", "POST", chats_url(),
         [q, s](const std::string& v) {
             return "{\"type\":\"group\",\"title\":\"hostile\",\"member_ids\":[" + q(s.member.id) +
                    "],\"settings\":{\"only_admins_can_post\":" + v + "}}";
         },
         "false"},
        {"PUT /chats/{id}", "PUT", chat_url(s.chat_id),
         [](const std::string& v) { return "{\"metadata\":{\"n\":" + v + "}}"; }, "1"},
        {"POST members", "POST", members_url(s.chat_id),
         [q, s](const std::string& v) { return "{\"user_ids\":[" + q(s.member.id) + "],\"x\":" + v + "}"; }, "1"},
        {"PATCH member", "PATCH", member_url(s.chat_id, s.member.id),
         [](const std::string& v) { return "{\"role\":\"admin\",\"x\":" + v + "}"; }, "1"},
        {"POST messages", "POST", chat_messages_url(s.chat_id),
         [](const std::string& v) {
             return "{\"type\":\"text\",\"content\":\"injected\",\"metadata\":{\"n\":" + v + "}}";
         },
         "1"},
        {"PUT message", "PUT", message_url(s.message_id),
         [](const std::string& v) { return "{\"content\":\"changed\",\"x\":" + v + "}"; }, "1"},
        {"POST read", "POST", read_url(s.chat_id), [](const std::string& v) { return "{\"seq\":" + v + "}"; }, "1"},
    };
}

// Sends `transform(valid body)` to every endpoint; each must be 400 bad_request, and the
// scene (chat, members, messages, chat list) must be unchanged afterwards.
void expect_every_endpoint_rejects(std::uint16_t port, const Scene& s, const std::string& label,
                                   const std::function<std::vector<std::string>(const Endpoint&)>& bodies) {
    const auto chats_before = list_chats(port, s.owner).size();
    for (const auto& e : endpoints(s)) {
        for (const auto& body : bodies(e)) {
            SCOPED_TRACE(label + " on " + e.what + ": " + body.substr(0, 200));
            std::map<std::string, std::string> headers;
            if (e.needs_auth) headers = auth_header(s.owner.token);
            auto r = call(port, e.method, e.target, body, headers);
            EXPECT_TRUE(IsError(r, 400, "bad_request"));
        }
    }
    EXPECT_TRUE(Healthy(port));
    EXPECT_EQ(chat_snapshot(port, s.owner, s.chat_id), s.before) << label << " changed stored data";
    EXPECT_EQ(list_chats(port, s.owner).size(), chats_before) << label << " created a chat";
}

// WebSocket: the next frame, ignoring presence/typing chatter.
std::optional<json> next_reply(WsClient& ws, std::chrono::milliseconds timeout = 5s) {
    return ws.receive_matching(
        [](const json& j) { return j.is_object() && (j.value("type", "") == "error" || j.value("type", "") == "ack"); },
        timeout);
}

::testing::AssertionResult AnswersPing(WsClient& ws) {
    auto reply = ws_request(ws, "ping");
    if (reply.value("type", "") != "ack")
        return ::testing::AssertionFailure() << "ping: " << reply.dump().substr(0, 500);
    return ::testing::AssertionSuccess();
}

std::string base64url(const std::string& in) {
    static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        unsigned v = static_cast<unsigned>(static_cast<unsigned char>(in[i])) << 16 |
                     static_cast<unsigned char>(in[i + 1]) << 8 | static_cast<unsigned char>(in[i + 2]);
        out += tbl[v >> 18 & 63];
        out += tbl[v >> 12 & 63];
        out += tbl[v >> 6 & 63];
        out += tbl[v & 63];
    }
    if (i + 1 == in.size()) {
        unsigned v = static_cast<unsigned>(static_cast<unsigned char>(in[i])) << 16;
        out += tbl[v >> 18 & 63];
        out += tbl[v >> 12 & 63];
    } else if (i + 2 == in.size()) {
        unsigned v =
            static_cast<unsigned>(static_cast<unsigned char>(in[i])) << 16 | static_cast<unsigned char>(in[i + 1]) << 8;
        out += tbl[v >> 18 & 63];
        out += tbl[v >> 12 & 63];
        out += tbl[v >> 6 & 63];
    }
    return out;
}

std::string upload_target(const std::string& chat_id, const std::string& kind) {
    return "/api/v1/messages/upload?chat_id=" + url_encode(chat_id) + "&kind=" + url_encode(kind);
}

HttpResponse upload_text(std::uint16_t port, const TestUser& u, const std::string& chat_id, const std::string& bytes,
                         std::map<std::string, std::string> headers = {}) {
    headers["Authorization"] = "Bearer " + u.token;
    headers["Content-Type"] = "text/plain";
    return call(port, "POST", upload_target(chat_id, "file"), bytes, headers, 30s);
}

std::string plain_text(const std::string& tag) {
    return "Hostile test upload " + tag + ". Plain words only, nothing executable here.\n";
}

// ---------------------------------------------------------------------------------------------
// 1. malformed and truncated JSON bodies, one class per test

TEST_F(HostileTest, TruncatedJsonBodiesAre400) {
    auto s = make_scene(port(), "ht");
    expect_every_endpoint_rejects(port(), s, "truncated", [](const Endpoint& e) {
        auto valid = e.body(e.valid_slot);
        return std::vector<std::string>{valid.substr(0, valid.size() - 1), valid.substr(0, valid.size() / 2),
                                        valid.substr(0, 1)};
    });
}

TEST_F(HostileTest, TrailingGarbageAfterTheObjectIs400) {
    auto s = make_scene(port(), "hg");
    expect_every_endpoint_rejects(port(), s, "trailing garbage", [](const Endpoint& e) {
        auto valid = e.body(e.valid_slot);
        return std::vector<std::string>{valid + "}", valid + " x", valid + valid, valid + ",", valid + "\x01"};
    });
}

// A NUL byte after the object is trailing garbage too (a C-string parser would stop there and
// act on the body, which is how parser differentials between proxies and servers start).
TEST_F(HostileTest, TrailingNulByteAfterTheObjectIs400) {
    auto s = make_scene(port(), "h0");
    expect_every_endpoint_rejects(port(), s, "trailing NUL", [](const Endpoint& e) {
        auto valid = e.body(e.valid_slot);
        return std::vector<std::string>{valid + std::string(1, '\0'), valid + std::string("\0garbage", 8),
                                        valid + std::string("\0{\"type\":\"x\"}", 13)};
    });
    // The same on the WebSocket: a frame is one JSON object, nothing after it.
    auto ws = ws_connect(port(), s.owner.token);
    ws->send_text(std::string("{\"type\":\"ping\",\"id\":\"nul\"}\0garbage", 33));
    auto reply = next_reply(*ws);
    EXPECT_TRUE(IsWsError(reply, "bad_request")) << (reply ? reply->dump() : "no reply");
    EXPECT_TRUE(AnswersPing(*ws));
}

TEST_F(HostileTest, SingleQuotedJsonIs400) {
    auto s = make_scene(port(), "hq");
    expect_every_endpoint_rejects(port(), s, "single quotes", [](const Endpoint& e) {
        auto valid = e.body(e.valid_slot);
        std::string sq = valid;
        for (auto& c : sq)
            if (c == '"') c = '\'';
        return std::vector<std::string>{sq};
    });
}

TEST_F(HostileTest, NanAndInfinityLiteralsAre400) {
    auto s = make_scene(port(), "hn");
    expect_every_endpoint_rejects(port(), s, "NaN/Infinity", [](const Endpoint& e) {
        return std::vector<std::string>{e.body("NaN"), e.body("Infinity"), e.body("-Infinity"), e.body("nan"),
                                        e.body("undefined")};
    });
}

TEST_F(HostileTest, JsonWithCommentsIs400) {
    auto s = make_scene(port(), "hc");
    expect_every_endpoint_rejects(port(), s, "comments", [](const Endpoint& e) {
        auto valid = e.body(e.valid_slot);
        return std::vector<std::string>{"/* c */" + valid, "// c\n" + valid, valid + "/* c */", valid + "// c",
                                        e.body("/* c */ " + e.valid_slot)};
    });
}

TEST_F(HostileTest, TrailingCommasUnquotedKeysAndNonJsonNumbersAre400) {
    auto s = make_scene(port(), "hk");
    expect_every_endpoint_rejects(port(), s, "lax syntax", [](const Endpoint& e) {
        auto valid = e.body(e.valid_slot);
        std::string trailing_comma = valid.substr(0, valid.size() - 1) + ",}";
        return std::vector<std::string>{trailing_comma, e.body("0x10"), e.body("01"), e.body("+1"),
                                        e.body(".5"),   e.body("1."),   "{x:1}"};
    });
}

TEST_F(HostileTest, EmptyNullArrayAndScalarBodiesAre400IncludingAuth) {
    auto s = make_scene(port(), "he");
    expect_every_endpoint_rejects(port(), s, "not an object", [](const Endpoint& e) {
        auto valid = e.body(e.valid_slot);
        return std::vector<std::string>{
            "", " ", "\r\n", "null", "[" + valid + "]", "[]", "true", "\"" + valid + "\"", "{}{}"};
    });
}

TEST_F(HostileTest, RawControlCharactersAndInvalidUtf8InsideStringsAre400) {
    auto s = make_scene(port(), "hu");
    expect_every_endpoint_rejects(port(), s, "raw control / bad UTF-8", [](const Endpoint& e) {
        return std::vector<std::string>{e.body(std::string("\"a\x01z\"")),
                                        e.body(std::string("\"a\nz\"")),
                                        e.body(std::string("\"a\x00z\"", 5)),
                                        e.body("\"\xC0\xAF\""),
                                        e.body("\"\xED\xA0\x80\""),
                                        e.body("\"\\x41\""),
                                        e.body("\"\\u12\"")};
    });
}

// RFC 8259 lets a parser ignore a UTF-8 BOM, so either 400 or the body exactly as without it.
TEST_F(HostileTest, Utf8BomIsRejectedOrIgnoredButNeverStored) {
    auto s = make_scene(port(), "hb");
    const std::string bom = "\xEF\xBB\xBF";
    auto r = call(port(), "PUT", chat_url(s.chat_id), bom + R"({"title":"bom title"})", auth_header(s.owner.token));
    if (r.status == 200) {
        EXPECT_EQ(get_chat(port(), s.owner, s.chat_id)["title"], "bom title");
    } else {
        EXPECT_TRUE(IsError(r, 400, "bad_request"));
    }
    r = call(port(), "POST", chat_messages_url(s.chat_id), bom + R"({"type":"text","content":"bom content"})",
             auth_header(s.owner.token));
    if (r.status == 201) {
        EXPECT_EQ(get_message(port(), s.owner, r.json()["id"])["content"], "bom content");
    } else {
        EXPECT_TRUE(IsError(r, 400, "bad_request"));
    }
    // A BOM inside the object is never valid.
    r = call(port(), "POST", chat_messages_url(s.chat_id), "{" + bom + R"("type":"text","content":"x"})",
             auth_header(s.owner.token));
    EXPECT_TRUE(IsError(r, 400, "bad_request"));
    EXPECT_TRUE(Healthy(port()));
    EXPECT_EQ(get_message(port(), s.owner, s.message_id)["content"], "original text");
}

// ---------------------------------------------------------------------------------------------
// 2. wrong types, field by field

TEST_F(HostileTest, WrongTypesInRegisterAndLoginAre400AndCreateNothing) {
    auto existing = register_user(port(), "hw");
    const std::vector<json> odd = {1.5, json::object(), json::array(), true, nullptr, 0, json::array({"a"})};
    for (const auto& v : odd) {
        auto name = unique_username("hw");
        for (const json& body :
             {json{{"username", v}, {"password", kPassword}}, json{{"username", name}, {"password", v}},
              json{{"username", name}, {"password", kPassword}, {"display_name", v.is_null() ? json(7) : v}}}) {
            SCOPED_TRACE("register " + body.dump());
            EXPECT_TRUE(IsError(call(port(), "POST", "/api/v1/auth/register", body.dump()), 400, "bad_request"));
        }
        // None of them created the user.
        EXPECT_EQ(call(port(), "POST", "/api/v1/auth/login", json({{"username", name}, {"password", kPassword}}).dump())
                      .status,
                  401)
            << name;
        for (const json& body :
             {json{{"username", v}, {"password", kPassword}}, json{{"username", existing.username}, {"password", v}}}) {
            SCOPED_TRACE("login " + body.dump());
            EXPECT_TRUE(IsError(call(port(), "POST", "/api/v1/auth/login", body.dump()), 400, "bad_request"));
        }
    }
    EXPECT_TRUE(Healthy(port()));
    EXPECT_FALSE(login(port(), existing.username).empty());
}

TEST_F(HostileTest, WrongTypesInCreateChatAre400AndCreateNothing) {
    auto a = register_user(port(), "hx");
    auto b = register_user(port(), "hx");
    const std::vector<json> bodies = {
        {{"type", 1}, {"member_ids", {b.id}}},
        {{"type", nullptr}, {"member_ids", {b.id}}},
        {{"type", json::array({"direct"})}, {"member_ids", {b.id}}},
        {{"type", "channel"}, {"member_ids", {b.id}}},
        {{"type", "DIRECT"}, {"member_ids", {b.id}}},
        {{"type", "direct"}, {"member_ids", b.id}},
        {{"type", "direct"}, {"member_ids", {{"id", b.id}}}},
        {{"type", "direct"}, {"member_ids", json::array({1})}},
        {{"type", "direct"}, {"member_ids", json::array({nullptr})}},
        {{"type", "direct"}, {"member_ids", json::array({json::array({b.id})})}},
        {{"type", "group"}, {"title", 5}, {"member_ids", json::array()}},
        {{"type", "group"}, {"title", json::array({"t"})}, {"member_ids", json::array()}},
        {{"type", "group"}, {"title", {{"t", 1}}}, {"member_ids", json::array()}},
        {{"type", "group"}, {"title", true}, {"member_ids", json::array()}},
        {{"type", "group"}, {"title", "t"}, {"member_ids", "all"}},
        {{"type", "group"}, {"title", "t"}, {"member_ids", json::array()}, {"avatar_url", 5}},
        {{"type", "group"}, {"title", "t"}, {"member_ids", json::array()}, {"avatar_url", json::object()}},
        {{"type", "group"}, {"title", "t"}, {"member_ids", json::array()}, {"settings", json::array()}},
        {{"type", "group"}, {"title", "t"}, {"member_ids", json::array()}, {"settings", "x"}},
        {{"type", "group"}, {"title", "t"}, {"member_ids", json::array()}, {"settings", {{"only_admins_can_post", 1}}}},
        {{"type", "group"},
         {"title", "t"},
         {"member_ids", json::array()},
         {"settings", {{"only_admins_can_post", "true"}}}},
        {{"type", "group"},
         {"title", "t"},
         {"member_ids", json::array()},
         {"settings", {{"only_admins_can_post", nullptr}}}},
        {{"type", "group"}, {"title", "t"}, {"member_ids", json::array()}, {"settings", {{"is_admin", true}}}},
    };
    for (const auto& body : bodies) {
        SCOPED_TRACE(body.dump());
        EXPECT_TRUE(IsError(post(port(), a.token, chats_url(), body), 400, "bad_request"));
    }
    EXPECT_TRUE(Healthy(port()));
    EXPECT_TRUE(list_chats(port(), a).empty()) << "a rejected POST /chats created a chat";
    EXPECT_TRUE(list_chats(port(), b).empty());
}

TEST_F(HostileTest, WrongTypesInUpdateChatAre400AndStoreNothing) {
    auto s = make_scene(port(), "hy");
    const std::vector<json> bodies = {
        {{"title", 5}},
        {{"title", nullptr}},
        {{"title", ""}},
        {{"title", {{"text", "t"}}}},
        {{"title", true}},
        {{"avatar_url", 5}},
        {{"avatar_url", json::array()}},
        {{"settings", json::array()}},
        {{"settings", "x"}},
        {{"settings", 1}},
        {{"settings", {{"only_admins_can_edit_info", "false"}}}},
        {{"settings", {{"only_admins_can_add_members", 0}}}},
        {{"settings", {{"unknown_setting", true}}}},
        {{"metadata", json::array()}},
        {{"metadata", "x"}},
        {{"metadata", 5}},
        {{"title", "ok"}, {"type", "direct"}},
        {{"title", "ok"}, {"id", random_uuid()}},
        {{"title", "ok"}, {"version", 999}},
        {{"title", "ok"}, {"member_count", 0}},
    };
    for (const auto& body : bodies) {
        SCOPED_TRACE(body.dump());
        EXPECT_TRUE(IsError(put(port(), s.owner.token, chat_url(s.chat_id), body), 400, "bad_request"));
    }
    EXPECT_TRUE(Healthy(port()));
    EXPECT_EQ(chat_snapshot(port(), s.owner, s.chat_id), s.before);
}

TEST_F(HostileTest, WrongTypesInSendMessageAre400AndStoreNothing) {
    auto s = make_scene(port(), "hm");
    const std::vector<json> bodies = {
        {{"type", 5}, {"content", "x"}},
        {{"type", nullptr}, {"content", "x"}},
        {{"type", json::array({"text"})}, {"content", "x"}},
        {{"type", "TEXT"}, {"content", "x"}},
        {{"type", "text "}, {"content", "x"}},
        {{"content", "x"}},
        {{"type", "text"}, {"content", nullptr}},
        {{"type", "text"}, {"content", true}},
        {{"type", "text"}, {"content", 12}},
        {{"type", "text"}, {"content", json::array({"x"})}},
        {{"type", "text"}, {"content", "x"}, {"client_id", 5}},
        {{"type", "text"}, {"content", "x"}, {"client_id", ""}},
        {{"type", "text"}, {"content", "x"}, {"client_id", json::array()}},
        {{"type", "text"}, {"content", "x"}, {"reply_to_id", 5}},
        {{"type", "text"}, {"content", "x"}, {"reply_to_id", json::object()}},
        {{"type", "text"}, {"content", "x"}, {"reply_to", json::array({s.message_id})}},
        {{"type", "text"}, {"content", "x"}, {"metadata", "x"}},
        {{"type", "text"}, {"content", "x"}, {"metadata", 5}},
        {{"type", "image"}, {"media_id", 5}},
        {{"type", "image"}, {"media_id", json::object()}},
        {{"type", "image"}, {"media_id", "../../etc/passwd"}},
        {{"type", "location"}, {"metadata", {{"location", {{"latitude", "1"}, {"longitude", 2}}}}}},
        {{"type", "location"}, {"metadata", {{"location", {{"latitude", nullptr}, {"longitude", 2}}}}}},
        {{"type", "location"}, {"metadata", {{"location", "52.5,13.4"}}}},
        {{"type", "location"}, {"metadata", {{"location", {{"latitude", 1}, {"longitude", 2}, {"name", 5}}}}}},
    };
    for (const auto& body : bodies) {
        SCOPED_TRACE(body.dump());
        EXPECT_TRUE(IsError(send_message(port(), s.owner, s.chat_id, body), 400, "bad_request"));
    }
    EXPECT_TRUE(Healthy(port()));
    EXPECT_EQ(chat_snapshot(port(), s.owner, s.chat_id), s.before);
}

TEST_F(HostileTest, WrongTypesInEditMessageAre400AndKeepTheText) {
    auto s = make_scene(port(), "hd");
    for (const json& body :
         {json{{"content", nullptr}}, json{{"content", 5}}, json{{"content", true}}, json{{"content", json::object()}},
          json{{"content", json::array({"x"})}}, json::object(), json{{"content", 1.5}}}) {
        SCOPED_TRACE(body.dump());
        EXPECT_TRUE(IsError(put(port(), s.owner.token, message_url(s.message_id), body), 400, "bad_request"));
    }
    EXPECT_TRUE(Healthy(port()));
    auto m = get_message(port(), s.owner, s.message_id);
    EXPECT_EQ(m["content"], "original text");
    EXPECT_EQ(m["is_edited"], false);
    EXPECT_EQ(chat_snapshot(port(), s.owner, s.chat_id), s.before);
}

TEST_F(HostileTest, WrongTypesInPatchMemberAndAddMembersAre400) {
    auto s = make_scene(port(), "hp");
    for (const json& body :
         {json{{"role", 5}}, json{{"role", nullptr}}, json{{"role", json::array({"admin"})}},
          json{{"role", "superuser"}}, json{{"role", "ADMIN"}}, json{{"role", ""}}, json{{"role", "admin'--"}},
          json{{"is_muted", "true"}}, json{{"is_muted", 0}}, json{{"is_muted", nullptr}}, json::object()}) {
        SCOPED_TRACE("PATCH " + body.dump());
        EXPECT_TRUE(
            IsError(patch(port(), s.owner.token, member_url(s.chat_id, s.member.id), body), 400, "bad_request"));
        // is_muted by the member themself goes through its own validation path.
        if (body.contains("is_muted")) {
            EXPECT_TRUE(
                IsError(patch(port(), s.member.token, member_url(s.chat_id, s.member.id), body), 400, "bad_request"));
        }
    }
    for (const json& body : {json{{"user_ids", s.member.id}}, json{{"user_ids", json::object()}},
                             json{{"user_ids", json::array({5})}}, json{{"user_ids", json::array({nullptr})}},
                             json{{"user_ids", nullptr}}, json{{"user_ids", json::array({json::array({s.member.id})})}},
                             json{{"user_ids", json::array({"' OR 1=1 --"})}}, json::object()}) {
        SCOPED_TRACE("POST members " + body.dump());
        EXPECT_TRUE(IsError(post(port(), s.owner.token, members_url(s.chat_id), body), 400, "bad_request"));
    }
    EXPECT_TRUE(Healthy(port()));
    EXPECT_EQ(chat_snapshot(port(), s.owner, s.chat_id), s.before);
}

TEST_F(HostileTest, WrongTypesInReadMarkAre400AndKeepLastReadSeq) {
    auto s = make_scene(port(), "hr");
    auto before = get_chat(port(), s.member, s.chat_id)["me"];
    for (const json& body :
         {json{{"seq", nullptr}}, json{{"seq", true}}, json{{"seq", json::array({1})}}, json{{"seq", json::object()}},
          json{{"seq", "1"}}, json{{"seq", "one"}}, json::object(), json{{"sequence", 1}}}) {
        SCOPED_TRACE(body.dump());
        EXPECT_TRUE(IsError(post(port(), s.member.token, read_url(s.chat_id), body), 400, "bad_request"));
    }
    EXPECT_TRUE(Healthy(port()));
    EXPECT_EQ(get_chat(port(), s.member, s.chat_id)["me"], before);
}

// ---------------------------------------------------------------------------------------------
// 3. huge numbers and strings

TEST_F(HostileTest, HugeNegativeAndFractionalNumbersAre400) {
    auto s = make_scene(port(), "hh");
    auto me_before = get_chat(port(), s.member, s.chat_id)["me"];
    for (const std::string v :
         {"1e400", "-1e400", "18446744073709551616", "18446744073709551615", "9223372036854775808",
          "-9223372036854775809", "-1", "1.5", "1e2", "-0.0", "99999999999999999999999999999999999999"}) {
        SCOPED_TRACE("seq " + v);
        auto r = call(port(), "POST", read_url(s.chat_id), "{\"seq\":" + v + "}", auth_header(s.member.token));
        EXPECT_TRUE(IsError(r, 400, "bad_request"));
    }
    // Query parameters: each is a non-negative integer, limit 1-200.
    for (const std::string q :
         {"before_seq=1e400", "before_seq=18446744073709551616", "after_seq=-1", "after_seq=1.5", "since_version=-1",
          "since_version=99999999999999999999999", "since_version=0x10", "limit=1.5", "limit=99999999999999999999",
          "limit=-1", "limit=201", "before_seq=%00", "after_seq=1%20OR%201=1"}) {
        SCOPED_TRACE("GET messages?" + q);
        EXPECT_TRUE(IsError(get(port(), s.member.token, chat_messages_url(s.chat_id) + "?" + q), 400, "bad_request"));
    }
    // A malformed percent-encoding is 400 naming the parameter it is in (its name as sent, when
    // the name itself is malformed).
    for (const auto& [target, field] :
         std::vector<std::pair<std::string, std::string>>{{"/api/v1/users?query=%zz", "query"},
                                                          {"/api/v1/sessions?limit=%", "limit"},
                                                          {chat_messages_url(s.chat_id) + "?limit=5&before_seq=%4",
                                                           "before_seq"},
                                                          {"/api/v1/users?qu%zzery=a", "qu%zzery"}}) {
        SCOPED_TRACE(target);
        EXPECT_TRUE(IsBadField(get(port(), s.member.token, target), field));
    }
    // The largest safe integer is a valid seq: clamped to the chat's last_seq, not stored as is.
    auto r = call(port(), "POST", read_url(s.chat_id), "{\"seq\":9007199254740991}", auth_header(s.member.token));
    EXPECT_EQ(r.status, 204) << r.describe();
    auto me = get_chat(port(), s.member, s.chat_id)["me"];
    EXPECT_EQ(me["last_read_seq"], 1) << me.dump();
    EXPECT_EQ(me["unread_count"], 0) << me.dump();
    (void)me_before;
    EXPECT_TRUE(Healthy(port()));
    EXPECT_EQ(all_messages(port(), s.owner, s.chat_id).size(), 1u);
}

TEST_F(HostileTest, ContentOverTheLimitIs413CountedInCodePoints) {
    auto s = make_scene(port(), "hl");
    const std::string emoji = "\xF0\x9F\x98\x80";  // 4 bytes, 1 code point
    // 200 KB of content: under the body limit, far over the content limit.
    EXPECT_TRUE(
        IsError(send_message(port(), s.owner, s.chat_id, {{"type", "text"}, {"content", std::string(200 * 1024, 'c')}}),
                413, "payload_too_large"));
    EXPECT_TRUE(IsError(send_message(port(), s.owner, s.chat_id, {{"type", "text"}, {"content", repeat(emoji, 4001)}}),
                        413, "payload_too_large"));
    EXPECT_TRUE(IsError(put(port(), s.owner.token, message_url(s.message_id), {{"content", repeat(emoji, 4001)}}), 413,
                        "payload_too_large"));
    EXPECT_EQ(chat_snapshot(port(), s.owner, s.chat_id), s.before);
    // Exactly 4,000 four-byte code points (16,000 bytes) is allowed and comes back exactly.
    auto ok = send_message(port(), s.owner, s.chat_id, {{"type", "text"}, {"content", repeat(emoji, 4000)}});
    ASSERT_TRUE(IsJson(ok, 201));
    EXPECT_EQ(get_message(port(), s.owner, ok.json()["id"])["content"], repeat(emoji, 4000));
    EXPECT_TRUE(Healthy(port()));
}

TEST_F(HostileTest, HugeTitlesAre400AndNothingIsStored) {
    auto s = make_scene(port(), "hi");
    const std::string big(200 * 1024, 't');
    EXPECT_TRUE(IsError(post(port(), s.owner.token, chats_url(),
                             {{"type", "group"}, {"title", big}, {"member_ids", json::array()}}),
                        400, "bad_request"));
    EXPECT_TRUE(IsError(put(port(), s.owner.token, chat_url(s.chat_id), {{"title", big}}), 400, "bad_request"));
    EXPECT_TRUE(IsError(put(port(), s.owner.token, chat_url(s.chat_id), {{"title", std::string(256, 't')}}), 400,
                        "bad_request"));
    EXPECT_TRUE(IsError(put(port(), s.owner.token, chat_url(s.chat_id), {{"title", repeat("\xC3\xA9", 256)}}), 400,
                        "bad_request"));
    EXPECT_EQ(chat_snapshot(port(), s.owner, s.chat_id), s.before);
    EXPECT_EQ(list_chats(port(), s.owner).size(), 1u);
    // 255 two-byte code points (510 bytes) is a valid title.
    auto r = put(port(), s.owner.token, chat_url(s.chat_id), {{"title", repeat("\xC3\xA9", 255)}});
    EXPECT_EQ(r.status, 200) << r.describe();
    EXPECT_EQ(get_chat(port(), s.owner, s.chat_id)["title"], repeat("\xC3\xA9", 255));
    EXPECT_TRUE(Healthy(port()));
}

TEST_F(HostileTest, TenThousandElementIdArraysGetTheDocumentedErrorQuickly) {
    auto a = register_user(port(), "ha");
    auto b = register_user(port(), "ha");
    std::string group = create_group(port(), a, {b.id})["id"];
    auto before = chat_snapshot(port(), a, group);

    auto timed = [&](const std::string& what, const std::function<HttpResponse()>& f) {
        auto t0 = std::chrono::steady_clock::now();
        auto r = f();
        auto took = std::chrono::steady_clock::now() - t0;
        EXPECT_LT(took, 5s) << what << " took too long";
        return r;
    };
    // 10,000 UUIDs are ~390 KB: over the 256 KiB body limit.
    std::vector<std::string> ten_k;
    for (int i = 0; i < 10000; ++i) ten_k.push_back(random_uuid());
    auto r = timed("10k member_ids", [&] {
        return call(port(), "POST", chats_url(),
                    json({{"type", "group"}, {"title", "many"}, {"member_ids", ten_k}}).dump(), auth_header(a.token));
    });
    EXPECT_TRUE(IsError(r, 413, "payload_too_large"));
    r = timed("10k user_ids", [&] {
        return call(port(), "POST", members_url(group), json({{"user_ids", ten_k}}).dump(), auth_header(a.token));
    });
    EXPECT_TRUE(IsError(r, 413, "payload_too_large"));
    // 10,000 short strings fit in the body: malformed ids are 400.
    std::vector<std::string> junk(10000, "x");
    r = timed("10k junk member_ids", [&] {
        return post(port(), a.token, chats_url(), {{"type", "group"}, {"title", "junk"}, {"member_ids", junk}});
    });
    EXPECT_TRUE(IsError(r, 400, "bad_request"));
    // 6,000 well-formed unknown UUIDs (~234 KB): unknown users (404) or over the group limit (409).
    std::vector<std::string> six_k(ten_k.begin(), ten_k.begin() + 6000);
    r = timed("6k unknown member_ids", [&] {
        return post(port(), a.token, chats_url(), {{"type", "group"}, {"title", "unknown"}, {"member_ids", six_k}});
    });
    EXPECT_TRUE(r.status == 404 || r.status == 409) << r.describe();
    EXPECT_TRUE(IsError(r, r.status, r.status == 404 ? "not_found" : "conflict"));
    // An add takes at most 1,000 user_ids (docs/api.md, Large groups), refused before anything is read.
    r = timed("6k unknown user_ids", [&] { return post(port(), a.token, members_url(group), {{"user_ids", six_k}}); });
    EXPECT_TRUE(IsBadField(r, "user_ids"));
    // 6,000 copies of one real id: duplicates are ignored.
    std::vector<std::string> dup(6000, b.id);
    r = timed("6k duplicate member_ids", [&] {
        return post(port(), a.token, chats_url(), {{"type", "group"}, {"title", "dups"}, {"member_ids", dup}});
    });
    ASSERT_TRUE(IsJson(r, 201));
    EXPECT_EQ(r.json()["member_count"], 2) << r.body.substr(0, 500);
    EXPECT_EQ(list_members(port(), a, r.json()["id"]).size(), 2u);

    EXPECT_TRUE(Healthy(port()));
    EXPECT_EQ(chat_snapshot(port(), a, group), before);
    EXPECT_EQ(list_chats(port(), a).size(), 2u);
}

// ---------------------------------------------------------------------------------------------
// 4. NUL, control characters, lone surrogates

TEST_F(HostileTest, NulAndControlCharactersInContentAreStoredExactly) {
    auto s = make_scene(port(), "h0");
    const std::vector<std::string> contents = {
        "\x01\x02\x1f\x7f",
        "\t\r\n \n",
        "\xE2\x80\xA8\xE2\x80\xA9",  // U+2028, U+2029
        "\xEF\xBB\xBF"
        "bom inside",
        "\xE2\x80\xAE"
        "reversed",               // U+202E
        "e\xCC\x81 vs \xC3\xA9",  // not normalised
    };
    for (const auto& c : contents) {
        SCOPED_TRACE("content " + json(c).dump());
        auto r = send_message(port(), s.owner, s.chat_id, {{"type", "text"}, {"content", c}});
        ASSERT_TRUE(IsJson(r, 201));
        EXPECT_EQ(r.json()["content"], c);
        auto id = r.json()["id"].get<std::string>();
        EXPECT_EQ(get_message(port(), s.member, id)["content"], c);
        ASSERT_TRUE(Healthy(port()));
    }
    auto all = all_messages(port(), s.member, s.chat_id);
    ASSERT_EQ(all.size(), contents.size() + 1);
    for (std::size_t i = 0; i < contents.size(); ++i) EXPECT_EQ(all[i + 1]["content"], contents[i]) << i;
}

TEST_F(HostileTest, NulInUsernameIs400AndOtherTextFieldsAreExactOr400) {
    for (const std::string& name : {std::string("abc\0def", 7), std::string("\0\0\0", 3), std::string("abc\0", 4),
                                    std::string("ab\x01"
                                                "cd"),
                                    std::string("abc\n")}) {
        SCOPED_TRACE("username " + json(name).dump());
        auto r =
            call(port(), "POST", "/api/v1/auth/register", json({{"username", name}, {"password", kPassword}}).dump());
        EXPECT_TRUE(IsError(r, 400, "bad_request"));
        r = call(port(), "POST", "/api/v1/auth/login", json({{"username", name}, {"password", kPassword}}).dump());
        EXPECT_TRUE(r.status == 400 || r.status == 401) << r.describe();
    }
    // display_name and title with NUL / control characters: stored exactly, or refused with 400.
    auto a = register_user(port(), "hz");
    for (const std::string& text : {std::string("d\0n", 3), std::string("\x01\x1f")}) {
        SCOPED_TRACE("text " + json(text).dump());
        auto name = unique_username("hz");
        auto r = call(port(), "POST", "/api/v1/auth/register",
                      json({{"username", name}, {"password", kPassword}, {"display_name", text}}).dump());
        if (r.status == 201) {
            EXPECT_EQ(r.json()["user"]["display_name"], text);
            auto t = r.json()["token"].get<std::string>();
            EXPECT_EQ(get(port(), t, "/api/v1/users/me").json()["display_name"], text);
        } else {
            EXPECT_TRUE(IsError(r, 400, "bad_request"));
        }
        r = post(port(), a.token, chats_url(), {{"type", "group"}, {"title", text}, {"member_ids", json::array()}});
        if (r.status == 201) {
            EXPECT_EQ(get_chat(port(), a, r.json()["id"])["title"], text);
        } else {
            EXPECT_TRUE(IsError(r, 400, "bad_request"));
        }
        ASSERT_TRUE(Healthy(port()));
    }
}

TEST_F(HostileTest, LoneSurrogateEscapesAre400) {
    auto s = make_scene(port(), "hs");
    const auto auth = auth_header(s.owner.token);
    for (const std::string esc : {"\\ud800", "\\udc00", "\\ud800x", "\\ud800\\u0041", "\\udbff\\udbff", "\\uDFFF"}) {
        SCOPED_TRACE(esc);
        EXPECT_TRUE(IsError(call(port(), "POST", chat_messages_url(s.chat_id),
                                 "{\"type\":\"text\",\"content\":\"a" + esc + "b\"}", auth),
                            400, "bad_request"));
        EXPECT_TRUE(IsError(call(port(), "PUT", message_url(s.message_id), "{\"content\":\"" + esc + "\"}", auth), 400,
                            "bad_request"));
        EXPECT_TRUE(
            IsError(call(port(), "PUT", chat_url(s.chat_id), "{\"title\":\"" + esc + "\"}", auth), 400, "bad_request"));
        EXPECT_TRUE(IsError(call(port(), "POST", "/api/v1/auth/register",
                                 "{\"username\":\"ab" + esc + "\",\"password\":\"correct horse 1\"}"),
                            400, "bad_request"));
    }
    // A valid pair is fine and comes back as the real code point.
    auto r = call(port(), "POST", chat_messages_url(s.chat_id), R"({"type":"text","content":"\ud83d\ude00"})", auth);
    ASSERT_TRUE(IsJson(r, 201));
    EXPECT_EQ(r.json()["content"], "\xF0\x9F\x98\x80");
    EXPECT_TRUE(Healthy(port()));
    EXPECT_EQ(get_message(port(), s.owner, s.message_id)["content"], "original text");
}

// ---------------------------------------------------------------------------------------------
// 5. SQL injection and path traversal

const std::vector<std::string>& injections() {
    static const std::vector<std::string> v = {
        "' OR 1=1 --",
        "'; DROP TABLE users; --",
        "\"; DROP TABLE chats; --",
        "%",
        "_",
        "\\",
        "%%_\\%",
        "1' UNION SELECT password_hash FROM users --",
        "$1",
        "$$; DELETE FROM messages; $$",
        "' OR ''='",
        "\\'; TRUNCATE auth_tokens; --",
        "E'\\x41'",
    };
    return v;
}

TEST_F(HostileTest, SqlInjectionInUserSearchMatchesLiterally) {
    auto a = register_user(port(), "hj");
    // A user whose display name is the attack string is found by it, literally.
    std::string tag = random_alnum(6);
    auto victim = register_user(port(), "hj", "' OR 1=1 -- " + tag);
    for (const auto& q : injections()) {
        SCOPED_TRACE("query " + q);
        auto r = get(port(), a.token, "/api/v1/users?limit=200&query=" + url_encode(q));
        if (q.size() < 2) {  // a search names at least two characters (docs/api.md)
            EXPECT_TRUE(IsError(r, 400, "bad_request"));
            continue;
        }
        ASSERT_TRUE(IsJson(r, 200));
        const auto body = r.json();  // the loop below must not range over a temporary's member
        for (const auto& u : body["users"]) {
            std::string un = u["username"], dn = u["display_name"];
            auto lower = [](std::string x) {
                for (auto& c : x) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                return x;
            };
            bool matches = lower(un).rfind(lower(q), 0) == 0 || lower(dn).rfind(lower(q), 0) == 0;
            EXPECT_TRUE(matches) << "query " << q << " returned " << u.dump();
            EXPECT_FALSE(u.contains("password_hash"));
        }
        EXPECT_EQ(r.body.find("$argon2"), std::string::npos) << "a password hash leaked";
    }
    auto r = get(port(), a.token, "/api/v1/users?query=" + url_encode("' OR 1=1 -- " + tag));
    ASSERT_TRUE(IsJson(r, 200));
    ASSERT_EQ(r.json()["users"].size(), 1u) << r.body;
    EXPECT_EQ(r.json()["users"][0]["id"], victim.id);
    // The users table still works.
    EXPECT_TRUE(Healthy(port()));
    auto fresh = register_user(port(), "hj");
    EXPECT_FALSE(login(port(), fresh.username).empty());
    EXPECT_EQ(get(port(), a.token, "/api/v1/users/" + victim.id).status, 200);
}

TEST_F(HostileTest, SqlInjectionInUsernamesAndPasswordsIsRefusedWithoutEffect) {
    auto a = register_user(port(), "hv");
    for (const auto& s : injections()) {
        SCOPED_TRACE(s);
        EXPECT_TRUE(IsError(call(port(), "POST", "/api/v1/auth/register",
                                 json({{"username", s}, {"password", kPassword}}).dump()),
                            400, "bad_request"));
        // Login: wrong whatever the injection.
        EXPECT_TRUE(IsError(call(port(), "POST", "/api/v1/auth/login",
                                 json({{"username", s}, {"password", s + "xxxxxxxx"}}).dump()),
                            401, "unauthorized"));
        EXPECT_TRUE(IsError(call(port(), "POST", "/api/v1/auth/login",
                                 json({{"username", a.username + s}, {"password", kPassword}}).dump()),
                            401, "unauthorized"));
        EXPECT_TRUE(IsError(call(port(), "POST", "/api/v1/auth/login",
                                 json({{"username", a.username}, {"password", s}}).dump()),
                            401, "unauthorized"));
    }
    // A password made of injection strings is just a password.
    std::string pw = "' OR 1=1 --; DROP TABLE users; --";
    auto name = unique_username("hv");
    ASSERT_EQ(call(port(), "POST", "/api/v1/auth/register", json({{"username", name}, {"password", pw}}).dump()).status,
              201);
    EXPECT_FALSE(login(port(), name, pw).empty());
    EXPECT_TRUE(IsError(call(port(), "POST", "/api/v1/auth/login",
                             json({{"username", name}, {"password", "' OR 1=1 --"}}).dump()),
                        401, "unauthorized"));
    EXPECT_TRUE(Healthy(port()));
    EXPECT_FALSE(login(port(), a.username).empty());
}

TEST_F(HostileTest, SqlInjectionInTitlesContentMetadataAndClientIdIsStoredLiterally) {
    auto a = register_user(port(), "hw");
    auto b = register_user(port(), "hw");
    int i = 0;
    for (const auto& s : injections()) {
        SCOPED_TRACE(s);
        auto chat = post(port(), a.token, chats_url(), {{"type", "group"}, {"title", s}, {"member_ids", {b.id}}});
        ASSERT_TRUE(IsJson(chat, 201));
        std::string id = chat.json()["id"];
        EXPECT_EQ(get_chat(port(), b, id)["title"], s);
        auto m = send_message(
            port(), a, id,
            {{"type", "text"}, {"content", s}, {"client_id", s + std::to_string(i++)}, {"metadata", {{s, s}}}});
        ASSERT_TRUE(IsJson(m, 201));
        auto back = get_message(port(), b, m.json()["id"]);
        EXPECT_EQ(back["content"], s);
        EXPECT_EQ(back["metadata"], json({{s, s}}));
        auto upd = put(port(), a.token, chat_url(id), {{"metadata", {{"k", s}}}, {"title", s + "!"}});
        ASSERT_TRUE(IsJson(upd, 200));
        EXPECT_EQ(get_chat(port(), b, id)["metadata"], json({{"k", s}}));
        EXPECT_EQ(get_chat(port(), b, id)["title"], s + "!");
    }
    // Every table still works: users, chats, messages, tokens.
    EXPECT_TRUE(Healthy(port()));
    EXPECT_EQ(list_chats(port(), b).size(), injections().size());
    auto c = register_user(port(), "hw");
    std::string fresh = create_group(port(), c, {a.id})["id"];
    EXPECT_EQ(send_text(port(), a, fresh, "still works")["seq"], 1);
    EXPECT_EQ(get(port(), a.token, "/api/v1/users/me").status, 200);
}

TEST_F(HostileTest, ForgedCursorsAre400) {
    auto s = make_scene(port(), "hf");
    std::vector<std::string> cursors = {
        base64url("'; DROP TABLE users; --"),
        base64url("' OR 1=1 --"),
        base64url(std::string("\0\0\0\0\0\0\0\0", 8)),
        base64url("{\"seq\":-1}"),
        base64url("9999999999999999999999999999"),
        "!!!not-base64!!!",
        "====",
        std::string(10000, 'A'),
        "%00",
        "%FF%FE",
        "..%2F..%2Fetc%2Fpasswd",
    };
    for (const auto& c : cursors) {
        for (const std::string& base : std::vector<std::string>{
                 chats_url() + "?cursor=", "/api/v1/users?query=&cursor=", members_url(s.chat_id) + "?cursor="}) {
            SCOPED_TRACE(base + c.substr(0, 60));
            // Already percent-encoded cursors are sent as they are.
            bool raw = c.find('%') != std::string::npos;
            auto r = get(port(), s.owner.token, base + (raw ? c : url_encode(c)));
            EXPECT_TRUE(IsError(r, 400, "bad_request"));
        }
    }
    EXPECT_TRUE(Healthy(port()));
    EXPECT_EQ(chat_snapshot(port(), s.owner, s.chat_id), s.before);
    EXPECT_EQ(get(port(), s.owner.token, "/api/v1/users?query=" + s.owner.username).json()["users"].size(), 1u);
}

TEST_F(HostileTest, PathTraversalInFileNamesNeverReachesTheFilesystem) {
    auto a = register_user(port(), "ht");
    auto b = register_user(port(), "ht");
    std::string chat = create_direct(port(), a, b)["id"];
    const fs::path tmp = server().temp_dir();
    auto files_before = [&] {
        std::set<std::string> out;
        std::error_code ec;
        for (auto it = fs::recursive_directory_iterator(tmp, ec); !ec && it != fs::recursive_directory_iterator();
             it.increment(ec))
            out.insert(it->path().filename().string());
        return out;
    };
    const std::vector<std::string> names = {
        "..%2F..%2Fetc%2Fpasswd",
        "....//....//etc/hostile_passwd",
        "..\\..\\..\\hostile_win.ini",
        "/dev/null",
        "..",
        ".",
        "%2e%2e%2fhostile",
        "a/../../../../hostile_up",
        "hostile\\..\\..\\x",
        "' OR 1=1 --.txt",
        "con.txt",
        std::string(255, 'n'),
    };
    int seed = 0;
    for (const auto& n : names) {
        SCOPED_TRACE("X-File-Name " + n);
        std::string bytes = plain_text(n + std::to_string(seed++));
        auto r = upload_text(port(), a, chat, bytes, {{"X-File-Name", n}});
        if (r.status == 201) {
            ASSERT_TRUE(IsJson(r, 201));
            auto fname = r.json()["file_name"];
            if (fname.is_string()) {
                std::string f = fname;
                EXPECT_EQ(f.find('/'), std::string::npos) << f;
                EXPECT_EQ(f.find('\\'), std::string::npos) << f;
            }
            // Send and download: the bytes are intact.
            auto m = send_message(port(), a, chat, {{"type", "file"}, {"media_id", r.json()["id"]}});
            ASSERT_TRUE(IsJson(m, 201));
            auto d = get(port(), b.token, message_url(m.json()["id"]) + "/media");
            EXPECT_EQ(d.status, 200);
            EXPECT_EQ(d.body, bytes);
        } else {
            EXPECT_TRUE(IsError(r, 400, "bad_request"));
        }
    }
    for (const auto& f : files_before()) {
        EXPECT_EQ(f.find("hostile"), std::string::npos) << "a user-chosen name reached the filesystem: " << f;
        EXPECT_NE(f, "passwd");
    }
    EXPECT_FALSE(fs::exists(tmp.parent_path() / "hostile_up"));
    EXPECT_FALSE(fs::exists(tmp / "etc"));
    EXPECT_TRUE(Healthy(port()));
}

TEST_F(HostileTest, TraversalAndGarbageInEmojiPathSegments) {
    auto s = make_scene(port(), "hq");
    const std::string base = message_url(s.message_id) + "/reactions/";
    struct Case {
        std::string segment;
        std::string decoded;  // what a literal store would hold
    };
    const std::vector<Case> cases = {
        {"..%2F..%2Fetc%2Fpasswd", "../../etc/passwd"},
        {"..%2F..%2F..%2Fusers%2Fme", "../../../users/me"},
        {"%2E%2E", ".."},
        {"%27%20OR%201%3D1%20--", "' OR 1=1 --"},
        {"%5C..%5C", "\\..\\"},
        {"%00", std::string(1, '\0')},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.segment);
        auto r = call(port(), "PUT", base + c.segment, std::string("{}"), auth_header(s.member.token));
        EXPECT_TRUE(r.status == 204 || r.status == 400 || r.status == 404) << r.describe();
        if (r.status != 204) EXPECT_TRUE(IsError(r, r.status, r.status == 400 ? "bad_request" : "not_found"));
        auto m = get_message(port(), s.owner, s.message_id);
        if (r.status == 204) {
            ASSERT_NE(find_reaction(m, c.decoded), nullptr) << "204 but not stored literally: " << m.dump();
            EXPECT_EQ(del(port(), s.member.token, base + c.segment).status, 204);
        }
    }
    // Refused outright: invalid UTF-8 after decoding, over 32 bytes.
    for (const std::string& seg :
         std::vector<std::string>{"%FF%FE", "%C0%AF", "%ED%A0%80", std::string(33, 'e'), repeat("%F0%9F%98%80", 9)}) {
        SCOPED_TRACE(seg);
        auto r = call(port(), "PUT", base + seg, std::string("{}"), auth_header(s.member.token));
        EXPECT_TRUE(IsError(r, 400, "bad_request"));
    }
    // A broken percent escape: the path cannot be decoded, so 400, or 404 as an unknown path.
    for (const std::string& seg : std::vector<std::string>{"%", "%zz", "%2", "%%41"}) {
        SCOPED_TRACE(seg);
        auto r = call(port(), "PUT", base + seg, std::string("{}"), auth_header(s.member.token));
        EXPECT_TRUE(r.status == 400 || r.status == 404) << r.describe();
        EXPECT_TRUE(IsError(r, r.status, r.status == 400 ? "bad_request" : "not_found"));
    }
    // Traversal in id segments: not a UUID.
    for (const std::string& t :
         std::vector<std::string>{"/api/v1/chats/..%2F..%2Fusers%2Fme", "/api/v1/messages/..%2F" + s.message_id,
                                  "/api/v1/chats/%2e%2e%2f%2e%2e/messages"}) {
        SCOPED_TRACE(t);
        auto r = get(port(), s.member.token, t);
        EXPECT_TRUE(r.status == 400 || r.status == 404) << r.describe();
        EXPECT_EQ(r.body.find(s.member.username), std::string::npos) << r.body;
    }
    EXPECT_TRUE(Healthy(port()));
    EXPECT_EQ(get_message(port(), s.owner, s.message_id)["reactions"], json::array());
    EXPECT_EQ(get_message(port(), s.owner, s.message_id)["content"], "original text");
}

// ---------------------------------------------------------------------------------------------
// 6. forged ids across users (BOLA)

TEST_F(HostileTest, BolaMediaDownloadRemovalGalleryAndUploadInAnotherUsersChat) {
    auto a = register_user(port(), "hm");
    auto a2 = register_user(port(), "hm");
    auto b = register_user(port(), "hm");
    std::string chat = create_group(port(), a, {a2.id})["id"];
    std::string secret = plain_text("secret " + random_alnum(8));
    auto up = upload_text(port(), a, chat, secret, {{"X-File-Name", "secret-plan.txt"}});
    ASSERT_TRUE(IsJson(up, 201));
    std::string media_id = up.json()["id"];
    auto msg = send_message(port(), a, chat, {{"type", "file"}, {"media_id", media_id}, {"content", "caption secret"}});
    ASSERT_TRUE(IsJson(msg, 201));
    std::string mid = msg.json()["id"];
    std::string own = create_group(port(), b)["id"];
    const std::vector<std::string> secrets = {secret, "secret-plan", "caption secret", a2.username};

    std::vector<std::pair<std::string, HttpResponse>> calls = {
        {"GET media", get(port(), b.token, message_url(mid) + "/media")},
        {"GET media thumb", get(port(), b.token, message_url(mid) + "/media?variant=thumb")},
        {"GET media range", call(port(), "GET", message_url(mid) + "/media", std::nullopt,
                                 {{"Authorization", "Bearer " + b.token}, {"Range", "bytes=0-3"}})},
        {"DELETE media", del(port(), b.token, message_url(mid) + "/media")},
        {"GET gallery", get(port(), b.token, chat_url(chat) + "/media")},
        {"upload into A's chat", upload_text(port(), b, chat, plain_text("intruder"))},
        {"send A's media_id in own chat", send_message(port(), b, own, {{"type", "file"}, {"media_id", media_id}})},
        {"reply to A's message from own chat",
         send_message(port(), b, own, {{"type", "text"}, {"content", "x"}, {"reply_to_id", mid}})},
    };
    for (auto& [what, r] : calls) {
        SCOPED_TRACE(what);
        if (what.rfind("send", 0) == 0 || what.rfind("reply", 0) == 0) {
            EXPECT_TRUE(r.status == 400 || r.status == 404) << r.describe();
        } else {
            EXPECT_TRUE(IsError(r, 404, "not_found"));
        }
        EXPECT_FALSE(body_leaks(r, secrets)) << r.body.substr(0, 500);
    }
    EXPECT_TRUE(Healthy(port()));
    auto d = get(port(), a2.token, message_url(mid) + "/media");
    EXPECT_EQ(d.status, 200);
    EXPECT_EQ(d.body, secret);
    EXPECT_EQ(all_messages(port(), b, own).size(), 0u);
}

TEST_F(HostileTest, BolaOverTheWebSocketGets404AndLeaksNothing) {
    auto s = make_scene(port(), "hk");
    auto b = register_user(port(), "hk");
    auto ws_owner = ws_connect(port(), s.owner.token);
    auto ws_b = ws_connect(port(), b.token);
    ASSERT_TRUE(AnswersPing(*ws_owner));
    const std::vector<std::pair<std::string, json>> calls = {
        {"sync", {{"chat_id", s.chat_id}, {"since_version", 0}}},
        {"sync", {{"chat_id", s.chat_id}, {"since_version", 0}, {"limit", 200}}},
        {"read.mark", {{"chat_id", s.chat_id}, {"seq", 1}}},
        {"typing.start", {{"chat_id", s.chat_id}}},
        {"typing.stop", {{"chat_id", s.chat_id}}},
        {"reaction.add", {{"message_id", s.message_id}, {"emoji", "\xF0\x9F\x91\x8E"}}},
        {"reaction.remove", {{"message_id", s.message_id}, {"emoji", "\xF0\x9F\x91\x8E"}}},
        {"message.edit", {{"message_id", s.message_id}, {"content", "pwned"}}},
        {"message.delete", {{"message_id", s.message_id}}},
        {"message.send", {{"chat_id", s.chat_id}, {"type", "text"}, {"content", "pwned"}}},
        {"message.send", {{"chat_id", s.chat_id}, {"type", "text"}, {"content", "pwned"}, {"client_id", "c1"}}},
    };
    for (const auto& [type, data] : calls) {
        SCOPED_TRACE(type + " " + data.dump());
        auto reply = ws_request(*ws_b, type, data);
        EXPECT_TRUE(IsWsError(reply, "not_found", reply.value("id", "")));
        EXPECT_EQ(reply.dump().find("original text"), std::string::npos) << reply.dump();
        EXPECT_EQ(reply.dump().find(s.member.username), std::string::npos) << reply.dump();
    }
    // The owner saw nothing from the intruder (no typing, no read receipt, no message event).
    const auto from_intruder = [&](const json& f) {
        return frame_of("typing.update")(f) || mentions_chat(f, s.chat_id);
    };
    EXPECT_TRUE(NoFrameBefore(*ws_owner, from_intruder, direct_message_marker(port(), s.member, s.owner)));
    EXPECT_TRUE(AnswersPing(*ws_b));
    EXPECT_TRUE(Healthy(port()));
    EXPECT_EQ(chat_snapshot(port(), s.owner, s.chat_id), s.before);
}

TEST_F(HostileTest, BolaSelfAddRoleGrabAndKickInAnotherUsersGroup) {
    auto s = make_scene(port(), "hg");
    auto b = register_user(port(), "hg");
    const std::vector<std::pair<std::string, std::function<HttpResponse()>>> calls = {
        {"self add",
         [&] {
             return post(port(), b.token, members_url(s.chat_id), {{"user_ids", {b.id}}});
         }},
        {"self add with the owner's id too",
         [&] {
             return post(port(), b.token, members_url(s.chat_id), {{"user_ids", {b.id, s.owner.id}}});
         }},
        {"grab ownership",
         [&] {
             return patch(port(), b.token, member_url(s.chat_id, b.id), {{"role", "owner"}});
         }},
        {"demote owner",
         [&] {
             return patch(port(), b.token, member_url(s.chat_id, s.owner.id), {{"role", "member"}});
         }},
        {"kick member", [&] { return del(port(), b.token, member_url(s.chat_id, s.member.id)); }},
        {"mute someone",
         [&] {
             return patch(port(), b.token, member_url(s.chat_id, s.member.id), {{"is_muted", true}});
         }},
        {"rename",
         [&] {
             return put(port(), b.token, chat_url(s.chat_id), {{"title", "owned"}});
         }},
        {"mark read",
         [&] {
             return post(port(), b.token, read_url(s.chat_id), {{"seq", 1}});
         }},
        {"delete group", [&] { return del(port(), b.token, chat_url(s.chat_id)); }},
        {"react", [&] { return put(port(), b.token, reaction_url(s.message_id, "x"), json::object()); }},
        {"sync", [&] { return get(port(), b.token, chat_messages_url(s.chat_id) + "?since_version=0&limit=200"); }},
        {"read message", [&] { return get(port(), b.token, message_url(s.message_id)); }},
        {"read history", [&] { return get(port(), b.token, chat_messages_url(s.chat_id) + "?after_seq=0&limit=200"); }},
        {"edit message",
         [&] {
             return put(port(), b.token, message_url(s.message_id), {{"content", "pwned"}});
         }},
        {"delete message", [&] { return del(port(), b.token, message_url(s.message_id)); }},
        {"remove reaction", [&] { return del(port(), b.token, reaction_url(s.message_id, "x")); }},
        {"read members", [&] { return get(port(), b.token, members_url(s.chat_id)); }},
    };
    for (const auto& [what, f] : calls) {
        SCOPED_TRACE(what);
        auto r = f();
        EXPECT_TRUE(IsError(r, 404, "not_found"));
        EXPECT_FALSE(body_leaks(r, {"original text", s.member.username, s.owner.username}));
    }
    EXPECT_TRUE(Healthy(port()));
    EXPECT_EQ(chat_snapshot(port(), s.owner, s.chat_id), s.before);
    EXPECT_TRUE(list_chats(port(), b).empty());
}

// ---------------------------------------------------------------------------------------------
// 7. tokens

TEST_F(HostileTest, MalformedTruncatedAndSplitTokensAre401OnRestAndWebSocket) {
    auto u = register_user(port(), "ho");
    const std::string& t = u.token;
    const std::vector<std::pair<std::string, std::string>> tokens = {
        {"truncated by one", t.substr(0, t.size() - 1)},
        {"half", t.substr(0, t.size() / 2)},
        {"one extra char", t + "A"},
        {"padding", t + "="},
        {"space inside", t.substr(0, 20) + " " + t.substr(20)},
        {"tab inside", t.substr(0, 20) + "\t" + t.substr(20)},
        {"twice", t + " " + t},
        {"comma list", t + "," + t},
        {"10 KB", std::string(10000, 'A')},
        {"sql", "' OR 1=1 --"},
        {"base64 std alphabet",
         [&] {
             std::string x = t;
             for (auto& c : x) c = c == '-' ? '+' : c == '_' ? '/' : c;
             return x == t ? t.substr(0, 42) + "+" : x;
         }()},
        {"upper-cased",
         [&] {
             const auto x = upper_cased(t);
             return x == t ? x + "x" : x;
         }()},
        {"percent-encoded", url_encode(t) == t ? "%41" + t.substr(1) : url_encode(t)},
    };
    for (const auto& [what, tok] : tokens) {
        SCOPED_TRACE(what);
        auto r = call(port(), "GET", "/api/v1/users/me", std::nullopt, {{"Authorization", "Bearer " + tok}});
        EXPECT_TRUE(IsError(r, 401, "unauthorized"));
        auto ws = WsClient::connect(port(), "/api/v1/ws", {{"Authorization", "Bearer " + tok}});
        EXPECT_FALSE(ws.ok());
        EXPECT_EQ(ws.status, 401) << ws.body << ws.error;
        auto wq = WsClient::connect(port(), "/api/v1/ws?access_token=" + url_encode(tok));
        EXPECT_FALSE(wq.ok());
        EXPECT_EQ(wq.status, 401) << wq.body << wq.error;
    }
    // Two access_token parameters, one of them valid, and a valid one hidden in a fragment-ish suffix.
    auto dup = WsClient::connect(port(), "/api/v1/ws?access_token=garbage&access_token=" + url_encode(t));
    EXPECT_TRUE(dup.status == 401 || dup.status == 101) << dup.body;
    EXPECT_TRUE(Healthy(port()));
    EXPECT_EQ(get(port(), t, "/api/v1/users/me").status, 200);
}

TEST_F(HostileTest, ExpiredTokensAre401OnRestAndWebSocket) {
    auto u = register_user(port(), "hx");
    auto second = login(port(), u.username);
    auto other = register_user(port(), "hx");
    ASSERT_EQ(get(port(), u.token, "/api/v1/users/me").status, 200);
    shared_database().query_value("UPDATE auth_tokens SET expires_at = now() - interval '1 day' WHERE user_id = '" +
                                  u.id + "'");
    for (const auto& tok : {u.token, second}) {
        EXPECT_TRUE(IsError(get(port(), tok, "/api/v1/users/me"), 401, "unauthorized"));
        EXPECT_TRUE(IsError(post(port(), tok, chats_url(), {{"type", "direct"}, {"member_ids", {other.id}}}), 401,
                            "unauthorized"));
        auto ws = WsClient::connect(port(), "/api/v1/ws", auth_header(tok));
        EXPECT_EQ(ws.status, 401) << ws.body;
        if (!ws.ok()) EXPECT_EQ(ws.json()["error"]["code"], "unauthorized") << ws.body;
        auto wq = WsClient::connect(port(), "/api/v1/ws?access_token=" + url_encode(tok));
        EXPECT_EQ(wq.status, 401) << wq.body;
    }
    EXPECT_TRUE(list_chats(port(), other).empty());
    // Logging in again issues a working token; the other user is unaffected.
    auto fresh = login(port(), u.username);
    EXPECT_EQ(get(port(), fresh, "/api/v1/users/me").status, 200);
    EXPECT_EQ(get(port(), other.token, "/api/v1/users/me").status, 200);
    EXPECT_TRUE(Healthy(port()));
}

TEST_F(HostileTest, DeletedUsersTokenIs401AndTheirChatsStillWork) {
    auto a = register_user(port(), "hd");
    auto gone = register_user(port(), "hd");
    std::string direct = create_direct(port(), a, gone)["id"];
    std::string group = create_group(port(), gone, {a.id})["id"];
    send_text(port(), gone, direct, "from the deleted user");
    send_text(port(), a, group, "to the deleted owner");
    shared_database().query_value("DELETE FROM users WHERE id = '" + gone.id + "'");

    EXPECT_TRUE(IsError(get(port(), gone.token, "/api/v1/users/me"), 401, "unauthorized"));
    EXPECT_TRUE(IsError(get(port(), gone.token, chats_url()), 401, "unauthorized"));
    EXPECT_TRUE(IsError(post(port(), gone.token, chat_messages_url(direct), {{"type", "text"}, {"content", "ghost"}}),
                        401, "unauthorized"));
    auto ws = WsClient::connect(port(), "/api/v1/ws", auth_header(gone.token));
    EXPECT_EQ(ws.status, 401) << ws.body;
    auto wq = WsClient::connect(port(), "/api/v1/ws?access_token=" + url_encode(gone.token));
    EXPECT_EQ(wq.status, 401) << wq.body;
    EXPECT_TRUE(IsError(get(port(), a.token, "/api/v1/users/" + gone.id), 404, "not_found"));
    // The remaining member can still read both chats (no 500 from the dangling sender/owner).
    EXPECT_EQ(get(port(), a.token, chats_url()).status, 200);
    EXPECT_EQ(get(port(), a.token, chat_url(direct)).status, 200);
    EXPECT_EQ(get(port(), a.token, chat_messages_url(direct)).status, 200);
    EXPECT_EQ(get(port(), a.token, chat_url(group)).status, 200);
    EXPECT_EQ(get(port(), a.token, members_url(group)).status, 200);
    EXPECT_TRUE(Healthy(port()));
}

// ---------------------------------------------------------------------------------------------
// 8. header floods and huge request lines

TEST_F(HostileTest, FiveHundredHeadersAreAnsweredOrRefusedWith431) {
    auto u = register_user(port(), "hf");
    std::string req =
        "GET /api/v1/users/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + u.token + "\r\nConnection: close\r\n";
    for (int i = 0; i < 500; ++i) req += "X-Flood-" + std::to_string(i) + ": v" + std::to_string(i) + "\r\n";
    auto out = raw_exchange(port(), req + "\r\n", 3s);
    int st = raw_status(out);
    EXPECT_TRUE(st == 200 || st == 431 || out.empty()) << out.substr(0, 300);
    if (st == 200) EXPECT_NE(raw_body(out).find(u.id), std::string::npos);
    // 500 copies of the same header, one of them a second Authorization.
    std::string dup = "GET /api/v1/users/me HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
    for (int i = 0; i < 500; ++i)
        dup += "Authorization: Bearer " + std::string(i == 250 ? u.token : "garbage") + "\r\n";
    out = raw_exchange(port(), dup + "\r\n", 3s);
    st = raw_status(out);
    EXPECT_TRUE(st == 400 || st == 401 || st == 431 || out.empty()) << out.substr(0, 300);
    EXPECT_TRUE(Healthy(port()));
}

TEST_F(HostileTest, TwentyKilobyteHeaderValueIs431WithTheErrorBody) {
    auto u = register_user(port(), "hv");
    for (const std::string& name : {"X-Big", "Authorization", "Cookie", "X-Request-Id"}) {
        SCOPED_TRACE(name);
        std::string value =
            name == "Authorization" ? "Bearer " + std::string(20 * 1024, 'A') : std::string(20 * 1024, 'v');
        auto out = raw_exchange(port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n" + name + ": " + value + "\r\n\r\n", 3s);
        if (!out.empty()) {
            EXPECT_EQ(raw_status(out), 431) << out.substr(0, 300);
            auto j = json::parse(raw_body(out), nullptr, false);
            EXPECT_FALSE(j.is_discarded()) << out.substr(0, 500);
            if (!j.is_discarded()) EXPECT_EQ(j["error"]["code"], "bad_request") << out.substr(0, 500);
        }
        ASSERT_TRUE(Healthy(port()));
    }
    EXPECT_EQ(get(port(), u.token, "/api/v1/users/me").status, 200);
}

TEST_F(HostileTest, HundredKilobyteRequestTargetIsRefusedWithout5xx) {
    auto u = register_user(port(), "hl");
    for (const std::string& target :
         {"/api/v1/users?query=" + std::string(100 * 1024, 'a'), "/" + std::string(100 * 1024, '/'),
          "/api/v1/chats/" + repeat("../", 34000), "/api/v1/users?" + repeat("query=a&", 12800)}) {
        SCOPED_TRACE(target.substr(0, 40));
        auto out = raw_exchange(port(),
                                "GET " + target + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + u.token +
                                    "\r\nConnection: close\r\n\r\n",
                                3s);
        int st = raw_status(out);
        EXPECT_TRUE(out.empty() || (st >= 400 && st < 500)) << out.substr(0, 300);
        ASSERT_TRUE(Healthy(port()));
    }
    // Under the header limit, a 12 KB search prefix is just a search with no results.
    auto r = get(port(), u.token, "/api/v1/users?query=" + std::string(12 * 1024, 'q'));
    EXPECT_TRUE(r.status == 200 || r.status == 400) << r.describe();
    if (r.status == 200) EXPECT_TRUE(r.json()["users"].empty());
    EXPECT_TRUE(Healthy(port()));
}

TEST_F(HostileTest, MethodOverrideHeadersAreIgnored) {
    auto s = make_scene(port(), "ho");
    for (const std::string h : {"X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"}) {
        auto r = call(port(), "GET", chat_url(s.chat_id), std::nullopt,
                      {{"Authorization", "Bearer " + s.member.token}, {h, "DELETE"}});
        EXPECT_EQ(r.status, 200) << h << ": " << r.describe();
        r = call(port(), "POST", message_url(s.message_id), std::string("{}"),
                 {{"Authorization", "Bearer " + s.member.token}, {h, "DELETE"}});
        EXPECT_TRUE(r.status == 405 || r.status == 404 || r.status == 400) << h << ": " << r.describe();
    }
    EXPECT_TRUE(Healthy(port()));
    EXPECT_EQ(chat_snapshot(port(), s.owner, s.chat_id), s.before);
}

// ---------------------------------------------------------------------------------------------
// 9. slowloris against a server with a 2 s idle timeout

struct TrickleResult {
    bool closed = false;
    std::chrono::milliseconds closed_after{0};
    std::size_t bytes_sent = 0;
    std::string received;
};

TrickleResult trickle(std::uint16_t port, const std::string& bytes, std::chrono::milliseconds interval,
                      std::chrono::milliseconds give_up) {
    TrickleResult res;
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw std::runtime_error("socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        throw std::runtime_error("connect");
    }
    const auto t0 = std::chrono::steady_clock::now();
    auto elapsed = [&] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    };
    auto wait_readable = [&](std::chrono::milliseconds d) {
        // true when the server closed (EOF or error)
        auto until = std::chrono::steady_clock::now() + d;
        while (std::chrono::steady_clock::now() < until) {
            pollfd p{fd, POLLIN, 0};
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
            int n = ::poll(&p, 1, static_cast<int>(std::max<long>(1, left.count())));
            if (n > 0) {
                char buf[4096];
                auto got = ::recv(fd, buf, sizeof buf, 0);
                if (got <= 0) return true;
                res.received.append(buf, static_cast<std::size_t>(got));
            }
        }
        return false;
    };
    std::size_t i = 0;
    while (elapsed() < give_up) {
        if (i < bytes.size()) {
            if (::send(fd, bytes.data() + i, 1, MSG_NOSIGNAL) != 1) {
                res.closed = true;
                break;
            }
            ++i;
        }
        if (wait_readable(interval)) {
            res.closed = true;
            break;
        }
    }
    res.closed_after = elapsed();
    res.bytes_sent = i;
    ::close(fd);
    return res;
}

TEST(HostileSlowlorisTest, TrickledRequestIsClosedByTheIdleTimeoutWhileOthersAreServed) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(shared_database().url(),
                         ServerProcess::Options{{{"CONFAB_IDLE_TIMEOUT_SECONDS", "2"}}, true, 30s, "slowloris confab"});
    auto u = register_user(server.port(), "hs");
    const std::string request = "GET /healthz HTTP/1.1\r\nHost: x\r\n";  // never finished: 33 bytes
    std::vector<TrickleResult> results(3);
    std::atomic<std::size_t> trickling{results.size()};
    std::vector<std::thread> stallers;
    for (std::size_t k = 0; k < results.size(); ++k)
        stallers.emplace_back([&, k] {
            results[k] = trickle(server.port(), request, 200ms, 9s);
            --trickling;
        });

    // Meanwhile, until the last trickling connection ends, other clients are served normally
    // and promptly.
    int served = 0;
    std::chrono::milliseconds worst{0};
    while (trickling > 0) {
        auto t0 = std::chrono::steady_clock::now();
        auto h = call(server.port(), "GET", "/healthz", std::nullopt, {}, 3s);
        auto me = call(server.port(), "GET", "/api/v1/users/me", std::nullopt, auth_header(u.token), 3s);
        worst = std::max(worst,
                         std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0));
        EXPECT_EQ(h.status, 200) << h.describe();
        EXPECT_EQ(me.status, 200) << me.describe();
        ++served;
    }
    for (auto& t : stallers) t.join();
    EXPECT_GT(served, 5);
    EXPECT_LT(worst, 1000ms) << "a request took too long while slowloris connections were open";
    for (const auto& r : results) {
        EXPECT_TRUE(r.closed) << "the server never closed a trickling connection (" << r.bytes_sent << " bytes sent)";
        EXPECT_LT(r.closed_after, 5500ms) << "closed only after " << r.closed_after.count() << " ms";
        EXPECT_GE(r.closed_after, 1500ms) << "closed too early: " << r.received.substr(0, 200);
        EXPECT_LT(r.bytes_sent, request.size()) << "the trickle finished before the server closed it";
        if (!r.received.empty()) {
            // If the server says something before closing, it is a 4xx (408), not a 200 for half a request.
            EXPECT_EQ(r.received.rfind("HTTP/1.1 4", 0), 0u) << r.received.substr(0, 200);
        }
    }
    EXPECT_TRUE(Healthy(server.port()));
    EXPECT_EQ(server.terminate(10s), 0);
}

// ---------------------------------------------------------------------------------------------
// 10. WebSocket abuse

TEST_F(HostileTest, WsHugeAndOddIdsGetAnErrorWithoutId) {
    auto u = register_user(port(), "wi");
    auto ws = ws_connect(port(), u.token);
    for (const std::string& frame : std::vector<std::string>{
             R"({"type":"ping","id":")" + std::string(60 * 1024, 'i') + "\"}",
             R"({"type":"ping","id":")" + std::string(65, 'i') + "\"}",
             R"({"type":"ping","id":18446744073709551616})",
             R"({"type":"ping","id":1e308})",
             R"({"type":"ping","id":{"nested":"id"}})",
             R"({"type":"ping","id":["a"]})",
         }) {
        SCOPED_TRACE(frame.substr(0, 80));
        ws->send_text(frame);
        auto reply = next_reply(*ws);
        ASSERT_TRUE(IsWsError(reply, "bad_request"));
        EXPECT_FALSE(reply->contains("id") && !(*reply)["id"].is_null()) << reply->dump().substr(0, 300);
        EXPECT_LT(reply->dump().size(), 4096u) << "the error echoes the huge id back";
    }
    // An id that is invalid JSON (number overflow) is a non-JSON frame.
    ws->send_text(R"({"type":"ping","id":1e400})");
    EXPECT_TRUE(IsWsError(next_reply(*ws), "bad_request"));
    EXPECT_TRUE(ws->is_open());
    EXPECT_TRUE(AnswersPing(*ws));
    EXPECT_TRUE(Healthy(port()));
}

TEST_F(HostileTest, WsDataNestedTenThousandLevelsDeepIsRefusedAndNothingIsStored) {
    auto s = make_scene(port(), "wn");
    auto ws = ws_connect(port(), s.owner.token);
    std::string deep_obj;
    for (int i = 0; i < 10000; ++i) deep_obj += "{\"a\":";
    deep_obj += "1" + std::string(10000, '}');
    std::string deep_arr = std::string(10000, '[') + std::string(10000, ']');
    // As message metadata: bad_request (too deep) or payload_too_large (over 16 KiB), never stored.
    for (const auto& deep : {deep_obj, deep_arr}) {
        ws->send_text(R"({"type":"message.send","id":"deep","data":{"chat_id":")" + s.chat_id +
                      R"(","type":"text","content":"deep","metadata":{"x":)" + deep + "}}}");
        auto reply = next_reply(*ws);
        ASSERT_TRUE(reply.has_value()) << "closed with " << ws->close_code().value_or(-1);
        EXPECT_EQ((*reply)["type"], "error") << reply->dump().substr(0, 300);
        auto code = (*reply)["error"].value("code", "");
        EXPECT_TRUE(code == "bad_request" || code == "payload_too_large") << reply->dump().substr(0, 300);
    }
    // As the whole data of other events.
    for (const std::string type : {"message.edit", "sync", "read.mark", "typing.start"}) {
        ws->send_text(R"({"type":")" + type + R"(","id":"d2","data":)" + deep_obj + "}");
        auto reply = next_reply(*ws);
        ASSERT_TRUE(reply.has_value()) << type << ": closed with " << ws->close_code().value_or(-1);
        EXPECT_TRUE(IsWsError(reply, "bad_request")) << type;
    }
    EXPECT_TRUE(AnswersPing(*ws));
    EXPECT_TRUE(Healthy(port()));
    EXPECT_EQ(chat_snapshot(port(), s.owner, s.chat_id), s.before);
}

// Found by the ws_envelope fuzz target: measuring metadata this deep recursed once per
// level and overflowed the stack, killing the server. A body under 256 KiB reaches 130000.
TEST_F(HostileTest, RestMetadataNested130000LevelsDeepIs413AndTheServerSurvives) {
    auto s = make_scene(port(), "rn");
    const std::size_t depth = 130000;
    const auto metadata = R"("metadata":{"x":)" + std::string(depth, '[') + std::string(depth, ']') + "}}";
    struct Request {
        std::string method, target, body;
    };
    for (const auto& [method, target, body] : {
             Request{"POST", chat_messages_url(s.chat_id), R"({"type":"text","content":"deep",)" + metadata},
             Request{"PUT", chat_url(s.chat_id), "{" + metadata},
             Request{"POST", chats_url(), R"({"type":"group","title":"deep",)" + metadata},
         }) {
        auto r = call(port(), method, target, body, auth_header(s.owner.token));
        EXPECT_TRUE(IsError(r, 413, "payload_too_large")) << method << " " << target;
        ASSERT_TRUE(Healthy(port())) << "after " << method << " " << target;
    }
    EXPECT_EQ(chat_snapshot(port(), s.owner, s.chat_id), s.before);
    EXPECT_EQ(list_chats(port(), s.owner).size(), 1u);
}

TEST_F(HostileTest, WsOversizedAndWrongTypedTypeFieldGetsBadRequest) {
    auto u = register_user(port(), "wt");
    auto ws = ws_connect(port(), u.token);
    const std::string big_type(10 * 1024, 't');
    for (const json& frame :
         {json{{"type", big_type}, {"id", "t1"}}, json{{"type", "message.send" + big_type}, {"id", "t2"}},
          json{{"type", 5}, {"id", "t3"}}, json{{"type", json::object()}, {"id", "t4"}},
          json{{"type", json::array({"ping"})}, {"id", "t5"}}, json{{"type", nullptr}, {"id", "t6"}},
          json{{"type", "PING"}, {"id", "t7"}}, json{{"type", " ping"}, {"id", "t8"}},
          json{{"type", std::string("ping\0", 5)}, {"id", "t9"}}, json{{"type", "ack"}, {"id", "t10"}},
          json{{"type", "error"}, {"id", "t11"}}, json{{"type", "message.new"}, {"id", "t12"}}}) {
        SCOPED_TRACE(frame.dump().substr(0, 80));
        ws->send_json(frame);
        auto reply = next_reply(*ws);
        EXPECT_TRUE(IsWsError(reply, "bad_request", frame["id"].get<std::string>()));
        if (reply) EXPECT_LT(reply->dump().size(), 4096u) << "the error echoes the 10 KB type back";
    }
    EXPECT_TRUE(AnswersPing(*ws));
    EXPECT_TRUE(Healthy(port()));
}

TEST_F(HostileTest, WsWrongDataTypesForEveryClientEventAre400) {
    auto s = make_scene(port(), "wd");
    auto ws = ws_connect(port(), s.owner.token);
    const std::vector<std::pair<std::string, json>> bad = {
        {"message.send", {{"chat_id", 5}, {"type", "text"}, {"content", "x"}}},
        {"message.send", {{"chat_id", json::array({s.chat_id})}, {"type", "text"}, {"content", "x"}}},
        {"message.send", {{"chat_id", {{"id", s.chat_id}}}, {"type", "text"}, {"content", "x"}}},
        {"message.send", {{"chat_id", s.chat_id}, {"type", 1}, {"content", "x"}}},
        {"message.send", {{"chat_id", s.chat_id}, {"type", "text"}, {"content", "x"}, {"client_id", 7}}},
        {"message.send", {{"chat_id", s.chat_id}, {"type", "text"}, {"content", "x"}, {"metadata", "m"}}},
        {"message.send", {{"chat_id", s.chat_id}, {"type", "text"}, {"content", "x"}, {"reply_to", 3}}},
        {"message.edit", {{"message_id", 5}, {"content", "x"}}},
        {"message.edit", {{"message_id", s.message_id}, {"content", nullptr}}},
        {"message.edit", {{"message_id", s.message_id}, {"content", json::array()}}},
        {"message.delete", {{"message_id", json::array({s.message_id})}}},
        {"message.delete", {{"message_id", nullptr}}},
        {"reaction.add", {{"message_id", s.message_id}}},
        {"reaction.add", {{"message_id", s.message_id}, {"emoji", 5}}},
        {"reaction.add", {{"emoji", "x"}}},
        {"reaction.remove", {{"message_id", s.message_id}, {"emoji", json::array({"x"})}}},
        {"typing.start", {{"chat_id", 5}}},
        {"typing.stop", {{"chat_id", nullptr}}},
        {"read.mark", {{"chat_id", s.chat_id}, {"seq", "x"}}},
        {"read.mark", {{"chat_id", s.chat_id}, {"seq", 1.5}}},
        {"read.mark", {{"chat_id", s.chat_id}, {"seq", json::array({1})}}},
        {"read.mark", {{"chat_id", 1}, {"seq", 1}}},
        {"sync", {{"chat_id", s.chat_id}, {"since_version", -1}}},
        {"sync", {{"chat_id", s.chat_id}, {"since_version", 1.5}}},
        {"sync", {{"chat_id", s.chat_id}, {"since_version", nullptr}}},
        {"sync", {{"chat_id", s.chat_id}, {"since_version", 0}, {"limit", "10"}}},
        {"sync", {{"chat_id", s.chat_id}, {"since_version", 0}, {"limit", -5}}},
    };
    for (const auto& [type, data] : bad) {
        SCOPED_TRACE(type + " " + data.dump());
        auto reply = ws_request(*ws, type, data);
        EXPECT_TRUE(IsWsError(reply, "bad_request", reply.value("id", "")));
    }
    // Huge numbers as raw text (not expressible through json values).
    for (const std::string raw : {R"("seq":18446744073709551616)", R"("seq":1e400)", R"("seq":-9223372036854775809)"}) {
        ws->send_text(R"({"type":"read.mark","id":"big","data":{"chat_id":")" + s.chat_id + "\"," + raw + "}}");
        EXPECT_TRUE(IsWsError(next_reply(*ws), "bad_request")) << raw;
    }
    ws->send_text(R"({"type":"sync","id":"big2","data":{"chat_id":")" + s.chat_id +
                  R"(","since_version":18446744073709551615}})");
    EXPECT_TRUE(IsWsError(next_reply(*ws), "bad_request"));
    EXPECT_TRUE(ws->is_open());
    EXPECT_TRUE(AnswersPing(*ws));
    EXPECT_TRUE(Healthy(port()));
    EXPECT_EQ(chat_snapshot(port(), s.owner, s.chat_id), s.before);
}

TEST_F(HostileTest, WsTypingStartInAnotherUsersChatIs404AndReachesNoOne) {
    auto s = make_scene(port(), "wy");
    auto b = register_user(port(), "wy");
    auto ws_member = ws_connect(port(), s.member.token);
    auto ws_b = ws_connect(port(), b.token);
    ASSERT_TRUE(AnswersPing(*ws_member));
    for (const std::string& chat : {s.chat_id, random_uuid()}) {
        auto reply = ws_request(*ws_b, "typing.start", {{"chat_id", chat}});
        EXPECT_TRUE(IsWsError(reply, "not_found", reply.value("id", ""))) << reply.dump();
    }
    EXPECT_TRUE(NoFrameBefore(*ws_member, frame_of("typing.update"), direct_message_marker(port(), s.owner, s.member)));
    EXPECT_TRUE(Healthy(port()));
}

TEST_F(HostileTest, WsBurstOfAThousandMalformedFramesGetsAnErrorEach) {
    auto s = make_scene(port(), "wb");
    auto ws = ws_connect(port(), s.owner.token);
    const int n = 1000;
    for (int i = 0; i < n; ++i) {
        std::string id = "b" + std::to_string(i);
        switch (i % 5) {
            case 0: ws->send_text("{\"type\":\"ping\",\"id\":\"" + id + "\""); break;            // truncated
            case 1: ws->send_text("{\"type\":\"no.such.event\",\"id\":\"" + id + "\"}"); break;  // unknown type
            case 2: ws->send_text("{\"id\":\"" + id + "\",\"data\":{}}"); break;                 // no type
            case 3:                                                                              // bad data
                ws->send_text("{\"type\":\"read.mark\",\"id\":\"" + id + "\",\"data\":{\"chat_id\":\"" + s.chat_id +
                              "\",\"seq\":\"x\"}}");
                break;
            case 4:  // a send with wrong types (counts against the message rate, if anything)
                ws->send_text("{\"type\":\"message.send\",\"id\":\"" + id + "\",\"data\":{\"chat_id\":5}}");
                break;
        }
    }
    int errors = 0, rate_limited = 0;
    std::set<std::string> ids;
    for (int i = 0; i < n; ++i) {
        auto reply = next_reply(*ws, 10s);
        ASSERT_TRUE(reply.has_value()) << "after " << i << " replies; open=" << ws->is_open() << " close code "
                                       << ws->close_code().value_or(-1);
        ASSERT_EQ((*reply)["type"], "error") << reply->dump();
        auto code = (*reply)["error"].value("code", "");
        if (code == "rate_limited") {
            ++rate_limited;
        } else {
            EXPECT_EQ(code, "bad_request") << reply->dump();
            ++errors;
        }
        if (reply->contains("id") && (*reply)["id"].is_string()) ids.insert((*reply)["id"]);
    }
    EXPECT_EQ(errors + rate_limited, n);
    // Frames that were JSON with a valid id get their error with that id (4 in 5 of them).
    EXPECT_EQ(ids.size(), static_cast<std::size_t>(n - n / 5));
    EXPECT_TRUE(ws->is_open());
    EXPECT_TRUE(AnswersPing(*ws));
    EXPECT_TRUE(Healthy(port()));
    EXPECT_EQ(chat_snapshot(port(), s.owner, s.chat_id), s.before);
}

// U+0000 cannot be stored in PostgreSQL text: it is refused with 400, never cut off
// (docs/api.md). Every other character is stored exactly (the test above).
TEST_F(HostileTest, NulInContentIsRefusedNeverTruncated) {
    auto s = make_scene(port(), "hn");
    for (const auto& c : {std::string("\0", 1), std::string("a\0b", 3)}) {
        EXPECT_TRUE(
            IsError(send_message(port(), s.owner, s.chat_id, {{"type", "text"}, {"content", c}}), 400, "bad_request"));
    }
    EXPECT_TRUE(Healthy(port()));
    EXPECT_EQ(chat_snapshot(port(), s.owner, s.chat_id), s.before);
}

TEST_F(HostileTest, WsNulContentIsRefusedAndLoneSurrogateIsRefused) {
    auto s = make_scene(port(), "wz");
    auto ws = ws_connect(port(), s.owner.token);
    ws->send_text(R"({"type":"message.send","id":"nul","data":{"chat_id":")" + s.chat_id +
                  R"(","type":"text","content":"a\u0000b"}})");
    EXPECT_TRUE(IsWsError(next_reply(*ws), "bad_request", "nul")) << "U+0000 is refused, never cut off";
    for (const std::string esc : {"\\ud800", "\\udfff", "x\\ud83d"}) {
        ws->send_text(R"({"type":"message.send","id":"sur","data":{"chat_id":")" + s.chat_id +
                      R"(","type":"text","content":")" + esc + "\"}}");
        EXPECT_TRUE(IsWsError(next_reply(*ws), "bad_request")) << esc;
        EXPECT_TRUE(ws->is_open()) << esc;
    }
    EXPECT_TRUE(AnswersPing(*ws));
    EXPECT_TRUE(Healthy(port()));
    EXPECT_EQ(chat_snapshot(port(), s.owner, s.chat_id), s.before);
}

// ---------------------------------------------------------------------------------------------
// 11. Origin on the WebSocket upgrade

TEST(HostileOriginTest, DisallowedOriginIs403AndTheAllowedOneUpgrades) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(
        shared_database().url(),
        ServerProcess::Options{{{"CONFAB_ALLOWED_ORIGINS", "https://app.example"}}, true, 30s, "origin confab"});
    auto u = register_user(server.port(), "og");
    for (const std::string origin :
         {"https://evil.example", "https://app.example.evil.com", "http://app.example", "https://app.example:8443",
          "null", "https://app.example/", "https://evil.example, https://app.example"}) {
        SCOPED_TRACE(origin);
        auto r = WsClient::connect(server.port(), "/api/v1/ws",
                                   {{"Authorization", "Bearer " + u.token}, {"Origin", origin}});
        EXPECT_FALSE(r.ok());
        EXPECT_EQ(r.status, 403) << r.body << r.error;
        if (r.status == 403) {
            auto j = json::parse(r.body, nullptr, false);
            ASSERT_FALSE(j.is_discarded()) << r.body;
            EXPECT_EQ(j["error"]["code"], "forbidden") << r.body;
            EXPECT_TRUE(j["error"]["message"].is_string()) << r.body;
            EXPECT_EQ(r.headers["content-type"], kJsonContentType);
        }
        // The query-string token path is held to the same rule.
        auto q =
            WsClient::connect(server.port(), "/api/v1/ws?access_token=" + url_encode(u.token), {{"Origin", origin}});
        EXPECT_EQ(q.status, 403) << q.body;
    }
    auto ok = WsClient::connect(server.port(), "/api/v1/ws",
                                {{"Authorization", "Bearer " + u.token}, {"Origin", "https://app.example"}});
    ASSERT_TRUE(ok.ok()) << ok.status << " " << ok.body << " " << ok.error;
    EXPECT_EQ(ok.status, 101);
    EXPECT_TRUE(AnswersPing(*ok.client));
    // A disallowed origin with a bad token: refused either way, never upgraded.
    auto both = WsClient::connect(server.port(), "/api/v1/ws",
                                  {{"Authorization", "Bearer nope"}, {"Origin", "https://evil.example"}});
    EXPECT_TRUE(both.status == 401 || both.status == 403) << both.status;
    EXPECT_TRUE(Healthy(server.port()));
    ok.client->close();
    EXPECT_EQ(server.terminate(10s), 0);
}

}  // namespace
}  // namespace confab::test
