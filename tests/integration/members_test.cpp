// /api/v1/chats/{id}/members: listing, adding, roles, muting, removing and leaving, the
// system messages they write and the member.* / chat.created events.

#include <algorithm>
#include <map>
#include <atomic>
#include <mutex>
#include <thread>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/chat_api.hpp"

namespace confab::test {
namespace {

using MembersTest = ChatTest;

std::string role_of(std::uint16_t port, const TestUser& viewer, const std::string& chat_id,
                    const std::string& user_id) {
    auto members = list_members(port, viewer, chat_id);
    const json* m = find_member(members, user_id);
    return m ? m->value("role", "?") : "<not a member>";
}

bool is_2xx(const HttpResponse& r) { return r.status == 200 || r.status == 204; }

// ---------------------------------------------------------------------------------------------
// list

TEST_F(MembersTest, ListIsInJoinOrderAndPaginates) {
    auto owner = register_user(port(), "ml");
    std::vector<TestUser> users;
    for (int i = 0; i < 4; ++i) users.push_back(register_user(port(), "ml"));
    std::string id = create_group(port(), owner)["id"];
    for (const auto& u : users) add_members(port(), owner, id, {u.id});

    std::vector<std::string> expected = {owner.id};
    for (const auto& u : users) expected.push_back(u.id);

    std::vector<std::string> seen;
    std::vector<std::size_t> sizes;
    std::string target = members_url(id) + "?limit=2";
    for (int page = 0; page < 10; ++page) {
        auto r = get(port(), users[2].token, target);
        ASSERT_TRUE(IsJson(r, 200)) << target;
        auto j = r.json();
        ASSERT_TRUE(j.contains("members") && j["members"].is_array() && j.contains("next_cursor")) << r.body;
        sizes.push_back(j["members"].size());
        for (const auto& m : j["members"]) {
            EXPECT_TRUE(IsMemberModel(m));
            EXPECT_EQ(m["chat_id"], id);
        }
        auto ids = member_user_ids(j["members"].get<std::vector<json>>());
        seen.insert(seen.end(), ids.begin(), ids.end());
        if (j["next_cursor"].is_null()) break;
        ASSERT_TRUE(j["next_cursor"].is_string()) << r.body;
        target = members_url(id) + "?limit=2&cursor=" + url_encode(j["next_cursor"].get<std::string>());
    }
    EXPECT_EQ(seen, expected);
    EXPECT_EQ(sizes, (std::vector<std::size_t>{2, 2, 1}));

    auto all = list_members(port(), owner, id);
    ASSERT_EQ(all.size(), 5u);
    EXPECT_EQ(all[0]["role"], "owner");
    EXPECT_EQ(all[0]["user"]["username"], owner.username);
    EXPECT_EQ(all[1]["role"], "member");
    EXPECT_EQ(all[1]["is_muted"], false);
    EXPECT_EQ(all[1]["last_read_seq"], 0);

    for (const std::string bad : {"?limit=0", "?limit=201", "?limit=x", "?cursor=garbage"})
        EXPECT_TRUE(IsError(get(port(), owner.token, members_url(id) + bad), 400, "bad_request")) << bad;
}

// ---------------------------------------------------------------------------------------------
// add

TEST_F(MembersTest, AddReturnsOnlyTheAddedAndSkipsExisting) {
    auto owner = register_user(port(), "ma");
    auto b = register_user(port(), "ma");
    auto c = register_user(port(), "ma");
    std::string id = create_group(port(), owner, {b.id})["id"];

    auto r = post(port(), owner.token, members_url(id), {{"user_ids", {b.id, c.id, c.id}}});
    ASSERT_TRUE(IsJson(r, 200));
    auto j = r.json();
    ASSERT_TRUE(j.contains("members") && j["members"].is_array()) << r.body;
    ASSERT_EQ(j["members"].size(), 1u) << "only c was added: " << r.body;
    EXPECT_TRUE(IsMemberModel(j["members"][0]));
    EXPECT_EQ(j["members"][0]["user"]["id"], c.id);
    EXPECT_EQ(j["members"][0]["role"], "member");
    EXPECT_EQ(j["members"][0]["chat_id"], id);

    auto again = post(port(), owner.token, members_url(id), {{"user_ids", {b.id, c.id}}});
    ASSERT_TRUE(IsJson(again, 200));
    EXPECT_EQ(again.json()["members"], json::array());

    EXPECT_EQ(get_chat(port(), c, id)["member_count"], 3);
    EXPECT_EQ(list_members(port(), owner, id).size(), 3u);
}

TEST_F(MembersTest, AddingAnUnknownUserIs404AndAddsNobody) {
    auto owner = register_user(port(), "mu");
    auto c = register_user(port(), "mu");
    std::string id = create_group(port(), owner)["id"];
    EXPECT_TRUE(
        IsError(post(port(), owner.token, members_url(id), {{"user_ids", {c.id, random_uuid()}}}), 404, "not_found"));
    EXPECT_EQ(list_members(port(), owner, id).size(), 1u);
    EXPECT_TRUE(IsError(get(port(), c.token, chat_url(id)), 404, "not_found"));
}

TEST_F(MembersTest, AddPermissionsFollowOnlyAdminsCanAddMembers) {
    auto owner = register_user(port(), "mp");
    auto m = register_user(port(), "mp");
    auto x = register_user(port(), "mp");
    auto y = register_user(port(), "mp");
    auto z = register_user(port(), "mp");
    std::string id = create_group(port(), owner, {m.id})["id"];

    // Default (false): any member may add.
    EXPECT_TRUE(IsJson(post(port(), m.token, members_url(id), {{"user_ids", {x.id}}}), 200));

    ASSERT_TRUE(
        IsJson(put(port(), owner.token, chat_url(id), {{"settings", {{"only_admins_can_add_members", true}}}}), 200));
    EXPECT_TRUE(IsError(post(port(), m.token, members_url(id), {{"user_ids", {y.id}}}), 403, "forbidden"));
    EXPECT_EQ(find_member(list_members(port(), owner, id), y.id), nullptr);

    set_role(port(), owner, id, m.id, "admin");
    EXPECT_TRUE(IsJson(post(port(), m.token, members_url(id), {{"user_ids", {y.id}}}), 200)) << "admins may add";
    EXPECT_TRUE(IsJson(post(port(), owner.token, members_url(id), {{"user_ids", {z.id}}}), 200)) << "the owner may add";
    EXPECT_EQ(list_members(port(), owner, id).size(), 5u);
}

TEST_F(MembersTest, DirectChatMembershipCannotChange) {
    auto a = register_user(port(), "md");
    auto b = register_user(port(), "md");
    auto c = register_user(port(), "md");
    std::string id = create_direct(port(), a, b)["id"];
    EXPECT_TRUE(IsError(post(port(), a.token, members_url(id), {{"user_ids", {c.id}}}), 403, "forbidden"));
    EXPECT_TRUE(IsError(del(port(), a.token, member_url(id, b.id)), 403, "forbidden"));
    EXPECT_TRUE(IsError(del(port(), a.token, member_url(id, a.id)), 403, "forbidden"));
    EXPECT_EQ(list_members(port(), a, id).size(), 2u);
}

TEST_F(MembersTest, AddRejectsBadBodies) {
    auto owner = register_user(port(), "mb");
    std::string id = create_group(port(), owner)["id"];
    for (const json& body : {json::object(), json({{"user_ids", "abc"}}), json({{"user_ids", {1}}}),
                             json({{"user_ids", {"not-a-uuid"}}}), json({{"user_ids", nullptr}}), json::array()})
        EXPECT_TRUE(IsError(post(port(), owner.token, members_url(id), body), 400, "bad_request")) << body.dump();
    EXPECT_EQ(list_members(port(), owner, id).size(), 1u);
}

// ---------------------------------------------------------------------------------------------
// PATCH role / is_muted

TEST_F(MembersTest, RoleChangesFollowTheRules) {
    auto owner = register_user(port(), "mr");
    auto admin = register_user(port(), "mr");
    auto admin2 = register_user(port(), "mr");
    auto m = register_user(port(), "mr");
    auto m2 = register_user(port(), "mr");
    std::string id = create_group(port(), owner, {admin.id, admin2.id, m.id, m2.id})["id"];

    auto r = patch(port(), owner.token, member_url(id, admin.id), {{"role", "admin"}});
    EXPECT_TRUE(is_2xx(r)) << r.describe();
    if (r.status == 200) {
        EXPECT_TRUE(IsMemberModel(r.json()));
        EXPECT_EQ(r.json()["role"], "admin");
    }
    set_role(port(), owner, id, admin2.id, "admin");
    EXPECT_EQ(role_of(port(), m, id, admin.id), "admin");

    // An admin promotes and demotes a plain member.
    EXPECT_TRUE(is_2xx(patch(port(), admin.token, member_url(id, m.id), {{"role", "admin"}})));
    EXPECT_EQ(role_of(port(), owner, id, m.id), "admin");
    EXPECT_TRUE(IsError(patch(port(), admin.token, member_url(id, m.id), {{"role", "member"}}), 403, "forbidden"))
        << "m is an admin now: another admin cannot change it";
    EXPECT_TRUE(is_2xx(patch(port(), owner.token, member_url(id, m.id), {{"role", "member"}})));
    EXPECT_EQ(role_of(port(), owner, id, m.id), "member");

    EXPECT_TRUE(IsError(patch(port(), admin.token, member_url(id, admin2.id), {{"role", "member"}}), 403, "forbidden"));
    EXPECT_TRUE(IsError(patch(port(), admin.token, member_url(id, owner.id), {{"role", "member"}}), 403, "forbidden"));
    EXPECT_TRUE(IsError(patch(port(), owner.token, member_url(id, owner.id), {{"role", "admin"}}), 403, "forbidden"))
        << "nobody can take the owner's role";
    EXPECT_TRUE(IsError(patch(port(), m.token, member_url(id, m2.id), {{"role", "admin"}}), 403, "forbidden"));
    EXPECT_TRUE(IsError(patch(port(), m.token, member_url(id, m.id), {{"role", "admin"}}), 403, "forbidden"))
        << "a member cannot promote themself";
    EXPECT_TRUE(IsError(patch(port(), admin.token, member_url(id, m2.id), {{"role", "owner"}}), 403, "forbidden"))
        << "only the owner transfers ownership";

    auto roles = list_members(port(), owner, id);
    EXPECT_EQ((*find_member(roles, owner.id))["role"], "owner");
    EXPECT_EQ((*find_member(roles, admin.id))["role"], "admin");
    EXPECT_EQ((*find_member(roles, admin2.id))["role"], "admin");
    EXPECT_EQ((*find_member(roles, m.id))["role"], "member");
    EXPECT_EQ((*find_member(roles, m2.id))["role"], "member");

    // Role changes write system messages.
    auto sys = system_messages(port(), owner, id);
    int role_changes = 0;
    for (const auto& s : sys)
        if (s["metadata"].value("event", "") == "member.role_changed") ++role_changes;
    EXPECT_GE(role_changes, 4) << "one member.role_changed system message per change";
}

TEST_F(MembersTest, PatchRejectsBadBodies) {
    auto owner = register_user(port(), "mx");
    auto m = register_user(port(), "mx");
    std::string id = create_group(port(), owner, {m.id})["id"];
    for (const json& body : {json::object(), json({{"role", "superadmin"}}), json({{"role", 1}}),
                             json({{"is_muted", "yes"}}), json({{"role", nullptr}}), json::array()})
        EXPECT_TRUE(IsError(patch(port(), owner.token, member_url(id, m.id), body), 400, "bad_request")) << body.dump();
    EXPECT_TRUE(
        IsError(patch(port(), owner.token, member_url(id, "not-a-uuid"), {{"role", "admin"}}), 400, "bad_request"));
    EXPECT_TRUE(
        IsError(patch(port(), owner.token, member_url(id, random_uuid()), {{"role", "admin"}}), 404, "not_found"))
        << "not a member of the chat";
    EXPECT_EQ(role_of(port(), owner, id, m.id), "member");
}

TEST_F(MembersTest, OwnershipTransferMakesOldOwnerAdmin) {
    auto owner = register_user(port(), "mo");
    auto b = register_user(port(), "mo");
    auto c = register_user(port(), "mo");
    std::string id = create_group(port(), owner, {b.id, c.id})["id"];
    auto ws_c = ws_connect(port(), c.token);

    auto r = patch(port(), owner.token, member_url(id, b.id), {{"role", "owner"}});
    ASSERT_TRUE(is_2xx(r)) << r.describe();
    auto members = list_members(port(), c, id);
    EXPECT_EQ((*find_member(members, b.id))["role"], "owner");
    EXPECT_EQ((*find_member(members, owner.id))["role"], "admin");
    EXPECT_EQ(get_chat(port(), b, id)["me"]["role"], "owner");
    EXPECT_EQ(get_chat(port(), owner, id)["me"]["role"], "admin");

    auto ev = wait_for(*ws_c, "member.updated", and_(about_chat(id), [&](const json& f) {
        return f["data"].contains("member") && f["data"]["member"]["user"]["id"] == b.id;
    }));
    ASSERT_TRUE(ev.has_value()) << "members get member.updated for the new owner";
    EXPECT_TRUE(IsMemberModel((*ev)["data"]["member"]));
    EXPECT_EQ((*ev)["data"]["member"]["role"], "owner");

    // The new owner has the owner's powers, the old one no longer.
    EXPECT_TRUE(IsError(del(port(), owner.token, chat_url(id)), 403, "forbidden"));
    EXPECT_TRUE(IsError(patch(port(), owner.token, member_url(id, c.id), {{"role", "owner"}}), 403, "forbidden"));

    auto sys = system_messages(port(), c, id);
    bool found = false;
    for (const auto& s : sys)
        if (s["metadata"].value("event", "") == "chat.owner_changed") {
            found = true;
            EXPECT_EQ(s["metadata"]["user_id"], b.id) << s.dump();
            EXPECT_EQ(s["sender_id"], owner.id) << s.dump();
        }
    EXPECT_TRUE(found) << "no chat.owner_changed system message";
}

TEST_F(MembersTest, MuteIsByTheMemberThemselfAndPrivate) {
    auto owner = register_user(port(), "mm");
    auto m = register_user(port(), "mm");
    std::string id = create_group(port(), owner, {m.id})["id"];
    auto ws_owner = ws_connect(port(), owner.token);
    auto ws_m = ws_connect(port(), m.token);

    EXPECT_TRUE(IsError(patch(port(), owner.token, member_url(id, m.id), {{"is_muted", true}}), 403, "forbidden"));
    EXPECT_EQ(get_chat(port(), m, id)["me"]["is_muted"], false);

    auto r = patch(port(), m.token, member_url(id, m.id), {{"is_muted", true}});
    ASSERT_TRUE(is_2xx(r)) << r.describe();
    EXPECT_EQ(get_chat(port(), m, id)["me"]["is_muted"], true);
    EXPECT_EQ(get_chat(port(), owner, id)["me"]["is_muted"], false);

    auto ev = wait_for(*ws_m, "member.updated", about_chat(id));
    ASSERT_TRUE(ev.has_value()) << "the member gets member.updated for their own mute";
    EXPECT_EQ((*ev)["data"]["member"]["is_muted"], true);
    EXPECT_TRUE(NoFrameBefore(*ws_owner, frame_of("member.updated"), direct_message_marker(port(), m, owner)))
        << "muting is private";
    const auto muted_in_list = [&](const TestUser& viewer) {
        for (const auto& member : list_members(port(), viewer, id))
            if (member["user"]["id"] == m.id) return member["is_muted"];
        return json();
    };
    EXPECT_EQ(muted_in_list(m), true);
    EXPECT_EQ(muted_in_list(owner), false) << "the others see no mute";

    // A role given goes to everyone; each learns the mute as they may see it.
    set_role(port(), owner, id, m.id, "admin");
    const auto as_owner_sees = wait_for(*ws_owner, "member.updated", about_chat(id));
    ASSERT_TRUE(as_owner_sees.has_value());
    EXPECT_EQ((*as_owner_sees)["data"]["member"]["role"], "admin");
    EXPECT_EQ((*as_owner_sees)["data"]["member"]["is_muted"], false);
    const auto as_m_sees = wait_for(*ws_m, "member.updated", about_chat(id));
    ASSERT_TRUE(as_m_sees.has_value());
    EXPECT_EQ((*as_m_sees)["data"]["member"]["role"], "admin");
    EXPECT_EQ((*as_m_sees)["data"]["member"]["is_muted"], true) << "their own mute, as before";

    ASSERT_TRUE(is_2xx(patch(port(), m.token, member_url(id, m.id), {{"is_muted", false}})));
    EXPECT_EQ(get_chat(port(), m, id)["me"]["is_muted"], false);
}

// ---------------------------------------------------------------------------------------------
// remove and leave

TEST_F(MembersTest, RemovalFollowsTheRules) {
    auto owner = register_user(port(), "mv");
    auto admin = register_user(port(), "mv");
    auto admin2 = register_user(port(), "mv");
    auto m = register_user(port(), "mv");
    auto m2 = register_user(port(), "mv");
    auto m3 = register_user(port(), "mv");
    std::string id = create_group(port(), owner, {admin.id, admin2.id, m.id, m2.id, m3.id})["id"];
    set_role(port(), owner, id, admin.id, "admin");
    set_role(port(), owner, id, admin2.id, "admin");

    EXPECT_TRUE(IsError(del(port(), m.token, member_url(id, m2.id)), 403, "forbidden"));
    EXPECT_TRUE(IsError(del(port(), admin.token, member_url(id, admin2.id)), 403, "forbidden"));
    EXPECT_TRUE(IsError(del(port(), admin.token, member_url(id, owner.id)), 403, "forbidden"));
    EXPECT_EQ(list_members(port(), owner, id).size(), 6u);

    auto r = del(port(), admin.token, member_url(id, m2.id));
    EXPECT_EQ(r.status, 204) << r.describe();
    r = del(port(), owner.token, member_url(id, admin2.id));
    EXPECT_EQ(r.status, 204) << "the owner removes an admin: " << r.describe();
    r = del(port(), m3.token, member_url(id, m3.id));
    EXPECT_EQ(r.status, 204) << "leaving: " << r.describe();

    auto members = list_members(port(), owner, id);
    std::set<std::string> ids;
    for (const auto& u : member_user_ids(members)) ids.insert(u);
    EXPECT_EQ(ids, (std::set<std::string>{owner.id, admin.id, m.id}));
    EXPECT_EQ(get_chat(port(), owner, id)["member_count"], 3);
    EXPECT_TRUE(IsError(del(port(), owner.token, member_url(id, m2.id)), 404, "not_found")) << "not a member any more";
    EXPECT_TRUE(IsError(del(port(), owner.token, member_url(id, "nope")), 400, "bad_request"));

    auto sys = system_messages(port(), owner, id);
    std::vector<std::pair<std::string, std::string>> events;
    for (const auto& s : sys) {
        EXPECT_TRUE(IsMessageModel(s));
        events.emplace_back(s["metadata"].value("event", ""), s["metadata"].value("user_id", ""));
    }
    auto has = [&](const std::string& e, const std::string& u) {
        return std::find(events.begin(), events.end(), std::make_pair(e, u)) != events.end();
    };
    EXPECT_TRUE(has("member.removed", m2.id));
    EXPECT_TRUE(has("member.removed", admin2.id));
    EXPECT_TRUE(has("member.left", m3.id));
    for (const auto& s : sys)
        if (s["metadata"].value("event", "") == "member.removed" && s["metadata"].value("user_id", "") == m2.id)
            EXPECT_EQ(s["sender_id"], admin.id) << "sender is the acting user: " << s.dump();
}

TEST_F(MembersTest, OwnerLeavingHandsOwnershipToLongestStandingAdmin) {
    auto owner = register_user(port(), "mh");
    auto early_member = register_user(port(), "mh");
    auto early_admin = register_user(port(), "mh");
    auto late_admin = register_user(port(), "mh");
    std::string id = create_group(port(), owner)["id"];
    add_members(port(), owner, id, {early_member.id});
    add_members(port(), owner, id, {early_admin.id});
    add_members(port(), owner, id, {late_admin.id});
    // Promotion order is the reverse of join order: standing counts from joining.
    set_role(port(), owner, id, late_admin.id, "admin");
    set_role(port(), owner, id, early_admin.id, "admin");

    auto r = del(port(), owner.token, member_url(id, owner.id));
    ASSERT_EQ(r.status, 204) << r.describe();
    auto members = list_members(port(), early_member, id);
    ASSERT_EQ(members.size(), 3u);
    EXPECT_EQ((*find_member(members, early_admin.id))["role"], "owner");
    EXPECT_EQ((*find_member(members, late_admin.id))["role"], "admin");
    EXPECT_EQ((*find_member(members, early_member.id))["role"], "member");
    EXPECT_TRUE(IsError(get(port(), owner.token, chat_url(id)), 404, "not_found"));
}

TEST_F(MembersTest, OwnerLeavingWithoutAdminsHandsOwnershipToLongestStandingMember) {
    auto owner = register_user(port(), "mn");
    auto first = register_user(port(), "mn");
    auto second = register_user(port(), "mn");
    std::string id = create_group(port(), owner)["id"];
    add_members(port(), owner, id, {first.id});
    add_members(port(), owner, id, {second.id});
    ASSERT_EQ(del(port(), owner.token, member_url(id, owner.id)).status, 204);
    EXPECT_EQ(role_of(port(), second, id, first.id), "owner");
    EXPECT_EQ(role_of(port(), second, id, second.id), "member");
}

TEST_F(MembersTest, LastMemberLeavingDeletesTheGroup) {
    auto owner = register_user(port(), "mz");
    auto m = register_user(port(), "mz");
    std::string id = create_group(port(), owner, {m.id})["id"];
    ASSERT_EQ(del(port(), m.token, member_url(id, m.id)).status, 204);
    ASSERT_EQ(del(port(), owner.token, member_url(id, owner.id)).status, 204);
    EXPECT_TRUE(IsError(get(port(), owner.token, chat_url(id)), 404, "not_found"));
    EXPECT_TRUE(list_chats(port(), owner).empty());
    // Re-adding via an outsider is impossible: the chat is gone for everyone.
    EXPECT_TRUE(IsError(post(port(), m.token, members_url(id), {{"user_ids", {m.id}}}), 404, "not_found"));
}

// ---------------------------------------------------------------------------------------------
// events

TEST_F(MembersTest, AddAndRemoveEmitMemberEventsToMembersAndTheAffectedUser) {
    auto owner = register_user(port(), "me");
    auto b = register_user(port(), "me");
    auto c = register_user(port(), "me");
    std::string id = create_group(port(), owner, {b.id})["id"];
    auto ws_owner = ws_connect(port(), owner.token);
    auto ws_b = ws_connect(port(), b.token);
    auto ws_c = ws_connect(port(), c.token);

    add_members(port(), owner, id, {c.id});
    for (auto* ws : {ws_owner.get(), ws_b.get(), ws_c.get()}) {
        auto ev = wait_for(*ws, "member.added", about_chat(id));
        ASSERT_TRUE(ev.has_value()) << "member.added missing";
        EXPECT_EQ((*ev)["data"]["chat_id"], id);
        EXPECT_TRUE(IsMemberModel((*ev)["data"]["member"]));
        EXPECT_EQ((*ev)["data"]["member"]["user"]["id"], c.id);
        EXPECT_EQ((*ev)["data"]["member"]["role"], "member");
    }

    auto sys = system_messages(port(), owner, id);
    ASSERT_FALSE(sys.empty());
    EXPECT_EQ(sys.back()["metadata"]["event"], "member.added");
    EXPECT_EQ(sys.back()["metadata"]["user_id"], c.id);
    EXPECT_EQ(sys.back()["sender_id"], owner.id);
    EXPECT_EQ(sys.back()["type"], "system");

    ASSERT_EQ(del(port(), owner.token, member_url(id, c.id)).status, 204);
    for (auto* ws : {ws_owner.get(), ws_b.get(), ws_c.get()}) {
        auto ev = wait_for(*ws, "member.removed", about_chat(id));
        ASSERT_TRUE(ev.has_value()) << "member.removed missing";
        EXPECT_EQ((*ev)["data"], json({{"chat_id", id}, {"user_id", c.id}}));
    }
}

TEST_F(MembersTest, NewMemberGetsChatCreatedThenMessagesWithoutReconnecting) {
    auto owner = register_user(port(), "mc");
    auto c = register_user(port(), "mc");
    std::string id = create_group(port(), owner)["id"];
    send_text(port(), owner, id, "before c");
    auto ws_c = ws_connect(port(), c.token);

    add_members(port(), owner, id, {c.id});
    // The first frame about the chat is chat.created (before any message.new, e.g. the
    // system message of the addition).
    auto first = ws_c->receive_matching(
        [&](const json& f) {
            return (f.value("type", "") == "chat.created" || f.value("type", "") == "message.new") && about_chat(id)(f);
        },
        5s);
    ASSERT_TRUE(first.has_value()) << "the new member got no chat.created";
    EXPECT_EQ((*first)["type"], "chat.created") << first->dump();
    EXPECT_TRUE(IsChatModel((*first)["data"]["chat"]));
    EXPECT_EQ((*first)["data"]["chat"]["me"]["role"], "member");

    auto m = send_text(port(), owner, id, "welcome c");
    auto ev = wait_for(*ws_c, "message.new", about_message(m["id"]));
    ASSERT_TRUE(ev.has_value()) << "the new member got no message.new on the already-open connection";
    EXPECT_EQ((*ev)["data"]["message"]["id"], m["id"]);
    EXPECT_TRUE(IsMessageModel((*ev)["data"]["message"]));
}

TEST_F(MembersTest, RemovedMemberStopsReceivingMessagesAtOnce) {
    auto owner = register_user(port(), "mq");
    auto b = register_user(port(), "mq");
    auto c = register_user(port(), "mq");
    std::string id = create_group(port(), owner, {b.id, c.id})["id"];
    auto ws_b = ws_connect(port(), b.token);
    auto ws_c = ws_connect(port(), c.token);

    send_text(port(), owner, id, "everyone");
    ASSERT_TRUE(wait_for(*ws_c, "message.new", about_chat(id)).has_value());

    ASSERT_EQ(del(port(), owner.token, member_url(id, c.id)).status, 204);
    auto removed = wait_for(*ws_c, "member.removed", about_chat(id));
    ASSERT_TRUE(removed.has_value());
    auto m = send_text(port(), owner, id, "not for c");
    auto ev_b = wait_for(*ws_b, "message.new", about_message(m["id"]));
    EXPECT_TRUE(ev_b.has_value());
    EXPECT_TRUE(NoFrameBefore(*ws_c, mentioning(id), direct_message_marker(port(), owner, c)))
        << "an ex-member receives nothing of the chat";
    EXPECT_TRUE(IsError(get(port(), c.token, chat_messages_url(id)), 404, "not_found"));
}

TEST_F(MembersTest, MemberWhoLeavesStopsReceivingMessagesAtOnce) {
    auto owner = register_user(port(), "mk");
    auto c = register_user(port(), "mk");
    std::string id = create_group(port(), owner, {c.id})["id"];
    auto ws_c = ws_connect(port(), c.token);
    ASSERT_EQ(del(port(), c.token, member_url(id, c.id)).status, 204);
    auto left = wait_for(*ws_c, "member.removed", about_chat(id));
    ASSERT_TRUE(left.has_value()) << "the affected user gets member.removed";
    send_text(port(), owner, id, "gone?");
    EXPECT_TRUE(NoFrameBefore(*ws_c, mentioning(id), direct_message_marker(port(), owner, c)));
    auto sys = system_messages(port(), owner, id);
    ASSERT_FALSE(sys.empty());
    EXPECT_EQ(sys.back()["metadata"]["event"], "member.left");
    EXPECT_EQ(sys.back()["metadata"]["user_id"], c.id);
    EXPECT_EQ(sys.back()["sender_id"], c.id);
}

// ---------------------------------------------------------------------------------------------
// races

TEST_F(MembersTest, ConcurrentAddsOfTheSameUserAddThemOnce) {
    auto owner = register_user(port(), "ra");
    std::vector<TestUser> admins;
    std::vector<std::string> admin_ids;
    for (int i = 0; i < 5; ++i) {
        admins.push_back(register_user(port(), "ra"));
        admin_ids.push_back(admins.back().id);
    }
    auto target = register_user(port(), "ra");
    std::string id = create_group(port(), owner, admin_ids)["id"];
    for (const auto& a : admins) set_role(port(), owner, id, a.id, "admin");
    std::int64_t seq_before = get_chat(port(), owner, id)["last_seq"];

    std::vector<HttpResponse> results(admins.size());
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < admins.size(); ++i)
        threads.emplace_back([&, i] {
            results[i] = guarded([&] {
                return post(port(), admins[i].token, members_url(id), {{"user_ids", {target.id}}});
            });
        });
    for (auto& t : threads) t.join();
    int added = 0;
    for (const auto& r : results) {
        if (!IsJson(r, 200)) {
            ADD_FAILURE() << r.describe();
            continue;
        }
        added += static_cast<int>(r.json()["members"].size());
    }
    EXPECT_EQ(added, 1) << "exactly one response lists the user as added";
    auto members = list_members(port(), owner, id);
    EXPECT_EQ(members.size(), admins.size() + 2);
    EXPECT_EQ(get_chat(port(), target, id)["member_count"], static_cast<int>(admins.size() + 2));
    int system_adds = 0;
    for (const auto& m : all_messages(port(), owner, id))
        if (m["seq"].get<std::int64_t>() > seq_before && m["metadata"].value("event", "") == "member.added")
            ++system_adds;
    EXPECT_EQ(system_adds, 1) << "one member.added system message";
}

TEST_F(MembersTest, OwnerAndAdminsLeavingAtOnceLeaveExactlyOneOwner) {
    for (int round = 0; round < 3; ++round) {
        auto owner = register_user(port(), "rl");
        auto a1 = register_user(port(), "rl");
        auto a2 = register_user(port(), "rl");
        auto m1 = register_user(port(), "rl");
        auto m2 = register_user(port(), "rl");
        std::string id = create_group(port(), owner)["id"];
        for (const auto* u : {&a1, &a2, &m1, &m2}) add_members(port(), owner, id, {u->id});
        set_role(port(), owner, id, a1.id, "admin");
        set_role(port(), owner, id, a2.id, "admin");

        std::vector<int> statuses(3);
        std::vector<std::thread> threads;
        std::mutex mu;
        std::vector<std::string> errors;
        const TestUser* leavers[] = {&owner, &a1, &a2};
        for (int i = 0; i < 3; ++i)
            threads.emplace_back([&, i] {
                auto r = guarded([&] { return del(port(), leavers[i]->token, member_url(id, leavers[i]->id)); });
                statuses[i] = r.status;
                if (r.status != 204) {
                    std::lock_guard lock(mu);
                    errors.push_back(r.describe());
                }
            });
        for (auto& t : threads) t.join();
        EXPECT_EQ(statuses, (std::vector<int>{204, 204, 204}))
            << "round " << round << ": " << (errors.empty() ? "" : errors[0]);
        ASSERT_TRUE(server().running()) << "the server died while three members left at once";

        auto members = list_members(port(), m2, id);
        ASSERT_EQ(members.size(), 2u) << "round " << round;
        int owners = 0;
        for (const auto& m : members) owners += m["role"] == "owner";
        EXPECT_EQ(owners, 1) << "round " << round << ": the group must keep exactly one owner";
        EXPECT_EQ(role_of(port(), m2, id, m1.id), "owner")
            << "round " << round << ": m1 is the longest-standing member";
    }
}

TEST_F(MembersTest, MembershipChangesCutEventsExactlyAtTheirSystemMessage) {
    // A sender streams messages while c is added and later removed. c must see chat.created,
    // then every message from the one announcing the addition on, in order, once, and
    // nothing after the one announcing the removal.
    auto owner = register_user(port(), "rx");
    auto sender = register_user(port(), "rx");
    auto c = register_user(port(), "rx");
    std::string id = create_group(port(), owner, {sender.id})["id"];
    auto ws_c = ws_connect(port(), c.token);
    auto ws_s = ws_connect(port(), sender.token);

    std::atomic<bool> stop{false};
    std::atomic<int> sent{0}, send_errors{0};
    std::thread streamer([&] {
        for (int k = 0; !stop && k < 1000 && ws_s->is_open(); ++k) {
            auto ack = ws_request(*ws_s, "message.send",
                                  {{"chat_id", id}, {"type", "text"}, {"content", "tick " + std::to_string(k)}});
            if (ack.value("type", "") != "ack") ++send_errors;
            ++sent;
        }
    });
    auto until_sent = [&](int n) {
        auto deadline = std::chrono::steady_clock::now() + 20s;
        while (sent < n && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    };
    until_sent(20);
    add_members(port(), owner, id, {c.id});
    until_sent(sent + 40);
    auto removal = del(port(), owner.token, member_url(id, c.id));
    until_sent(sent + 20);
    stop = true;
    streamer.join();
    ASSERT_EQ(removal.status, 204) << removal.describe();
    EXPECT_EQ(send_errors.load(), 0);

    std::int64_t added_seq = -1, removed_seq = -1;
    for (const auto& m : all_messages(port(), owner, id)) {
        if (m["metadata"].value("event", "") == "member.added" && m["metadata"].value("user_id", "") == c.id)
            added_seq = m["seq"];
        if (m["metadata"].value("event", "") == "member.removed" && m["metadata"].value("user_id", "") == c.id)
            removed_seq = m["seq"];
    }
    ASSERT_GT(added_seq, 0);
    ASSERT_GT(removed_seq, added_seq);

    const auto frames = frames_until(*ws_c, direct_message_marker(port(), owner, c), 10s);
    ASSERT_TRUE(frames.has_value()) << "the marker sent after the removal did not arrive";
    std::vector<std::int64_t> got;
    bool created_first = false;
    for (const auto& f : *frames) {
        if (!about_chat(id)(f)) continue;
        if (f["type"] == "chat.created" && got.empty()) created_first = true;
        if (f["type"] == "message.new") got.push_back(f["data"]["message"]["seq"]);
    }
    EXPECT_TRUE(created_first) << "chat.created must come before the chat's messages";
    ASSERT_FALSE(got.empty());
    // Everything from the addition on and before the removal, in order, each once.
    // Whether c also gets the message.new of the system message announcing its own addition
    // is not specified; everything after it is.
    std::int64_t from = (!got.empty() && got.front() == added_seq) ? added_seq : added_seq + 1;
    std::vector<std::int64_t> expected;
    for (std::int64_t s = from; s < removed_seq; ++s) expected.push_back(s);
    std::vector<std::int64_t> within;
    std::vector<std::int64_t> after;
    for (auto s : got) (s < removed_seq ? within : after).push_back(s);
    EXPECT_TRUE(after.empty() || (after.size() == 1 && after[0] == removed_seq))
        << "c received " << after.size() << " messages after its removal (first seq " << (after.empty() ? 0 : after[0])
        << ", removal at seq " << removed_seq << ")";
    EXPECT_EQ(within, expected) << "c must receive every message from its addition (seq " << added_seq
                                << ") until its removal (seq " << removed_seq << "), in order, once";
}

// ---------------------------------------------------------------------------------------------
// configured limits (a second server on the same database)

TEST_F(MembersTest, ConfiguredLimitsApply) {
    ServerProcess limited(chat_database_url(), {{"CONFAB_LIMIT_GROUP_MEMBERS", "3"},
                                                {"CONFAB_LIMIT_CONTENT_CHARS", "10"},
                                                {"CONFAB_LIMIT_MESSAGE_BURST", "3"},
                                                {"CONFAB_LIMIT_MESSAGE_RATE", "0.2"}});
    auto p = limited.port();
    auto owner = register_user(p, "lim");
    auto u1 = register_user(p, "lim");
    auto u2 = register_user(p, "lim");
    auto u3 = register_user(p, "lim");

    // Group members.
    EXPECT_TRUE(IsError(post(p, owner.token, chats_url(),
                             {{"type", "group"}, {"title", "big"}, {"member_ids", {u1.id, u2.id, u3.id}}}),
                        409, "conflict"))
        << "4 members with a limit of 3";
    auto chat = create_group(p, owner, {u1.id, u2.id});
    std::string id = chat["id"];
    EXPECT_EQ(chat["member_count"], 3);
    EXPECT_TRUE(IsError(post(p, owner.token, members_url(id), {{"user_ids", {u3.id}}}), 409, "conflict"));
    EXPECT_EQ(list_members(p, owner, id).size(), 3u);

    // Content length in code points.
    EXPECT_TRUE(IsJson(send_message(p, u3, create_direct(p, u3, owner)["id"],
                                    {{"type", "text"}, {"content", repeat("\xC3\xA9", 10)}}),
                       201));
    EXPECT_TRUE(IsError(send_message(p, u1, id, {{"type", "text"}, {"content", std::string(11, 'x')}}), 413,
                        "payload_too_large"));

    // Message rate: a burst of 3 (REST and WebSocket together), then 429 with Retry-After.
    auto ws = ws_connect(p, u2.token);
    EXPECT_TRUE(IsJson(send_message(p, u2, id, {{"type", "text"}, {"content", "1"}}), 201));
    EXPECT_TRUE(IsAck(ws_request(*ws, "message.send", {{"chat_id", id}, {"type", "text"}, {"content", "2"}})));
    EXPECT_TRUE(IsJson(send_message(p, u2, id, {{"type", "text"}, {"content", "3"}}), 201));
    auto limited_r = send_message(p, u2, id, {{"type", "text"}, {"content", "4"}});
    EXPECT_TRUE(IsError(limited_r, 429, "rate_limited"));
    EXPECT_FALSE(limited_r.header("retry-after").empty()) << limited_r.describe();
    if (limited_r.status == 429) {
        auto e = limited_r.json()["error"];
        EXPECT_TRUE(e.contains("details") && e["details"].contains("retry_after_ms") &&
                    e["details"]["retry_after_ms"].is_number_integer() && e["details"]["retry_after_ms"] > 0)
            << limited_r.body;
    }
    auto ws_limited = ws_request(*ws, "message.send", {{"chat_id", id}, {"type", "text"}, {"content", "5"}});
    EXPECT_TRUE(IsWsError(ws_limited, "rate_limited", ws_limited.value("id", ""))) << ws_limited.dump();
    auto texts = 0;
    for (const auto& m : all_messages(p, owner, id)) texts += m["type"] == "text";
    EXPECT_EQ(texts, 3) << "rate-limited sends store nothing";
    // Another user is not affected.
    EXPECT_TRUE(IsJson(send_message(p, u1, id, {{"type", "text"}, {"content", "mine"}}), 201));
}

TEST_F(MembersTest, ReAddedMemberGetsTheChatBackLive) {
    auto owner = register_user(port(), "rb");
    auto c = register_user(port(), "rb");
    std::string id = create_group(port(), owner, {c.id})["id"];
    auto ws_c = ws_connect(port(), c.token);
    ASSERT_EQ(del(port(), owner.token, member_url(id, c.id)).status, 204);
    ASSERT_TRUE(wait_for(*ws_c, "member.removed", about_chat(id)).has_value());
    send_text(port(), owner, id, "while c was out");
    EXPECT_TRUE(IsError(get(port(), c.token, chat_url(id)), 404, "not_found"));

    add_members(port(), owner, id, {c.id});
    auto created = wait_for(*ws_c, "chat.created", about_chat(id));
    ASSERT_TRUE(created.has_value()) << "a re-added member gets chat.created again";
    auto chat = get_chat(port(), c, id);
    EXPECT_EQ(chat["me"]["role"], "member");
    EXPECT_EQ(chat["member_count"], 2);
    auto m = send_text(port(), owner, id, "welcome back");
    auto ev = wait_for(*ws_c, "message.new", about_message(m["id"]));
    EXPECT_TRUE(ev.has_value()) << "events flow again without reconnecting";
    EXPECT_EQ(ids_of(list_chats(port(), c)), std::vector<std::string>{id});
}

TEST_F(MembersTest, OwnershipTransferRacingTheNewOwnersLeaveKeepsOneOwner) {
    for (int round = 0; round < 8; ++round) {
        auto owner = register_user(port(), "rt");
        auto b = register_user(port(), "rt");
        auto c = register_user(port(), "rt");
        std::string id = create_group(port(), owner)["id"];
        add_members(port(), owner, id, {b.id});
        add_members(port(), owner, id, {c.id});
        HttpResponse transfer, leave;
        std::thread t1([&] {
            transfer = guarded([&] { return patch(port(), owner.token, member_url(id, b.id), {{"role", "owner"}}); });
        });
        std::thread t2([&] { leave = guarded([&] { return del(port(), b.token, member_url(id, b.id)); }); });
        t1.join();
        t2.join();
        ASSERT_TRUE(server().running()) << "the server died";
        EXPECT_TRUE(leave.status == 204) << leave.describe();
        EXPECT_TRUE(transfer.status == 200 || transfer.status == 204 || transfer.status == 404) << transfer.describe();
        auto members = list_members(port(), c, id);
        int owners = 0;
        for (const auto& m : members) owners += m["role"] == "owner";
        EXPECT_EQ(owners, 1) << "round " << round
                             << ": exactly one owner must remain; members: " << json(members).dump().substr(0, 800);
        EXPECT_EQ(find_member(members, b.id), nullptr);
    }
}

TEST_F(MembersTest, NewOwnerLeavingAfterATransferHandsOwnershipOn) {
    auto owner = register_user(port(), "rn");
    auto b = register_user(port(), "rn");
    auto c = register_user(port(), "rn");
    std::string id = create_group(port(), owner)["id"];
    add_members(port(), owner, id, {b.id});
    add_members(port(), owner, id, {c.id});
    set_role(port(), owner, id, b.id, "owner");
    ASSERT_EQ(role_of(port(), c, id, owner.id), "admin");
    ASSERT_EQ(del(port(), b.token, member_url(id, b.id)).status, 204);
    EXPECT_EQ(role_of(port(), c, id, owner.id), "owner")
        << "the old owner, now the longest-standing admin, becomes owner";
    EXPECT_EQ(role_of(port(), c, id, c.id), "member");
}

// ---------------------------------------------------------------------------------------------
// membership changes amid sends

// A member removed and one added while others' sends are in flight: the removed one gets every
// message committed before the removal and none after, the added one chat.created before any
// of the chat's messages and none committed before the join. Writes of one chat that queue
// together commit in one transaction, the removal (or addition) between sends; a send after
// it reloaded the members inside that transaction and cached them at once, so the sends
// committed before it went out to the members as changed.
TEST(MembershipAmidSendsTest, SplitsTheMessagesEachMemberGetsExactlyAtTheChange) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(shared_database().url(),
                         std::map<std::string, std::string>{{"CONFAB_LIMIT_MESSAGE_BURST", "100000"},
                                                            {"CONFAB_LIMIT_MESSAGE_RATE", "100000"},
                                                            {"CONFAB_DATABASE_COMMIT_GATHER_MS", "20"}});
    const auto port = server.port();
    const auto message_seqs = [](const std::vector<json>& frames, const std::string& chat_id) {
        std::vector<std::int64_t> seqs;
        for (const auto& f : frames)
            if (f.value("type", "") == "message.new" && f["data"]["message"]["chat_id"] == chat_id)
                seqs.push_back(f["data"]["message"]["seq"].get<std::int64_t>());
        return seqs;
    };
    const auto seqs_between = [](std::int64_t first, std::int64_t last) {
        std::vector<std::int64_t> seqs;
        for (auto seq = first; seq <= last; ++seq) seqs.push_back(seq);
        return seqs;
    };
    for (int round = 0; round < 8; ++round) {
        SCOPED_TRACE("round " + std::to_string(round));
        auto owner = register_user(port, "amid");
        auto s1 = register_user(port, "amid");
        auto s2 = register_user(port, "amid");
        auto leaver = register_user(port, "amid");
        auto joiner = register_user(port, "amid");
        const std::string chat = create_group(port, owner, {s1.id, s2.id, leaver.id})["id"];
        const auto initial = all_messages(port, owner, chat);
        const std::int64_t before = initial.empty() ? 0 : initial.back()["seq"].get<std::int64_t>();
        auto ws1 = ws_connect(port, s1.token);
        auto ws2 = ws_connect(port, s2.token);
        auto leaver_ws = ws_connect(port, leaver.token);
        auto joiner_ws = ws_connect(port, joiner.token);
        constexpr int sends = 40;
        for (int i = 0; i < sends; ++i)
            for (auto* ws : {ws1.get(), ws2.get()})
                ws->send_json({{"type", "message.send"},
                               {"id", ws->next_request_id()},
                               {"data", {{"chat_id", chat}, {"type", "text"}, {"content", "m" + std::to_string(i)}}}});
        ASSERT_EQ(http(port, "DELETE", member_url(chat, leaver.id), std::nullopt, auth_header(owner.token)).status,
                  204);
        add_members(port, owner, chat, {joiner.id});
        for (auto* ws : {ws1.get(), ws2.get()})
            for (int i = 0; i < sends; ++i) {
                const auto reply = ws->receive_matching(
                    [](const json& f) { return f.value("type", "") == "ack" || f.value("type", "") == "error"; }, 10s);
                ASSERT_TRUE(reply && IsAck(*reply)) << (reply ? reply->dump() : "no reply");
            }

        const auto history = all_messages(port, owner, chat);
        const auto last = history.back()["seq"].get<std::int64_t>();
        std::int64_t removal = 0, join = 0;
        for (const auto& m : history) {
            const auto event = m.value("metadata", json::object()).value("event", "");
            if (event == "member.removed") removal = m["seq"];
            if (event == "member.added") join = m["seq"];
        }
        ASSERT_GT(removal, before);
        ASSERT_GT(join, removal);

        const auto removed_frames = frames_until(
            *leaver_ws, [](const json& f) { return f.value("type", "") == "member.removed"; }, 10s);
        ASSERT_TRUE(removed_frames);
        EXPECT_EQ(message_seqs(*removed_frames, chat), seqs_between(before + 1, removal - 1))
            << "the removed member gets exactly the messages committed before the removal";

        const auto joined_frames = frames_until(
            *joiner_ws,
            [&](const json& f) {
                return f.value("type", "") == "message.new" && f["data"]["message"]["chat_id"] == chat &&
                       f["data"]["message"]["seq"] == last;
            },
            10s);
        ASSERT_TRUE(joined_frames);
        const auto created = std::find_if(joined_frames->begin(), joined_frames->end(),
                                          [](const json& f) { return f.value("type", "") == "chat.created"; });
        ASSERT_NE(created, joined_frames->end());
        EXPECT_TRUE(message_seqs({joined_frames->begin(), created}, chat).empty())
            << "no message of the chat before chat.created";
        auto joined_seqs = message_seqs(*joined_frames, chat);
        joined_seqs.push_back(last);
        EXPECT_EQ(joined_seqs, seqs_between(join, last))
            << "the added member gets the messages from the join on, each once";
    }
}

}  // namespace
}  // namespace confab::test
