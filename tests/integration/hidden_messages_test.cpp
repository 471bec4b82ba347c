// Delete for me: POST /messages/{id}/hide and message.hide take a message out of the caller's
// own history, sync, pins and chat list only; the caller's other devices learn it from
// message.hidden and from since_version sync's `hidden`.

#include <gtest/gtest.h>

#include "support/chat_api.hpp"

namespace confab::test {
namespace {

using HiddenMessagesTest = ChatTest;

std::string hide_url(const std::string& message_id) { return message_url(message_id) + "/hide"; }

json sync_since(std::uint16_t port, const TestUser& u, const std::string& chat_id, std::int64_t version,
                const std::string& extra = "") {
    return expect_json(get(port, u.token,
                           chat_messages_url(chat_id) + "?since_version=" + std::to_string(version) + extra),
                       200, "sync");
}

TEST_F(HiddenMessagesTest, AHiddenMessageLeavesTheCallersViewsOnly) {
    auto a = register_user(port(), "ha");
    auto b = register_user(port(), "ha");
    const std::string chat = create_direct(port(), a, b)["id"];
    const auto first = send_text(port(), a, chat, "first");
    const auto second = send_text(port(), a, chat, "second");
    const auto third = send_text(port(), b, chat, "third");
    ASSERT_EQ(put(port(), a.token, message_url(second["id"]) + "/pin").status, 204);

    EXPECT_EQ(post(port(), b.token, hide_url(second["id"])).status, 204);
    EXPECT_EQ(post(port(), b.token, hide_url(third["id"])).status, 204) << "one's own message too";

    EXPECT_EQ(ids_of(all_messages(port(), b, chat)), (std::vector<std::string>{first["id"]}));
    EXPECT_EQ(ids_of(all_messages(port(), a, chat)), (std::vector<std::string>{first["id"], second["id"], third["id"]}))
        << "the other member sees no change";
    const auto newest = expect_json(get(port(), b.token, chat_messages_url(chat) + "?limit=1"), 200, "newest");
    ASSERT_EQ(newest["messages"].size(), 1u);
    EXPECT_EQ(newest["messages"][0]["id"], first["id"]);
    EXPECT_TRUE(newest["next_cursor"].is_null());

    EXPECT_TRUE(IsError(get(port(), b.token, message_url(second["id"])), 404, "not_found"));
    EXPECT_EQ(get_message(port(), a, second["id"])["content"], "second");
    EXPECT_EQ(get_chat(port(), b, chat)["last_message"]["id"], first["id"]) << "the newest message b has not hidden";
    EXPECT_EQ(get_chat(port(), a, chat)["last_message"]["id"], third["id"]);
    const auto listed = list_chats(port(), b);
    const auto entry = std::find_if(listed.begin(), listed.end(), [&](const json& c) { return c["id"] == chat; });
    ASSERT_NE(entry, listed.end());
    EXPECT_EQ((*entry)["last_message"]["id"], first["id"]);
    EXPECT_EQ(expect_json(get(port(), b.token, chat_url(chat) + "/pins"), 200, "pins")["messages"], json::array());
    const auto found_by = [&](const TestUser& u) {
        return expect_json(get(port(), u.token, "/api/v1/search/messages?q=second"), 200, "search")["results"].size();
    };
    EXPECT_EQ(found_by(b), 0u) << "search leaves it out too";
    EXPECT_EQ(found_by(a), 1u);
    EXPECT_EQ(expect_json(get(port(), a.token, chat_url(chat) + "/pins"), 200, "pins")["messages"].size(), 1u);

    // For b the message is gone: nothing more can be done to it.
    EXPECT_TRUE(IsError(put(port(), b.token, reaction_url(second["id"], "👍")), 404, "not_found"));
    EXPECT_TRUE(IsError(del(port(), b.token, message_url(third["id"])), 404, "not_found"));
    EXPECT_TRUE(IsError(del(port(), b.token, message_url(second["id"]) + "/pin"), 404, "not_found"));

    // A repeat is harmless and moves nothing.
    const auto version = get_chat(port(), a, chat)["version"];
    EXPECT_EQ(post(port(), b.token, hide_url(second["id"])).status, 204);
    EXPECT_EQ(get_chat(port(), a, chat)["version"], version);
}

TEST_F(HiddenMessagesTest, OnlyMembersHideAndOnlyMessagesTheyCanSee) {
    auto a = register_user(port(), "hn");
    auto b = register_user(port(), "hn");
    auto stranger = register_user(port(), "hn");
    const std::string chat = create_direct(port(), a, b)["id"];
    const auto message = send_text(port(), a, chat, "ours");

    EXPECT_TRUE(IsError(post(port(), stranger.token, hide_url(message["id"])), 404, "not_found"));
    EXPECT_TRUE(IsError(post(port(), a.token, hide_url(random_uuid())), 404, "not_found"));
    EXPECT_TRUE(IsError(post(port(), a.token, hide_url("nope")), 400, "bad_request"));
    EXPECT_EQ(post(port(), "", hide_url(message["id"])).status, 401);

    // Deleted messages (tombstones) may be hidden too.
    ASSERT_EQ(del(port(), a.token, message_url(message["id"])).status, 204);
    EXPECT_EQ(post(port(), b.token, hide_url(message["id"])).status, 204);
    EXPECT_TRUE(all_messages(port(), b, chat).empty());

    // A member who left a group cannot hide its messages.
    const std::string group = create_group(port(), a, {b.id})["id"];
    const auto in_group = send_text(port(), a, group, "group message");
    ASSERT_EQ(del(port(), b.token, member_url(group, b.id)).status, 204);
    EXPECT_TRUE(IsError(post(port(), b.token, hide_url(in_group["id"])), 404, "not_found"));
}

TEST_F(HiddenMessagesTest, TheCallersOtherDevicesLearnItAndNobodyElseHearsOfIt) {
    auto a = register_user(port(), "hs");
    auto b = register_user(port(), "hs");
    const std::string chat = create_direct(port(), a, b)["id"];
    const auto message = send_text(port(), a, chat, "hide me");
    const auto version = message["version"].get<std::int64_t>();
    auto b1 = ws_connect(port(), b.token);
    auto b2 = ws_connect(port(), b.token);
    auto wa = ws_connect(port(), a.token);

    const auto ack = ws_request(*b1, "message.hide", {{"message_id", message["id"]}});
    ASSERT_TRUE(IsAck(ack)) << ack.dump();
    EXPECT_EQ(ack["data"], json::object());
    const json expected{{"type", "message.hidden"},
                        {"data", {{"message_id", message["id"]}, {"chat_id", chat}, {"version", version + 1}}}};
    for (auto* ws : {b1.get(), b2.get()}) {
        auto event = wait_for(*ws, "message.hidden");
        ASSERT_TRUE(event.has_value()) << "a connection of b missed message.hidden";
        EXPECT_EQ(*event, expected);
    }
    const auto marker = send_text(port(), b, chat, "marker");
    EXPECT_TRUE(NoFrameBefore(*wa, mentioning(chat), frame_of("message.new", about_message(marker["id"]))))
        << "the other member hears nothing of it";

    // An offline device of b catches up with sync; a's sync has nothing of it.
    auto for_b = sync_since(port(), b, chat, version);
    EXPECT_EQ(for_b["hidden"], json::array({expected["data"]}));
    EXPECT_EQ(ids_of(for_b["messages"].get<std::vector<json>>()), (std::vector<std::string>{marker["id"]}));
    auto for_a = sync_since(port(), a, chat, version);
    EXPECT_EQ(for_a["hidden"], json::array());
    EXPECT_EQ(ids_of(for_a["messages"].get<std::vector<json>>()), (std::vector<std::string>{marker["id"]}));
    EXPECT_EQ(for_a["version"], for_b["version"]);

    // Changed later by the other member, it stays out of b's sync.
    const auto edited =
        expect_json(put(port(), a.token, message_url(message["id"]), {{"content", "edited"}}), 200, "edit");
    const auto after_edit = sync_since(port(), b, chat, marker["version"].get<std::int64_t>());
    EXPECT_EQ(after_edit["messages"], json::array());
    EXPECT_EQ(after_edit["hidden"], json::array());
    EXPECT_EQ(after_edit["version"], edited["version"]);
    EXPECT_EQ(sync_since(port(), a, chat, marker["version"].get<std::int64_t>())["messages"].size(), 1u);

    // The WebSocket sync carries `hidden` as well.
    const auto ws_sync = ws_request(*b2, "sync", {{"chat_id", chat}, {"since_version", version}});
    ASSERT_TRUE(IsAck(ws_sync)) << ws_sync.dump();
    EXPECT_EQ(ws_sync["data"]["hidden"], json::array({expected["data"]}));
}

TEST_F(HiddenMessagesTest, ChatUpdatedShowsAMemberWhoHidTheLastMessageTheNewestTheyHaveNot) {
    auto a = register_user(port(), "hu");
    auto b = register_user(port(), "hu");
    auto c = register_user(port(), "hu");
    const std::string chat = create_group(port(), a, {b.id, c.id})["id"];
    const auto older = send_text(port(), a, chat, "older");
    const auto newest = send_text(port(), a, chat, "newest");
    ASSERT_EQ(post(port(), b.token, hide_url(newest["id"])).status, 204);
    auto wa = ws_connect(port(), a.token);
    auto wb = ws_connect(port(), b.token);
    auto wc = ws_connect(port(), c.token);

    // A metadata change writes no system message, so the chat's last message stays `newest`.
    expect_json(put(port(), a.token, chat_url(chat), {{"metadata", {{"topic", "x"}}}}), 200, "metadata");
    const auto last_message_seen_by = [&](WsClient& ws) {
        const auto event = wait_for(ws, "chat.updated");
        return event ? (*event)["data"]["chat"]["last_message"]["id"] : json();
    };
    EXPECT_EQ(last_message_seen_by(*wb), older["id"]) << "b hid the newest message";
    EXPECT_EQ(last_message_seen_by(*wa), newest["id"]);
    EXPECT_EQ(last_message_seen_by(*wc), newest["id"]);
    EXPECT_EQ(get_chat(port(), b, chat)["last_message"]["id"], older["id"]) << "as b's chat list shows it";
}

TEST_F(HiddenMessagesTest, SyncPagesInterleaveHidingsAndChangesByVersion) {
    auto a = register_user(port(), "hp");
    auto b = register_user(port(), "hp");
    const std::string chat = create_direct(port(), a, b)["id"];
    const auto one = send_text(port(), a, chat, "one");
    const auto two = send_text(port(), a, chat, "two");
    const auto three = send_text(port(), a, chat, "three");
    const auto start = three["version"].get<std::int64_t>();

    ASSERT_EQ(post(port(), b.token, hide_url(one["id"])).status, 204);                        // start + 1
    ASSERT_EQ(put(port(), a.token, message_url(two["id"]), {{"content", "2"}}).status, 200);  // start + 2
    ASSERT_EQ(post(port(), b.token, hide_url(three["id"])).status, 204);                      // start + 3

    auto page = sync_since(port(), b, chat, start, "&limit=2");
    EXPECT_EQ(page["has_more"], true);
    ASSERT_EQ(page["hidden"].size(), 1u);
    EXPECT_EQ(page["hidden"][0]["message_id"], one["id"]);
    EXPECT_EQ(page["hidden"][0]["version"], start + 1);
    ASSERT_EQ(page["messages"].size(), 1u);
    EXPECT_EQ(page["messages"][0]["id"], two["id"]);
    EXPECT_EQ(page["messages"][0]["version"], start + 2);

    auto rest = sync_since(port(), b, chat, start + 2, "&limit=2");
    EXPECT_EQ(rest["has_more"], false);
    EXPECT_EQ(rest["messages"], json::array());
    ASSERT_EQ(rest["hidden"].size(), 1u);
    EXPECT_EQ(rest["hidden"][0]["message_id"], three["id"]);
    EXPECT_EQ(rest["version"], start + 3);
}

// "For the caller the message no longer exists": it is neither quoted nor a thread's root for
// them, refused as a message that does not exist is; other members still reply to it.
TEST_F(HiddenMessagesTest, AHiddenMessageCannotBeRepliedTo) {
    auto a = register_user(port(), "hr");
    auto b = register_user(port(), "hr");
    std::string id = create_group(port(), a, {b.id})["id"];
    auto message = send_text(port(), a, id, "hide me");
    ASSERT_EQ(post(port(), b.token, hide_url(message["id"])).status, 204);
    const auto quoting_nothing =
        send_message(port(), b, id, {{"type", "text"}, {"content", "re"}, {"reply_to_id", random_uuid()}});
    ASSERT_TRUE(IsError(quoting_nothing, 400, "bad_request"));
    auto quote = send_message(port(), b, id, {{"type", "text"}, {"content", "re"}, {"reply_to_id", message["id"]}});
    EXPECT_TRUE(IsError(quote, 400, "bad_request")) << quote.body;
    EXPECT_EQ(quote.json()["error"]["details"]["field"], "reply_to_id");
    auto in_thread =
        send_message(port(), b, id, {{"type", "text"}, {"content", "re"}, {"thread_root_id", message["id"]}});
    EXPECT_TRUE(IsError(in_thread, 400, "bad_request")) << in_thread.body;
    EXPECT_EQ(in_thread.json()["error"]["details"]["field"], "thread_root_id");
    auto ws = ws_connect(port(), b.token);
    auto over_ws = ws_request(*ws, "message.send",
                              {{"chat_id", id}, {"type", "text"}, {"content", "re"}, {"reply_to", message["id"]}});
    EXPECT_EQ(refusal(over_ws), "bad_request") << over_ws.dump();
    EXPECT_TRUE(
        IsJson(send_message(port(), a, id, {{"type", "text"}, {"content", "re"}, {"reply_to_id", message["id"]}}), 201))
        << "hidden for b only";
}

}  // namespace
}  // namespace confab::test
