// Several requests in flight on one WebSocket (limits.ws_requests_in_flight): message.send
// frames are read ahead of their replies, yet a connection's sends are stored in the order it
// sent them, every request is answered exactly once and before the server's close frame, and
// any other event runs after the requests read before it.

#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/chat_api.hpp"

namespace confab::test {
namespace {

using PipeliningTest = ChatTest;

json send_frame(const std::string& request_id, const std::string& chat_id, const std::string& content) {
    return {{"type", "message.send"},
            {"id", request_id},
            {"data", {{"chat_id", chat_id}, {"type", "text"}, {"content", content}, {"client_id", request_id}}}};
}

// Every reply to the ids, by id; fails on a second reply to one id or on a timeout.
std::map<std::string, json> replies_to(WsClient& ws, const std::set<std::string>& ids) {
    std::map<std::string, json> replies;
    while (replies.size() < ids.size()) {
        auto frame = ws.receive_matching(
            [](const json& f) { return f.value("type", "") == "ack" || f.value("type", "") == "error"; }, 10s);
        if (!frame) {
            ADD_FAILURE() << "no reply after " << replies.size() << " of " << ids.size() << "; close code "
                          << ws.close_code().value_or(0);
            break;
        }
        const auto id = (*frame)["id"].get<std::string>();
        EXPECT_TRUE(ids.contains(id)) << "a reply to no request: " << frame->dump();
        EXPECT_TRUE(replies.emplace(id, *frame).second) << "a second reply to " << id;
    }
    return replies;
}

// Sends n messages on ws without waiting, then checks that the chat stored them in the order
// sent, each once, numbered after `seq_before`.
void expect_sends_kept_in_order(std::uint16_t port, const TestUser& sender, WsClient& ws, const std::string& chat_id,
                                int n, std::int64_t seq_before) {
    std::set<std::string> ids;
    for (int i = 0; i < n; ++i) {
        const auto id = "pipe-" + std::to_string(i);
        ids.insert(id);
        ws.send_json(send_frame(id, chat_id, "m" + std::to_string(i)));
    }
    const auto replies = replies_to(ws, ids);
    for (int i = 0; i < n; ++i) {
        const auto found = replies.find("pipe-" + std::to_string(i));
        if (found == replies.end()) continue;
        ASSERT_TRUE(IsAck(found->second)) << found->second.dump();
        const auto& message = found->second["data"]["message"];
        EXPECT_EQ(message["content"], "m" + std::to_string(i));
        EXPECT_EQ(message["seq"], seq_before + i + 1) << "sends are numbered in the order sent";
    }
    const auto stored = all_messages(port, sender, chat_id);
    ASSERT_EQ(stored.size(), static_cast<std::size_t>(seq_before + n));
    for (int i = 0; i < n; ++i) EXPECT_EQ(stored[seq_before + i]["content"], "m" + std::to_string(i));
}

TEST_F(PipeliningTest, SendsReadAheadAreStoredInTheOrderSent) {
    auto owner = register_user(port(), "pio");
    auto other = register_user(port(), "pim");
    const std::string chat = create_group(port(), owner, {other.id})["id"];
    auto ws = ws_connect(port(), owner.token);
    auto watcher = ws_connect(port(), other.token);
    expect_sends_kept_in_order(port(), owner, *ws, chat, 200, 0);
    for (int i = 0; i < 200; ++i) {
        auto pushed = watcher->receive_type("message.new", 10s);
        ASSERT_TRUE(pushed.has_value()) << "message.new " << i;
        EXPECT_EQ((*pushed)["data"]["message"]["seq"], i + 1) << "members see them in seq order";
    }
}

// A second server on the same database knows nothing of the chat: its sends are queued
// before their chat's access is loaded, which the writer then checks.
TEST_F(PipeliningTest, SendsKeepTheirOrderWhileTheChatIsNotYetCached) {
    auto owner = register_user(port(), "pco");
    auto member = register_user(port(), "pcm");
    auto stranger = register_user(port(), "pcs");
    const std::string chat =
        create_group(port(), owner, {member.id}, {{"settings", {{"only_admins_can_post", true}}}})["id"];
    ServerProcess fresh(chat_database_url(),
                        std::map<std::string, std::string>{{"CONFAB_LIMIT_WS_REQUESTS_IN_FLIGHT", "64"}});

    auto strangers_ws = ws_connect(fresh.port(), stranger.token);
    auto members_ws = ws_connect(fresh.port(), member.token);
    std::set<std::string> ids;
    for (int i = 0; i < 5; ++i) {
        ids.insert("pipe-" + std::to_string(i));
        strangers_ws->send_json(send_frame("pipe-" + std::to_string(i), chat, "no"));
        members_ws->send_json(send_frame("pipe-" + std::to_string(i), chat, "no"));
    }
    for (auto* ws : {strangers_ws.get(), members_ws.get()}) {
        for (const auto& [id, reply] : replies_to(*ws, ids)) {
            EXPECT_EQ(reply["type"], "error") << reply.dump();
            EXPECT_EQ(reply["error"]["code"], ws == strangers_ws.get() ? "not_found" : "forbidden") << reply.dump();
        }
    }

    auto owners_ws = ws_connect(fresh.port(), owner.token);
    expect_sends_kept_in_order(fresh.port(), owner, *owners_ws, chat, 100, 0);
}

// A client frame as RFC 6455 has it: FIN, the opcode, masked (with a fixed key).
std::string client_frame(std::uint8_t opcode, const std::string& payload) {
    std::string frame{static_cast<char>(0x80 | opcode)};
    if (payload.size() < 126) {
        frame += static_cast<char>(0x80 | payload.size());
    } else {
        frame += static_cast<char>(0x80 | 126);
        frame += static_cast<char>(payload.size() >> 8);
        frame += static_cast<char>(payload.size() & 0xff);
    }
    const std::string key = "\x12\x34\x56\x78";
    frame += key;
    for (std::size_t i = 0; i < payload.size(); ++i) frame += static_cast<char>(payload[i] ^ key[i % 4]);
    return frame;
}

struct ServerFrame {
    int opcode = 0;
    std::string payload;
};

// The frames after the 101 response, up to where the bytes end.
std::vector<ServerFrame> server_frames(const std::string& bytes) {
    std::vector<ServerFrame> frames;
    auto at = bytes.find("\r\n\r\n");
    if (at == std::string::npos) return frames;
    at += 4;
    while (at + 2 <= bytes.size()) {
        const auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(bytes[i]); };
        const int opcode = byte(at) & 0x0f;
        std::size_t length = byte(at + 1) & 0x7f;
        at += 2;
        if (length == 126) {
            length = (std::size_t{byte(at)} << 8) | byte(at + 1);
            at += 2;
        } else if (length == 127) {
            length = 0;
            for (int i = 0; i < 8; ++i) length = (length << 8) | byte(at + i);
            at += 8;
        }
        if (at + length > bytes.size()) break;
        frames.push_back({opcode, bytes.substr(at, length)});
        at += length;
    }
    return frames;
}

// 40 requests, then `last`, over raw bytes: a client library's close drains and drops the
// data frames that arrive meanwhile. Returns the server's frames after the 101.
std::vector<ServerFrame> requests_then(std::uint16_t port, const TestUser& user, const std::string& chat,
                                       const std::string& last, std::set<std::string>& ids) {
    const std::string upgrade =
        "GET /api/v1/ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer " +
        user.token + "\r\n\r\n";
    std::string frames;
    for (int i = 0; i < 40; ++i) {
        const auto id = "pipe-" + std::to_string(i);
        ids.insert(id);
        frames += client_frame(
            1, (i % 2 ? send_frame(id, chat, "m" + std::to_string(i)) : json{{"type", "ping"}, {"id", id}}).dump());
    }
    return server_frames(raw_exchange(port, upgrade, 10s, frames + last));
}

// Every request read before the close is acked, each once, and the close frame comes last
// with `code`.
void expect_answered_then_closed(const std::vector<ServerFrame>& frames, const std::set<std::string>& ids, int code) {
    ASSERT_FALSE(frames.empty());
    EXPECT_EQ(frames.back().opcode, 8) << "the server's close frame comes last";
    const auto& reason = frames.back().payload;
    ASSERT_GE(reason.size(), 2u);
    EXPECT_EQ((static_cast<std::uint8_t>(reason[0]) << 8) | static_cast<std::uint8_t>(reason[1]), code);
    std::set<std::string> answered;
    for (std::size_t i = 0; i + 1 < frames.size(); ++i) {
        ASSERT_EQ(frames[i].opcode, 1);
        const auto reply = json::parse(frames[i].payload);
        if (reply["type"] == "message.new") continue;
        EXPECT_TRUE(IsAck(reply)) << reply.dump();
        EXPECT_TRUE(answered.insert(reply["id"].get<std::string>()).second) << "answered twice: " << reply.dump();
    }
    EXPECT_EQ(answered, ids) << "every request read before the close is answered before the server's close frame";
}

TEST_F(PipeliningTest, EveryRequestIsAnsweredBeforeTheServersCloseFrame) {
    auto owner = register_user(port(), "pcl");
    const std::string chat = create_group(port(), owner)["id"];
    std::set<std::string> ids;
    const auto frames = requests_then(port(), owner, chat, client_frame(8, std::string("\x03\xe8", 2)), ids);
    expect_answered_then_closed(frames, ids, 1000);
    EXPECT_EQ(all_messages(port(), owner, chat).size(), 20u);
}

// The same when the server closes first, here for a binary frame (1003).
TEST_F(PipeliningTest, RequestsReadBeforeAFrameTheServerClosesForAreAnswered) {
    auto owner = register_user(port(), "pcb");
    const std::string chat = create_group(port(), owner)["id"];
    std::set<std::string> ids;
    const auto frames = requests_then(port(), owner, chat, client_frame(2, "binary"), ids);
    expect_answered_then_closed(frames, ids, 1003);
    EXPECT_EQ(all_messages(port(), owner, chat).size(), 20u);
}

// A request that does not overlap (here sync) waits for the sends read before it, so it sees
// all of them; and the sends read after it wait for it.
TEST_F(PipeliningTest, OtherEventsRunAfterTheRequestsReadBeforeThem) {
    auto owner = register_user(port(), "pso");
    const std::string chat = create_group(port(), owner)["id"];
    auto ws = ws_connect(port(), owner.token);
    std::set<std::string> sends;
    for (int i = 0; i < 30; ++i) {
        sends.insert("pipe-" + std::to_string(i));
        ws->send_json(send_frame("pipe-" + std::to_string(i), chat, "m" + std::to_string(i)));
    }
    ws->send_json(
        {{"type", "sync"}, {"id", "sync"}, {"data", {{"chat_id", chat}, {"since_version", 0}, {"limit", 200}}}});
    ws->send_json(send_frame("after", chat, "after"));
    sends.insert("sync");
    sends.insert("after");
    const auto replies = replies_to(*ws, sends);
    ASSERT_TRUE(replies.contains("sync") && replies.contains("after"));
    ASSERT_TRUE(IsAck(replies.at("sync"))) << replies.at("sync").dump();
    const auto& synced = replies.at("sync")["data"]["messages"];
    ASSERT_EQ(synced.size(), 30u) << "every send read before the sync, and none after it";
    for (std::size_t i = 0; i < synced.size(); ++i) EXPECT_EQ(synced[i]["content"], "m" + std::to_string(i));
    EXPECT_EQ(replies.at("after")["data"]["message"]["seq"], 31);
}

}  // namespace
}  // namespace confab::test
