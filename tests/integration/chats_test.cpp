// POST/GET/PUT/DELETE /api/v1/chats: direct and group chats, the ChatModel, the chat list
// (activity order, keyset pagination), edit permissions and deletion.

#include <algorithm>
#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/chat_api.hpp"

namespace confab::test {
namespace {

using ChatsTest = ChatTest;

// ---------------------------------------------------------------------------------------------
// direct chats

TEST_F(ChatsTest, CreateDirectIs201ThenTheSameChatWith200FromEitherSide) {
    auto a = register_user(port(), "da");
    auto b = register_user(port(), "db");

    auto first = post(port(), a.token, chats_url(), {{"type", "direct"}, {"member_ids", {b.id}}});
    ASSERT_TRUE(IsJson(first, 201));
    auto chat = first.json();
    EXPECT_TRUE(IsChatModel(chat));
    EXPECT_EQ(chat["type"], "direct");
    EXPECT_EQ(chat["member_count"], 2);
    EXPECT_TRUE(chat["title"].is_null()) << "a direct chat has no title of its own: " << chat.dump();
    EXPECT_TRUE(chat["last_message"].is_null());
    EXPECT_EQ(chat["last_seq"], 0);
    EXPECT_EQ(chat["me"]["last_read_seq"], 0);
    EXPECT_EQ(chat["me"]["unread_count"], 0);
    EXPECT_EQ(chat["me"]["is_muted"], false);

    auto again = post(port(), a.token, chats_url(), {{"type", "direct"}, {"member_ids", {b.id}}});
    ASSERT_TRUE(IsJson(again, 200));
    EXPECT_TRUE(IsChatModel(again.json()));
    EXPECT_EQ(again.json()["id"], chat["id"]);

    auto reverse = post(port(), b.token, chats_url(), {{"type", "direct"}, {"member_ids", {a.id}}});
    ASSERT_TRUE(IsJson(reverse, 200));
    EXPECT_EQ(reverse.json()["id"], chat["id"]);

    // Exactly one chat in each list.
    auto la = list_chats(port(), a);
    auto lb = list_chats(port(), b);
    EXPECT_EQ(ids_of(la), std::vector<std::string>{chat["id"].get<std::string>()});
    EXPECT_EQ(ids_of(lb), std::vector<std::string>{chat["id"].get<std::string>()});

    // Both see the two members.
    auto members = list_members(port(), b, chat["id"]);
    std::set<std::string> ids;
    for (const auto& id : member_user_ids(members)) ids.insert(id);
    EXPECT_EQ(ids, (std::set<std::string>{a.id, b.id}));
}

TEST_F(ChatsTest, CreateDirectRejectsSelfEmptyUnknownAndSeveralUsers) {
    auto a = register_user(port(), "dr");
    auto b = register_user(port(), "dr");
    auto c = register_user(port(), "dr");
    EXPECT_TRUE(
        IsError(post(port(), a.token, chats_url(), {{"type", "direct"}, {"member_ids", {a.id}}}), 400, "bad_request"))
        << "direct chat with yourself";
    EXPECT_TRUE(IsError(post(port(), a.token, chats_url(), {{"type", "direct"}, {"member_ids", json::array()}}), 400,
                        "bad_request"))
        << "empty member_ids";
    EXPECT_TRUE(IsError(post(port(), a.token, chats_url(), {{"type", "direct"}}), 400, "bad_request"))
        << "missing member_ids";
    EXPECT_TRUE(IsError(post(port(), a.token, chats_url(), {{"type", "direct"}, {"member_ids", {random_uuid()}}}), 404,
                        "not_found"))
        << "unknown user";
    EXPECT_TRUE(IsError(post(port(), a.token, chats_url(), {{"type", "direct"}, {"member_ids", {b.id, c.id}}}), 400,
                        "bad_request"))
        << "two other users";
    EXPECT_TRUE(IsError(post(port(), a.token, chats_url(), {{"type", "direct"}, {"member_ids", {"not-a-uuid"}}}), 400,
                        "bad_request"))
        << "malformed id";
    EXPECT_TRUE(
        IsError(post(port(), a.token, chats_url(), {{"type", "direct"}, {"member_ids", b.id}}), 400, "bad_request"))
        << "member_ids not an array";
    EXPECT_TRUE(list_chats(port(), a).empty()) << "nothing was created";
    EXPECT_TRUE(list_chats(port(), b).empty()) << "nothing was created";
}

// ---------------------------------------------------------------------------------------------
// group chats and the ChatModel

TEST_F(ChatsTest, GroupChatModelHasTheDocumentedShapeAndDefaults) {
    auto owner = register_user(port(), "go");
    auto m1 = register_user(port(), "gm");
    auto m2 = register_user(port(), "gm");
    std::string title = "Team " + random_alnum(5);
    auto r =
        post(port(), owner.token, chats_url(), {{"type", "group"}, {"title", title}, {"member_ids", {m1.id, m2.id}}});
    ASSERT_TRUE(IsJson(r, 201));
    auto chat = r.json();
    EXPECT_TRUE(IsChatModel(chat));
    EXPECT_EQ(chat["type"], "group");
    EXPECT_EQ(chat["title"], title);
    EXPECT_TRUE(chat["avatar_url"].is_null());
    EXPECT_EQ(chat["settings"], json({{"only_admins_can_post", false},
                                      {"only_admins_can_edit_info", true},
                                      {"only_admins_can_add_members", false},
                                      {"only_admins_can_pin", true},
                                      {"only_admins_can_mention_all", false},
                                      {"slow_mode_seconds", 0}}));
    EXPECT_EQ(chat["metadata"], json::object());
    EXPECT_EQ(chat["member_count"], 3);
    EXPECT_EQ(chat["me"]["role"], "owner");
    EXPECT_EQ(chat["me"]["is_muted"], false);
    EXPECT_EQ(chat["me"]["unread_count"], 0);

    // A member sees the same chat with their own `me` block.
    auto seen = get_chat(port(), m1, chat["id"]);
    EXPECT_TRUE(IsChatModel(seen));
    EXPECT_EQ(seen["id"], chat["id"]);
    EXPECT_EQ(seen["title"], title);
    EXPECT_EQ(seen["me"]["role"], "member");
    EXPECT_EQ(seen["member_count"], 3);
    EXPECT_EQ(seen["created_at"], chat["created_at"]);

    auto members = list_members(port(), owner, chat["id"]);
    ASSERT_EQ(members.size(), 3u);
    for (const auto& m : members) EXPECT_TRUE(IsMemberModel(m));
    const json* om = find_member(members, owner.id);
    ASSERT_NE(om, nullptr);
    EXPECT_EQ((*om)["role"], "owner");
    ASSERT_NE(find_member(members, m2.id), nullptr);
    EXPECT_EQ((*find_member(members, m2.id))["role"], "member");
}

TEST_F(ChatsTest, GroupCreateTakesSettingsAvatarAndIgnoresCreatorAndDuplicates) {
    auto owner = register_user(port(), "gs");
    auto m1 = register_user(port(), "gs");
    auto r = post(port(), owner.token, chats_url(),
                  {{"type", "group"},
                   {"title", "Settings"},
                   {"avatar_url", "https://example.com/a.png"},
                   {"member_ids", {m1.id, m1.id, owner.id}},
                   {"settings", {{"only_admins_can_post", true}, {"only_admins_can_edit_info", false}}}});
    ASSERT_TRUE(IsJson(r, 201));
    auto chat = r.json();
    EXPECT_TRUE(IsChatModel(chat));
    EXPECT_EQ(chat["avatar_url"], "https://example.com/a.png");
    EXPECT_EQ(chat["member_count"], 2);
    EXPECT_EQ(chat["settings"], json({{"only_admins_can_post", true},
                                      {"only_admins_can_edit_info", false},
                                      {"only_admins_can_add_members", false},
                                      {"only_admins_can_pin", true},
                                      {"only_admins_can_mention_all", false},
                                      {"slow_mode_seconds", 0}}));
    EXPECT_EQ(list_members(port(), owner, chat["id"]).size(), 2u);

    // A group with no other members is allowed.
    auto alone =
        post(port(), owner.token, chats_url(), {{"type", "group"}, {"title", "Alone"}, {"member_ids", json::array()}});
    ASSERT_TRUE(IsJson(alone, 201));
    EXPECT_EQ(alone.json()["member_count"], 1);

    // 255 code points (multi-byte) is the longest title, stored exactly.
    std::string long_title = repeat("\xC3\xA9", 255);
    auto lt = post(port(), owner.token, chats_url(),
                   {{"type", "group"}, {"title", long_title}, {"member_ids", json::array()}});
    ASSERT_TRUE(IsJson(lt, 201));
    EXPECT_EQ(lt.json()["title"], long_title);
}

TEST_F(ChatsTest, GroupCreateRejectsBadInputAndCreatesNothing) {
    auto owner = register_user(port(), "gb");
    auto m1 = register_user(port(), "gb");
    const std::vector<std::pair<std::string, json>> cases = {
        {"missing title", {{"type", "group"}, {"member_ids", {m1.id}}}},
        {"empty title", {{"type", "group"}, {"title", ""}, {"member_ids", {m1.id}}}},
        {"null title", {{"type", "group"}, {"title", nullptr}, {"member_ids", {m1.id}}}},
        {"numeric title", {{"type", "group"}, {"title", 7}, {"member_ids", {m1.id}}}},
        {"256-character title", {{"type", "group"}, {"title", std::string(256, 't')}, {"member_ids", {m1.id}}}},
        {"member_ids not an array", {{"type", "group"}, {"title", "x"}, {"member_ids", "abc"}}},
        {"member id not a string", {{"type", "group"}, {"title", "x"}, {"member_ids", {42}}}},
        {"malformed member id", {{"type", "group"}, {"title", "x"}, {"member_ids", {"123-abc"}}}},
        {"unknown settings key",
         {{"type", "group"}, {"title", "x"}, {"member_ids", {m1.id}}, {"settings", {{"nope", true}}}}},
        {"settings value not bool",
         {{"type", "group"}, {"title", "x"}, {"member_ids", {m1.id}}, {"settings", {{"only_admins_can_post", "yes"}}}}},
        {"settings not an object", {{"type", "group"}, {"title", "x"}, {"member_ids", {m1.id}}, {"settings", 1}}},
        {"unknown type", {{"type", "channel"}, {"title", "x"}, {"member_ids", {m1.id}}}},
        {"missing type", {{"title", "x"}, {"member_ids", {m1.id}}}},
        {"type not a string", {{"type", 1}, {"title", "x"}, {"member_ids", {m1.id}}}},
        {"body is an array", json::array({1, 2})},
    };
    for (const auto& [what, body] : cases) {
        EXPECT_TRUE(IsError(post(port(), owner.token, chats_url(), body), 400, "bad_request")) << what;
    }
    auto bad_json = http(port(), "POST", chats_url(), std::string("{\"type\": \"group\", "), auth_header(owner.token));
    EXPECT_TRUE(IsError(bad_json, 400, "bad_request")) << "malformed JSON";

    EXPECT_TRUE(IsError(post(port(), owner.token, chats_url(),
                             {{"type", "group"}, {"title", "x"}, {"member_ids", {m1.id, random_uuid()}}}),
                        404, "not_found"))
        << "unknown member";

    EXPECT_TRUE(list_chats(port(), owner).empty()) << "nothing may have been created";
    EXPECT_TRUE(list_chats(port(), m1).empty()) << "nothing may have been created";
}

TEST_F(ChatsTest, InitialMembersGetChatCreated) {
    auto owner = register_user(port(), "cc");
    auto m1 = register_user(port(), "cc");
    auto ws = ws_connect(port(), m1.token);
    auto chat = create_group(port(), owner, {m1.id});
    auto ev = wait_for(*ws, "chat.created", about_chat(chat["id"]));
    ASSERT_TRUE(ev.has_value()) << "member did not get chat.created";
    EXPECT_TRUE(IsChatModel((*ev)["data"]["chat"]));
    EXPECT_EQ((*ev)["data"]["chat"]["me"]["role"], "member") << "the event carries the recipient's own view";
}

// ---------------------------------------------------------------------------------------------
// list

TEST_F(ChatsTest, ListIsOrderedByLatestActivityNewestFirst) {
    auto u = register_user(port(), "lo");
    auto other = register_user(port(), "lo");
    auto g1 = create_group(port(), u, {other.id});
    auto g2 = create_group(port(), u, {other.id});
    auto d3 = create_direct(port(), u, other);
    std::string id1 = g1["id"], id2 = g2["id"], id3 = d3["id"];

    EXPECT_EQ(ids_of(list_chats(port(), u)), (std::vector<std::string>{id3, id2, id1}));

    auto m = send_text(port(), other, id1, "wake up");
    auto list = list_chats(port(), u);
    EXPECT_EQ(ids_of(list), (std::vector<std::string>{id1, id3, id2}));
    ASSERT_FALSE(list.empty());
    EXPECT_TRUE(IsChatModel(list[0]));
    EXPECT_EQ(list[0]["last_message"]["id"], m["id"]);
    EXPECT_EQ(list[0]["last_seq"], m["seq"]);
    EXPECT_EQ(list[0]["me"]["unread_count"], 1);

    send_text(port(), u, id2, "me too");
    EXPECT_EQ(ids_of(list_chats(port(), u)), (std::vector<std::string>{id2, id1, id3}));
    EXPECT_EQ(ids_of(list_chats(port(), other)), (std::vector<std::string>{id2, id1, id3}));
}

TEST_F(ChatsTest, ListKeysetPaginationHasNoOverlapNoGaps) {
    auto u = register_user(port(), "lp");
    std::vector<std::string> created;
    for (int i = 0; i < 7; ++i) created.push_back(create_group(port(), u)["id"]);
    std::vector<std::string> expected(created.rbegin(), created.rend());

    std::vector<std::string> seen;
    std::vector<std::size_t> sizes;
    std::string target = chats_url() + "?limit=3";
    for (int page = 0; page < 10; ++page) {
        auto r = get(port(), u.token, target);
        ASSERT_TRUE(IsJson(r, 200)) << target;
        auto j = r.json();
        ASSERT_TRUE(j.contains("chats") && j["chats"].is_array()) << r.body;
        ASSERT_TRUE(j.contains("next_cursor")) << r.body;
        sizes.push_back(j["chats"].size());
        for (const auto& c : j["chats"]) {
            EXPECT_TRUE(IsChatModel(c));
            seen.push_back(c.value("id", "?"));
        }
        if (j["next_cursor"].is_null()) break;
        ASSERT_TRUE(j["next_cursor"].is_string()) << r.body;
        target = chats_url() + "?limit=3&cursor=" + url_encode(j["next_cursor"].get<std::string>());
    }
    EXPECT_EQ(seen, expected);
    EXPECT_EQ(sizes, (std::vector<std::size_t>{3, 3, 1}));

    // Exactly one page when everything fits; the default limit (50) fits 7.
    auto all = get(port(), u.token, chats_url());
    ASSERT_TRUE(IsJson(all, 200));
    EXPECT_EQ(all.json()["chats"].size(), 7u);
    EXPECT_TRUE(all.json()["next_cursor"].is_null());
    auto exact = get(port(), u.token, chats_url() + "?limit=7");
    ASSERT_TRUE(IsJson(exact, 200));
    EXPECT_EQ(exact.json()["chats"].size(), 7u);
    EXPECT_TRUE(exact.json()["next_cursor"].is_null()) << "no next page when nothing follows: " << exact.body;
}

TEST_F(ChatsTest, ListRejectsBadLimitAndCursor) {
    auto u = register_user(port(), "lb");
    for (const std::string limit : {"0", "201", "-1", "abc", "1.5"})
        EXPECT_TRUE(IsError(get(port(), u.token, chats_url() + "?limit=" + limit), 400, "bad_request")) << limit;
    for (const std::string cursor : {"garbage", "%00%01", "%FF", "bm90IGEgbnVtYmVy", "!!!"})
        EXPECT_TRUE(IsError(get(port(), u.token, chats_url() + "?cursor=" + cursor), 400, "bad_request")) << cursor;
    EXPECT_TRUE(IsJson(get(port(), u.token, chats_url() + "?limit=200"), 200));
    EXPECT_TRUE(IsError(http(port(), "GET", chats_url()), 401, "unauthorized"));
}

// ---------------------------------------------------------------------------------------------
// PUT /chats/{id}

TEST_F(ChatsTest, OwnerRenamesGroupEmitsChatUpdatedAndWritesSystemMessage) {
    auto owner = register_user(port(), "pr");
    auto m = register_user(port(), "pr");
    auto chat = create_group(port(), owner, {m.id});
    std::string id = chat["id"];
    auto ws = ws_connect(port(), m.token);

    std::string title = "Renamed \xF0\x9F\x8E\x89 " + random_alnum(4);
    auto r = put(port(), owner.token, chat_url(id), {{"title", title}});
    ASSERT_TRUE(IsJson(r, 200));
    auto updated = r.json();
    EXPECT_TRUE(IsChatModel(updated));
    EXPECT_EQ(updated["title"], title);
    EXPECT_EQ(updated["settings"], chat["settings"]);

    auto ev = wait_for(*ws, "chat.updated", about_chat(id));
    ASSERT_TRUE(ev.has_value()) << "member got no chat.updated";
    EXPECT_TRUE(IsChatModel((*ev)["data"]["chat"]));
    EXPECT_EQ((*ev)["data"]["chat"]["title"], title);

    EXPECT_EQ(get_chat(port(), m, id)["title"], title);

    auto sys = system_messages(port(), m, id);
    ASSERT_FALSE(sys.empty()) << "no system message for the title change";
    const auto& last = sys.back();
    EXPECT_TRUE(IsMessageModel(last));
    EXPECT_EQ(last["metadata"]["event"], "chat.title_changed") << last.dump();
    EXPECT_EQ(last["sender_id"], owner.id);
    EXPECT_TRUE(last["content"].is_string() && !last["content"].get<std::string>().empty()) << last.dump();
}

// A PUT that asks for what the chat already has changes nothing: 200 with the chat as it is,
// and no chat.updated (a channel's would go to every subscriber), no new updated_at.
TEST_F(ChatsTest, APutOfWhatTheChatAlreadyHasTellsNobody) {
    auto owner = register_user(port(), "pn");
    auto m = register_user(port(), "pn");
    auto chat = create_group(port(), owner, {m.id});
    std::string id = chat["id"];
    auto ws = ws_connect(port(), m.token);
    const auto as_it_is = get_chat(port(), owner, id);
    const auto notes = system_messages(port(), m, id).size();
    for (const auto& body :
         {json::object(), json{{"title", chat["title"]}}, json{{"handle", nullptr}, {"is_public", false}},
          json{{"settings", chat["settings"]}}, json{{"avatar_url", nullptr}}}) {
        const auto r = put(port(), owner.token, chat_url(id), body);
        ASSERT_TRUE(IsJson(r, 200)) << body.dump() << ": " << r.body;
        EXPECT_EQ(r.json()["updated_at"], as_it_is["updated_at"]) << body.dump();
        EXPECT_EQ(r.json()["version"], as_it_is["version"]) << body.dump();
    }
    EXPECT_TRUE(NoFrameBefore(*ws, frame_of("chat.updated"), direct_message_marker(port(), owner, m)));
    EXPECT_EQ(system_messages(port(), m, id).size(), notes) << "no system message either";
    EXPECT_EQ(get_chat(port(), m, id)["updated_at"], as_it_is["updated_at"]);
}

TEST_F(ChatsTest, PlainMemberCannotEditInfoUnlessSettingAllows) {
    auto owner = register_user(port(), "pm");
    auto m = register_user(port(), "pm");
    auto chat = create_group(port(), owner, {m.id}, {{"title", "Original"}});
    std::string id = chat["id"];

    EXPECT_TRUE(IsError(put(port(), m.token, chat_url(id), {{"title", "Hijacked"}}), 403, "forbidden"));
    EXPECT_TRUE(IsError(put(port(), m.token, chat_url(id), {{"settings", {{"only_admins_can_edit_info", false}}}}), 403,
                        "forbidden"));
    auto still = get_chat(port(), owner, id);
    EXPECT_EQ(still["title"], "Original");
    EXPECT_EQ(still["settings"]["only_admins_can_edit_info"], true);

    // Partial settings: only the given key changes.
    auto r = put(port(), owner.token, chat_url(id), {{"settings", {{"only_admins_can_edit_info", false}}}});
    ASSERT_TRUE(IsJson(r, 200));
    EXPECT_EQ(r.json()["settings"], json({{"only_admins_can_post", false},
                                          {"only_admins_can_edit_info", false},
                                          {"only_admins_can_add_members", false},
                                          {"only_admins_can_pin", true},
                                          {"only_admins_can_mention_all", false},
                                          {"slow_mode_seconds", 0}}));
    EXPECT_EQ(r.json()["title"], "Original");

    auto r2 = put(port(), m.token, chat_url(id), {{"title", "By member"}});
    ASSERT_TRUE(IsJson(r2, 200)) << "anyone edits info when only_admins_can_edit_info is false";
    EXPECT_EQ(get_chat(port(), owner, id)["title"], "By member");

    // An admin can edit even when the setting is back on.
    ASSERT_TRUE(
        IsJson(put(port(), owner.token, chat_url(id), {{"settings", {{"only_admins_can_edit_info", true}}}}), 200));
    set_role(port(), owner, id, m.id, "admin");
    EXPECT_TRUE(IsJson(put(port(), m.token, chat_url(id), {{"title", "By admin"}}), 200));
    EXPECT_EQ(get_chat(port(), owner, id)["title"], "By admin");
}

TEST_F(ChatsTest, PutRejectsUnknownFieldsAndBadValuesAndStoresNothing) {
    auto owner = register_user(port(), "pu");
    auto chat = create_group(port(), owner, {}, {{"title", "Keep"}, {"avatar_url", "https://e.x/1.png"}});
    std::string id = chat["id"];
    auto before = get_chat(port(), owner, id);

    const std::vector<std::pair<std::string, json>> cases = {
        {"unknown field with a valid one", {{"title", "Changed"}, {"bogus", 1}}},
        {"type", {{"type", "direct"}}},
        {"member_count", {{"member_count", 10}}},
        {"id", {{"id", random_uuid()}}},
        {"version", {{"title", "Changed"}, {"version", 99}}},
        {"null title", {{"title", nullptr}}},
        {"empty title", {{"title", ""}}},
        {"numeric title", {{"title", 5}}},
        {"256-character title", {{"title", std::string(256, 'x')}}},
        {"unknown settings key", {{"settings", {{"only_admins_can_fly", true}}}}},
        {"settings value not bool", {{"settings", {{"only_admins_can_post", 1}}}}},
        {"settings not an object", {{"settings", true}}},
        {"metadata not an object", {{"metadata", json::array({1})}}},
        {"avatar_url not a string", {{"avatar_url", 12}}},
        {"javascript: avatar_url", {{"avatar_url", "javascript:alert(1)"}}},
        {"data: avatar_url", {{"avatar_url", "data:text/html,<script>alert(1)</script>"}}},
        {"protocol-relative avatar_url", {{"avatar_url", "//tracker.example/p.png"}}},
        {"2049-character avatar_url", {{"avatar_url", "https://e.x/" + std::string(2037, 'p')}}},
        {"body an array", json::array()},
    };
    for (const auto& [what, body] : cases)
        EXPECT_TRUE(IsError(put(port(), owner.token, chat_url(id), body), 400, "bad_request")) << what;
    auto bad = http(port(), "PUT", chat_url(id), std::string("{\"title\":"), auth_header(owner.token));
    EXPECT_TRUE(IsError(bad, 400, "bad_request")) << "malformed JSON";

    auto after = get_chat(port(), owner, id);
    EXPECT_EQ(after["title"], "Keep");
    EXPECT_EQ(after["avatar_url"], before["avatar_url"]);
    EXPECT_EQ(after["settings"], before["settings"]);
    EXPECT_EQ(after["metadata"], before["metadata"]);
    EXPECT_EQ(after["version"], before["version"]);
    EXPECT_EQ(after["last_seq"], before["last_seq"]) << "no system message for rejected edits";
}

TEST_F(ChatsTest, PutReplacesMetadataWholeAndSetsAvatar) {
    auto owner = register_user(port(), "pd");
    std::string id = create_group(port(), owner)["id"];
    auto r1 = put(port(), owner.token, chat_url(id), {{"metadata", {{"a", 1}, {"nested", {{"x", true}}}}}});
    ASSERT_TRUE(IsJson(r1, 200));
    EXPECT_EQ(r1.json()["metadata"], json({{"a", 1}, {"nested", {{"x", true}}}}));
    auto r2 =
        put(port(), owner.token, chat_url(id), {{"metadata", {{"b", "two"}}}, {"avatar_url", "https://e.x/p.png"}});
    ASSERT_TRUE(IsJson(r2, 200));
    EXPECT_EQ(r2.json()["metadata"], json({{"b", "two"}}));
    EXPECT_EQ(r2.json()["avatar_url"], "https://e.x/p.png");
    EXPECT_EQ(put(port(), owner.token, chat_url(id), {{"avatar_url", "HTTP://E.X/UPPER.PNG"}}).json()["avatar_url"],
              "HTTP://E.X/UPPER.PNG")
        << "a scheme in any case";
    EXPECT_EQ(put(port(), owner.token, chat_url(id), {{"avatar_url", "/api/v1/messages/m/media"}}).json()["avatar_url"],
              "/api/v1/messages/m/media")
        << "a path on this server";
    ASSERT_EQ(put(port(), owner.token, chat_url(id), {{"avatar_url", "https://e.x/p.png"}}).status, 200);
    auto c = get_chat(port(), owner, id);
    EXPECT_EQ(c["metadata"], json({{"b", "two"}}));
    EXPECT_EQ(c["avatar_url"], "https://e.x/p.png");
    ASSERT_TRUE(IsJson(put(port(), owner.token, chat_url(id), {{"settings", {{"only_admins_can_post", true}}}}), 200));
    std::set<std::string> events;
    for (const auto& m : system_messages(port(), owner, id)) events.insert(m["metadata"].value("event", ""));
    EXPECT_TRUE(events.count("chat.avatar_changed")) << "photo changes write a system message";
    EXPECT_TRUE(events.count("chat.settings_changed")) << "settings changes write a system message";
}

TEST_F(ChatsTest, PutOnDirectChatIs403) {
    auto a = register_user(port(), "pq");
    auto b = register_user(port(), "pq");
    std::string id = create_direct(port(), a, b)["id"];
    EXPECT_TRUE(IsError(put(port(), a.token, chat_url(id), {{"title", "Ours"}}), 403, "forbidden"));
    EXPECT_TRUE(IsError(put(port(), b.token, chat_url(id), {{"metadata", {{"k", 1}}}}), 403, "forbidden"));
    auto c = get_chat(port(), a, id);
    EXPECT_TRUE(c["title"].is_null());
    EXPECT_EQ(c["metadata"], json::object());
}

// ---------------------------------------------------------------------------------------------
// DELETE /chats/{id}

TEST_F(ChatsTest, OwnerDeletesGroupForEveryoneOthersGet403) {
    auto owner = register_user(port(), "xo");
    auto admin = register_user(port(), "xa");
    auto m = register_user(port(), "xm");
    auto chat = create_group(port(), owner, {admin.id, m.id});
    std::string id = chat["id"];
    set_role(port(), owner, id, admin.id, "admin");
    auto ws_admin = ws_connect(port(), admin.token);
    auto ws_m = ws_connect(port(), m.token);
    auto ws_owner = ws_connect(port(), owner.token);

    EXPECT_TRUE(IsError(del(port(), admin.token, chat_url(id)), 403, "forbidden")) << "admin is not the owner";
    EXPECT_TRUE(IsError(del(port(), m.token, chat_url(id)), 403, "forbidden"));
    EXPECT_EQ(get_chat(port(), m, id)["id"], id) << "still there";

    auto r = del(port(), owner.token, chat_url(id));
    EXPECT_EQ(r.status, 204) << r.describe();
    for (auto* ws : {ws_admin.get(), ws_m.get(), ws_owner.get()}) {
        auto ev = wait_for(*ws, "chat.deleted", about_chat(id));
        ASSERT_TRUE(ev.has_value()) << "a member got no chat.deleted";
        EXPECT_EQ((*ev)["data"], json({{"chat_id", id}}));
    }
    for (const auto* u : {&owner, &admin, &m}) {
        EXPECT_TRUE(IsError(get(port(), u->token, chat_url(id)), 404, "not_found"));
        EXPECT_TRUE(list_chats(port(), *u).empty());
        EXPECT_TRUE(
            IsError(send_message(port(), *u, id, {{"type", "text"}, {"content", "anyone?"}}), 404, "not_found"));
    }
    auto late = ws_request(*ws_m, "message.send", {{"chat_id", id}, {"type", "text"}, {"content", "anyone?"}});
    EXPECT_TRUE(IsWsError(late, "not_found", late.value("id", ""))) << late.dump();
}

TEST_F(ChatsTest, DeletingDirectChatHidesItOnlyForTheCaller) {
    auto a = register_user(port(), "xd");
    auto b = register_user(port(), "xd");
    std::string id = create_direct(port(), a, b)["id"];
    send_text(port(), b, id, "hello");
    auto ws_a = ws_connect(port(), a.token);
    auto ws_b = ws_connect(port(), b.token);

    auto r = del(port(), a.token, chat_url(id));
    EXPECT_EQ(r.status, 204) << r.describe();
    auto ev = wait_for(*ws_a, "chat.deleted", about_chat(id));
    ASSERT_TRUE(ev.has_value()) << "the caller's own connection gets chat.deleted";
    EXPECT_EQ((*ev)["data"], json({{"chat_id", id}}));

    EXPECT_TRUE(list_chats(port(), a).empty());
    EXPECT_EQ(ids_of(list_chats(port(), b)), std::vector<std::string>{id});
    auto cb = get_chat(port(), b, id);
    EXPECT_EQ(cb["member_count"], 2);
    EXPECT_EQ(all_messages(port(), b, id).size(), 1u);

    // A new message brings it back to the caller's list.
    auto again = send_text(port(), b, id, "are you there?");
    EXPECT_EQ(ids_of(list_chats(port(), a)), std::vector<std::string>{id});
    // The message reaches b's own connection after a chat.deleted would have.
    EXPECT_TRUE(NoFrameBefore(*ws_b, frame_of("chat.deleted"), frame_of("message.new", about_message(again["id"]))))
        << "the other user keeps the chat";
}

// docs/api.md, Chats: the next message in a direct chat its member deleted from their list
// shows it again, with chat.created (the chat as their list shows it) before its message.new;
// the sender's own connections too, when it was the sender who had deleted it.
TEST_F(ChatsTest, ADeletedDirectChatComesBackWithChatCreatedBeforeTheMessage) {
    auto a = register_user(port(), "xc");
    auto b = register_user(port(), "xc");
    std::string id = create_direct(port(), a, b)["id"];
    send_text(port(), a, id, "hello");
    auto ws_a = ws_connect(port(), a.token);
    ASSERT_EQ(del(port(), a.token, chat_url(id)).status, 204);
    ASSERT_TRUE(wait_for(*ws_a, "chat.deleted", about_chat(id)).has_value());

    auto again = send_text(port(), b, id, "are you there?");
    auto before = frames_until(*ws_a, frame_of("message.new", about_message(again["id"])));
    ASSERT_TRUE(before.has_value()) << "the message reaches the one who deleted the chat";
    const auto created = std::find_if(before->begin(), before->end(), frame_of("chat.created", about_chat(id)));
    ASSERT_NE(created, before->end()) << "chat.created comes before the message.new";
    EXPECT_TRUE(IsChatModel((*created)["data"]["chat"])) << created->dump();
    EXPECT_EQ((*created)["data"]["chat"]["last_message"]["id"], again["id"]);
    EXPECT_EQ(ids_of(list_chats(port(), a)), std::vector<std::string>{id});

    // The sender's own deletion: their message shows it to them again the same way.
    ASSERT_EQ(del(port(), a.token, chat_url(id)).status, 204);
    ASSERT_TRUE(wait_for(*ws_a, "chat.deleted", about_chat(id)).has_value());
    auto own = send_text(port(), a, id, "back");
    auto before_own = frames_until(*ws_a, frame_of("message.new", about_message(own["id"])));
    ASSERT_TRUE(before_own.has_value());
    EXPECT_NE(std::find_if(before_own->begin(), before_own->end(), frame_of("chat.created", about_chat(id))),
              before_own->end());
    // A message in a chat nobody deleted brings no chat.created.
    auto plain = send_text(port(), b, id, "plain");
    auto before_plain = frames_until(*ws_a, frame_of("message.new", about_message(plain["id"])));
    ASSERT_TRUE(before_plain.has_value());
    EXPECT_EQ(std::find_if(before_plain->begin(), before_plain->end(), frame_of("chat.created")), before_plain->end());
}

TEST_F(ChatsTest, RecreatingADeletedDirectChatReturnsItWith200) {
    auto a = register_user(port(), "xr");
    auto b = register_user(port(), "xr");
    std::string id = create_direct(port(), a, b)["id"];
    send_text(port(), a, id, "first");
    ASSERT_EQ(del(port(), a.token, chat_url(id)).status, 204);
    EXPECT_TRUE(list_chats(port(), a).empty());
    auto other_device = ws_connect(port(), a.token);
    auto again = post(port(), a.token, chats_url(), {{"type", "direct"}, {"member_ids", {b.id}}});
    ASSERT_TRUE(IsJson(again, 200));
    EXPECT_EQ(again.json()["id"], id);
    EXPECT_EQ(ids_of(list_chats(port(), a)), std::vector<std::string>{id});
    EXPECT_EQ(all_messages(port(), a, id).size(), 1u) << "history is kept";
    const auto shown = wait_for(*other_device, "chat.created", about_chat(id));
    ASSERT_TRUE(shown) << "the caller's other devices list it again too";
    EXPECT_TRUE(IsChatModel((*shown)["data"]["chat"]));

    // Opening a chat already listed tells nobody anything.
    auto listed = post(port(), a.token, chats_url(), {{"type", "direct"}, {"member_ids", {b.id}}});
    ASSERT_TRUE(IsJson(listed, 200));
    const auto marker = send_text(port(), b, id, "marker");
    EXPECT_TRUE(
        NoFrameBefore(*other_device, frame_of("chat.created"), frame_of("message.new", about_message(marker["id"]))));
}

TEST_F(ChatsTest, DirectChatCreationNotifiesTheOtherUser) {
    auto a = register_user(port(), "dn");
    auto b = register_user(port(), "dn");
    auto ws_b = ws_connect(port(), b.token);
    auto chat = create_direct(port(), a, b);
    auto ev = wait_for(*ws_b, "chat.created", about_chat(chat["id"]));
    ASSERT_TRUE(ev.has_value()) << "the other member gets chat.created";
    EXPECT_TRUE(IsChatModel((*ev)["data"]["chat"]));
    EXPECT_EQ((*ev)["data"]["chat"]["type"], "direct");
    // And from then on the chat's events.
    auto m = send_text(port(), a, chat["id"], "hi b");
    auto msg = wait_for(*ws_b, "message.new", about_message(m["id"]));
    ASSERT_TRUE(msg.has_value());
}

TEST_F(ChatsTest, ListPaginationDoesNotRepeatAChatThatMovedUpMeanwhile) {
    auto u = register_user(port(), "lm");
    auto other = register_user(port(), "lm");
    std::vector<std::string> created;
    for (int i = 0; i < 6; ++i) created.push_back(create_group(port(), u, {other.id})["id"]);
    // Newest first: created[5], [4] | [3], [2] | [1], [0]
    auto p1 = get(port(), u.token, chats_url() + "?limit=2");
    ASSERT_TRUE(IsJson(p1, 200));
    std::vector<std::string> seen = ids_of(p1.json()["chats"].get<std::vector<json>>());
    EXPECT_EQ(seen, (std::vector<std::string>{created[5], created[4]}));
    // Activity moves a first-page chat and a last-page chat to the top.
    send_text(port(), other, created[4], "bump");
    send_text(port(), other, created[0], "bump");
    json cursor = p1.json()["next_cursor"];
    for (int page = 0; page < 10 && cursor.is_string(); ++page) {
        auto r = get(port(), u.token, chats_url() + "?limit=2&cursor=" + url_encode(cursor.get<std::string>()));
        ASSERT_TRUE(IsJson(r, 200));
        auto j = r.json();
        for (const auto& c : j["chats"]) seen.push_back(c.value("id", "?"));
        cursor = j["next_cursor"];
    }
    std::set<std::string> unique(seen.begin(), seen.end());
    std::string order;
    for (const auto& s : seen) {
        auto it = std::find(created.begin(), created.end(), s);
        order += (it == created.end() ? std::string("?") : std::to_string(it - created.begin())) + " ";
    }
    SCOPED_TRACE("pages returned chats (by creation index): " + order);
    EXPECT_EQ(unique.size(), seen.size()) << "a chat appeared twice while paging";
    for (int i = 1; i <= 5; ++i)
        EXPECT_TRUE(unique.count(created[i])) << "chat " << i << " was skipped although it did not move";
    EXPECT_EQ(ids_of(list_chats(port(), u)),
              (std::vector<std::string>{created[0], created[4], created[5], created[3], created[2], created[1]}));
}

TEST_F(ChatsTest, ConcurrentDirectCreationFromBothSidesMakesOneChat) {
    for (int round = 0; round < 3; ++round) {
        auto a = register_user(port(), "dc");
        auto b = register_user(port(), "dc");
        std::vector<HttpResponse> results(8);
        std::vector<std::thread> threads;
        for (std::size_t i = 0; i < results.size(); ++i)
            threads.emplace_back([&, i] {
                const auto& from = i % 2 ? a : b;
                const auto& to = i % 2 ? b : a;
                results[i] = guarded([&] {
                    return post(port(), from.token, chats_url(), {{"type", "direct"}, {"member_ids", {to.id}}});
                });
            });
        for (auto& t : threads) t.join();
        int created = 0;
        std::set<std::string> ids;
        for (const auto& r : results) {
            if (r.status == 201) ++created;
            if (r.status != 200 && r.status != 201) {
                ADD_FAILURE() << "round " << round << ": " << r.describe();
                continue;
            }
            ids.insert(r.json().value("id", "?"));
        }
        EXPECT_EQ(created, 1) << "round " << round << ": exactly one request creates the chat";
        EXPECT_EQ(ids.size(), 1u) << "round " << round << ": at most one direct chat per pair";
        EXPECT_EQ(list_chats(port(), a).size(), 1u) << "round " << round;
        EXPECT_EQ(list_chats(port(), b).size(), 1u) << "round " << round;
    }
}

TEST_F(ChatsTest, DeletingAGroupWhileMessagesFlowIsClean) {
    auto owner = register_user(port(), "xf");
    auto sender = register_user(port(), "xf");
    std::string id = create_group(port(), owner, {sender.id})["id"];
    auto ws_s = ws_connect(port(), sender.token);
    auto ws_o = ws_connect(port(), owner.token);
    std::atomic<int> sent{0};
    std::atomic<bool> stop{false};
    std::vector<json> replies;
    std::thread streamer([&] {
        for (int k = 0; k < 2000 && !stop; ++k) {
            replies.push_back(
                ws_request(*ws_s, "message.send", {{"chat_id", id}, {"type", "text"}, {"content", std::to_string(k)}}));
            ++sent;
            if (replies.back().value("type", "") != "ack") break;
        }
    });
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (sent < 20 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    auto r = del(port(), owner.token, chat_url(id));
    EXPECT_EQ(r.status, 204) << r.describe();
    stop = true;
    streamer.join();
    ASSERT_TRUE(server().running());
    ASSERT_FALSE(replies.empty());
    const auto& last = replies.back();
    if (last.value("type", "") != "ack")
        EXPECT_TRUE(IsWsError(last, "not_found", last.value("id", ""))) << "a send after the deletion: " << last.dump();
    // The sender sees chat.deleted after every message.new of the chat, and nothing after it.
    const auto frames = frames_until(*ws_s, direct_message_marker(port(), owner, sender), 10s);
    ASSERT_TRUE(frames.has_value()) << "the marker sent after the deletion did not arrive";
    bool deleted_seen = false;
    for (const auto& f : *frames) {
        if (!about_chat(id)(f)) continue;
        if (f["type"] == "chat.deleted") deleted_seen = true;
        else if (deleted_seen) ADD_FAILURE() << "event after chat.deleted: " << f.dump();
    }
    EXPECT_TRUE(deleted_seen);
    auto again = ws_request(*ws_s, "message.send", {{"chat_id", id}, {"type", "text"}, {"content", "late"}});
    EXPECT_TRUE(IsWsError(again, "not_found", again.value("id", ""))) << again.dump();
}

}  // namespace
}  // namespace confab::test
