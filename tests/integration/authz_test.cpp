// Guarantees 3 and 5 for chats: non-members get 404 and never data, members without the
// right get 403, ex-members get 404 and no further events; bad input on every chat, member
// and message endpoint and WebSocket event gets the documented error and changes nothing.

#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/chat_api.hpp"

namespace confab::test {
namespace {

using AuthzTest = ChatTest;

struct Call {
    std::string what;
    std::function<HttpResponse()> run;
};

// Every chat/member/message REST endpoint, as `u` on chat `chat_id`, message `message_id`,
// and with `other_id` as the member target.
std::vector<Call> rest_calls(std::uint16_t port, const TestUser& u, const std::string& chat_id,
                             const std::string& message_id, const std::string& other_id) {
    const std::string emoji = "\xF0\x9F\x91\x8D";
    return {
        {"GET chat", [=] { return get(port, u.token, chat_url(chat_id)); }},
        {"PUT chat",
         [=] {
             return put(port, u.token, chat_url(chat_id), {{"title", "mine now"}});
         }},
        {"GET members", [=] { return get(port, u.token, members_url(chat_id)); }},
        {"POST members",
         [=] {
             return post(port, u.token, members_url(chat_id), {{"user_ids", {u.id}}});
         }},
        {"PATCH member role",
         [=] {
             return patch(port, u.token, member_url(chat_id, other_id), {{"role", "admin"}});
         }},
        {"PATCH own mute",
         [=] {
             return patch(port, u.token, member_url(chat_id, u.id), {{"is_muted", true}});
         }},
        {"DELETE member", [=] { return del(port, u.token, member_url(chat_id, other_id)); }},
        {"DELETE self (leave)", [=] { return del(port, u.token, member_url(chat_id, u.id)); }},
        {"GET messages", [=] { return get(port, u.token, chat_messages_url(chat_id)); }},
        {"GET messages before_seq", [=] { return get(port, u.token, chat_messages_url(chat_id) + "?before_seq=100"); }},
        {"GET messages after_seq", [=] { return get(port, u.token, chat_messages_url(chat_id) + "?after_seq=0"); }},
        {"GET messages since_version",
         [=] { return get(port, u.token, chat_messages_url(chat_id) + "?since_version=0"); }},
        {"POST message",
         [=] {
             return post(port, u.token, chat_messages_url(chat_id), {{"type", "text"}, {"content", "hi"}});
         }},
        {"POST read",
         [=] {
             return post(port, u.token, read_url(chat_id), {{"seq", 1}});
         }},
        {"GET message", [=] { return get(port, u.token, message_url(message_id)); }},
        {"PUT message",
         [=] {
             return put(port, u.token, message_url(message_id), {{"content", "edited"}});
         }},
        {"PUT reaction", [=] { return put(port, u.token, reaction_url(message_id, emoji), json::object()); }},
        {"DELETE reaction", [=] { return del(port, u.token, reaction_url(message_id, emoji)); }},
        {"DELETE message", [=] { return del(port, u.token, message_url(message_id)); }},
        {"DELETE chat", [=] { return del(port, u.token, chat_url(chat_id)); }},
    };
}

struct WsCall {
    std::string type;
    json data;
};

std::vector<WsCall> ws_calls(const std::string& chat_id, const std::string& message_id) {
    return {
        {"message.send", {{"chat_id", chat_id}, {"type", "text"}, {"content", "hi"}}},
        {"message.edit", {{"message_id", message_id}, {"content", "edited"}}},
        {"message.delete", {{"message_id", message_id}}},
        {"reaction.add", {{"message_id", message_id}, {"emoji", "\xF0\x9F\x91\x8D"}}},
        {"reaction.remove", {{"message_id", message_id}, {"emoji", "\xF0\x9F\x91\x8D"}}},
        {"typing.start", {{"chat_id", chat_id}}},
        {"typing.stop", {{"chat_id", chat_id}}},
        {"read.mark", {{"chat_id", chat_id}, {"seq", 1}}},
        {"sync", {{"chat_id", chat_id}, {"since_version", 0}}},
    };
}

// ---------------------------------------------------------------------------------------------

TEST_F(AuthzTest, NonMemberGets404FromEveryEndpointAndLearnsNothing) {
    auto owner = register_user(port(), "zo");
    auto member = register_user(port(), "zm");
    auto outsider = register_user(port(), "zx");
    std::string id =
        create_group(port(), owner, {member.id}, {{"settings", {{"only_admins_can_edit_info", false}}}})["id"];
    auto m = send_text(port(), member, id, "members only");
    auto ws_out = ws_connect(port(), outsider.token);
    auto before = chat_snapshot(port(), owner, id);

    for (const auto& c : rest_calls(port(), outsider, id, m["id"], member.id)) {
        auto r = c.run();
        EXPECT_TRUE(IsError(r, 404, "not_found")) << c.what;
        EXPECT_EQ(r.body.find("members only"), std::string::npos) << c.what << " leaked content";
        EXPECT_EQ(r.body.find(member.username), std::string::npos) << c.what << " leaked a member";
    }
    for (const auto& c : ws_calls(id, m["id"])) {
        auto reply = ws_request(*ws_out, c.type, c.data);
        EXPECT_TRUE(IsWsError(reply, "not_found", reply.value("id", ""))) << c.type << ": " << reply.dump();
    }
    // The same answers for a chat and message that do not exist at all.
    auto ghost = register_user(port(), "zg");
    for (const auto& c : rest_calls(port(), outsider, random_uuid(), random_uuid(), ghost.id))
        EXPECT_TRUE(IsError(c.run(), 404, "not_found")) << "unknown ids: " << c.what;

    EXPECT_EQ(chat_snapshot(port(), owner, id), before) << "a non-member changed the chat";
    EXPECT_TRUE(list_chats(port(), outsider).empty());
    // Activity in the chat does not reach the outsider.
    send_text(port(), owner, id, "still private");
    EXPECT_TRUE(NoFrameBefore(*ws_out, mentioning(id), direct_message_marker(port(), owner, outsider)));
}

TEST_F(AuthzTest, NonMemberCannotReachAChatThroughItsMessagesOrReplies) {
    auto a = register_user(port(), "zr");
    auto b = register_user(port(), "zr");
    auto outsider = register_user(port(), "zr");
    std::string id = create_direct(port(), a, b)["id"];
    std::string own = create_group(port(), outsider)["id"];
    auto m = send_text(port(), a, id, "private");
    // Replying in one's own chat to another chat's message is 400 (not the same chat); it
    // must not reveal the message.
    auto r = send_message(port(), outsider, own, {{"type", "text"}, {"content", "x"}, {"reply_to_id", m["id"]}});
    EXPECT_TRUE(r.status == 400 || r.status == 404) << r.describe();
    EXPECT_EQ(r.body.find("private"), std::string::npos);
    // Adding oneself to someone else's chat.
    EXPECT_TRUE(
        IsError(post(port(), outsider.token, members_url(id), {{"user_ids", {outsider.id}}}), 404, "not_found"));
    EXPECT_EQ(list_members(port(), a, id).size(), 2u);
}

TEST_F(AuthzTest, MemberWithoutTheRightGets403) {
    auto owner = register_user(port(), "zf");
    auto admin = register_user(port(), "zf");
    auto m = register_user(port(), "zf");
    auto m2 = register_user(port(), "zf");
    auto newcomer = register_user(port(), "zf");
    std::string id =
        create_group(port(), owner, {admin.id, m.id, m2.id},
                     {{"settings", {{"only_admins_can_post", true}, {"only_admins_can_add_members", true}}}})["id"];
    set_role(port(), owner, id, admin.id, "admin");
    auto own_msg = send_text(port(), owner, id, "owner speaks");
    auto ws_m = ws_connect(port(), m.token);
    auto before = chat_snapshot(port(), owner, id);

    const std::vector<Call> calls = {
        {"PUT chat (edit info)",
         [&] {
             return put(port(), m.token, chat_url(id), {{"title", "mine"}});
         }},
        {"DELETE chat (not owner)", [&] { return del(port(), m.token, chat_url(id)); }},
        {"DELETE chat (admin)", [&] { return del(port(), admin.token, chat_url(id)); }},
        {"POST members (admins only)",
         [&] {
             return post(port(), m.token, members_url(id), {{"user_ids", {newcomer.id}}});
         }},
        {"PATCH role of another",
         [&] {
             return patch(port(), m.token, member_url(id, m2.id), {{"role", "admin"}});
         }},
        {"PATCH own role",
         [&] {
             return patch(port(), m.token, member_url(id, m.id), {{"role", "admin"}});
         }},
        {"PATCH mute of another",
         [&] {
             return patch(port(), owner.token, member_url(id, m.id), {{"is_muted", true}});
         }},
        {"DELETE another member", [&] { return del(port(), m.token, member_url(id, m2.id)); }},
        {"DELETE owner (by admin)", [&] { return del(port(), admin.token, member_url(id, owner.id)); }},
        {"POST message (only admins post)",
         [&] {
             return post(port(), m.token, chat_messages_url(id), {{"type", "text"}, {"content", "hi"}});
         }},
        {"PUT someone else's message",
         [&] {
             return put(port(), admin.token, message_url(own_msg["id"]), {{"content", "x"}});
         }},
        {"DELETE someone else's message", [&] { return del(port(), m.token, message_url(own_msg["id"])); }},
    };
    for (const auto& c : calls) EXPECT_TRUE(IsError(c.run(), 403, "forbidden")) << c.what;

    auto send = ws_request(*ws_m, "message.send", {{"chat_id", id}, {"type", "text"}, {"content", "hi"}});
    EXPECT_TRUE(IsWsError(send, "forbidden", send.value("id", ""))) << send.dump();
    auto edit = ws_request(*ws_m, "message.edit", {{"message_id", own_msg["id"]}, {"content", "x"}});
    EXPECT_TRUE(IsWsError(edit, "forbidden", edit.value("id", ""))) << edit.dump();
    auto delm = ws_request(*ws_m, "message.delete", {{"message_id", own_msg["id"]}});
    EXPECT_TRUE(IsWsError(delm, "forbidden", delm.value("id", ""))) << delm.dump();

    EXPECT_EQ(chat_snapshot(port(), owner, id), before) << "a forbidden call changed the chat";
    // Members may still read, react and mark read even when they may not post.
    EXPECT_TRUE(IsJson(get(port(), m.token, chat_messages_url(id)), 200));
    EXPECT_EQ(put(port(), m.token, reaction_url(own_msg["id"], "\xF0\x9F\x91\x8D"), json::object()).status, 204);
    EXPECT_EQ(post(port(), m.token, read_url(id), {{"seq", 1}}).status, 204);
    EXPECT_TRUE(IsJson(send_message(port(), admin, id, {{"type", "text"}, {"content", "admins post"}}), 201));
}

TEST_F(AuthzTest, ExMemberGets404AndNoFurtherEvents) {
    auto owner = register_user(port(), "ze");
    auto stay = register_user(port(), "ze");
    auto removed = register_user(port(), "ze");
    auto left = register_user(port(), "ze");
    std::string id = create_group(port(), owner, {stay.id, removed.id, left.id},
                                  {{"settings", {{"only_admins_can_edit_info", false}}}})["id"];
    auto m = send_text(port(), removed, id, "I was here");
    auto ws_removed = ws_connect(port(), removed.token);
    auto ws_left = ws_connect(port(), left.token);
    auto ws_stay = ws_connect(port(), stay.token);

    ASSERT_EQ(del(port(), owner.token, member_url(id, removed.id)).status, 204);
    ASSERT_EQ(del(port(), left.token, member_url(id, left.id)).status, 204);
    auto own_removal = [&](const std::string& user_id) {
        return and_(about_chat(id), [user_id](const json& f) { return f["data"].value("user_id", "") == user_id; });
    };
    ASSERT_TRUE(wait_for(*ws_removed, "member.removed", own_removal(removed.id)).has_value());
    ASSERT_TRUE(wait_for(*ws_left, "member.removed", own_removal(left.id)).has_value());
    // Take what else arrived up to a marker: `left` was still a member when `removed` was removed
    // (and either may see the system message of its own removal), but `removed` must not hear
    // of `left` leaving afterwards.
    const auto removed_so_far = frames_until(*ws_removed, direct_message_marker(port(), owner, removed));
    ASSERT_TRUE(removed_so_far.has_value()) << "the marker did not reach the removed member";
    for (const auto& f : *removed_so_far)
        if (f.value("type", "") != "presence.update")
            EXPECT_EQ(f.dump().find(left.id), std::string::npos)
                << "an ex-member heard of a later change: " << f.dump();
    ASSERT_TRUE(frames_until(*ws_left, direct_message_marker(port(), owner, left)).has_value());

    for (const auto* ex : {&removed, &left}) {
        for (const auto& c : rest_calls(port(), *ex, id, m["id"], stay.id)) {
            // Includes their own old message: the chat is no longer theirs.
            auto r = c.run();
            EXPECT_TRUE(IsError(r, 404, "not_found")) << ex->username << ": " << c.what;
        }
    }
    auto ws_ex = ws_connect(port(), removed.token);
    for (const auto& c : ws_calls(id, m["id"])) {
        auto reply = ws_request(*ws_ex, c.type, c.data);
        EXPECT_TRUE(IsWsError(reply, "not_found", reply.value("id", ""))) << c.type << ": " << reply.dump();
    }

    // Everything that happens next stays with the members.
    auto next = send_text(port(), owner, id, "after they left");
    ASSERT_TRUE(IsAck(ws_request(*ws_stay, "typing.start", {{"chat_id", id}})));
    ASSERT_TRUE(
        IsJson(put(port(), stay.token, message_url(send_text(port(), stay, id, "s")["id"]), {{"content", "s2"}}), 200));
    ASSERT_EQ(put(port(), owner.token, reaction_url(next["id"], "\xF0\x9F\x91\x8D"), json::object()).status, 204);
    ASSERT_TRUE(IsJson(put(port(), owner.token, chat_url(id), {{"title", "renamed"}}), 200));
    ASSERT_EQ(post(port(), stay.token, read_url(id), {{"seq", 2}}).status, 204);
    ASSERT_EQ(del(port(), owner.token, message_url(next["id"])).status, 204);
    auto newcomer = register_user(port(), "ze");
    add_members(port(), owner, id, {newcomer.id});
    EXPECT_TRUE(wait_for(*ws_stay, "member.added", about_chat(id)).has_value()) << "the members did get events";

    const auto to_removed = direct_message_marker(port(), owner, removed);
    const auto to_left = direct_message_marker(port(), owner, left);
    EXPECT_TRUE(NoFrameBefore(*ws_removed, mentioning(id), to_removed)) << "a removed member received an event";
    EXPECT_TRUE(NoFrameBefore(*ws_ex, mentioning(id), to_removed)) << "a removed member received an event";
    EXPECT_TRUE(NoFrameBefore(*ws_left, mentioning(id), to_left)) << "a member who left received an event";
}

// ---------------------------------------------------------------------------------------------
// bad input

TEST_F(AuthzTest, MalformedUuidsInPathsAre400) {
    auto u = register_user(port(), "zb");
    auto other = register_user(port(), "zb");
    std::string id = create_group(port(), u, {other.id})["id"];
    auto m = send_text(port(), u, id, "x");
    for (const std::string bad : {"not-a-uuid", "1234", "00000000-0000-0000-0000-00000000000g",
                                  "00000000000000000000000000000000x", "%27%3B--"}) {
        for (const auto& c : rest_calls(port(), u, bad, bad, other.id))
            EXPECT_TRUE(IsError(c.run(), 400, "bad_request")) << "chat and message id " << bad << ": " << c.what;
        for (const auto& c : rest_calls(port(), u, id, m["id"], bad))
            if (c.what == "PATCH member role" || c.what == "DELETE member")
                EXPECT_TRUE(IsError(c.run(), 400, "bad_request")) << "user id " << bad << ": " << c.what;
    }
    // Nothing happened to the real chat.
    EXPECT_EQ(list_members(port(), u, id).size(), 2u);
    EXPECT_EQ(all_messages(port(), u, id).size(), 1u);
    EXPECT_EQ(get_message(port(), u, m["id"])["content"], "x");
}

TEST_F(AuthzTest, WrongJsonTypesAndMalformedBodiesAre400AndChangeNothing) {
    auto owner = register_user(port(), "zj");
    auto m = register_user(port(), "zj");
    std::string id = create_group(port(), owner, {m.id})["id"];
    auto msg = send_text(port(), owner, id, "stable");
    auto before = chat_snapshot(port(), owner, id);

    const std::vector<std::pair<std::string, std::string>> raw_bodies = {
        {"not JSON", "hello"}, {"truncated", "{\"a\":"}, {"array", "[]"}, {"string", "\"x\""},
        {"number", "42"},      {"null", "null"},         {"empty", ""},
    };
    const std::vector<std::pair<std::string, std::string>> endpoints = {
        {"POST", chats_url()},           {"PUT", chat_url(id)},           {"POST", members_url(id)},
        {"PATCH", member_url(id, m.id)}, {"POST", chat_messages_url(id)}, {"PUT", message_url(msg["id"])},
        {"POST", read_url(id)},
    };
    for (const auto& [method, target] : endpoints)
        for (const auto& [what, body] : raw_bodies) {
            auto r = http(port(), method, target, body, auth_header(owner.token));
            EXPECT_TRUE(IsError(r, 400, "bad_request")) << method << " " << target << " with " << what;
        }

    const std::vector<std::tuple<std::string, std::string, json>> typed = {
        {"PUT", chat_url(id), {{"title", json::array({"t"})}}},
        {"PUT", chat_url(id), {{"settings", {{"only_admins_can_post", "false"}}}}},
        {"PUT", chat_url(id), {{"unknown_field", true}}},
        {"POST", members_url(id), {{"user_ids", {{{"id", m.id}}}}}},
        {"PATCH", member_url(id, m.id), {{"role", true}}},
        {"PATCH", member_url(id, m.id), {{"is_muted", 1}}},
        {"POST", chat_messages_url(id), {{"type", "text"}, {"content", {{"text", "x"}}}}},
        {"POST", chat_messages_url(id), {{"type", "text"}, {"content", "x"}, {"metadata", json::array()}}},
        {"POST", chat_messages_url(id), {{"type", "text"}, {"content", "x"}, {"reply_to_id", "nope"}}},
        {"POST", chat_messages_url(id), {{"type", "text"}, {"content", "x"}, {"client_id", std::string(65, 'k')}}},
        {"PUT", message_url(msg["id"]), {{"content", json::array()}}},
        {"PUT", message_url(msg["id"]), {{"text", "x"}}},
        {"POST", read_url(id), {{"seq", "1"}}},
        {"POST", read_url(id), {{"seq", -3}}},
    };
    for (const auto& [method, target, body] : typed) {
        auto r = http(port(), method, target, body.dump(), auth_header(owner.token));
        EXPECT_TRUE(IsError(r, 400, "bad_request")) << method << " " << target << " " << body.dump();
    }
    EXPECT_TRUE(IsError(send_message(port(), owner, id, {{"type", "text"}, {"content", std::string(4001, 'z')}}), 413,
                        "payload_too_large"));
    EXPECT_TRUE(IsError(put(port(), owner.token, message_url(msg["id"]), {{"content", std::string(4001, 'z')}}), 413,
                        "payload_too_large"));
    // A body over limits.body_bytes (256 KiB).
    auto huge = send_message(port(), owner, id, {{"type", "text"}, {"content", std::string(300 * 1024, 'h')}});
    EXPECT_TRUE(IsError(huge, 413, "payload_too_large"));

    EXPECT_EQ(chat_snapshot(port(), owner, id), before) << "bad input changed stored data";
    EXPECT_EQ(list_chats(port(), owner).size(), 1u);
}

TEST_F(AuthzTest, WebSocketEventsWithBadDataGetBadRequestAndChangeNothing) {
    auto a = register_user(port(), "zw");
    auto b = register_user(port(), "zw");
    std::string id = create_direct(port(), a, b)["id"];
    auto msg = send_text(port(), a, id, "stable");
    auto ws = ws_connect(port(), a.token);
    auto before = chat_snapshot(port(), a, id);

    const std::vector<WsCall> bad = {
        {"message.send", json::object()},
        {"message.send", {{"chat_id", id}}},
        {"message.send", {{"chat_id", id}, {"type", "text"}}},
        {"message.send", {{"chat_id", id}, {"type", "text"}, {"content", ""}}},
        {"message.send", {{"chat_id", id}, {"type", "text"}, {"content", 5}}},
        {"message.send", {{"chat_id", "nope"}, {"type", "text"}, {"content", "x"}}},
        {"message.send", {{"chat_id", 17}, {"type", "text"}, {"content", "x"}}},
        {"message.send", {{"chat_id", id}, {"type", "system"}, {"content", "x"}}},
        {"message.send", {{"chat_id", id}, {"type", "text"}, {"content", "x"}, {"reply_to", "nope"}}},
        {"message.send",
         {{"chat_id", id}, {"type", "location"}, {"metadata", {{"location", {{"latitude", 100}, {"longitude", 0}}}}}}},
        {"message.edit", {{"message_id", msg["id"]}}},
        {"message.edit", {{"message_id", "nope"}, {"content", "x"}}},
        {"message.edit", {{"message_id", msg["id"]}, {"content", 1}}},
        {"message.delete", json::object()},
        {"message.delete", {{"message_id", 1}}},
        {"reaction.add", {{"message_id", msg["id"]}}},
        {"reaction.add", {{"message_id", msg["id"]}, {"emoji", ""}}},
        {"reaction.add", {{"message_id", msg["id"]}, {"emoji", std::string(33, 'e')}}},
        {"reaction.remove", {{"message_id", "x"}, {"emoji", "e"}}},
        {"typing.start", json::object()},
        {"typing.stop", {{"chat_id", "x"}}},
        {"read.mark", {{"chat_id", id}}},
        {"read.mark", {{"chat_id", id}, {"seq", "2"}}},
        {"read.mark", {{"chat_id", id}, {"seq", -1}}},
        {"sync", {{"chat_id", id}}},
        {"sync", {{"chat_id", id}, {"since_version", "0"}}},
        {"sync", {{"chat_id", id}, {"since_version", 0}, {"limit", 0}}},
        {"sync", {{"chat_id", id}, {"since_version", 0}, {"limit", 201}}},
    };
    for (const auto& c : bad) {
        auto reply = ws_request(*ws, c.type, c.data);
        EXPECT_TRUE(IsWsError(reply, "bad_request", reply.value("id", "")))
            << c.type << " " << c.data.dump() << " -> " << reply.dump();
    }
    // data missing or not an object.
    for (const json& data : {json(nullptr), json("x"), json::array()}) {
        auto reply = ws_request(*ws, "message.send", data);
        EXPECT_TRUE(IsWsError(reply, "bad_request", reply.value("id", ""))) << data.dump();
    }
    auto big =
        ws_request(*ws, "message.send", {{"chat_id", id}, {"type", "text"}, {"content", std::string(4001, 'q')}});
    EXPECT_TRUE(IsWsError(big, "payload_too_large", big.value("id", ""))) << big.dump();

    EXPECT_TRUE(ws->is_open());
    EXPECT_EQ(chat_snapshot(port(), a, id), before) << "bad WebSocket input changed stored data";
    EXPECT_TRUE(IsAck(ws_request(*ws, "ping")));
}

}  // namespace
}  // namespace confab::test
