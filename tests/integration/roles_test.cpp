// Roles and moderation (docs/api.md, Roles and permissions): the built-in roles moderator and
// restricted, the permissions each member model and `me` carry, a moderator's mute for a
// time, and the hostile side: escalation refused, and what REST refuses the WebSocket
// refuses too.

#include <algorithm>
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
    const auto ended = ban(port(), c.owner, c.chat_id, c.member.id, {{"until", "2020-01-01T00:00:00Z"}});
    EXPECT_TRUE(IsError(ended, 400, "bad_request")) << "a ban that has ended removes the member and keeps nobody out";
    EXPECT_EQ(ended.json()["error"]["details"].value("field", ""), "until");
    EXPECT_TRUE(IsError(ban(port(), c.owner, c.chat_id, c.member.id, {{"reason", "spam"}}), 400, "bad_request"));
    EXPECT_TRUE(IsError(post(port(), c.owner.token, bans_url(c.chat_id), json::object()), 400, "bad_request"));
    const auto direct = create_direct(port(), c.member, c.other);
    EXPECT_TRUE(IsError(ban(port(), c.member, direct["id"], c.other.id), 403, "forbidden"));
    const auto outsider = register_user(port(), "ro");
    EXPECT_TRUE(IsError(ban(port(), outsider, c.chat_id, c.member.id), 404, "not_found"));
    for (const auto& u : {c.member, c.other, c.moderator, c.admin, c.owner})
        EXPECT_FALSE(member_json(port(), c.owner, c.chat_id, u.id).is_null()) << "nobody was removed";
}

// A ban's time runs out (one cannot be made ended: a past until is 400).
void end_ban(const std::string& chat_id, const std::string& user_id) {
    shared_database().query_value("update chat_bans set until = now() - interval '1 second' where chat_id = '" +
                                  chat_id + "' and user_id = '" + user_id + "' returning 1");
}

TEST_F(BansTest, ABanOfAUserWhoIsNotAMemberKeepsThemOutUntilItEnds) {
    auto c = make_cast(port());
    const auto stranger = register_user(port(), "ro");
    const auto briefly = register_user(port(), "ro");
    const auto invitee = register_user(port(), "ro");
    ASSERT_TRUE(IsJson(ban(port(), c.moderator, c.chat_id, stranger.id, {{"until", far_future}}), 201));
    ASSERT_TRUE(IsJson(ban(port(), c.moderator, c.chat_id, briefly.id, {{"until", far_future}}), 201));
    end_ban(c.chat_id, briefly.id);
    EXPECT_TRUE(IsError(post(port(), c.member.token, members_url(c.chat_id), {{"user_ids", {briefly.id, stranger.id}}}),
                        403, "forbidden"));
    EXPECT_TRUE(member_json(port(), c.owner, c.chat_id, briefly.id).is_null()) << "nobody of a refused add joins";
    const auto bans = get(port(), c.owner.token, bans_url(c.chat_id)).json()["bans"];
    ASSERT_EQ(bans.size(), 1u) << "an ended ban is not listed";
    EXPECT_EQ(bans[0]["user_id"], stranger.id);
    EXPECT_EQ(add_members(port(), c.member, c.chat_id, {briefly.id}).size(), 1u) << "an ended ban keeps nobody out";
    EXPECT_TRUE(IsError(del(port(), c.moderator.token, bans_url(c.chat_id) + "/" + briefly.id), 404, "not_found"))
        << "an ended ban is none to lift";

    // A pending invitation is dropped by a ban.
    expect_json(put(port(), invitee.token, "/api/v1/users/me/privacy", {{"who_can_add_me", "nobody"}}), 200, "privacy");
    const auto added = post(port(), c.owner.token, members_url(c.chat_id), {{"user_ids", {invitee.id}}});
    ASSERT_TRUE(IsJson(added, 200));
    ASSERT_EQ(added.json()["invited"], json::array({invitee.id}));
    ASSERT_TRUE(IsJson(ban(port(), c.admin, c.chat_id, invitee.id), 201));
    EXPECT_EQ(get(port(), invitee.token, "/api/v1/invitations").json()["invitations"], json::array());
}

