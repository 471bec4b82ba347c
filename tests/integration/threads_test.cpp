// Threads: replies sent with thread_root_id, the root's `thread` summary, GET
// /messages/{id}/thread pages, the main timeline without replies, the refusals of a bad root,
// and how replies and root updates travel (message.new, message.updated, since_version sync).

#include <gtest/gtest.h>

#include "support/chat_api.hpp"

namespace confab::test {
namespace {

using ThreadsTest = ChatTest;

std::string thread_url(const std::string& root_id) { return message_url(root_id) + "/thread"; }

json reply(std::uint16_t port, const TestUser& u, const std::string& chat_id, const json& root,
           const std::string& content) {
    return send_text(port, u, chat_id, content, {{"thread_root_id", root["id"]}});
}

json thread_page(std::uint16_t port, const TestUser& u, const std::string& root_id, const std::string& query = "") {
    return expect_json(get(port, u.token, thread_url(root_id) + query), 200, "thread");
}

// The ids of a history page that are not system messages (a group's creation writes some).
std::vector<std::string> timeline_ids(std::uint16_t port, const TestUser& u, const std::string& chat_id,
                                      const std::string& query = "") {
    const auto page = expect_json(get(port, u.token, chat_messages_url(chat_id) + query), 200, "history");
    std::vector<std::string> ids;
    for (const auto& m : page["messages"])
        if (m["type"] != "system") ids.push_back(m["id"]);
    return ids;
}

::testing::AssertionResult IsFieldError(const HttpResponse& r, int status, std::string_view code,
                                        const std::string& field) {
    auto error = IsError(r, status, code);
    if (!error) return error;
    if (r.json()["error"]["details"]["field"] != field)
        return ::testing::AssertionFailure() << "expected details.field " << field << ": " << r.body;
    return ::testing::AssertionSuccess();
}

TEST_F(ThreadsTest, RepliesGoUnderTheRootWhichCarriesTheirSummary) {
    auto a = register_user(port(), "ta");
    auto b = register_user(port(), "ta");
    auto c = register_user(port(), "ta");
    const std::string chat = create_group(port(), a, {b.id, c.id})["id"];
    const auto root = send_text(port(), a, chat, "what shall we eat?");
    EXPECT_TRUE(IsMessageModel(root));
    EXPECT_TRUE(root["thread"].is_null()) << "no replies, no summary";
    EXPECT_TRUE(root["thread_root_id"].is_null());

    const auto first = reply(port(), b, chat, root, "pizza");
    EXPECT_TRUE(IsMessageModel(first));
    EXPECT_EQ(first["thread_root_id"], root["id"]);
    EXPECT_EQ(first["seq"], root["seq"].get<std::int64_t>() + 1) << "a reply takes the chat's next seq";
    const auto second = reply(port(), c, chat, root, "sushi");
    const auto third = reply(port(), b, chat, root, "both");
    const auto after = send_text(port(), c, chat, "main timeline goes on");

    const auto read = get_message(port(), a, root["id"]);
    EXPECT_TRUE(IsMessageModel(read));
    ASSERT_FALSE(read["thread"].is_null());
    EXPECT_EQ(read["thread"]["reply_count"], 3);
    EXPECT_EQ(read["thread"]["participant_ids"], json::array({b.id, c.id})) << "the latest replier first, once each";
    EXPECT_EQ(read["thread"]["last_reply_at"], third["created_at"]);
    EXPECT_GT(read["version"], third["version"]) << "each reply gives the root a new version";
    EXPECT_LT(read["version"], after["version"]);
    EXPECT_EQ(read["content"], root["content"]);
    EXPECT_FALSE(read["is_edited"].get<bool>()) << "a summary change is not an edit";

    // The main timeline: replies are left out unless asked for; sync has everything.
    EXPECT_EQ(timeline_ids(port(), a, chat), (std::vector<std::string>{after["id"], root["id"]}));
    EXPECT_EQ(timeline_ids(port(), a, chat, "?after_seq=0"), (std::vector<std::string>{root["id"], after["id"]}));
    EXPECT_EQ(timeline_ids(port(), a, chat, "?include_thread_replies=true"),
              (std::vector<std::string>{after["id"], third["id"], second["id"], first["id"], root["id"]}));
    EXPECT_EQ(timeline_ids(port(), a, chat, "?include_thread_replies=false&before_seq=" + after["seq"].dump()),
              (std::vector<std::string>{root["id"]}));
    EXPECT_TRUE(IsFieldError(get(port(), a.token, chat_messages_url(chat) + "?include_thread_replies=yes"), 400,
                             "bad_request", "include_thread_replies"));
    const auto history = expect_json(get(port(), a.token, chat_messages_url(chat)), 200, "history");
    for (const auto& m : history["messages"])
        if (m["id"] == root["id"]) EXPECT_EQ(m["thread"]["reply_count"], 3) << "history shows the summary";

    const auto sync =
        expect_json(get(port(), a.token, chat_messages_url(chat) + "?since_version=" + root["version"].dump()), 200,
                    "sync");
    std::vector<std::string> synced = ids_of(sync["messages"].get<std::vector<json>>());
    EXPECT_EQ(synced, (std::vector<std::string>{first["id"], second["id"], third["id"], root["id"], after["id"]}))
        << "sync returns the replies and the root at its latest version";

    // The chat list shows the main timeline's newest; replies count as unread like any message.
    auto view = get_chat(port(), a, chat);
    EXPECT_EQ(view["last_message"]["id"], after["id"]);
    EXPECT_EQ(view["me"]["unread_count"], 4);
    reply(port(), b, chat, root, "late reply");
    view = get_chat(port(), a, chat);
    EXPECT_EQ(view["last_message"]["id"], after["id"]) << "a reply is not the chat's last message";
    EXPECT_TRUE(IsChatModel(view));
}

// The chat list is ordered by last_message, which a reply never is: a reply leaves the
// order as it was, a main-timeline message moves its chat up.
TEST_F(ThreadsTest, AReplyLeavesTheChatListsOrder) {
    auto a = register_user(port(), "tl");
    auto b = register_user(port(), "tl");
    const std::string older = create_group(port(), a, {b.id})["id"];
    const auto root = send_text(port(), a, older, "a thread starts here");
    const std::string newer = create_group(port(), a, {b.id})["id"];
    const auto order = [&] {
        std::vector<std::string> ids;
        for (const auto& chat : list_chats(port(), b))
            if (chat["id"] == older || chat["id"] == newer) ids.push_back(chat["id"]);
        return ids;
    };
    ASSERT_EQ(order(), (std::vector<std::string>{newer, older}));

    reply(port(), a, older, root, "a reply");
    EXPECT_EQ(order(), (std::vector<std::string>{newer, older})) << "a reply moved its chat up";
    EXPECT_EQ(get_chat(port(), b, older)["last_message"]["id"], root["id"]);

    send_text(port(), a, older, "back in the main timeline");
    EXPECT_EQ(order(), (std::vector<std::string>{older, newer}));
}

TEST_F(ThreadsTest, AThreadIsPagedAsHistoryIs) {
    auto a = register_user(port(), "tp");
    auto b = register_user(port(), "tp");
    const std::string chat = create_direct(port(), a, b)["id"];
    const auto root = send_text(port(), a, chat, "root");
    const auto other_root = send_text(port(), a, chat, "another root");
    std::vector<std::string> replies;
    for (int i = 0; i < 5; ++i) {
        replies.push_back(reply(port(), i % 2 ? a : b, chat, root, "reply " + std::to_string(i))["id"]);
        reply(port(), a, chat, other_root, "elsewhere");
    }

    auto newest = thread_page(port(), b, root["id"], "?limit=2");
    EXPECT_EQ(newest["root"]["id"], root["id"]);
    EXPECT_TRUE(IsMessageModel(newest["root"]));
    EXPECT_EQ(newest["root"]["thread"]["reply_count"], 5);
    EXPECT_EQ(ids_of(newest["messages"].get<std::vector<json>>()), (std::vector<std::string>{replies[4], replies[3]}));
    for (const auto& m : newest["messages"]) EXPECT_TRUE(IsMessageModel(m));
    ASSERT_TRUE(newest["next_cursor"].is_number_integer());
    EXPECT_EQ(newest["next_cursor"], newest["messages"][1]["seq"]);

    std::vector<std::string> walked;
    std::string query = "?limit=2";
    for (int i = 0; i < 5; ++i) {
        const auto page = thread_page(port(), a, root["id"], query);
        for (const auto& m : page["messages"]) walked.push_back(m["id"]);
        if (page["next_cursor"].is_null()) break;
        query = "?limit=2&before_seq=" + page["next_cursor"].dump();
    }
    EXPECT_EQ(walked, (std::vector<std::string>{replies[4], replies[3], replies[2], replies[1], replies[0]}));

    const auto oldest = thread_page(port(), a, root["id"], "?after_seq=0&limit=3");
    EXPECT_EQ(ids_of(oldest["messages"].get<std::vector<json>>()),
              (std::vector<std::string>{replies[0], replies[1], replies[2]}));
    const auto rest = thread_page(port(), a, root["id"], "?after_seq=" + oldest["next_cursor"].dump() + "&limit=3");
    EXPECT_EQ(ids_of(rest["messages"].get<std::vector<json>>()), (std::vector<std::string>{replies[3], replies[4]}));
    EXPECT_TRUE(rest["next_cursor"].is_null());

    // A message without replies, a reply included, has an empty thread.
    const auto alone = send_text(port(), b, chat, "alone");
    EXPECT_EQ(thread_page(port(), a, alone["id"])["messages"], json::array());
    EXPECT_EQ(thread_page(port(), a, replies[0])["messages"], json::array());

    EXPECT_TRUE(
        IsError(get(port(), a.token, thread_url(root["id"]) + "?before_seq=9&after_seq=1"), 400, "bad_request"));
    EXPECT_TRUE(IsError(get(port(), a.token, thread_url(root["id"]) + "?limit=0"), 400, "bad_request"));
    EXPECT_TRUE(IsError(get(port(), a.token, thread_url(root["id"]) + "?before_seq=-1"), 400, "bad_request"));
    EXPECT_TRUE(IsError(get(port(), a.token, thread_url("not-a-uuid")), 400, "bad_request"));
    EXPECT_TRUE(IsError(get(port(), a.token, thread_url(random_uuid())), 404, "not_found"));
    EXPECT_EQ(get(port(), "", thread_url(root["id"])).status, 401);

    // Hidden for oneself: the reply leaves the caller's pages, the root their sight.
    ASSERT_EQ(post(port(), a.token, message_url(replies[4]) + "/hide").status, 204);
    EXPECT_EQ(thread_page(port(), a, root["id"], "?limit=1")["messages"][0]["id"], replies[3]);
    EXPECT_EQ(thread_page(port(), b, root["id"], "?limit=1")["messages"][0]["id"], replies[4]) << "b still sees it";
    ASSERT_EQ(post(port(), b.token, message_url(root["id"]) + "/hide").status, 204);
    EXPECT_TRUE(IsError(get(port(), b.token, thread_url(root["id"])), 404, "not_found"));
}

TEST_F(ThreadsTest, ABadRootIsRefusedAndNothingIsSent) {
    auto a = register_user(port(), "tb");
    auto b = register_user(port(), "tb");
    const std::string chat = create_group(port(), a, {})["id"];
    const std::string elsewhere = create_direct(port(), a, b)["id"];
    const auto root = send_text(port(), a, chat, "root");
    const auto foreign = send_text(port(), a, elsewhere, "in another chat");
    const auto a_reply = reply(port(), a, chat, root, "a reply");
    add_members(port(), a, chat, {b.id});
    const auto notes = system_messages(port(), a, chat);
    ASSERT_FALSE(notes.empty());
    const auto doomed = send_text(port(), a, chat, "doomed");
    ASSERT_EQ(del(port(), a.token, message_url(doomed["id"])).status, 204);
    const auto before = get_chat(port(), a, chat);

    const auto send_under = [&](const json& root_id) {
        return send_message(port(), b, chat, {{"type", "text"}, {"content", "x"}, {"thread_root_id", root_id}});
    };
    EXPECT_TRUE(IsFieldError(send_under(foreign["id"]), 400, "bad_request", "thread_root_id")) << "another chat's";
    EXPECT_TRUE(IsFieldError(send_under(random_uuid()), 400, "bad_request", "thread_root_id")) << "no such message";
    EXPECT_TRUE(IsFieldError(send_under("not-a-uuid"), 400, "bad_request", "thread_root_id"));
    EXPECT_TRUE(IsFieldError(send_under(42), 400, "bad_request", "thread_root_id"));
    EXPECT_TRUE(IsFieldError(send_under(a_reply["id"]), 400, "bad_request", "thread_root_id")) << "one level only";
    EXPECT_TRUE(IsFieldError(send_under(notes.back()["id"]), 400, "bad_request", "thread_root_id")) << "system";
    EXPECT_TRUE(IsError(send_under(doomed["id"]), 409, "conflict")) << "deleted root";

    const auto scheduled = post(
        port(), b.token, chat_url(chat) + "/scheduled-messages",
        {{"type", "text"}, {"content", "later"}, {"thread_root_id", root["id"]}, {"send_at", "2099-01-01T00:00:00Z"}});
    EXPECT_TRUE(IsFieldError(scheduled, 400, "bad_request", "thread_root_id"));

    auto ws = ws_connect(port(), b.token);
    const auto refused =
        ws_request(*ws, "message.send",
                   {{"chat_id", chat}, {"type", "text"}, {"content", "x"}, {"thread_root_id", a_reply["id"]}});
    EXPECT_TRUE(IsWsError(refused, "bad_request"));

    const auto after = get_chat(port(), a, chat);
    EXPECT_EQ(after["last_seq"], before["last_seq"]) << "nothing was sent";
    EXPECT_EQ(after["version"], before["version"]) << "nothing changed";
    EXPECT_EQ(get_message(port(), a, root["id"])["thread"]["reply_count"], 1);

    // Null is no thread at all.
    const auto plain = send_under(nullptr);
    ASSERT_EQ(plain.status, 201) << plain.body;
    EXPECT_TRUE(plain.json()["thread_root_id"].is_null());
}

TEST_F(ThreadsTest, NonMembersAndRemovedMembersReachNoThread) {
    auto a = register_user(port(), "tn");
    auto b = register_user(port(), "tn");
    auto stranger = register_user(port(), "tn");
    const std::string chat = create_group(port(), a, {b.id})["id"];
    const auto root = send_text(port(), a, chat, "members only");
    reply(port(), b, chat, root, "indeed");

    EXPECT_TRUE(IsError(get(port(), stranger.token, thread_url(root["id"])), 404, "not_found"));
    EXPECT_TRUE(IsError(send_message(port(), stranger, chat,
                                     {{"type", "text"}, {"content", "x"}, {"thread_root_id", root["id"]}}),
                        404, "not_found"));

    ASSERT_EQ(del(port(), a.token, member_url(chat, b.id)).status, 204);
    EXPECT_TRUE(IsError(get(port(), b.token, thread_url(root["id"])), 404, "not_found"));
    EXPECT_TRUE(
        IsError(send_message(port(), b, chat, {{"type", "text"}, {"content", "x"}, {"thread_root_id", root["id"]}}),
                404, "not_found"));
    EXPECT_EQ(get_message(port(), a, root["id"])["thread"]["reply_count"], 1);

    // Who may reply is who may post.
    auto c = register_user(port(), "tn");
    add_members(port(), a, chat, {c.id});
    ASSERT_EQ(put(port(), a.token, chat_url(chat), {{"settings", {{"only_admins_can_post", true}}}}).status, 200);
    EXPECT_TRUE(
        IsError(send_message(port(), c, chat, {{"type", "text"}, {"content", "x"}, {"thread_root_id", root["id"]}}),
                403, "forbidden"));
}

TEST_F(ThreadsTest, DeletingRepliesRecountsAndADeletedRootKeepsItsThread) {
    auto a = register_user(port(), "td");
    auto b = register_user(port(), "td");
    auto c = register_user(port(), "td");
    const std::string chat = create_group(port(), a, {b.id, c.id})["id"];
    const auto root = send_text(port(), a, chat, "root");
    const auto by_b = reply(port(), b, chat, root, "b");
    const auto by_c = reply(port(), c, chat, root, "c");
    const auto version = get_chat(port(), a, chat)["version"].get<std::int64_t>();

    ASSERT_EQ(del(port(), c.token, message_url(by_c["id"])).status, 204);
    auto read = get_message(port(), b, root["id"]);
    EXPECT_EQ(read["thread"]["reply_count"], 1);
    EXPECT_EQ(read["thread"]["participant_ids"], json::array({b.id}));
    EXPECT_EQ(read["thread"]["last_reply_at"], by_b["created_at"]);
    const auto sync =
        expect_json(get(port(), b.token, chat_messages_url(chat) + "?since_version=" + std::to_string(version)), 200,
                    "sync");
    ASSERT_EQ(sync["messages"].size(), 2u);
    EXPECT_EQ(sync["messages"][0]["id"], by_c["id"]);
    EXPECT_EQ(sync["messages"][0]["is_deleted"], true);
    EXPECT_EQ(sync["messages"][1]["id"], root["id"]);
    EXPECT_EQ(sync["messages"][1]["thread"]["reply_count"], 1);
    const auto page = thread_page(port(), a, root["id"]);
    ASSERT_EQ(page["messages"].size(), 2u) << "a deleted reply shows as deleted, as in history";
    EXPECT_EQ(page["messages"][0]["is_deleted"], true);

    ASSERT_EQ(del(port(), b.token, message_url(by_b["id"])).status, 204);
    EXPECT_TRUE(get_message(port(), a, root["id"])["thread"].is_null()) << "no live replies, no summary";

    const auto last = reply(port(), c, chat, root, "still here");
    ASSERT_EQ(del(port(), a.token, message_url(root["id"])).status, 204);
    read = get_message(port(), b, root["id"]);
    EXPECT_EQ(read["is_deleted"], true);
    EXPECT_EQ(read["content"], "");
    EXPECT_EQ(read["thread"]["reply_count"], 1) << "the replies stay with the deleted root";
    const auto kept = thread_page(port(), b, root["id"]);
    EXPECT_EQ(kept["root"]["is_deleted"], true);
    EXPECT_EQ(kept["messages"][0]["id"], last["id"]);
    EXPECT_EQ(kept["messages"][0]["content"], "still here");
    EXPECT_TRUE(
        IsError(send_message(port(), b, chat, {{"type", "text"}, {"content", "x"}, {"thread_root_id", root["id"]}}),
                409, "conflict"));
}

TEST_F(ThreadsTest, RepliesAndTheRootsSummaryReachMembersOnly) {
    auto a = register_user(port(), "te");
    auto b = register_user(port(), "te");
    auto outsider = register_user(port(), "te");
    const std::string chat = create_direct(port(), a, b)["id"];
    const auto root = send_text(port(), a, chat, "root");
    auto wa = ws_connect(port(), a.token);
    auto wb = ws_connect(port(), b.token);
    auto wo = ws_connect(port(), outsider.token);

    const auto ack =
        ws_request(*wb, "message.send",
                   {{"chat_id", chat}, {"type", "text"}, {"content", "over ws"}, {"thread_root_id", root["id"]}});
    ASSERT_TRUE(IsAck(ack)) << ack.dump();
    const auto sent = ack["data"]["message"];
    EXPECT_EQ(sent["thread_root_id"], root["id"]);
    for (auto* ws : {wa.get(), wb.get()}) {
        const auto before = frames_until(*ws, frame_of("message.updated", about_message(root["id"])));
        ASSERT_TRUE(before.has_value()) << "a member missed the root's update";
        bool reply_first = false;
        for (const auto& frame : *before)
            if (frame_of("message.new", about_message(sent["id"]))(frame)) {
                reply_first = true;
                EXPECT_EQ(frame["data"]["message"]["thread_root_id"], root["id"]);
            }
        EXPECT_TRUE(reply_first) << "the reply's message.new comes before the root's update";
    }
    const auto updated = get_message(port(), a, root["id"]);
    EXPECT_EQ(updated["thread"]["reply_count"], 1);
    EXPECT_EQ(updated["thread"]["participant_ids"], json::array({b.id}));
    EXPECT_TRUE(NoFrameBefore(*wo, mentioning(chat), direct_message_marker(port(), a, outsider)))
        << "a non-member hears nothing of the thread";

    // Deleting the reply: message.deleted, then the root without a summary.
    ASSERT_TRUE(IsAck(ws_request(*wb, "message.delete", {{"message_id", sent["id"]}})));
    for (auto* ws : {wa.get(), wb.get()}) {
        const auto before = frames_until(*ws, frame_of("message.updated", about_message(root["id"])));
        ASSERT_TRUE(before.has_value());
        bool deleted_first = false;
        for (const auto& frame : *before)
            deleted_first |= frame_of("message.deleted", about_message(sent["id"]))(frame);
        EXPECT_TRUE(deleted_first) << "the reply's message.deleted comes before the root's update";
    }
    EXPECT_TRUE(get_message(port(), b, root["id"])["thread"].is_null());

    // A plain message sends no root update.
    const auto plain = send_text(port(), a, chat, "plain");
    EXPECT_TRUE(NoFrameBefore(*wb, frame_of("message.updated"), frame_of("message.new", about_message(plain["id"]))));
}

// Replies and a plain message written together (one WebSocket's frames, shared by one commit):
// each member sees every change in version order, with no version skipped between them, so a
// client that syncs from the version up to which it saw everything misses nothing. Before, the
// root's update went out with its reply, ahead of the plain message's lower version, and each
// reply took the root a version of its own that was never sent.
TEST_F(ThreadsTest, RepliesAndMessagesWrittenTogetherReachMembersInVersionOrderWithoutGaps) {
    auto a = register_user(port(), "tv");
    auto c = register_user(port(), "tv");
    const std::string chat = create_group(port(), a, {c.id})["id"];
    const auto root = send_text(port(), a, chat, "root");
    auto wa = ws_connect(port(), a.token);
    auto wc = ws_connect(port(), c.token);
    for (int round = 0; round < 5; ++round) {
        const auto send = [&](const std::string& content, bool in_thread) {
            json data{{"chat_id", chat}, {"type", "text"}, {"content", content}};
            if (in_thread) data["thread_root_id"] = root["id"];
            wa->send_json({{"type", "message.send"}, {"id", wa->next_request_id()}, {"data", data}});
        };
        send("reply one " + std::to_string(round), true);
        send("reply two " + std::to_string(round), true);
        send("plain " + std::to_string(round), false);
        const int replies = 2 * (round + 1);
        const auto plain = "plain " + std::to_string(round);
        std::vector<std::int64_t> versions;
        bool root_counted = false, plain_seen = false;
        while (!root_counted || !plain_seen) {
            const auto frame = wc->receive();
            ASSERT_TRUE(frame) << "round " << round << ": the root never counted " << replies
                               << " replies, or the plain message never came";
            if ((*frame)["type"] != "message.new" && (*frame)["type"] != "message.updated") continue;
            const auto& message = (*frame)["data"]["message"];
            versions.push_back(message["version"]);
            root_counted |= message["id"] == root["id"] && message["thread"]["reply_count"] == replies;
            plain_seen |= message["content"] == plain;
        }
        for (std::size_t k = 1; k < versions.size(); ++k)
            EXPECT_EQ(versions[k], versions[k - 1] + 1)
                << "round " << round << ": versions as received " << json(versions).dump();
    }
}

// docs/api.md, Threads: a thread reply's reply_to_id is "a quote within the thread": its root
// or another reply to it; a reply in another thread, or another main-timeline message, is 400.
TEST_F(ThreadsTest, AThreadReplyQuotesOnlyWithinItsThread) {
    auto a = register_user(port(), "tq");
    auto b = register_user(port(), "tq");
    std::string id = create_group(port(), a, {b.id})["id"];
    auto root_a = send_text(port(), a, id, "thread a");
    auto root_b = send_text(port(), a, id, "thread b");
    auto in_a = reply(port(), b, id, root_a, "reply in a");
    auto in_b = reply(port(), b, id, root_b, "reply in b");
    auto quoting = [&](const json& root, const json& quoted) {
        return send_message(
            port(), a, id,
            {{"type", "text"}, {"content", "quote"}, {"thread_root_id", root["id"]}, {"reply_to_id", quoted["id"]}});
    };
    EXPECT_TRUE(IsJson(quoting(root_b, root_b), 201)) << "its root";
    EXPECT_TRUE(IsJson(quoting(root_b, in_b), 201)) << "a reply in its thread";
    auto across = quoting(root_b, in_a);
    EXPECT_TRUE(IsError(across, 400, "bad_request")) << across.body;
    EXPECT_EQ(across.json()["error"]["details"]["field"], "reply_to_id");
    auto outside = quoting(root_b, root_a);
    EXPECT_TRUE(IsError(outside, 400, "bad_request")) << outside.body;
    EXPECT_EQ(outside.json()["error"]["details"]["field"], "reply_to_id");
}

}  // namespace
}  // namespace confab::test
