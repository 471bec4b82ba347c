// Roles and moderation (docs/api.md, Roles and permissions): the built-in roles moderator and
// restricted, the permissions each member model and `me` carry, a moderator's mute for a
// time, and the hostile side: escalation refused, and what REST refuses the WebSocket
// refuses too.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/chat_api.hpp"

namespace confab::test {
namespace {

using RolesTest = ChatTest;

const std::string thumbs_up = "\xF0\x9F\x91\x8D";
const std::string far_future = "2999-01-01T00:00:00Z";

// A group with an owner, an admin, a moderator, two members and a restricted member.
struct Cast {
    TestUser owner, admin, moderator, member, other, restricted;
    std::string chat_id;
};

Cast make_cast(std::uint16_t port) {
    Cast c{register_user(port, "ro"),
           register_user(port, "ro"),
           register_user(port, "ro"),
           register_user(port, "ro"),
           register_user(port, "ro"),
           register_user(port, "ro"),
           ""};
    c.chat_id = create_group(port, c.owner, {c.admin.id, c.moderator.id, c.member.id, c.other.id, c.restricted.id})
                    .at("id")
                    .get<std::string>();
    set_role(port, c.owner, c.chat_id, c.admin.id, "admin");
    set_role(port, c.owner, c.chat_id, c.moderator.id, "moderator");
    set_role(port, c.owner, c.chat_id, c.restricted.id, "restricted");
    return c;
}

std::vector<std::string> strings(const json& array) { return array.get<std::vector<std::string>>(); }

json member_json(std::uint16_t port, const TestUser& viewer, const std::string& chat_id, const std::string& user_id) {
    const auto members = list_members(port, viewer, chat_id);
    const json* found = find_member(members, user_id);
    return found ? *found : json(nullptr);
}

FramePred member_updated_of(const std::string& chat_id, const std::string& user_id) {
    return [chat_id, user_id](const json& f) {
        return f["data"]["member"].value("chat_id", "") == chat_id &&
               f["data"]["member"]["user"].value("id", "") == user_id;
    };
}

TEST_F(RolesTest, EachRoleListsItsPermissionsAndMeHoldsWhatTheSettingsLeave) {
    auto c = make_cast(port());
    const auto members = list_members(port(), c.owner, c.chat_id);
    for (const auto& m : members) EXPECT_TRUE(IsMemberModel(m)) << m.dump();
    const auto permissions_of = [&](const TestUser& u) {
        return strings(member_json(port(), c.owner, c.chat_id, u.id)["permissions"]);
    };
    EXPECT_EQ(member_json(port(), c.owner, c.chat_id, c.moderator.id)["role"], "moderator");
    EXPECT_EQ(member_json(port(), c.owner, c.chat_id, c.restricted.id)["role"], "restricted");
    EXPECT_EQ(permissions_of(c.restricted), std::vector<std::string>{});
    EXPECT_EQ(permissions_of(c.member), (std::vector<std::string>{"post", "post_media", "react", "mention_all",
                                                                  "add_members", "edit_info", "pin"}));
    EXPECT_EQ(permissions_of(c.moderator),
              (std::vector<std::string>{"post", "post_media", "react", "mention_all", "add_members", "remove_members",
                                        "edit_info", "pin", "delete_messages", "ban", "handle_reports"}));
    EXPECT_EQ(permissions_of(c.admin).size(), 15u);
    EXPECT_EQ(permissions_of(c.owner), permissions_of(c.admin));

    // `me` is what the role holds once the group's settings withdraw (edit info and pin are
    // for admins by default).
    const auto chat = get_chat(port(), c.member, c.chat_id);
    EXPECT_TRUE(IsChatModel(chat));
    EXPECT_EQ(strings(chat["me"]["permissions"]),
              (std::vector<std::string>{"post", "post_media", "react", "mention_all", "add_members"}));
    EXPECT_EQ(strings(get_chat(port(), c.moderator, c.chat_id)["me"]["permissions"]),
              (std::vector<std::string>{"post", "post_media", "react", "mention_all", "add_members", "remove_members",
                                        "delete_messages", "ban", "handle_reports"}));
    EXPECT_EQ(strings(get_chat(port(), c.restricted, c.chat_id)["me"]["permissions"]), std::vector<std::string>{});
    ASSERT_TRUE(
        IsJson(put(port(), c.owner.token, chat_url(c.chat_id), {{"settings", {{"only_admins_can_pin", false}}}}), 200));
    EXPECT_EQ(strings(get_chat(port(), c.member, c.chat_id)["me"]["permissions"]),
              (std::vector<std::string>{"post", "post_media", "react", "mention_all", "add_members", "pin"}));

    const auto direct = create_direct(port(), c.member, c.other);
    EXPECT_EQ(strings(direct["me"]["permissions"]),
              (std::vector<std::string>{"post", "post_media", "react", "mention_all", "pin"}));
}

TEST_F(RolesTest, ARoleChangeIsAnEventAndASystemMessage) {
    auto c = make_cast(port());
    auto ws = ws_connect(port(), c.other.token);
    ASSERT_TRUE(IsJson(patch(port(), c.admin.token, member_url(c.chat_id, c.member.id), {{"role", "moderator"}}), 200));
    const auto event = wait_for(*ws, "member.updated", member_updated_of(c.chat_id, c.member.id));
    ASSERT_TRUE(event.has_value());
    EXPECT_EQ((*event)["data"]["member"]["role"], "moderator");
    EXPECT_TRUE(IsMemberModel((*event)["data"]["member"]));
    const auto notes = system_messages(port(), c.other, c.chat_id);
    ASSERT_FALSE(notes.empty());
    EXPECT_EQ(notes.back()["metadata"]["event"], "member.role_changed");
    EXPECT_EQ(notes.back()["metadata"]["user_id"], c.member.id);
    EXPECT_NE(notes.back()["content"].get<std::string>().find("a moderator"), std::string::npos);

    // Ownership moves by the owner only; the old owner becomes an admin.
    ASSERT_TRUE(IsJson(patch(port(), c.owner.token, member_url(c.chat_id, c.moderator.id), {{"role", "owner"}}), 200));
    EXPECT_EQ(member_json(port(), c.other, c.chat_id, c.moderator.id)["role"], "owner");
    EXPECT_EQ(member_json(port(), c.other, c.chat_id, c.owner.id)["role"], "admin");
}

TEST_F(RolesTest, WhenTheOwnerLeavesAModeratorInheritsBeforeALongerStandingRestrictedMember) {
    const auto owner = register_user(port(), "ro");
    const auto restricted = register_user(port(), "ro");
    const auto moderator = register_user(port(), "ro");
    const std::string id = create_group(port(), owner, {restricted.id, moderator.id})["id"];
    set_role(port(), owner, id, restricted.id, "restricted");
    set_role(port(), owner, id, moderator.id, "moderator");
    ASSERT_EQ(del(port(), owner.token, member_url(id, owner.id)).status, 204);
    EXPECT_EQ(member_json(port(), moderator, id, moderator.id)["role"], "owner");
    EXPECT_EQ(member_json(port(), moderator, id, restricted.id)["role"], "restricted");
}

TEST_F(RolesTest, AModeratorModeratesThoseBelowAndNoMore) {
    auto c = make_cast(port());
    const auto by_member = send_text(port(), c.member, c.chat_id, "spam");
    const auto by_admin = send_text(port(), c.admin, c.chat_id, "rules");
    EXPECT_EQ(del(port(), c.moderator.token, message_url(by_member["id"])).status, 204);
    EXPECT_EQ(del(port(), c.moderator.token, message_url(by_admin["id"])).status, 204)
        << "delete_messages covers every message";
    EXPECT_TRUE(IsError(del(port(), c.moderator.token, member_url(c.chat_id, c.admin.id)), 403, "forbidden"));
    EXPECT_TRUE(IsError(del(port(), c.moderator.token, member_url(c.chat_id, c.owner.id)), 403, "forbidden"));
    EXPECT_TRUE(IsError(patch(port(), c.moderator.token, member_url(c.chat_id, c.member.id), {{"role", "restricted"}}),
                        403, "forbidden"))
        << "a moderator does not manage roles";
    EXPECT_TRUE(
        IsError(put(port(), c.moderator.token, chat_url(c.chat_id), {{"settings", {{"only_admins_can_post", true}}}}),
                403, "forbidden"));
    EXPECT_EQ(del(port(), c.moderator.token, member_url(c.chat_id, c.restricted.id)).status, 204);
    EXPECT_EQ(del(port(), c.moderator.token, member_url(c.chat_id, c.member.id)).status, 204);
    EXPECT_TRUE(member_json(port(), c.owner, c.chat_id, c.member.id).is_null());
}

TEST_F(RolesTest, NobodyClimbsAboveTheirOwnRole) {
    auto c = make_cast(port());
    struct Attempt {
        const char* what;
        const TestUser& actor;
        const std::string& target;
        const char* role;
    };
    const std::vector<Attempt> attempts{
        {"a member makes themself a moderator", c.member, c.member.id, "moderator"},
        {"a member makes themself an admin", c.member, c.member.id, "admin"},
        {"a member makes another an admin", c.member, c.other.id, "admin"},
        {"a restricted member lifts their restriction", c.restricted, c.restricted.id, "member"},
        {"a moderator makes themself an admin", c.moderator, c.moderator.id, "admin"},
        {"a moderator makes a member a moderator", c.moderator, c.member.id, "moderator"},
        {"an admin takes ownership", c.admin, c.admin.id, "owner"},
        {"an admin demotes the owner", c.admin, c.owner.id, "member"},
    };
    for (const auto& a : attempts)
        EXPECT_TRUE(IsError(patch(port(), a.actor.token, member_url(c.chat_id, a.target), {{"role", a.role}}), 403,
                            "forbidden"))
            << a.what;
    EXPECT_TRUE(IsError(del(port(), c.admin.token, member_url(c.chat_id, c.owner.id)), 403, "forbidden"))
        << "an admin removes the owner";
    for (const auto& u : {c.member, c.restricted, c.moderator, c.admin})
        EXPECT_EQ(member_json(port(), c.owner, c.chat_id, u.id)["role"], u.id == c.member.id       ? "member"
                                                                         : u.id == c.restricted.id ? "restricted"
                                                                         : u.id == c.moderator.id  ? "moderator"
                                                                                                   : "admin");
    EXPECT_TRUE(IsError(patch(port(), c.owner.token, member_url(c.chat_id, c.member.id), {{"role", "superuser"}}), 400,
                        "bad_request"));
}

TEST_F(RolesTest, ARestrictedMemberReadsButDoesNothingElseOverRestOrWebSocket) {
    auto c = make_cast(port());
    const auto message = send_text(port(), c.member, c.chat_id, "hello");
    EXPECT_TRUE(IsJson(get(port(), c.restricted.token, chat_messages_url(c.chat_id)), 200));
    EXPECT_TRUE(IsError(send_message(port(), c.restricted, c.chat_id, {{"type", "text"}, {"content", "hi"}}), 403,
                        "forbidden"));
    EXPECT_TRUE(IsError(put(port(), c.restricted.token, reaction_url(message["id"], thumbs_up), json::object()), 403,
                        "forbidden"));
    EXPECT_TRUE(
        IsError(post(port(), c.restricted.token, message_url(message["id"]) + "/forward", {{"chat_id", c.chat_id}}),
                403, "forbidden"));
    EXPECT_TRUE(IsError(post(port(), c.restricted.token, members_url(c.chat_id), {{"user_ids", {c.owner.id}}}), 403,
                        "forbidden"));

    auto ws = ws_connect(port(), c.restricted.token);
    auto send = ws_request(*ws, "message.send", {{"chat_id", c.chat_id}, {"type", "text"}, {"content", "hi"}});
    EXPECT_TRUE(IsWsError(send, "forbidden", send.value("id", ""))) << send.dump();
    auto react = ws_request(*ws, "reaction.add", {{"message_id", message["id"]}, {"emoji", thumbs_up}});
    EXPECT_TRUE(IsWsError(react, "forbidden", react.value("id", ""))) << react.dump();
    EXPECT_EQ(get_message(port(), c.owner, message["id"])["reactions"], json::array());

    // It still hears the chat.
    const auto next = send_text(port(), c.member, c.chat_id, "still here?");
    EXPECT_TRUE(wait_for(*ws, "message.new", about_message(next["id"])).has_value());
    // Made a member again, it posts.
    set_role(port(), c.admin, c.chat_id, c.restricted.id, "member");
    EXPECT_TRUE(IsJson(send_message(port(), c.restricted, c.chat_id, {{"type", "text"}, {"content", "thanks"}}), 201));
}

TEST_F(RolesTest, AMutedMemberReadsAndReactsButDoesNotPostUntilTheMuteIsLifted) {
    auto c = make_cast(port());
    auto ws_member = ws_connect(port(), c.member.token);
    auto ws_other = ws_connect(port(), c.other.token);
    auto r = patch(port(), c.moderator.token, member_url(c.chat_id, c.member.id), {{"muted_until", far_future}});
    ASSERT_TRUE(IsJson(r, 200));
    EXPECT_TRUE(IsMemberModel(r.json()));
    EXPECT_EQ(r.json()["muted_until"].get<std::string>().substr(0, 19), "2999-01-01T00:00:00");
    EXPECT_EQ(r.json()["is_muted"], false) << "is_muted stays the member's own notification setting";
    // Every member hears of it at once, the muted member's live socket included.
    for (auto* ws : {ws_member.get(), ws_other.get()}) {
        const auto event = wait_for(*ws, "member.updated", member_updated_of(c.chat_id, c.member.id));
        ASSERT_TRUE(event.has_value());
        EXPECT_EQ((*event)["data"]["member"]["muted_until"], r.json()["muted_until"]);
    }

    EXPECT_TRUE(
        IsError(send_message(port(), c.member, c.chat_id, {{"type", "text"}, {"content", "x"}}), 403, "forbidden"));
    auto send = ws_request(*ws_member, "message.send", {{"chat_id", c.chat_id}, {"type", "text"}, {"content", "x"}});
    EXPECT_TRUE(IsWsError(send, "forbidden", send.value("id", ""))) << send.dump();
    const auto message = send_text(port(), c.other, c.chat_id, "you are quiet");
    EXPECT_TRUE(wait_for(*ws_member, "message.new", about_message(message["id"])).has_value());
    EXPECT_EQ(put(port(), c.member.token, reaction_url(message["id"], thumbs_up), json::object()).status, 204);
    EXPECT_TRUE(IsJson(get(port(), c.member.token, chat_messages_url(c.chat_id)), 200));

    ASSERT_TRUE(
        IsJson(patch(port(), c.admin.token, member_url(c.chat_id, c.member.id), {{"muted_until", nullptr}}), 200));
    EXPECT_TRUE(member_json(port(), c.owner, c.chat_id, c.member.id)["muted_until"].is_null());
    EXPECT_TRUE(IsJson(send_message(port(), c.member, c.chat_id, {{"type", "text"}, {"content", "back"}}), 201));
    auto again = ws_request(*ws_member, "message.send", {{"chat_id", c.chat_id}, {"type", "text"}, {"content", "y"}});
    EXPECT_TRUE(IsAck(again)) << again.dump();

    // A mute that has already ended mutes nothing.
    ASSERT_TRUE(IsJson(patch(port(), c.moderator.token, member_url(c.chat_id, c.member.id),
                             {{"muted_until", "2000-01-01T00:00:00Z"}}),
                       200));
    EXPECT_TRUE(IsJson(send_message(port(), c.member, c.chat_id, {{"type", "text"}, {"content", "free"}}), 201));
}

TEST_F(RolesTest, OnlyModeratorsMuteAndOnlyThoseBelowThem) {
    auto c = make_cast(port());
    const auto mute = [&](const TestUser& actor, const TestUser& target) {
        return patch(port(), actor.token, member_url(c.chat_id, target.id), {{"muted_until", far_future}});
    };
    EXPECT_TRUE(IsError(mute(c.member, c.other), 403, "forbidden"));
    EXPECT_TRUE(IsError(mute(c.member, c.member), 403, "forbidden")) << "nobody mutes themself";
    EXPECT_TRUE(IsError(mute(c.moderator, c.admin), 403, "forbidden"));
    EXPECT_TRUE(IsError(mute(c.admin, c.owner), 403, "forbidden"));
    EXPECT_TRUE(IsJson(mute(c.admin, c.moderator), 200));
    EXPECT_TRUE(IsJson(send_message(port(), c.owner, c.chat_id, {{"type", "text"}, {"content", "ok"}}), 201));
    EXPECT_TRUE(IsError(patch(port(), c.moderator.token, member_url(c.chat_id, c.member.id), {{"muted_until", "soon"}}),
                        400, "bad_request"));
    EXPECT_TRUE(IsError(patch(port(), c.moderator.token, member_url(c.chat_id, c.member.id), {{"muted_until", 5}}), 400,
                        "bad_request"));
    const auto direct = create_direct(port(), c.member, c.other);
    EXPECT_TRUE(
        IsError(patch(port(), c.member.token, member_url(direct["id"], c.other.id), {{"muted_until", far_future}}), 403,
                "forbidden"));
}

// ---------------------------------------------------------------------------------------------
// Bans

using BansTest = ChatTest;

std::string bans_url(const std::string& chat_id) { return chat_url(chat_id) + "/bans"; }
std::string ban_url(const std::string& chat_id, const std::string& user_id) {
    return bans_url(chat_id) + "/" + user_id;
}

HttpResponse ban(std::uint16_t port, const TestUser& actor, const std::string& chat_id, const std::string& user_id,
                 json extra = json::object()) {
    extra["user_id"] = user_id;
    return post(port, actor.token, bans_url(chat_id), extra);
}

::testing::AssertionResult IsBanModel(const json& j) {
    for (const char* key : {"chat_id", "user_id", "banned_by", "until", "created_at"})
        if (!j.contains(key)) return ::testing::AssertionFailure() << "BanModel lacks " << key << ": " << j.dump();
    if (j.size() != 5) return ::testing::AssertionFailure() << "BanModel has undocumented keys: " << j.dump();
    return ::testing::AssertionSuccess();
}

TEST_F(BansTest, ABannedMemberIsRemovedAtOnceHearsNothingMoreAndCannotBeAddedBack) {
    auto c = make_cast(port());
    auto ws_banned = ws_connect(port(), c.member.token);
    auto ws_other = ws_connect(port(), c.other.token);
    const auto r = ban(port(), c.moderator, c.chat_id, c.member.id);
    ASSERT_TRUE(IsJson(r, 201));
    const auto made = r.json();
    EXPECT_TRUE(IsBanModel(made));
    EXPECT_EQ(made["chat_id"], c.chat_id);
    EXPECT_EQ(made["user_id"], c.member.id);
    EXPECT_EQ(made["banned_by"], c.moderator.id);
    EXPECT_TRUE(made["until"].is_null());

    const auto removal = [&](const json& f) { return f["data"].value("user_id", "") == c.member.id; };
    ASSERT_TRUE(wait_for(*ws_banned, "member.removed", and_(about_chat(c.chat_id), removal)).has_value());
    ASSERT_TRUE(wait_for(*ws_other, "member.removed", and_(about_chat(c.chat_id), removal)).has_value());
    const auto note = wait_for(*ws_other, "message.new", about_chat(c.chat_id));
    ASSERT_TRUE(note.has_value());
    EXPECT_EQ((*note)["data"]["message"]["metadata"]["event"], "member.banned");
    EXPECT_EQ((*note)["data"]["message"]["metadata"]["user_id"], c.member.id);

    // The chat goes on without them: nothing of it reaches their socket.
    send_text(port(), c.other, c.chat_id, "after the ban");
    EXPECT_TRUE(NoFrameBefore(*ws_banned, about_chat(c.chat_id), direct_message_marker(port(), c.owner, c.member)));
    EXPECT_TRUE(IsError(get(port(), c.member.token, chat_messages_url(c.chat_id)), 404, "not_found"));

    // Not added back while banned; the list shows the ban to moderators only.
    EXPECT_TRUE(
        IsError(post(port(), c.owner.token, members_url(c.chat_id), {{"user_ids", {c.member.id}}}), 403, "forbidden"));
    const auto listed = get(port(), c.admin.token, bans_url(c.chat_id));
    ASSERT_TRUE(IsJson(listed, 200));
    ASSERT_EQ(listed.json()["bans"].size(), 1u);
    EXPECT_EQ(listed.json()["bans"][0], made);
    EXPECT_TRUE(IsError(get(port(), c.other.token, bans_url(c.chat_id)), 403, "forbidden"));
    EXPECT_TRUE(IsError(del(port(), c.other.token, ban_url(c.chat_id, c.member.id)), 403, "forbidden"));

    // Lifted, they may be added again (and the ban is gone).
    EXPECT_EQ(del(port(), c.admin.token, ban_url(c.chat_id, c.member.id)).status, 204);
    EXPECT_TRUE(IsError(del(port(), c.admin.token, ban_url(c.chat_id, c.member.id)), 404, "not_found"));
    EXPECT_EQ(get(port(), c.admin.token, bans_url(c.chat_id)).json()["bans"], json::array());
    EXPECT_EQ(add_members(port(), c.owner, c.chat_id, {c.member.id}).size(), 1u);
}

TEST_F(BansTest, NobodyBansThoseAboveOrThemselvesAndBadInputIsRefused) {
    auto c = make_cast(port());
    EXPECT_TRUE(IsError(ban(port(), c.member, c.chat_id, c.other.id), 403, "forbidden"));
    EXPECT_TRUE(IsError(ban(port(), c.moderator, c.chat_id, c.admin.id), 403, "forbidden"));
    EXPECT_TRUE(IsError(ban(port(), c.admin, c.chat_id, c.owner.id), 403, "forbidden"));
    EXPECT_TRUE(IsError(ban(port(), c.owner, c.chat_id, c.owner.id), 403, "forbidden"));
    EXPECT_TRUE(IsError(ban(port(), c.restricted, c.chat_id, c.member.id), 403, "forbidden"));
    EXPECT_TRUE(IsError(ban(port(), c.owner, c.chat_id, random_uuid()), 404, "not_found"));
    EXPECT_TRUE(IsError(ban(port(), c.owner, c.chat_id, "not-a-uuid"), 400, "bad_request"));
    EXPECT_TRUE(IsError(ban(port(), c.owner, c.chat_id, c.member.id, {{"until", "soon"}}), 400, "bad_request"));
    EXPECT_TRUE(IsError(ban(port(), c.owner, c.chat_id, c.member.id, {{"reason", "spam"}}), 400, "bad_request"));
    EXPECT_TRUE(IsError(post(port(), c.owner.token, bans_url(c.chat_id), json::object()), 400, "bad_request"));
    const auto direct = create_direct(port(), c.member, c.other);
    EXPECT_TRUE(IsError(ban(port(), c.member, direct["id"], c.other.id), 403, "forbidden"));
    const auto outsider = register_user(port(), "ro");
    EXPECT_TRUE(IsError(ban(port(), outsider, c.chat_id, c.member.id), 404, "not_found"));
    for (const auto& u : {c.member, c.other, c.moderator, c.admin, c.owner})
        EXPECT_FALSE(member_json(port(), c.owner, c.chat_id, u.id).is_null()) << "nobody was removed";
}

TEST_F(BansTest, ABanOfAUserWhoIsNotAMemberKeepsThemOutUntilItEnds) {
    auto c = make_cast(port());
    const auto stranger = register_user(port(), "ro");
    const auto briefly = register_user(port(), "ro");
    const auto invitee = register_user(port(), "ro");
    ASSERT_TRUE(IsJson(ban(port(), c.moderator, c.chat_id, stranger.id, {{"until", far_future}}), 201));
    ASSERT_TRUE(IsJson(ban(port(), c.moderator, c.chat_id, briefly.id, {{"until", "2000-01-01T00:00:00Z"}}), 201));
    EXPECT_TRUE(IsError(post(port(), c.member.token, members_url(c.chat_id), {{"user_ids", {briefly.id, stranger.id}}}),
                        403, "forbidden"));
    EXPECT_TRUE(member_json(port(), c.owner, c.chat_id, briefly.id).is_null()) << "nobody of a refused add joins";
    const auto bans = get(port(), c.owner.token, bans_url(c.chat_id)).json()["bans"];
    ASSERT_EQ(bans.size(), 1u) << "an ended ban is not listed";
    EXPECT_EQ(bans[0]["user_id"], stranger.id);
    EXPECT_EQ(add_members(port(), c.member, c.chat_id, {briefly.id}).size(), 1u) << "an ended ban keeps nobody out";

    // A pending invitation is dropped by a ban.
    expect_json(put(port(), invitee.token, "/api/v1/users/me/privacy", {{"who_can_add_me", "nobody"}}), 200, "privacy");
    const auto added = post(port(), c.owner.token, members_url(c.chat_id), {{"user_ids", {invitee.id}}});
    ASSERT_TRUE(IsJson(added, 200));
    ASSERT_EQ(added.json()["invited"], json::array({invitee.id}));
    ASSERT_TRUE(IsJson(ban(port(), c.admin, c.chat_id, invitee.id), 201));
    EXPECT_EQ(get(port(), invitee.token, "/api/v1/invitations").json()["invitations"], json::array());
}

}  // namespace
}  // namespace confab::test