TEST_F(BansTest, BansArePagedNewestFirstThenByUserIdEachOnce) {
    auto c = make_cast(port());
    std::vector<std::string> tied;
    for (int i = 0; i < 4; ++i) {
        const auto user = register_user(port(), "rp");
        ASSERT_TRUE(IsJson(ban(port(), c.moderator, c.chat_id, user.id), 201));
        tied.push_back(user.id);
    }
    // Bans of one time (as a burst may make): their user ids order them, newest first still.
    shared_database().query_value("update chat_bans set created_at = now() - interval '1 minute' where chat_id = '" +
                                  c.chat_id + "'");
    const auto newest = register_user(port(), "rp");
    ASSERT_TRUE(IsJson(ban(port(), c.moderator, c.chat_id, newest.id), 201));
    const auto ended = register_user(port(), "rp");
    ASSERT_TRUE(IsJson(ban(port(), c.moderator, c.chat_id, ended.id, {{"until", far_future}}), 201));
    end_ban(c.chat_id, ended.id);
    std::sort(tied.rbegin(), tied.rend());
    std::vector<std::string> expected{newest.id};
    expected.insert(expected.end(), tied.begin(), tied.end());

    EXPECT_TRUE(PagesInOrder(port(), c.moderator.token, bans_url(c.chat_id), "bans", expected, "user_id"));

    login(port(), c.moderator.username);
    const auto sessions_cursor = first_cursor(port(), c.moderator.token, "/api/v1/sessions");
    EXPECT_TRUE(RefusesBadPages(port(), c.moderator.token, bans_url(c.chat_id), sessions_cursor));
    EXPECT_TRUE(IsError(get(port(), c.member.token, bans_url(c.chat_id) + "?limit=1"), 403, "forbidden"));
}

// Custom roles (docs/api.md, Custom roles): what the owner defines, what a holder may then
// do and no more, and who may hand one out.
using CustomRolesTest = ChatTest;

std::string roles_url(const std::string& chat_id) { return chat_url(chat_id) + "/roles"; }
std::string role_url(const std::string& chat_id, const std::string& role_id) {
    return roles_url(chat_id) + "/" + role_id;
}

json define_role(std::uint16_t port, const TestUser& owner, const std::string& chat_id, const json& definition) {
    const auto r = post(port, owner.token, roles_url(chat_id), definition);
    EXPECT_TRUE(IsJson(r, 201)) << definition.dump();
    return r.json();
}

FramePred about_role(const std::string& role_id) {
    return [role_id](const json& f) {
        return f["data"].contains("role") ? f["data"]["role"].value("id", "") == role_id
                                          : f["data"].value("role_id", "") == role_id;
    };
}

