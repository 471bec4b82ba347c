// The WebSocket side of chats: every client event and its ack, fan-out of server events,
// REST/WebSocket parity, typing, presence, concurrent senders and reconnect sync.

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/chat_api.hpp"

namespace confab::test {
namespace {

using RealtimeTest = ChatTest;
using Clock = std::chrono::steady_clock;

FramePred from_user(const std::string& user_id) {
    return [user_id](const json& f) { return f.contains("data") && f["data"].value("user_id", "") == user_id; };
}

// ---------------------------------------------------------------------------------------------
// client events and acks

TEST_F(RealtimeTest, MessageSendAckAndMessageNewToEveryConnectionOfEveryMember) {
    auto a = register_user(port(), "wa");
    auto b = register_user(port(), "wa");
    std::string id = create_direct(port(), a, b)["id"];
    auto a1 = ws_connect(port(), a.token);
    auto a2 = ws_connect(port(), a.token);
    auto b1 = ws_connect(port(), b.token);

    auto ack = ws_request(*a1, "message.send", {{"chat_id", id}, {"type", "text"}, {"content", "over ws"}});
    ASSERT_TRUE(IsAck(ack)) << ack.dump();
    ASSERT_TRUE(ack["data"].contains("message")) << ack.dump();
    EXPECT_EQ(ack["data"].size(), 1u) << ack.dump();
    auto m = ack["data"]["message"];
    EXPECT_TRUE(IsMessageModel(m));
    EXPECT_EQ(m["content"], "over ws");
    EXPECT_EQ(m["sender_id"], a.id);
    EXPECT_EQ(m["chat_id"], id);
    EXPECT_EQ(m["seq"], 1);

    auto marker = send_text(port(), b, id, "marker");
    for (auto* ws : {a1.get(), a2.get(), b1.get()}) {
        auto ev = wait_for(*ws, "message.new", about_chat(id));
        ASSERT_TRUE(ev.has_value()) << "a connection missed message.new";
        EXPECT_EQ(*ev, json({{"type", "message.new"}, {"data", {{"message", m}}}}));
        EXPECT_TRUE(NoFrameBefore(*ws, frame_of("message.new", about_chat(id)),
                                  frame_of("message.new", about_message(marker["id"]))))
            << "exactly once";
    }
    EXPECT_EQ(get_message(port(), b, m["id"]), m) << "acknowledged means stored";

    // reply_to synonym and client_id on the WebSocket.
    auto reply =
        ws_request(*b1, "message.send",
                   {{"chat_id", id}, {"type", "text"}, {"content", "re"}, {"reply_to", m["id"]}, {"client_id", "c-1"}});
    ASSERT_TRUE(IsAck(reply)) << reply.dump();
    EXPECT_EQ(reply["data"]["message"]["reply_to_id"], m["id"]);
    EXPECT_EQ(reply["data"]["message"]["client_id"], "c-1");
    auto again =
        ws_request(*b1, "message.send",
                   {{"chat_id", id}, {"type", "text"}, {"content", "re"}, {"reply_to", m["id"]}, {"client_id", "c-1"}});
    ASSERT_TRUE(IsAck(again)) << again.dump();
    EXPECT_EQ(again["data"]["message"], reply["data"]["message"]) << "the repeat's ack carries the stored message";
    ASSERT_TRUE(wait_for(*a2, "message.new", about_message(reply["data"]["message"]["id"])).has_value());
    auto after_repeat = send_text(port(), b, id, "after the repeat");
    EXPECT_TRUE(NoFrameBefore(*a2, frame_of("message.new", about_chat(id)),
                              frame_of("message.new", about_message(after_repeat["id"]))))
        << "a client_id repeat emits nothing";
}

TEST_F(RealtimeTest, EditDeleteAndReactionEventsWithTheirAcks) {
    auto a = register_user(port(), "we");
    auto b = register_user(port(), "we");
    std::string id = create_direct(port(), a, b)["id"];
    auto wa = ws_connect(port(), a.token);
    auto wb = ws_connect(port(), b.token);
    auto sent = ws_request(*wa, "message.send", {{"chat_id", id}, {"type", "text"}, {"content", "v1"}});
    ASSERT_TRUE(IsAck(sent)) << sent.dump();
    auto m = sent["data"]["message"];
    std::string mid = m["id"];
    std::int64_t v = m["version"];

    auto edit = ws_request(*wa, "message.edit", {{"message_id", mid}, {"content", "v2"}});
    ASSERT_TRUE(IsAck(edit)) << edit.dump();
    EXPECT_TRUE(IsMessageModel(edit["data"]["message"]));
    EXPECT_EQ(edit["data"]["message"]["content"], "v2");
    EXPECT_EQ(edit["data"]["message"]["is_edited"], true);
    EXPECT_EQ(edit["data"]["message"]["version"], v + 1);
    auto up = wait_for(*wb, "message.updated", about_message(mid));
    ASSERT_TRUE(up.has_value());
    EXPECT_EQ((*up)["data"], json({{"message", edit["data"]["message"]}}));

    auto bad_edit = ws_request(*wb, "message.edit", {{"message_id", mid}, {"content", "not mine"}});
    EXPECT_TRUE(IsWsError(bad_edit, "forbidden", bad_edit.value("id", "")));

    auto own_up = wait_for(*wa, "message.updated", about_message(mid));
    ASSERT_TRUE(own_up.has_value()) << "the editor's own connection gets message.updated too";
    EXPECT_EQ((*own_up)["data"]["message"]["version"], v + 1);

    auto react = ws_request(*wb, "reaction.add", {{"message_id", mid}, {"emoji", "\xF0\x9F\x94\xA5"}});
    ASSERT_TRUE(IsAck(react)) << react.dump();
    EXPECT_EQ(react["data"], json::object());
    auto ru = wait_for(*wa, "message.updated", about_message(mid));
    ASSERT_TRUE(ru.has_value());
    EXPECT_EQ((*ru)["data"]["message"]["reactions"],
              json::array({{{"emoji", "\xF0\x9F\x94\xA5"}, {"count", 1}, {"user_ids", {b.id}}}}));
    EXPECT_EQ((*ru)["data"]["message"]["version"], v + 2);

    auto unreact = ws_request(*wb, "reaction.remove", {{"message_id", mid}, {"emoji", "\xF0\x9F\x94\xA5"}});
    ASSERT_TRUE(IsAck(unreact)) << unreact.dump();
    EXPECT_EQ(unreact["data"], json::object());
    auto ru2 = wait_for(*wa, "message.updated", about_message(mid));
    ASSERT_TRUE(ru2.has_value());
    EXPECT_EQ((*ru2)["data"]["message"]["reactions"], json::array());
    EXPECT_EQ((*ru2)["data"]["message"]["version"], v + 3);

    auto d = ws_request(*wa, "message.delete", {{"message_id", mid}});
    ASSERT_TRUE(IsAck(d)) << d.dump();
    EXPECT_EQ(d["data"], json::object());
    for (auto* ws : {wa.get(), wb.get()}) {
        auto ev = wait_for(*ws, "message.deleted", about_message(mid));
        ASSERT_TRUE(ev.has_value());
        EXPECT_EQ((*ev)["data"], json({{"message_id", mid}, {"chat_id", id}, {"version", v + 4}}));
    }
    auto again = ws_request(*wa, "message.delete", {{"message_id", mid}});
    EXPECT_TRUE(IsWsError(again, "conflict", again.value("id", "")));
    auto edit_deleted = ws_request(*wa, "message.edit", {{"message_id", mid}, {"content", "v3"}});
    EXPECT_TRUE(IsWsError(edit_deleted, "conflict", edit_deleted.value("id", "")));
}

TEST_F(RealtimeTest, ReadMarkSyncAndPingAcks) {
    auto a = register_user(port(), "wr");
    auto b = register_user(port(), "wr");
    std::string id = create_direct(port(), a, b)["id"];
    for (int i = 0; i < 4; ++i) send_text(port(), a, id, "s" + std::to_string(i));
    auto wa = ws_connect(port(), a.token);
    auto wb = ws_connect(port(), b.token);

    auto ping = ws_request(*wb, "ping");
    EXPECT_TRUE(IsAck(ping));
    EXPECT_EQ(ping["data"], json::object());

    auto mark = ws_request(*wb, "read.mark", {{"chat_id", id}, {"seq", 3}});
    ASSERT_TRUE(IsAck(mark)) << mark.dump();
    EXPECT_EQ(mark["data"], json::object());
    auto ev = wait_for(*wa, "read.updated", about_chat(id));
    ASSERT_TRUE(ev.has_value());
    EXPECT_EQ((*ev)["data"], json({{"chat_id", id}, {"user_id", b.id}, {"last_read_seq", 3}}));
    EXPECT_EQ(get_chat(port(), b, id)["me"]["last_read_seq"], 3);

    auto sync = ws_request(*wb, "sync", {{"chat_id", id}, {"since_version", 0}, {"limit", 3}});
    ASSERT_TRUE(IsAck(sync)) << sync.dump();
    auto rest = get(port(), b.token, chat_messages_url(id) + "?since_version=0&limit=3");
    ASSERT_TRUE(IsJson(rest, 200));
    EXPECT_EQ(sync["data"], rest.json()) << "sync acks exactly what GET ?since_version returns";
    EXPECT_EQ(sync["data"]["messages"].size(), 3u);
    EXPECT_EQ(sync["data"]["has_more"], true);

    auto sync_all = ws_request(*wb, "sync", {{"chat_id", id}, {"since_version", 0}});
    ASSERT_TRUE(IsAck(sync_all)) << sync_all.dump();
    EXPECT_EQ(sync_all["data"]["messages"].size(), 4u);
    EXPECT_EQ(sync_all["data"]["has_more"], false);
    EXPECT_EQ(sync_all["data"]["version"], get_chat(port(), b, id)["version"]);
}

TEST_F(RealtimeTest, RestMutationsEmitTheSameEventsAsTheirWebSocketTwins) {
    auto a = register_user(port(), "wt");
    auto b = register_user(port(), "wt");
    std::string id = create_direct(port(), a, b)["id"];
    auto wa = ws_connect(port(), a.token);
    auto wb = ws_connect(port(), b.token);

    auto m = send_text(port(), a, id, "rest");
    for (auto* ws : {wa.get(), wb.get()}) {
        auto ev = wait_for(*ws, "message.new", about_chat(id));
        ASSERT_TRUE(ev.has_value()) << "REST send must emit message.new to every member, the sender included";
        EXPECT_EQ((*ev)["data"], json({{"message", m}}));
    }
    auto edited = expect_json(put(port(), a.token, message_url(m["id"]), {{"content", "rest 2"}}), 200, "edit");
    for (auto* ws : {wa.get(), wb.get()}) {
        auto up = wait_for(*ws, "message.updated", about_message(m["id"]));
        ASSERT_TRUE(up.has_value());
        EXPECT_EQ((*up)["data"], json({{"message", edited}}));
    }

    ASSERT_EQ(put(port(), b.token, reaction_url(m["id"], "\xF0\x9F\x91\x8C"), json::object()).status, 204);
    auto ru = wait_for(*wa, "message.updated", about_message(m["id"]));
    ASSERT_TRUE(ru.has_value());
    EXPECT_EQ((*ru)["data"]["message"], get_message(port(), a, m["id"]));
    EXPECT_EQ((*ru)["data"]["message"]["reactions"].size(), 1u);
    ASSERT_EQ(del(port(), b.token, reaction_url(m["id"], "\xF0\x9F\x91\x8C")).status, 204);
    auto ru2 = wait_for(*wa, "message.updated", about_message(m["id"]));
    ASSERT_TRUE(ru2.has_value());
    EXPECT_EQ((*ru2)["data"]["message"]["reactions"], json::array());
    EXPECT_EQ((*ru2)["data"]["message"]["version"], edited["version"].get<std::int64_t>() + 2);

    ASSERT_EQ(post(port(), b.token, read_url(id), {{"seq", 1}}).status, 204);
    auto rd = wait_for(*wa, "read.updated", about_chat(id));
    ASSERT_TRUE(rd.has_value());
    EXPECT_EQ((*rd)["data"], json({{"chat_id", id}, {"user_id", b.id}, {"last_read_seq", 1}}));

    ASSERT_EQ(del(port(), a.token, message_url(m["id"])).status, 204);
    auto dl = wait_for(*wb, "message.deleted", about_message(m["id"]));
    ASSERT_TRUE(dl.has_value());
    EXPECT_EQ((*dl)["data"]["chat_id"], id);
    EXPECT_EQ((*dl)["data"]["version"], get_message(port(), b, m["id"])["version"]);
}

// ---------------------------------------------------------------------------------------------
// typing

TEST_F(RealtimeTest, TypingGoesToOthersAndExpiresAfterSixSeconds) {
    auto a = register_user(port(), "ty");
    auto b = register_user(port(), "ty");
    auto c = register_user(port(), "ty");
    std::string id = create_group(port(), a, {b.id, c.id})["id"];
    auto wa = ws_connect(port(), a.token);
    auto wa2 = ws_connect(port(), a.token);
    auto wb = ws_connect(port(), b.token);
    auto wc = ws_connect(port(), c.token);

    auto start = Clock::now();
    auto ack = ws_request(*wa, "typing.start", {{"chat_id", id}});
    ASSERT_TRUE(IsAck(ack)) << ack.dump();
    EXPECT_EQ(ack["data"], json::object());
    for (auto* ws : {wb.get(), wc.get()}) {
        auto ev = wait_for(*ws, "typing.update", about_chat(id));
        ASSERT_TRUE(ev.has_value());
        EXPECT_EQ((*ev)["data"], json({{"chat_id", id}, {"user_id", a.id}, {"is_typing", true}}));
    }
    auto off = wait_for(*wb, "typing.update", about_chat(id), 9s);
    auto elapsed = Clock::now() - start;
    ASSERT_TRUE(off.has_value()) << "no is_typing false within 9 s of typing.start";
    EXPECT_EQ((*off)["data"], json({{"chat_id", id}, {"user_id", a.id}, {"is_typing", false}}));
    // The contract is a time (docs/api.md: typing expires 6 s after the last typing.start), so
    // the time is asserted, with a second of slack below for clock granularity.
    EXPECT_GE(elapsed, 5s) << "the automatic stop comes about 6 s after typing.start";
    EXPECT_TRUE(wait_for(*wc, "typing.update", about_chat(id), 2s).has_value());

    // b types too: the typist's connections get that, and must have got nothing of a's before it.
    ASSERT_TRUE(IsAck(ws_request(*wb, "typing.start", {{"chat_id", id}})));
    for (auto* ws : {wa.get(), wa2.get()}) {
        EXPECT_TRUE(
            NoFrameBefore(*ws, frame_of("typing.update", from_user(a.id)), frame_of("typing.update", from_user(b.id))))
            << "neither the typist's connection nor its other ones get its own typing";
    }
}

TEST_F(RealtimeTest, TypingStopAndClosingTheLastConnectionSendFalse) {
    auto a = register_user(port(), "ts");
    auto b = register_user(port(), "ts");
    std::string id = create_direct(port(), a, b)["id"];
    auto wa = ws_connect(port(), a.token);
    auto wb = ws_connect(port(), b.token);

    ASSERT_TRUE(IsAck(ws_request(*wa, "typing.start", {{"chat_id", id}})));
    ASSERT_TRUE(wait_for(*wb, "typing.update", about_chat(id)).has_value());
    auto stop = ws_request(*wa, "typing.stop", {{"chat_id", id}});
    ASSERT_TRUE(IsAck(stop)) << stop.dump();
    EXPECT_EQ(stop["data"], json::object());
    auto off = wait_for(*wb, "typing.update", about_chat(id), 2s);
    ASSERT_TRUE(off.has_value()) << "typing.stop sends is_typing false at once";
    EXPECT_EQ((*off)["data"]["is_typing"], false);

    // Start again, then the typist's only connection goes away.
    ASSERT_TRUE(IsAck(ws_request(*wa, "typing.start", {{"chat_id", id}})));
    ASSERT_TRUE(wait_for(*wb, "typing.update", about_chat(id)).has_value());
    auto closed_at = Clock::now();
    wa->close();
    auto gone = wait_for(*wb, "typing.update", about_chat(id), 9s);
    ASSERT_TRUE(gone.has_value());
    EXPECT_EQ((*gone)["data"], json({{"chat_id", id}, {"user_id", a.id}, {"is_typing", false}}));
    EXPECT_LT(Clock::now() - closed_at, 3s) << "sent when the last connection closes, not by the 6 s timer";
}

// ---------------------------------------------------------------------------------------------
// presence

TEST_F(RealtimeTest, PresenceGoesToUsersSharingAChat) {
    auto a = register_user(port(), "pr");
    auto b = register_user(port(), "pr");
    auto stranger = register_user(port(), "pr");
    std::string direct = create_direct(port(), a, b)["id"];
    auto wb = ws_connect(port(), b.token);
    auto ws_stranger = ws_connect(port(), stranger.token);

    auto wa = ws_connect(port(), a.token);
    auto on = wait_for(*wb, "presence.update", from_user(a.id));
    ASSERT_TRUE(on.has_value()) << "no presence.update online";
    EXPECT_EQ((*on)["data"]["online"], true);
    EXPECT_TRUE((*on)["data"].contains("last_seen_at"));
    EXPECT_TRUE((*on)["data"]["last_seen_at"].is_null() || is_timestamp((*on)["data"]["last_seen_at"])) << on->dump();

    // A connection announces itself before it reads its first request, so its first request's
    // event comes after any presence.update it caused.
    auto wa2 = ws_connect(port(), a.token);
    auto through_wa2 = ws_request(*wa2, "message.send", {{"chat_id", direct}, {"type", "text"}, {"content", "2nd"}});
    ASSERT_TRUE(IsAck(through_wa2)) << through_wa2.dump();
    EXPECT_TRUE(NoFrameBefore(*wb, frame_of("presence.update", from_user(a.id)),
                              frame_of("message.new", about_message(through_wa2["data"]["message"]["id"]))))
        << "only the first connection counts";

    auto members = list_members(port(), b, create_direct(port(), b, a)["id"]);
    const json* am = find_member(members, a.id);
    ASSERT_NE(am, nullptr);
    EXPECT_EQ((*am)["user"].value("online", json()), true) << "member lists carry presence";
    auto user = get(port(), b.token, "/api/v1/users/" + a.id);
    ASSERT_TRUE(IsJson(user, 200));
    EXPECT_EQ(user.json().value("online", json()), true) << user.body;

    const auto open_before_close = open_connections(port(), "websocket");
    wa2->close();
    ASSERT_TRUE(eventually([&] { return open_connections(port(), "websocket") < open_before_close; }))
        << "the closed connection's session did not end";
    auto after_close = send_text(port(), a, direct, "after closing the 2nd connection");
    EXPECT_TRUE(NoFrameBefore(*wb, frame_of("presence.update", from_user(a.id)),
                              frame_of("message.new", about_message(after_close["id"]))))
        << "still one connection open";
    wa->close();
    auto off = wait_for(*wb, "presence.update", from_user(a.id));
    ASSERT_TRUE(off.has_value()) << "no presence.update offline";
    EXPECT_EQ((*off)["data"]["online"], false);
    EXPECT_TRUE(is_timestamp((*off)["data"]["last_seen_at"])) << off->dump();
    EXPECT_EQ((*off)["data"].size(), 3u) << off->dump();
    EXPECT_EQ(get(port(), b.token, "/api/v1/users/" + a.id).json()["last_seen_at"], (*off)["data"]["last_seen_at"])
        << "the event carries last_seen_at as stored";

    // b and the stranger share a chat: b's message reaches the stranger after a's presence would have.
    std::string with_stranger = create_direct(port(), b, stranger)["id"];
    auto to_stranger = send_text(port(), b, with_stranger, "hello stranger");
    EXPECT_TRUE(NoFrameBefore(*ws_stranger, frame_of("presence.update", from_user(a.id)),
                              frame_of("message.new", about_message(to_stranger["id"]))))
        << "presence only goes to users who share a chat";
}

// Two devices that connect at the same moment both attach before either announces itself:
// the user must still come online once, and go offline once when both close.
TEST_F(RealtimeTest, TwoConnectionsOpenedTogetherBringTheUserOnlineOnce) {
    auto a = register_user(port(), "pt");
    auto b = register_user(port(), "pt");
    const std::string direct = create_direct(port(), a, b)["id"];
    auto wb = ws_connect(port(), b.token);
    for (int round = 0; round < 5; ++round) {
        std::unique_ptr<WsClient> first, second;
        std::thread opening([&] { first = ws_connect(port(), a.token); });
        second = ws_connect(port(), a.token);
        opening.join();
        auto on = wait_for(*wb, "presence.update", from_user(a.id));
        ASSERT_TRUE(on.has_value()) << "round " << round << ": no presence.update online";
        EXPECT_EQ((*on)["data"]["online"], true);
        EXPECT_EQ(get(port(), b.token, "/api/v1/users/" + a.id).json().value("online", json()), true);
        const auto marker = send_text(port(), b, direct, "online " + std::to_string(round));
        EXPECT_TRUE(NoFrameBefore(*wb, frame_of("presence.update", from_user(a.id)),
                                  frame_of("message.new", about_message(marker["id"]))))
            << "round " << round << ": told twice";

        std::thread closing([&] { first->close(); });
        second->close();
        closing.join();
        auto off = wait_for(*wb, "presence.update", from_user(a.id));
        ASSERT_TRUE(off.has_value()) << "round " << round << ": no presence.update offline";
        EXPECT_EQ((*off)["data"]["online"], false);
    }
}

// ---------------------------------------------------------------------------------------------
// guarantees

TEST_F(RealtimeTest, ConcurrentSendersGetGaplessSeqsAndEveryConnectionSeesEveryMessageOnceInOrder) {
    constexpr int kMembers = 5;
    constexpr int kPerMember = 30;
    std::vector<TestUser> users;
    for (int i = 0; i < kMembers; ++i) users.push_back(register_user(port(), "cc"));
    std::vector<std::string> others;
    for (int i = 1; i < kMembers; ++i) others.push_back(users[i].id);
    std::string id = create_group(port(), users[0], others)["id"];
    std::int64_t base = get_chat(port(), users[0], id)["last_seq"];

    std::vector<std::unique_ptr<WsClient>> conns;
    for (const auto& u : users) conns.push_back(ws_connect(port(), u.token));

    std::atomic<int> failures{0};
    std::mutex mu;
    std::vector<std::string> errors;
    std::vector<std::thread> threads;
    for (int i = 0; i < kMembers; ++i) {
        threads.emplace_back([&, i] {
            try {
                // Pipeline all sends, then collect the acks.
                std::vector<std::string> ids;
                for (int k = 0; k < kPerMember; ++k) {
                    std::string rid = "c" + std::to_string(i) + "-" + std::to_string(k);
                    ids.push_back(rid);
                    conns[i]->send_json({{"type", "message.send"},
                                         {"id", rid},
                                         {"data",
                                          {{"chat_id", id},
                                           {"type", "text"},
                                           {"content", "u" + std::to_string(i) + " #" + std::to_string(k)}}}});
                }
                for (const auto& rid : ids) {
                    auto reply =
                        conns[i]->receive_matching([&](const json& j) { return j.value("id", "") == rid; }, 30s);
                    if (!reply || (*reply)["type"] != "ack") {
                        ++failures;
                        std::lock_guard lock(mu);
                        errors.push_back(reply ? reply->dump() : "no reply for " + rid);
                    }
                }
            } catch (const std::exception& e) {
                ++failures;
                std::lock_guard lock(mu);
                errors.push_back(e.what());
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures.load(), 0) << (errors.empty() ? "" : errors.front());

    const int total = kMembers * kPerMember;
    auto stored = all_messages(port(), users[2], id);
    std::vector<std::int64_t> text_seqs;
    for (const auto& m : stored)
        if (m["type"] == "text") text_seqs.push_back(m["seq"]);
    std::vector<std::int64_t> expected;
    for (int s = 1; s <= total; ++s) expected.push_back(base + s);
    EXPECT_EQ(base, 0) << "no system messages expected in a freshly created group";
    EXPECT_EQ(text_seqs, expected) << "stored seqs must be exactly 1..150 with no gaps";
    EXPECT_EQ(seqs_of(stored).size(), static_cast<std::size_t>(total + base));
    // Each new message took exactly the chat's next version: 150 consecutive versions, in seq order.
    std::vector<std::int64_t> versions;
    for (const auto& m : stored)
        if (m["type"] == "text") versions.push_back(m["version"]);
    ASSERT_EQ(versions.size(), static_cast<std::size_t>(total));
    for (std::size_t k = 1; k < versions.size(); ++k)
        EXPECT_EQ(versions[k], versions[k - 1] + 1) << "versions of seq " << k << " and " << k + 1;
    EXPECT_EQ(get_chat(port(), users[0], id)["version"], versions.back());

    auto marker = send_text(port(), users[0], id, "marker");
    for (int i = 0; i < kMembers; ++i) {
        std::vector<std::int64_t> got;
        std::set<std::string> seen_ids;
        int dups = 0;
        while (static_cast<int>(got.size()) < total) {
            auto ev = wait_for(*conns[i], "message.new", about_chat(id), 10s);
            if (!ev) break;
            got.push_back((*ev)["data"]["message"]["seq"]);
            if (!seen_ids.insert((*ev)["data"]["message"]["id"].get<std::string>()).second) ++dups;
        }
        EXPECT_EQ(static_cast<int>(got.size()), total) << "connection " << i << " missed message.new events";
        EXPECT_EQ(dups, 0) << "connection " << i << " got duplicates";
        EXPECT_TRUE(std::is_sorted(got.begin(), got.end()) && std::adjacent_find(got.begin(), got.end()) == got.end())
            << "connection " << i << " got message.new out of seq order";
        EXPECT_EQ(got, expected) << "connection " << i;
        EXPECT_TRUE(NoFrameBefore(*conns[i], frame_of("message.new", about_chat(id)),
                                  frame_of("message.new", about_message(marker["id"]))))
            << "connection " << i << ": extra events";
    }
}

TEST_F(RealtimeTest, ReconnectingClientCatchesUpWithSinceVersion) {
    auto a = register_user(port(), "rc");
    auto b = register_user(port(), "rc");
    auto c = register_user(port(), "rc");
    std::string id = create_group(port(), a, {b.id, c.id})["id"];
    auto wc = ws_connect(port(), c.token);
    auto m1 = send_text(port(), a, id, "seen 1");
    auto m2 = send_text(port(), b, id, "seen 2");
    auto m3 = send_text(port(), a, id, "seen 3");
    std::int64_t last_seen = 0;
    for (int i = 0; i < 3; ++i) {
        auto ev = wait_for(*wc, "message.new", about_chat(id));
        ASSERT_TRUE(ev.has_value());
        last_seen = std::max<std::int64_t>(last_seen, (*ev)["data"]["message"]["version"].get<std::int64_t>());
    }
    EXPECT_EQ(last_seen, m3["version"]);
    wc->close();
    wc.reset();

    // While c is away.
    auto m4 = send_text(port(), b, id, "missed 4");
    ASSERT_TRUE(IsJson(put(port(), a.token, message_url(m1["id"]), {{"content", "seen 1, edited"}}), 200));
    ASSERT_EQ(del(port(), b.token, message_url(m2["id"])).status, 204);
    ASSERT_EQ(put(port(), a.token, reaction_url(m4["id"], "\xF0\x9F\x8E\x89"), json::object()).status, 204);
    auto m5 = send_text(port(), a, id, "missed 5");

    auto r = get(port(), c.token, chat_messages_url(id) + "?since_version=" + std::to_string(last_seen));
    ASSERT_TRUE(IsJson(r, 200));
    auto s = r.json();
    std::vector<std::string> got_ids = ids_of(s["messages"].get<std::vector<json>>());
    EXPECT_EQ(got_ids, (std::vector<std::string>{m1["id"], m2["id"], m4["id"], m5["id"]}))
        << "exactly the changed messages in version order: " << r.body.substr(0, 1500);
    EXPECT_EQ(s["has_more"], false);
    EXPECT_EQ(s["version"], m5["version"]);
    std::int64_t prev = last_seen;
    for (const auto& m : s["messages"]) {
        EXPECT_GT(m["version"].get<std::int64_t>(), prev);
        prev = m["version"];
    }
    if (s["messages"].size() == 4) {
        EXPECT_EQ(s["messages"][0]["content"], "seen 1, edited");
        EXPECT_EQ(s["messages"][1]["is_deleted"], true);
        EXPECT_EQ(s["messages"][2]["reactions"].size(), 1u);
        EXPECT_EQ(s["messages"][3]["content"], "missed 5");
    }
    EXPECT_EQ(prev, m5["version"]);

    // After catching up over a new connection, live events flow again.
    auto wc2 = ws_connect(port(), c.token);
    auto sync = ws_request(*wc2, "sync", {{"chat_id", id}, {"since_version", last_seen}});
    ASSERT_TRUE(IsAck(sync)) << sync.dump();
    EXPECT_EQ(sync["data"], s);
    auto m6 = send_text(port(), b, id, "live again");
    auto ev = wait_for(*wc2, "message.new", about_chat(id));
    ASSERT_TRUE(ev.has_value());
    EXPECT_EQ((*ev)["data"]["message"]["id"], m6["id"]);
}

TEST_F(RealtimeTest, RenewedTypingStartPostponesTheAutomaticStop) {
    auto a = register_user(port(), "tr");
    auto b = register_user(port(), "tr");
    std::string id = create_direct(port(), a, b)["id"];
    auto wa = ws_connect(port(), a.token);
    auto wb = ws_connect(port(), b.token);
    auto is_false = and_(about_chat(id), [](const json& f) { return f["data"].value("is_typing", true) == false; });

    auto start = Clock::now();
    ASSERT_TRUE(IsAck(ws_request(*wa, "typing.start", {{"chat_id", id}})));
    auto on = wait_for(*wb, "typing.update", about_chat(id));
    ASSERT_TRUE(on.has_value());
    EXPECT_EQ((*on)["data"]["is_typing"], true);
    // The contract is a timer, so this test waits on time: nothing for 4 s, then renew; the
    // stop must not come 6 s after the first start.
    EXPECT_FALSE(wait_for(*wb, "typing.update", is_false, 4s).has_value()) << "stopped within 4 s of typing.start";
    auto renewed = Clock::now();
    ASSERT_TRUE(IsAck(ws_request(*wa, "typing.start", {{"chat_id", id}})));
    EXPECT_FALSE(wait_for(*wb, "typing.update", is_false, 4s).has_value())
        << "the renewed typing.start restarts the 6 s timer";
    auto off = wait_for(*wb, "typing.update", is_false, 5s);
    ASSERT_TRUE(off.has_value()) << "no is_typing false within 9 s of the renewed typing.start";
    EXPECT_GE(Clock::now() - renewed, 5s);
    EXPECT_GE(Clock::now() - start, 9s);
}

TEST_F(RealtimeTest, PresenceFollowsChatsSharedAfterConnecting) {
    auto a = register_user(port(), "pf");
    auto b = register_user(port(), "pf");
    auto c = register_user(port(), "pf");
    std::string with_c = create_direct(port(), c, b)["id"];
    auto wb = ws_connect(port(), b.token);
    // c's messages reach b after whatever a's connecting published: a connection announces
    // itself before it answers its first request.
    const auto c_says_after_connecting = [&](std::unique_ptr<WsClient>& connection) {
        EXPECT_TRUE(IsAck(ws_request(*connection, "ping")));
        return frame_of("message.new", about_message(send_text(port(), c, with_c, "marker")["id"]));
    };
    auto wa = ws_connect(port(), a.token);
    EXPECT_TRUE(NoFrameBefore(*wb, frame_of("presence.update", from_user(a.id)), c_says_after_connecting(wa)))
        << "no shared chat yet";
    auto before = get(port(), b.token, "/api/v1/users/" + a.id);
    ASSERT_TRUE(IsJson(before, 200));
    EXPECT_FALSE(before.json().contains("online")) << "presence only where the caller shares a chat: " << before.body;

    // Now they share a group created while both are connected.
    std::string id = create_group(port(), a, {b.id})["id"];
    auto now = get(port(), b.token, "/api/v1/users/" + a.id);
    ASSERT_TRUE(IsJson(now, 200));
    EXPECT_EQ(now.json().value("online", json()), true) << now.body;
    wa->close();
    auto off = wait_for(*wb, "presence.update", from_user(a.id));
    ASSERT_TRUE(off.has_value()) << "b shares a chat with a now and must see a go offline";
    EXPECT_EQ((*off)["data"]["online"], false);

    // After b leaves the only shared chat, a's presence is no longer b's business.
    ASSERT_EQ(del(port(), b.token, member_url(id, b.id)).status, 204);
    auto wa2 = ws_connect(port(), a.token);
    EXPECT_TRUE(NoFrameBefore(*wb, frame_of("presence.update", from_user(a.id)), c_says_after_connecting(wa2)))
        << "no presence after leaving the shared chat";
}

TEST_F(RealtimeTest, EventsWithoutIdGetNoReplyButTakeEffect) {
    auto a = register_user(port(), "ni");
    auto b = register_user(port(), "ni");
    std::string id = create_direct(port(), a, b)["id"];
    auto wa = ws_connect(port(), a.token);
    auto wb = ws_connect(port(), b.token);
    wa->send_json({{"type", "message.send"}, {"data", {{"chat_id", id}, {"type", "text"}, {"content", "no id"}}}});
    auto ev = wait_for(*wb, "message.new", about_chat(id));
    ASSERT_TRUE(ev.has_value());
    EXPECT_EQ((*ev)["data"]["message"]["content"], "no id");
    auto own = wait_for(*wa, "message.new", about_chat(id));
    ASSERT_TRUE(own.has_value());
    // A request that does not overlap (typing.start) runs once every earlier one is answered, so
    // its ack comes after any reply to the send.
    const auto with_id = wa->next_request_id();
    wa->send_json({{"type", "typing.start"}, {"id", with_id}, {"data", {{"chat_id", id}}}});
    EXPECT_TRUE(NoFrameBefore(*wa, frame_of("ack"), [&](const json& f) { return f.value("id", "") == with_id; }))
        << "an event without id that succeeds gets no reply";
    // A failing event without id gets an error frame without id.
    wa->send_json({{"type", "message.send"}, {"data", {{"chat_id", id}, {"type", "text"}, {"content", ""}}}});
    auto err = wait_for(*wa, "error");
    EXPECT_TRUE(IsWsError(err, "bad_request"));
    if (err) EXPECT_FALSE(err->contains("id") && !(*err)["id"].is_null()) << err->dump();
}

// A server killed while a member types, started again on its database: once the dead process
// has been silent for the presence timeout, the new one says the typing stopped, to the chat's
// members although nothing since the start has loaded that chat (the stop went to nobody).
TEST(RestartedServerTest, StopsTheTypingTheKilledServerCouldNotStop) {
    CONFAB_REQUIRE_DATABASE();
    TestDatabase database;  // of its own: another server on it could be the one to sweep
    const std::map<std::string, std::string> environment{{"CONFAB_CLUSTER_PRESENCE_TIMEOUT_MS", "1500"}};
    auto killed = std::make_unique<ServerProcess>(database.url(), environment);
    auto ana = register_user(killed->port(), "rt");
    auto ben = register_user(killed->port(), "rt");
    const std::string chat = create_direct(killed->port(), ana, ben)["id"];
    auto ana_ws = ws_connect(killed->port(), ana.token);
    ASSERT_TRUE(IsAck(ws_request(*ana_ws, "typing.start", {{"chat_id", chat}})));
    killed->kill();

    ServerProcess restarted(database.url(), environment);
    auto ben_ws = ws_connect(restarted.port(), ben.token);
    EXPECT_TRUE(wait_for(
        *ben_ws, "typing.update",
        [&](const json& frame) {
            return frame["data"] == json({{"chat_id", chat}, {"user_id", ana.id}, {"is_typing", false}});
        },
        15s))
        << "ana's typing never stopped after her server was killed";
}

}  // namespace
}  // namespace confab::test
