// Mentions: `mention` and `mention_all` entities, resolved against the chat's members when a
// message is written; mention.new to exactly the mentioned members, their unread mention
// count per chat, GET /mentions, and the group setting that keeps mention_all to admins.

#include <gtest/gtest.h>

#include "support/chat_api.hpp"

namespace confab::test {
namespace {

using MentionsTest = ChatTest;

json mention_of(const TestUser& u, int offset, int length) {
    return {{"type", "mention"}, {"offset", offset}, {"length", length}, {"user_id", u.id}};
}
json mention_all(int offset, int length) { return {{"type", "mention_all"}, {"offset", offset}, {"length", length}}; }

json mentioning_text(std::uint16_t port, const TestUser& from, const std::string& chat, const json& entities) {
    return send_text(port, from, chat, "hey @someone, look", {{"entities", entities}});
}

std::int64_t unread_mentions(std::uint16_t port, const TestUser& u, const std::string& chat) {
    return get_chat(port, u, chat)["me"]["unread_mention_count"].get<std::int64_t>();
}

json mentions_page(std::uint16_t port, const TestUser& u, const std::string& query = "") {
    return expect_json(get(port, u.token, "/api/v1/mentions" + query), 200, "GET /mentions");
}

FramePred mention_frame(const std::string& message_id) {
    return frame_of("mention.new", [message_id](const json& f) { return f["data"]["message_id"] == message_id; });
}

TEST_F(MentionsTest, AMentionReachesOnlyTheMentionedMembersConnections) {
    auto owner = register_user(port(), "mn");
    auto named = register_user(port(), "mn");
    auto other = register_user(port(), "mn");
    auto outsider = register_user(port(), "mn");
    const std::string group = create_group(port(), owner, {named.id, other.id})["id"];
    auto w_owner = ws_connect(port(), owner.token);
    auto w_named = ws_connect(port(), named.token);
    auto w_named_too = ws_connect(port(), named.token);
    auto w_other = ws_connect(port(), other.token);
    auto w_outsider = ws_connect(port(), outsider.token);

    const auto sent = mentioning_text(port(), owner, group, json::array({mention_of(named, 4, 8)}));
    EXPECT_EQ(sent["entities"][0]["user_id"], named.id);
    for (auto* ws : {w_named.get(), w_named_too.get()}) {
        const auto event = wait_for(*ws, "mention.new");
        ASSERT_TRUE(event.has_value()) << "every connection of the mentioned member";
        EXPECT_EQ(
            (*event)["data"],
            (json{{"chat_id", group}, {"message_id", sent["id"]}, {"sender_id", owner.id}, {"seq", sent["seq"]}}));
    }
    const auto marker = send_text(port(), owner, group, "marker");
    const auto marked = frame_of("message.new", about_message(marker["id"]));
    EXPECT_TRUE(NoFrameBefore(*w_other, frame_of("mention.new"), marked)) << "another member is not told";
    EXPECT_TRUE(NoFrameBefore(*w_owner, frame_of("mention.new"), marked)) << "nor the sender";
    EXPECT_TRUE(NoFrameBefore(*w_outsider, mentioning(group), direct_message_marker(port(), owner, outsider)))
        << "nor anyone outside the chat";

    // Mentioning oneself tells nobody.
    const auto self = mentioning_text(port(), owner, group, json::array({mention_of(owner, 4, 8)}));
    const auto marker2 = send_text(port(), other, group, "marker 2");
    EXPECT_TRUE(
        NoFrameBefore(*w_owner, mention_frame(self["id"]), frame_of("message.new", about_message(marker2["id"]))));
    EXPECT_EQ(unread_mentions(port(), owner, group), 0);
}

TEST_F(MentionsTest, OnlyMembersCanBeMentioned) {
    auto owner = register_user(port(), "mm");
    auto member = register_user(port(), "mm");
    auto outsider = register_user(port(), "mm");
    const std::string group = create_group(port(), owner, {member.id})["id"];
    const auto before = all_messages(port(), owner, group).size();
    auto r = send_message(port(), owner, group,
                          {{"type", "text"},
                           {"content", "hey @someone, look"},
                           {"entities", json::array({mention_of(member, 0, 3), mention_of(outsider, 4, 8)})}});
    EXPECT_TRUE(IsError(r, 400, "bad_request"));
    EXPECT_EQ(r.json()["error"]["details"]["field"], "entities");
    EXPECT_EQ(all_messages(port(), owner, group).size(), before) << "nothing was stored";

    // A member who has left is no longer mentionable.
    ASSERT_EQ(del(port(), member.token, member_url(group, member.id)).status, 204);
    EXPECT_TRUE(IsError(send_message(port(), owner, group,
                                     {{"type", "text"},
                                      {"content", "hey @someone, look"},
                                      {"entities", json::array({mention_of(member, 4, 8)})}}),
                        400, "bad_request"));
}

TEST_F(MentionsTest, MentionAllTellsEveryMemberButTheSenderAndCanBeKeptToAdmins) {
    auto owner = register_user(port(), "ma");
    auto admin = register_user(port(), "ma");
    auto member = register_user(port(), "ma");
    const std::string group = create_group(port(), owner, {admin.id, member.id})["id"];
    set_role(port(), owner, group, admin.id, "admin");
    auto w_owner = ws_connect(port(), owner.token);
    auto w_admin = ws_connect(port(), admin.token);
    auto w_member = ws_connect(port(), member.token);

    const auto everyone = mentioning_text(port(), member, group, json::array({mention_all(4, 8)}));
    for (auto* ws : {w_owner.get(), w_admin.get()})
        EXPECT_TRUE(wait_for(*ws, "mention.new", [&](const json& f) {
                        return f["data"]["message_id"] == everyone["id"];
                    }).has_value());
    const auto marker = send_text(port(), owner, group, "marker");
    EXPECT_TRUE(NoFrameBefore(*w_member, frame_of("mention.new"), frame_of("message.new", about_message(marker["id"]))))
        << "the sender is not told of their own mention_all";
    EXPECT_EQ(unread_mentions(port(), admin, group), 1);

    // The setting: default off, admins only to change, then members are refused.
    EXPECT_EQ(get_chat(port(), owner, group)["settings"]["only_admins_can_mention_all"], false);
    EXPECT_TRUE(
        IsError(put(port(), member.token, chat_url(group), {{"settings", {{"only_admins_can_mention_all", true}}}}),
                403, "forbidden"));
    auto r = put(port(), admin.token, chat_url(group), {{"settings", {{"only_admins_can_mention_all", true}}}});
    ASSERT_TRUE(IsJson(r, 200));
    EXPECT_EQ(r.json()["settings"]["only_admins_can_mention_all"], true);
    EXPECT_TRUE(IsError(send_message(port(), member, group,
                                     {{"type", "text"},
                                      {"content", "hey @someone, look"},
                                      {"entities", json::array({mention_all(4, 8)})}}),
                        403, "forbidden"));
    EXPECT_EQ(mentioning_text(port(), member, group, json::array({mention_of(owner, 4, 8)}))["entities"].size(), 1u)
        << "members still mention by name";
    EXPECT_EQ(mentioning_text(port(), admin, group, json::array({mention_all(4, 8)}))["entities"].size(), 1u)
        << "admins still mention everyone";
    EXPECT_TRUE(IsError(put(port(), owner.token, chat_url(group), {{"settings", {{"only_admins_can_mention_all", 1}}}}),
                        400, "bad_request"));

    // Both members of a direct chat always may.
    const std::string direct = create_direct(port(), member, owner)["id"];
    mentioning_text(port(), member, direct, json::array({mention_all(4, 8)}));
    EXPECT_EQ(unread_mentions(port(), owner, direct), 1);
}

TEST_F(MentionsTest, TheUnreadMentionCountFollowsTheReadMark) {
    auto a = register_user(port(), "mu");
    auto b = register_user(port(), "mu");
    const std::string group = create_group(port(), a, {b.id})["id"];
    EXPECT_EQ(unread_mentions(port(), b, group), 0);
    const auto first = mentioning_text(port(), a, group, json::array({mention_of(b, 4, 8)}));
    send_text(port(), a, group, "no mention");
    const auto second = mentioning_text(port(), a, group, json::array({mention_all(4, 8)}));
    const auto hidden = mentioning_text(port(), a, group, json::array({mention_of(b, 4, 8)}));
    const auto deleted = mentioning_text(port(), a, group, json::array({mention_of(b, 4, 8)}));
    EXPECT_EQ(unread_mentions(port(), b, group), 4);
    EXPECT_EQ(unread_mentions(port(), a, group), 0) << "the sender has read their own messages";
    const auto listed = list_chats(port(), b);
    const auto entry = std::find_if(listed.begin(), listed.end(), [&](const json& c) { return c["id"] == group; });
    ASSERT_NE(entry, listed.end());
    EXPECT_EQ((*entry)["me"]["unread_mention_count"], 4) << "the chat list carries it too";

    ASSERT_EQ(post(port(), b.token, message_url(hidden["id"]) + "/hide").status, 204);
    ASSERT_EQ(del(port(), a.token, message_url(deleted["id"])).status, 204);
    EXPECT_EQ(unread_mentions(port(), b, group), 2) << "hidden and deleted messages mention nobody";

    ASSERT_EQ(post(port(), b.token, read_url(group), {{"seq", first["seq"]}}).status, 204);
    EXPECT_EQ(unread_mentions(port(), b, group), 1);
    ASSERT_EQ(post(port(), b.token, read_url(group), {{"seq", second["seq"]}}).status, 204);
    EXPECT_EQ(unread_mentions(port(), b, group), 0);
}

TEST_F(MentionsTest, AnEditMentionsAnewAndForgets) {
    auto a = register_user(port(), "me");
    auto b = register_user(port(), "me");
    auto c = register_user(port(), "me");
    const std::string group = create_group(port(), a, {b.id, c.id})["id"];
    const auto sent = mentioning_text(port(), a, group, json::array({mention_of(b, 4, 8)}));
    auto wb = ws_connect(port(), b.token);
    auto wc = ws_connect(port(), c.token);

    auto r =
        put(port(), a.token, message_url(sent["id"]),
            {{"content", "hey @someone, look"}, {"entities", json::array({mention_of(b, 4, 4), mention_of(c, 8, 4)})}});
    ASSERT_TRUE(IsJson(r, 200));
    const auto told = wait_for(*wc, "mention.new");
    ASSERT_TRUE(told.has_value()) << "a member newly mentioned is told";
    EXPECT_EQ((*told)["data"]["message_id"], sent["id"]);
    EXPECT_EQ((*told)["data"]["seq"], sent["seq"]);
    const auto marker = send_text(port(), a, group, "marker");
    EXPECT_TRUE(NoFrameBefore(*wb, frame_of("mention.new"), frame_of("message.new", about_message(marker["id"]))))
        << "b was mentioned already";
    EXPECT_EQ(mentions_page(port(), c)["messages"].size(), 1u);

    r = put(port(), a.token, message_url(sent["id"]), {{"content", "never mind"}});
    ASSERT_TRUE(IsJson(r, 200));
    EXPECT_EQ(mentions_page(port(), b)["messages"], json::array()) << "an edit without the mention forgets it";
    EXPECT_EQ(unread_mentions(port(), c, group), 0);
    EXPECT_TRUE(
        IsError(put(port(), a.token, message_url(sent["id"]),
                    {{"content", "hey @someone, look"},
                     {"entities",
                      json::array({mention_of(a, 4, 4),
                                   {{"type", "mention"}, {"offset", 9}, {"length", 4}, {"user_id", random_uuid()}}})}}),
                400, "bad_request"))
        << "an edit mentions members only";
}

TEST_F(MentionsTest, TheMentionListPagesNewestFirstFromTheCallersChatsOnly) {
    auto a = register_user(port(), "ml");
    auto b = register_user(port(), "ml");
    const std::string group = create_group(port(), a, {b.id})["id"];
    const std::string direct = create_direct(port(), a, b)["id"];
    const auto first = mentioning_text(port(), a, group, json::array({mention_of(b, 4, 8)}));
    const auto second = mentioning_text(port(), a, direct, json::array({mention_all(4, 8)}));
    send_text(port(), a, direct, "no mention");
    const auto third = mentioning_text(port(), a, direct, json::array({mention_of(b, 4, 8)}));
    const auto deleted = mentioning_text(port(), a, group, json::array({mention_of(b, 4, 8)}));
    ASSERT_EQ(del(port(), a.token, message_url(deleted["id"])).status, 204);

    auto page = mentions_page(port(), b, "?limit=2");
    ASSERT_EQ(page["messages"].size(), 2u);
    EXPECT_TRUE(IsMessageModel(page["messages"][0]));
    EXPECT_EQ(ids_of(page["messages"].get<std::vector<json>>()), (std::vector<std::string>{third["id"], second["id"]}));
    ASSERT_TRUE(page["next_cursor"].is_string());
    page = mentions_page(port(), b, "?limit=2&cursor=" + page["next_cursor"].get<std::string>());
    EXPECT_EQ(ids_of(page["messages"].get<std::vector<json>>()), (std::vector<std::string>{first["id"]}));
    EXPECT_TRUE(page["next_cursor"].is_null());
    EXPECT_EQ(mentions_page(port(), a)["messages"], json::array()) << "a mentioned nobody else's name but b's";

    EXPECT_TRUE(IsError(get(port(), b.token, "/api/v1/mentions?cursor=bogus"), 400, "bad_request"));
    EXPECT_TRUE(IsError(get(port(), b.token, "/api/v1/mentions?limit=0"), 400, "bad_request"));
    EXPECT_EQ(get(port(), "", "/api/v1/mentions").status, 401);

    // After leaving the group its mentions are not listed.
    ASSERT_EQ(del(port(), b.token, member_url(group, b.id)).status, 204);
    EXPECT_EQ(ids_of(mentions_page(port(), b)["messages"].get<std::vector<json>>()),
              (std::vector<std::string>{third["id"], second["id"]}));
}

}  // namespace
}  // namespace confab::test