TEST_F(CustomRolesTest, TheOwnerDefinesListsChangesAndDeletesARoleAndEveryMemberHears) {
    auto c = make_cast(port());
    auto ws = ws_connect(port(), c.member.token);
    const auto r = post(port(), c.owner.token, roles_url(c.chat_id),
                        {{"name", "Editor"}, {"permissions", {"pin", "post", "pin", "delete_messages"}}});
    ASSERT_TRUE(IsJson(r, 201));
    const auto role = r.json();
    EXPECT_TRUE(IsCustomRoleModel(role));
    EXPECT_EQ(role["chat_id"], c.chat_id);
    EXPECT_EQ(role["name"], "Editor");
    EXPECT_EQ(role["rank"], "member") << "member is the default rank";
    EXPECT_EQ(strings(role["permissions"]), (std::vector<std::string>{"post", "pin", "delete_messages"}))
        << "once each, in the order of Permission";
    const std::string id = role["id"];
    const auto created = wait_for(*ws, "role.created", about_role(id));
    ASSERT_TRUE(created.has_value());
    EXPECT_EQ((*created)["data"]["role"], role);

    const auto listed = get(port(), c.restricted.token, roles_url(c.chat_id));
    ASSERT_TRUE(IsJson(listed, 200));
    const auto roles = listed.json();
    const auto& built_in = roles["built_in"];
    ASSERT_EQ(built_in.size(), 5u);
    EXPECT_EQ(built_in[0]["role"], "owner");
    EXPECT_EQ(built_in[0]["permissions"].size(), 15u);
    EXPECT_EQ(built_in[4]["role"], "restricted");
    EXPECT_EQ(built_in[4]["permissions"], json::array());
    ASSERT_EQ(roles["custom"].size(), 1u);
    EXPECT_EQ(roles["custom"][0], role);

    const auto changed =
        patch(port(), c.owner.token, role_url(c.chat_id, id), {{"name", "Editors"}, {"rank", "moderator"}});
    ASSERT_TRUE(IsJson(changed, 200));
    EXPECT_EQ(changed.json()["name"], "Editors");
    EXPECT_EQ(changed.json()["rank"], "moderator");
    EXPECT_EQ(changed.json()["permissions"], role["permissions"]) << "what the change leaves out stays";
    const auto updated = wait_for(*ws, "role.updated", about_role(id));
    ASSERT_TRUE(updated.has_value());
    EXPECT_EQ((*updated)["data"]["role"]["name"], "Editors");

    ASSERT_EQ(del(port(), c.owner.token, role_url(c.chat_id, id)).status, 204);
    const auto deleted = wait_for(*ws, "role.deleted", about_role(id));
    ASSERT_TRUE(deleted.has_value());
    EXPECT_EQ((*deleted)["data"], (json{{"chat_id", c.chat_id}, {"role_id", id}}));
    EXPECT_EQ(get(port(), c.owner.token, roles_url(c.chat_id)).json()["custom"], json::array());
    EXPECT_TRUE(IsError(del(port(), c.owner.token, role_url(c.chat_id, id)), 404, "not_found"));
}

TEST_F(CustomRolesTest, OnlyTheOwnerDefinesRolesAndBadDefinitionsAreRefused) {
    auto c = make_cast(port());
    const auto outsider = register_user(port(), "ro");
    const json editor{{"name", "Editor"}, {"permissions", {"pin"}}};
    for (const auto* actor : {&c.admin, &c.moderator, &c.member})
        EXPECT_TRUE(IsError(post(port(), actor->token, roles_url(c.chat_id), editor), 403, "forbidden"));
    EXPECT_TRUE(IsError(post(port(), outsider.token, roles_url(c.chat_id), editor), 404, "not_found"));
    EXPECT_TRUE(IsError(get(port(), outsider.token, roles_url(c.chat_id)), 404, "not_found"));
    const std::string id = define_role(port(), c.owner, c.chat_id, editor)["id"];
    EXPECT_TRUE(IsError(patch(port(), c.admin.token, role_url(c.chat_id, id), {{"name", "Boss"}}), 403, "forbidden"));
    EXPECT_TRUE(IsError(del(port(), c.admin.token, role_url(c.chat_id, id)), 403, "forbidden"));

    const std::vector<std::pair<const char*, json>> bad{
        {"no name", {{"permissions", {"pin"}}}},
        {"no permissions", {{"name", "Pinner"}}},
        {"empty name", {{"name", ""}, {"permissions", {"pin"}}}},
        {"a built-in role's name", {{"name", "Admin"}, {"permissions", {"pin"}}}},
        {"a name too long", {{"name", std::string(33, 'x')}, {"permissions", {"pin"}}}},
        {"a control character", {{"name", "a\nb"}, {"permissions", {"pin"}}}},
        {"an unknown permission", {{"name", "Pinner"}, {"permissions", {"pin", "fly"}}}},
        {"rank owner", {{"name", "Pinner"}, {"rank", "owner"}, {"permissions", {"pin"}}}},
        {"an unknown rank", {{"name", "Pinner"}, {"rank", "king"}, {"permissions", {"pin"}}}},
        {"an unknown field", {{"name", "Pinner"}, {"permissions", {"pin"}}, {"colour", "red"}}},
        {"permissions not an array", {{"name", "Pinner"}, {"permissions", "pin"}}},
    };
    for (const auto& [what, body] : bad)
        EXPECT_TRUE(IsError(post(port(), c.owner.token, roles_url(c.chat_id), body), 400, "bad_request")) << what;
    EXPECT_TRUE(IsError(patch(port(), c.owner.token, role_url(c.chat_id, id), json::object()), 400, "bad_request"));
    EXPECT_TRUE(
        IsError(patch(port(), c.owner.token, role_url(c.chat_id, "not-a-uuid"), {{"name", "X"}}), 400, "bad_request"));
    EXPECT_TRUE(IsError(patch(port(), c.owner.token, role_url(c.chat_id, outsider.id), {{"name", "Xavier"}}), 404,
                        "not_found"));
    EXPECT_TRUE(HasReason(post(port(), c.owner.token, roles_url(c.chat_id),
                               {{"name", "EDITOR"}, {"permissions", json::array()}}),
                          409, "conflict", "role_name_taken"));
    const std::string other =
        define_role(port(), c.owner, c.chat_id, {{"name", "Other"}, {"permissions", json::array()}})["id"];
    EXPECT_TRUE(HasReason(patch(port(), c.owner.token, role_url(c.chat_id, other), {{"name", "editor"}}), 409,
                          "conflict", "role_name_taken"));

    for (int i = 2; i < 20; ++i)
        define_role(port(), c.owner, c.chat_id, {{"name", "R" + std::to_string(i)}, {"permissions", json::array()}});
    EXPECT_TRUE(
        HasReason(post(port(), c.owner.token, roles_url(c.chat_id), {{"name", "R20"}, {"permissions", json::array()}}),
                  409, "conflict", "too_many_roles"));
    EXPECT_EQ(get(port(), c.owner.token, roles_url(c.chat_id)).json()["custom"].size(), 20u);

    // A direct chat has no custom roles.
    const std::string direct = create_direct(port(), c.owner, c.member)["id"];
    EXPECT_TRUE(IsError(post(port(), c.owner.token, roles_url(direct), editor), 403, "forbidden"));
}

TEST_F(CustomRolesTest, AHolderMayDoWhatItsRoleGrantsAndNoMoreUntilItChangesOrGoes) {
    auto c = make_cast(port());
    auto ws_other = ws_connect(port(), c.other.token);
    auto ws_holder = ws_connect(port(), c.member.token);
    const std::string id = define_role(port(), c.owner, c.chat_id,
                                       {{"name", "Janitor"}, {"permissions", {"react", "delete_messages"}}})["id"];
    auto r = patch(port(), c.admin.token, member_url(c.chat_id, c.member.id), {{"custom_role_id", id}});
    ASSERT_TRUE(IsJson(r, 200));
    EXPECT_TRUE(IsMemberModel(r.json()));
    EXPECT_EQ(r.json()["role"], "member") << "the rank";
    EXPECT_EQ(r.json()["custom_role"], (json{{"id", id}, {"name", "Janitor"}}));
    EXPECT_EQ(strings(r.json()["permissions"]), (std::vector<std::string>{"react", "delete_messages"}));
    const auto heard = wait_for(*ws_other, "member.updated", member_updated_of(c.chat_id, c.member.id));
    ASSERT_TRUE(heard.has_value());
    EXPECT_EQ((*heard)["data"]["member"]["custom_role"]["name"], "Janitor");
    const auto notes = system_messages(port(), c.other, c.chat_id);
    ASSERT_FALSE(notes.empty());
    EXPECT_EQ(notes.back()["metadata"]["event"], "member.role_changed");
    EXPECT_NE(notes.back()["content"].get<std::string>().find("Janitor"), std::string::npos);
    const auto me = get_chat(port(), c.member, c.chat_id);
    EXPECT_TRUE(IsChatModel(me));
    EXPECT_EQ(me["me"]["custom_role"]["id"], id);
    EXPECT_EQ(strings(me["me"]["permissions"]), (std::vector<std::string>{"react", "delete_messages"}));

    // It cleans up but no longer posts, over REST or the WebSocket.
    const auto spam = send_text(port(), c.other, c.chat_id, "spam");
    EXPECT_EQ(del(port(), c.member.token, message_url(spam["id"])).status, 204);
    EXPECT_TRUE(
        IsError(send_message(port(), c.member, c.chat_id, {{"type", "text"}, {"content", "x"}}), 403, "forbidden"));
    auto send = ws_request(*ws_holder, "message.send", {{"chat_id", c.chat_id}, {"type", "text"}, {"content", "x"}});
    EXPECT_TRUE(IsWsError(send, "forbidden", send.value("id", ""))) << send.dump();

    // Changed, the role applies to its holder at once.
    ASSERT_TRUE(IsJson(patch(port(), c.owner.token, role_url(c.chat_id, id), {{"permissions", {"post"}}}), 200));
    ASSERT_TRUE(wait_for(*ws_holder, "role.updated", about_role(id)).has_value());
    const auto regranted = wait_for(*ws_holder, "member.updated", [&](const json& f) {
        return member_updated_of(c.chat_id, c.member.id)(f) && f["data"]["member"]["permissions"] == json{"post"};
    });
    EXPECT_TRUE(regranted.has_value()) << "the holder hears its new permissions";
    EXPECT_TRUE(IsJson(send_message(port(), c.member, c.chat_id, {{"type", "text"}, {"content", "hi"}}), 201));
    const auto more = send_text(port(), c.other, c.chat_id, "more spam");
    EXPECT_TRUE(IsError(del(port(), c.member.token, message_url(more["id"])), 403, "forbidden"));

    // Deleted, its holder keeps the rank as a built-in role.
    ASSERT_EQ(del(port(), c.owner.token, role_url(c.chat_id, id)).status, 204);
    const auto after = wait_for(*ws_other, "member.updated", [&](const json& f) {
        return member_updated_of(c.chat_id, c.member.id)(f) && f["data"]["member"]["custom_role"].is_null();
    });
    ASSERT_TRUE(after.has_value());
    EXPECT_EQ((*after)["data"]["member"]["role"], "member");
    EXPECT_EQ(strings((*after)["data"]["member"]["permissions"]),
              (std::vector<std::string>{"post", "post_media", "react", "mention_all", "add_members", "edit_info",
                                        "pin"}));
    EXPECT_TRUE(member_json(port(), c.owner, c.chat_id, c.member.id)["custom_role"].is_null());
}

TEST_F(CustomRolesTest, NobodyHandsOutARoleAboveThemOrPowersTheyLack) {
    auto c = make_cast(port());
    const std::string banhammer =
        define_role(port(), c.owner, c.chat_id, {{"name", "Banhammer"}, {"permissions", {"react", "ban"}}})["id"];
    const std::string chief = define_role(port(), c.owner, c.chat_id,
                                          {{"name", "Chief"}, {"rank", "admin"}, {"permissions", {"post"}}})["id"];
    const std::string delegate =
        define_role(port(), c.owner, c.chat_id,
                    {{"name", "Delegate"}, {"rank", "moderator"}, {"permissions", {"react", "manage_roles"}}})["id"];
    const std::string reactor =
        define_role(port(), c.owner, c.chat_id, {{"name", "Reactor"}, {"permissions", {"react"}}})["id"];
    const auto give = [&](const TestUser& actor, const std::string& target, const std::string& role) {
        return patch(port(), actor.token, member_url(c.chat_id, target), {{"custom_role_id", role}});
    };
    ASSERT_TRUE(IsJson(give(c.owner, c.moderator.id, delegate), 200));
    EXPECT_TRUE(IsError(give(c.moderator, c.member.id, banhammer), 403, "forbidden")) << "the delegate lacks ban";
    EXPECT_TRUE(IsError(give(c.moderator, c.member.id, chief), 403, "forbidden")) << "an admin rank is above it";
    EXPECT_TRUE(IsError(give(c.moderator, c.admin.id, reactor), 403, "forbidden")) << "an admin is above it";
    EXPECT_TRUE(IsJson(give(c.moderator, c.member.id, reactor), 200));
    EXPECT_TRUE(IsError(give(c.member, c.other.id, reactor), 403, "forbidden")) << "a member does not manage roles";
    EXPECT_TRUE(IsError(give(c.member, c.member.id, delegate), 403, "forbidden")) << "nor climbs";
    EXPECT_TRUE(IsJson(give(c.admin, c.other.id, banhammer), 200)) << "an admin holds ban";
    EXPECT_TRUE(IsJson(give(c.owner, c.admin.id, chief), 200));

    // Nor through a built-in role: its rank's grants are powers handed out as well.
    const auto make = [&](const TestUser& actor, const std::string& target, const std::string& role) {
        return patch(port(), actor.token, member_url(c.chat_id, target), {{"role", role}});
    };
    EXPECT_TRUE(IsError(make(c.moderator, c.member.id, "moderator"), 403, "forbidden")) << "the delegate lacks ban";
    EXPECT_TRUE(IsError(make(c.moderator, c.moderator.id, "moderator"), 403, "forbidden"))
        << "only an admin changes their own role";
    const std::string greeter =
        define_role(port(), c.owner, c.chat_id,
                    {{"name", "Greeter"}, {"rank", "admin"}, {"permissions", {"manage_roles"}}})["id"];
    ASSERT_TRUE(IsJson(give(c.owner, c.other.id, greeter), 200));
    EXPECT_TRUE(IsError(make(c.other, c.other.id, "admin"), 403, "forbidden")) << "no full admin of itself";
    EXPECT_TRUE(IsError(make(c.other, c.restricted.id, "admin"), 403, "forbidden")) << "nor of another";
    EXPECT_TRUE(IsJson(make(c.other, c.member.id, "restricted"), 200)) << "restricted grants nothing";
    EXPECT_EQ(member_json(port(), c.owner, c.chat_id, c.other.id)["custom_role"]["id"], greeter);

    EXPECT_TRUE(IsError(patch(port(), c.owner.token, member_url(c.chat_id, c.member.id),
                              {{"custom_role_id", reactor}, {"role", "member"}}),
                        400, "bad_request"));
    EXPECT_TRUE(IsError(give(c.owner, c.member.id, "not-a-uuid"), 400, "bad_request"));
    EXPECT_TRUE(IsError(give(c.owner, c.member.id, c.owner.id), 404, "not_found"));
    const auto elsewhere = create_group(port(), c.owner, {c.member.id});
    const std::string foreign =
        define_role(port(), c.owner, elsewhere["id"], {{"name", "Foreign"}, {"permissions", {"post"}}})["id"];
    EXPECT_TRUE(IsError(give(c.owner, c.member.id, foreign), 404, "not_found")) << "a role of another group";

    // A built-in role takes the custom one away, even the same rank.
    const auto back = make(c.owner, c.member.id, "member");
    ASSERT_TRUE(IsJson(back, 200));
    EXPECT_TRUE(back.json()["custom_role"].is_null());
    EXPECT_EQ(back.json()["permissions"].size(), 7u);
}

// Settings are who holds change_settings: a custom role granting it below admin changes them,
// though the group keeps its info (edit_info) to admins.
TEST_F(CustomRolesTest, ARoleGrantingChangeSettingsChangesThemButNotTheInfo) {
    auto c = make_cast(port());
    const std::string keeper =
        define_role(port(), c.owner, c.chat_id,
                    {{"name", "Keeper"}, {"rank", "moderator"}, {"permissions", {"change_settings"}}})["id"];
    ASSERT_TRUE(
        IsJson(patch(port(), c.owner.token, member_url(c.chat_id, c.member.id), {{"custom_role_id", keeper}}), 200));
    const auto changed = put(port(), c.member.token, chat_url(c.chat_id), {{"settings", {{"slow_mode_seconds", 3}}}});
    ASSERT_TRUE(IsJson(changed, 200));
    EXPECT_EQ(changed.json()["settings"]["slow_mode_seconds"], 3);
    EXPECT_TRUE(IsError(put(port(), c.member.token, chat_url(c.chat_id), {{"title", "Renamed"}}), 403, "forbidden"));
    EXPECT_TRUE(IsError(put(port(), c.other.token, chat_url(c.chat_id), {{"settings", {{"slow_mode_seconds", 0}}}}),
                        403, "forbidden"));
}

}  // namespace
}  // namespace confab::test
