// The rules of chat as tables: every action judged for every chat type, role and setting
// (or every actor and target role), against an expected answer written out cell by cell.
// rules_test.cpp says why each rule is what it is; this file makes sure no combination
// was left unjudged. A new role or setting adds a column or a row here.

#include "confab/domain/rules.hpp"

#include "verdicts.hpp"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace confab::domain::rules {
namespace {

using verdicts::answer;
using verdicts::reason;

constexpr std::array roles{Role::restricted, Role::member, Role::moderator, Role::admin, Role::owner};

Message open_poll(const std::string& sender) {
    return Message{.sender_id = sender, .type = MessageType::poll, .poll = Poll{}};
}

// Every combination of the group settings.
std::vector<ChatSettings> every_setting() {
    std::vector<ChatSettings> all;
    for (int bits = 0; bits < 32; ++bits)
        all.push_back({.only_admins_can_post = (bits & 1) != 0,
                       .only_admins_can_edit_info = (bits & 2) != 0,
                       .only_admins_can_add_members = (bits & 4) != 0,
                       .only_admins_can_pin = (bits & 8) != 0,
                       .only_admins_can_mention_all = (bits & 16) != 0});
    return all;
}

std::string describe(const Standing& s) {
    return std::string(to_string(s.type)) + " " + std::string(to_string(s.role)) +
           " post:" + std::to_string(s.settings.only_admins_can_post) +
           " info:" + std::to_string(s.settings.only_admins_can_edit_info) +
           " add:" + std::to_string(s.settings.only_admins_can_add_members) +
           " pin:" + std::to_string(s.settings.only_admins_can_pin) +
           " mention all:" + std::to_string(s.settings.only_admins_can_mention_all);
}

// An action that depends on the actor's standing only. `direct` is the answer in a direct
// chat (whatever the settings); `group` the answers of restricted, member, moderator, admin
// and owner; every role below admin is refused instead where `restricted_by` is set.
struct StandingRow {
    const char* action;
    std::function<void(const Standing&)> call;
    char direct;
    std::array<char, 5> group;
    bool ChatSettings::*restricted_by = nullptr;
};

const std::vector<StandingRow>& standing_rows() {
    static const std::vector<StandingRow> rows{
        {"post",
         [](const Standing& s) { may_post(s, MessageType::text); },
         'A',
         {'F', 'A', 'A', 'A', 'A'},
         &ChatSettings::only_admins_can_post},
        {"edit info",
         [](const Standing& s) { may_update_chat(s, true, false); },
         'F',
         {'F', 'A', 'A', 'A', 'A'},
         &ChatSettings::only_admins_can_edit_info},
        {"change settings", [](const Standing& s) { may_update_chat(s, false, true); }, 'F', {'F', 'F', 'F', 'A', 'A'}},
        {"delete chat", [](const Standing& s) { may_delete_chat(s); }, 'A', {'F', 'F', 'F', 'F', 'A'}},
        {"manage the chat's templates",
         [](const Standing& s) { may_manage_chat_templates(s); },
         'F',
         {'F', 'F', 'F', 'A', 'A'}},
        {"manage the chat's webhooks",
         [](const Standing& s) { may_manage_webhooks(s); },
         'F',
         {'F', 'F', 'F', 'A', 'A'}},
        {"add members",
         [](const Standing& s) { may_add_members(s); },
         'F',
         {'F', 'A', 'A', 'A', 'A'},
         &ChatSettings::only_admins_can_add_members},
        {"delete another's message",
         [](const Standing& s) { may_delete_message(s, "bob", Message{.sender_id = "ann"}); },
         'F',
         {'F', 'F', 'A', 'A', 'A'}},
        {"delete own message",
         [](const Standing& s) { may_delete_message(s, "ann", Message{.sender_id = "ann"}); },
         'A',
         {'A', 'A', 'A', 'A', 'A'}},
        {"remove another's media",
         [](const Standing& s) { may_remove_media(s, "bob", Message{.sender_id = "ann", .media = Media{}}); },
         'F',
         {'F', 'F', 'A', 'A', 'A'}},
        {"pin",
         [](const Standing& s) { may_pin(s, Message{}, true); },
         'A',
         {'F', 'A', 'A', 'A', 'A'},
         &ChatSettings::only_admins_can_pin},
        {"unpin",
         [](const Standing& s) { may_pin(s, Message{}, false); },
         'A',
         {'F', 'A', 'A', 'A', 'A'},
         &ChatSettings::only_admins_can_pin},
        {"pin a deleted message",
         [](const Standing& s) { may_pin(s, Message{.is_deleted = true}, true); },
         'C',
         {'F', 'C', 'C', 'C', 'C'},
         &ChatSettings::only_admins_can_pin},
        {"unpin a deleted message",
         [](const Standing& s) { may_pin(s, Message{.is_deleted = true}, false); },
         'A',
         {'F', 'A', 'A', 'A', 'A'},
         &ChatSettings::only_admins_can_pin},
        {"close another's poll",
         [](const Standing& s) { may_close_poll(s, "bob", open_poll("ann")); },
         'F',
         {'F', 'F', 'A', 'A', 'A'}},
        {"close own poll",
         [](const Standing& s) { may_close_poll(s, "ann", open_poll("ann")); },
         'A',
         {'A', 'A', 'A', 'A', 'A'}},
        {"close a deleted poll",
         [](const Standing& s) {
             may_close_poll(s, "ann", Message{.sender_id = "ann", .type = MessageType::poll, .is_deleted = true});
         },
         'C',
         {'C', 'C', 'C', 'C', 'C'}},
        {"close a text",
         [](const Standing& s) { may_close_poll(s, "ann", Message{.sender_id = "ann"}); },
         'B',
         {'B', 'B', 'B', 'B', 'B'}},
        {"mention everyone",
         [](const Standing& s) { may_mention_all(s); },
         'A',
         {'F', 'A', 'A', 'A', 'A'},
         &ChatSettings::only_admins_can_mention_all},
        {"remove own media",
         [](const Standing& s) { may_remove_media(s, "ann", Message{.sender_id = "ann", .media = Media{}}); },
         'A',
         {'A', 'A', 'A', 'A', 'A'}},
        {"post media",
         [](const Standing& s) { may_post(s, MessageType::image); },
         'A',
         {'F', 'A', 'A', 'A', 'A'},
         &ChatSettings::only_admins_can_post},
        {"post a poll",
         [](const Standing& s) { may_post(s, MessageType::poll); },
         'A',
         {'F', 'A', 'A', 'A', 'A'},
         &ChatSettings::only_admins_can_post},
        {"react or vote", [](const Standing& s) { may_react(s); }, 'A', {'F', 'A', 'A', 'A', 'A'}},
        {"start a call",
         [](const Standing& s) { may_start_call(s); },
         'A',
         {'F', 'A', 'A', 'A', 'A'},
         &ChatSettings::only_admins_can_post},
    };
    return rows;
}

TEST(RulesTable, EveryStandingActionForEveryChatTypeRoleAndSetting) {
    for (const auto& row : standing_rows()) {
        for (const auto& settings : every_setting()) {
            const Standing in_direct{ChatType::direct, settings, Role::member, false};
            EXPECT_EQ(answer([&] { row.call(in_direct); }), row.direct) << row.action << ": " << describe(in_direct);
            for (std::size_t r = 0; r < roles.size(); ++r) {
                const Standing actor{ChatType::group, settings, roles[r], false};
                char expected = row.group[r];
                if (row.restricted_by && settings.*row.restricted_by && roles[r] < Role::admin) expected = 'F';
                EXPECT_EQ(answer([&] { row.call(actor); }), expected) << row.action << ": " << describe(actor);
            }
        }
    }
}

// Actions on a member: one grid per action, actor role down, target role across (restricted,
// member, moderator, admin, owner), for a target other than the actor, in a group. (Settings
// never matter: checked below for all of them.)
using Grid = std::array<std::array<char, 5>, 5>;

// Who holds `manage_roles` changes the role of those below them (to no role above their own).
constexpr Grid role_change_grid{{{'F', 'F', 'F', 'F', 'F'},
                                 {'F', 'F', 'F', 'F', 'F'},
                                 {'F', 'F', 'F', 'F', 'F'},
                                 {'A', 'A', 'A', 'F', 'F'},
                                 {'A', 'A', 'A', 'A', 'F'}}};
// Who holds `remove_members` or `ban` acts on those below them.
constexpr Grid moderation_grid{{{'F', 'F', 'F', 'F', 'F'},
                                {'F', 'F', 'F', 'F', 'F'},
                                {'A', 'A', 'F', 'F', 'F'},
                                {'A', 'A', 'A', 'F', 'F'},
                                {'A', 'A', 'A', 'A', 'F'}}};

struct MemberRow {
    const char* action;
    std::function<void(const Standing&, Role)> call;
    Grid on_others;
};

const std::vector<MemberRow>& member_rows() {
    static const std::vector<MemberRow> rows{
        {"remove", [](const Standing& a, Role t) { may_remove_member(a, t, false); }, moderation_grid},
        {"mute (moderator)", [](const Standing& a, Role t) { may_mute_member(a, t, false); }, moderation_grid},
        {"ban", [](const Standing& a, Role t) { may_ban(a, t, false); }, moderation_grid},
        {"make restricted", [](const Standing& a, Role t) { may_update_member(a, t, false, Role::restricted, false); },
         role_change_grid},
        {"make member", [](const Standing& a, Role t) { may_update_member(a, t, false, Role::member, false); },
         role_change_grid},
        {"make moderator", [](const Standing& a, Role t) { may_update_member(a, t, false, Role::moderator, false); },
         role_change_grid},
        {"make admin", [](const Standing& a, Role t) { may_update_member(a, t, false, Role::admin, false); },
         role_change_grid},
        {"make owner",
         [](const Standing& a, Role t) { may_update_member(a, t, false, Role::owner, false); },
         {{{'F', 'F', 'F', 'F', 'F'},
           {'F', 'F', 'F', 'F', 'F'},
           {'F', 'F', 'F', 'F', 'F'},
           {'F', 'F', 'F', 'F', 'F'},
           {'A', 'A', 'A', 'A', 'A'}}}},
        {"mute notifications for them",
         [](const Standing& a, Role t) { may_update_member(a, t, false, std::nullopt, true); },
         {{{'F', 'F', 'F', 'F', 'F'},
           {'F', 'F', 'F', 'F', 'F'},
           {'F', 'F', 'F', 'F', 'F'},
           {'F', 'F', 'F', 'F', 'F'},
           {'F', 'F', 'F', 'F', 'F'}}}},
    };
    return rows;
}

TEST(RulesTable, EveryActionOnAnotherMemberForEveryActorAndTargetRole) {
    for (const auto& row : member_rows())
        for (const auto& settings : every_setting())
            for (std::size_t a = 0; a < roles.size(); ++a)
                for (std::size_t t = 0; t < roles.size(); ++t) {
                    const Standing actor{ChatType::group, settings, roles[a], false};
                    EXPECT_EQ(answer([&] { row.call(actor, roles[t]); }), row.on_others[a][t])
                        << row.action << ": " << describe(actor) << " on a " << to_string(roles[t]);
                }
}

// What members may do to themselves, by their own role (restricted, member, moderator,
// admin, owner): nobody raises themself; an admin may step down.
struct SelfRow {
    const char* action;
    std::function<void(const Standing&)> call;
    std::array<char, 5> group;
    char direct;
};

TEST(RulesTable, EveryActionOnOneselfForEveryRole) {
    const std::vector<SelfRow> rows{
        {"leave", [](const Standing& s) { may_remove_member(s, s.role, true); }, {'A', 'A', 'A', 'A', 'A'}, 'F'},
        {"mute notifications",
         [](const Standing& s) { may_update_member(s, s.role, true, std::nullopt, true); },
         {'A', 'A', 'A', 'A', 'A'},
         'A'},
        {"mute (moderator)",
         [](const Standing& s) { may_mute_member(s, s.role, true); },
         {'F', 'F', 'F', 'F', 'F'},
         'F'},
        {"ban", [](const Standing& s) { may_ban(s, s.role, true); }, {'F', 'F', 'F', 'F', 'F'}, 'F'},
        {"become restricted",
         [](const Standing& s) { may_update_member(s, s.role, true, Role::restricted, false); },
         {'F', 'F', 'F', 'A', 'F'},
         'F'},
        {"become member",
         [](const Standing& s) { may_update_member(s, s.role, true, Role::member, false); },
         {'F', 'F', 'F', 'A', 'F'},
         'F'},
        {"become moderator",
         [](const Standing& s) { may_update_member(s, s.role, true, Role::moderator, false); },
         {'F', 'F', 'F', 'A', 'F'},
         'F'},
        {"become admin",
         [](const Standing& s) { may_update_member(s, s.role, true, Role::admin, false); },
         {'F', 'F', 'F', 'A', 'F'},
         'F'},
    };
    for (const auto& row : rows)
        for (const auto& settings : every_setting()) {
            const Standing in_direct{ChatType::direct, settings, Role::member, false};
            EXPECT_EQ(answer([&] { row.call(in_direct); }), row.direct) << row.action << ": " << describe(in_direct);
            for (std::size_t r = 0; r < roles.size(); ++r) {
                const Standing actor{ChatType::group, settings, roles[r], false};
                EXPECT_EQ(answer([&] { row.call(actor); }), row.group[r]) << row.action << ": " << describe(actor);
            }
        }
}

// Every permission against every role: what each role holds in a group whose settings
// withdraw nothing ('y'), and what it keeps when every only_admins_can_* setting is on.
// Columns: restricted, member, moderator, admin, owner; and in a direct chat.
TEST(RulesTable, EveryPermissionForEveryRole) {
    struct Row {
        Permission permission;
        const char* open;         // every setting off
        const char* only_admins;  // every setting on
        char direct;
    };
    const std::vector<Row> rows{
        {Permission::post, "nyyyy", "nnnyy", 'y'},
        {Permission::post_media, "nyyyy", "nnnyy", 'y'},
        {Permission::react, "nyyyy", "nyyyy", 'y'},
        {Permission::mention_all, "nyyyy", "nnnyy", 'y'},
        {Permission::add_members, "nyyyy", "nnnyy", 'n'},
        {Permission::remove_members, "nnyyy", "nnyyy", 'n'},
        {Permission::edit_info, "nyyyy", "nnnyy", 'n'},
        {Permission::change_settings, "nnnyy", "nnnyy", 'n'},
        {Permission::pin, "nyyyy", "nnnyy", 'y'},
        {Permission::delete_messages, "nnyyy", "nnyyy", 'n'},
        {Permission::manage_templates, "nnnyy", "nnnyy", 'n'},
        {Permission::manage_roles, "nnnyy", "nnnyy", 'n'},
        {Permission::ban, "nnyyy", "nnyyy", 'n'},
        {Permission::manage_invite_links, "nnnyy", "nnnyy", 'n'},
        {Permission::handle_reports, "nnyyy", "nnyyy", 'n'},
    };
    ASSERT_EQ(rows.size(), every_permission().size()) << "a new permission adds a row here";
    const ChatSettings open{.only_admins_can_post = false,
                            .only_admins_can_edit_info = false,
                            .only_admins_can_add_members = false,
                            .only_admins_can_pin = false,
                            .only_admins_can_mention_all = false};
    const ChatSettings only_admins{.only_admins_can_post = true,
                                   .only_admins_can_edit_info = true,
                                   .only_admins_can_add_members = true,
                                   .only_admins_can_pin = true,
                                   .only_admins_can_mention_all = true};
    const auto marks = [](const ChatSettings& settings, Permission permission) {
        std::string got;
        for (const auto role : roles) got += permits({ChatType::group, settings, role, false}, permission) ? 'y' : 'n';
        return got;
    };
    for (const auto& row : rows) {
        EXPECT_EQ(marks(open, row.permission), row.open) << to_string(row.permission);
        EXPECT_EQ(marks(only_admins, row.permission), row.only_admins) << to_string(row.permission);
        EXPECT_EQ(permits({ChatType::direct, open, Role::member, false}, row.permission) ? 'y' : 'n', row.direct)
            << to_string(row.permission);
    }
}

// A custom role's permissions replace its rank's grants in a group and in a channel; the
// rank still decides whether the group's only_admins_can_* settings withdraw them (below
// admin they do). Columns: ranks restricted, member, moderator, admin; the role grants
// post, pin and delete_messages.
TEST(RulesTable, ACustomRolesPermissionsReplaceItsRanksGrants) {
    struct Row {
        Permission permission;
        const char* open;         // every setting off
        const char* only_admins;  // every setting on
    };
    const std::vector<Row> rows{
        {Permission::post, "yyyy", "nnny"},
        {Permission::post_media, "nnnn", "nnnn"},
        {Permission::react, "nnnn", "nnnn"},
        {Permission::mention_all, "nnnn", "nnnn"},
        {Permission::add_members, "nnnn", "nnnn"},
        {Permission::remove_members, "nnnn", "nnnn"},
        {Permission::edit_info, "nnnn", "nnnn"},
        {Permission::change_settings, "nnnn", "nnnn"},
        {Permission::pin, "yyyy", "nnny"},
        {Permission::delete_messages, "yyyy", "yyyy"},
        {Permission::manage_templates, "nnnn", "nnnn"},
        {Permission::manage_roles, "nnnn", "nnnn"},
        {Permission::ban, "nnnn", "nnnn"},
        {Permission::manage_invite_links, "nnnn", "nnnn"},
        {Permission::handle_reports, "nnnn", "nnnn"},
    };
    ASSERT_EQ(rows.size(), every_permission().size()) << "a new permission adds a row here";
    const std::vector<Permission> grants{Permission::post, Permission::pin, Permission::delete_messages};
    const ChatSettings open{.only_admins_can_edit_info = false, .only_admins_can_pin = false};
    const ChatSettings only_admins{.only_admins_can_post = true,
                                   .only_admins_can_edit_info = true,
                                   .only_admins_can_add_members = true,
                                   .only_admins_can_pin = true,
                                   .only_admins_can_mention_all = true};
    const auto marks = [&](ChatType type, const ChatSettings& settings, Permission permission) {
        std::string got;
        for (const auto rank : {Role::restricted, Role::member, Role::moderator, Role::admin})
            got += permits({type, settings, rank, false, DirectBlock::none, grants}, permission) ? 'y' : 'n';
        return got;
    };
    for (const auto& row : rows) {
        EXPECT_EQ(marks(ChatType::group, open, row.permission), row.open) << to_string(row.permission);
        EXPECT_EQ(marks(ChatType::group, only_admins, row.permission), row.only_admins) << to_string(row.permission);
        EXPECT_EQ(marks(ChatType::channel, open, row.permission), row.open) << "channel " << to_string(row.permission);
    }
    const CustomRole role{.rank = Role::member, .permissions = grants};
    EXPECT_EQ(granted(Role::member, role), grants);
    EXPECT_EQ(standing_of(ChatType::group, open, false, {.role = Role::member, .custom_role = role}).custom_grants,
              grants);
}

// A restricted rank posts when its custom role grants post; the built-in restricted role never.
TEST(RulesTable, ARestrictedRankPostsOnlyByACustomRolesGrant) {
    const auto posting = [](std::optional<std::vector<Permission>> grants) {
        return answer([&] {
            may_post({ChatType::group, {}, Role::restricted, false, DirectBlock::none, grants}, MessageType::text);
        });
    };
    EXPECT_EQ(posting(std::nullopt), 'F');
    EXPECT_EQ(posting(std::vector{Permission::post}), 'A');
    EXPECT_EQ(posting(std::vector{Permission::react}), 'F');
}

// The owner alone defines custom roles, in a group or a channel; a direct chat has none.
TEST(RulesTable, OnlyTheOwnerManagesCustomRoles) {
    for (const auto& settings : every_setting()) {
        EXPECT_EQ(answer([&] { may_manage_custom_roles({ChatType::direct, settings, Role::owner, false}); }), 'F');
        for (const auto type : {ChatType::group, ChatType::channel}) {
            std::string got;
            for (const auto role : roles)
                got += answer([&] { may_manage_custom_roles({type, settings, role, false}); });
            EXPECT_EQ(got, "FFFFA") << describe({type, settings, Role::member, false});
        }
    }
}

TEST(RulesTable, WhatACustomRoleMayBeCalledRankedAndHowManyAGroupHolds) {
    const std::vector<std::pair<std::string, char>> names{
        {"Editor", 'A'},
        {"", 'B'},
        {std::string(32, 'x'), 'A'},
        {std::string(33, 'x'), 'B'},
        {"Admin", 'B'},
        {"OWNER", 'B'},
        {"restricted", 'B'},
        {"Moderators", 'A'},
        {"line\nbreak", 'B'},
        {"\xe2\x80\xae"
         "evil",
         'B'},
    };
    for (const auto& name : names)
        EXPECT_EQ(answer([&] { check_custom_role_name(name.first); }), name.second) << name.first;
    std::string accents;
    for (int i = 0; i < 32; ++i) accents += "\xc3\xa9";  // 32 code points, 64 bytes
    EXPECT_EQ(answer([&] { check_custom_role_name(accents); }), 'A');
    std::string ranks;
    for (const auto rank : roles) ranks += answer([&] { check_custom_role_rank(rank); });
    EXPECT_EQ(ranks, "AAAAB");
}

// What one chat or user may hold, and the reason one more is refused with.
TEST(RulesTable, CapsAdmitUpToTheirSizeAndNameWhatIsFull) {
    struct Case {
        Capped what;
        std::size_t most;
        std::string refusal;
    };
    const std::vector<Case> caps = {
        {Capped::custom_roles, 20, "conflict:too_many_roles"},
        {Capped::bots, 20, "conflict:too_many_bots"},
        {Capped::pending_scheduled, 100, "conflict:too_many_scheduled"},
        {Capped::live_invite_links, 100, "conflict:too_many_invite_links"},
        {Capped::broadcast_lists, 100, "conflict:too_many_broadcast_lists"},
    };
    for (const auto& cap : caps) {
        EXPECT_EQ(cap_of(cap.what), cap.most) << cap.refusal;
        EXPECT_EQ(reason([&] { check_room_for_another(cap.what, 0); }), "admits") << cap.refusal;
        EXPECT_EQ(reason([&] { check_room_for_another(cap.what, cap.most - 1); }), "admits") << cap.refusal;
        EXPECT_EQ(reason([&] { check_room_for_another(cap.what, cap.most); }), cap.refusal);
        EXPECT_EQ(reason([&] { check_room_for_another(cap.what, cap.most + 5); }), cap.refusal);
    }
    try {
        check_room_for_another(Capped::broadcast_lists, 100);
    } catch (const model::Error& e) {
        ASSERT_EQ(e.amounts.size(), 1u);
        EXPECT_EQ(e.amounts[0], (std::pair<std::string, std::int64_t>{"limit", 100}));
    }
}

// Giving a custom role asks what giving its rank asks, and nobody hands out a permission
// they do not hold where they stand.
TEST(RulesTable, WhoGivesACustomRole) {
    const auto role = [](Role rank, std::vector<Permission> permissions) {
        return CustomRole{.rank = rank, .permissions = std::move(permissions)};
    };
    const Standing admin{ChatType::group, {}, Role::admin, false};
    const Standing moderator{ChatType::group, {}, Role::moderator, false};
    const std::vector pins_and_manages_roles{Permission::manage_roles, Permission::pin};
    const Standing delegate{ChatType::group,   {.only_admins_can_pin = false}, Role::moderator, false,
                            DirectBlock::none, pins_and_manages_roles};
    const Standing delegate_pin_withdrawn{ChatType::group,   {.only_admins_can_pin = true}, Role::moderator, false,
                                          DirectBlock::none, pins_and_manages_roles};
    struct Case {
        const char* what;
        Standing actor;
        Role target;
        CustomRole given;
        char expected;
    };
    const std::vector<Case> cases{
        {"admin gives a member rank", admin, Role::member, role(Role::member, {Permission::pin}), 'A'},
        {"admin gives an admin rank", admin, Role::member, role(Role::admin, every_permission()), 'A'},
        {"admin on another admin", admin, Role::admin, role(Role::member, {}), 'F'},
        {"moderator lacks manage_roles", moderator, Role::member, role(Role::member, {}), 'F'},
        {"delegate gives what it holds", delegate, Role::member, role(Role::member, {Permission::pin}), 'A'},
        {"delegate gives what it lacks", delegate, Role::member, role(Role::member, {Permission::ban}), 'F'},
        {"delegate gives a higher rank", delegate, Role::member, role(Role::admin, {}), 'F'},
        {"delegate on its own rank", delegate, Role::moderator, role(Role::member, {}), 'F'},
        // Withdrawn from both alike, whatever the settings become.
        {"a grant withdrawn from both", delegate_pin_withdrawn, Role::member, role(Role::member, {Permission::pin}),
         'A'},
        {"at its own rank, not its own role", delegate, Role::member, role(Role::moderator, {Permission::ban}), 'F'},
    };
    for (const auto& c : cases)
        EXPECT_EQ(answer([&] { may_assign_custom_role(c.actor, c.target, false, c.given); }), c.expected) << c.what;
}

// Banning a user who is not a member (or lifting a ban, or listing bans): who holds `ban`,
// whatever the settings; nobody in a direct chat. A banned user is neither added nor invited.
TEST(RulesTable, WhoBansANonMemberAndWhomABanKeepsOut) {
    for (const auto& settings : every_setting()) {
        EXPECT_EQ(answer([&] {
                      may_ban({ChatType::direct, settings, Role::member, false}, std::nullopt, false);
                  }),
                  'F');
        std::string got;
        for (const auto role : roles)
            got += answer([&] { may_ban({ChatType::group, settings, role, false}, std::nullopt, false); });
        EXPECT_EQ(got, "FFAAA") << describe({ChatType::group, settings, Role::member, false});
    }
    EXPECT_EQ(answer([] { may_join(false); }), 'A');
    EXPECT_EQ(answer([] { may_join(true); }), 'F');
}

// A bot goes into a group only by its owner's hand (docs/api.md, Bots), whatever role the
// adder holds: anyone else, the group's owner included, is refused with reason not_bot_owner.
TEST(RulesTable, OnlyItsOwnerAddsABot) {
    struct Case {
        std::string actor, bot_owner, expected;
    };
    const std::vector<Case> cases{{"ann", "ann", "admits"},
                                  {"bob", "ann", "forbidden:not_bot_owner"},
                                  {"", "ann", "forbidden:not_bot_owner"}};
    for (const auto& c : cases)
        EXPECT_EQ(reason([&] { may_add_bot(c.actor, c.bot_owner); }), c.expected) << c.actor << " adds " << c.bot_owner;
}

// A bot, its token, its webhook and its parked deliveries are its owner's alone (docs/api.md,
// Bots): anyone else's bot is as unknown as no bot at all (a deleted or unknown id).
TEST(RulesTable, OnlyItsOwnerManagesABot) {
    struct Case {
        std::string actor;
        std::optional<std::string> bot_owner;
        char expected;
    };
    const std::vector<Case> cases{{"ann", "ann", 'A'}, {"bob", "ann", 'N'}, {"ann", std::nullopt, 'N'}};
    for (const auto& c : cases)
        EXPECT_EQ(answer([&] { may_manage_bot(c.actor, c.bot_owner); }), c.expected)
            << c.actor << " manages " << c.bot_owner.value_or("no bot");
}

// A group's invite links are managed by who holds `manage_invite_links` (admins and the
// owner), whatever the settings; a direct chat has none.
TEST(RulesTable, WhoManagesInviteLinks) {
    for (const auto& settings : every_setting()) {
        EXPECT_EQ(answer([&] { may_manage_invite_links({ChatType::direct, settings, Role::owner, false}); }), 'F');
        std::string got;
        for (const auto role : roles)
            got += answer([&] { may_manage_invite_links({ChatType::group, settings, role, false}); });
        EXPECT_EQ(got, "FFFAA") << describe({ChatType::group, settings, Role::member, false});
    }
}

// Every state of an invite link, for a user banned or not: the answer and details.reason.
TEST(RulesTable, WhenAnInviteLinkLetsAUserIn) {
    const Timestamp now{std::chrono::milliseconds(1'000'000)};
    const auto link = [&](bool revoked, std::optional<Timestamp> expires_at, std::optional<std::int64_t> max_uses,
                          std::int64_t uses) {
        return InviteLink{
            .chat_id = "c", .expires_at = expires_at, .max_uses = max_uses, .uses = uses, .revoked = revoked};
    };
    struct Row {
        const char* state;
        InviteLink link;
        const char* open;    // may_use_invite_link (a preview)
        const char* banned;  // may_join_by_link for a banned user
    };
    const std::vector<Row> rows{
        {"no limits", link(false, std::nullopt, std::nullopt, 7), "admits", "forbidden:banned"},
        {"expires later", link(false, now + std::chrono::seconds(1), std::nullopt, 0), "admits", "forbidden:banned"},
        {"expires now", link(false, now, std::nullopt, 0), "forbidden:expired", "forbidden:expired"},
        {"expired", link(false, now - std::chrono::hours(1), std::nullopt, 0), "forbidden:expired",
         "forbidden:expired"},
        {"one use left", link(false, std::nullopt, 3, 2), "admits", "forbidden:banned"},
        {"used up", link(false, std::nullopt, 3, 3), "forbidden:used_up", "forbidden:used_up"},
        {"revoked", link(true, std::nullopt, std::nullopt, 0), "forbidden:revoked", "forbidden:revoked"},
        {"revoked and expired", link(true, now - std::chrono::hours(1), 1, 1), "forbidden:revoked",
         "forbidden:revoked"},
    };
    for (const auto& row : rows) {
        EXPECT_EQ(reason([&] { may_use_invite_link(row.link, now); }), row.open) << row.state;
        EXPECT_EQ(reason([&] { may_join_by_link(row.link, now, false); }), row.open) << row.state;
        EXPECT_EQ(reason([&] { may_join_by_link(row.link, now, true); }), row.banned) << row.state;
    }
}

// A member muted by a moderator reads, reacts and votes, but posts nothing, whatever the type.
TEST(RulesTable, AMutedMemberDoesNotPost) {
    for (const auto role : roles) {
        const Standing muted{ChatType::group, ChatSettings{}, role, true};
        EXPECT_EQ(answer([&] { may_post(muted, MessageType::text); }), 'F') << to_string(role);
        EXPECT_EQ(answer([&] { may_post(muted, MessageType::image); }), 'F') << to_string(role);
        EXPECT_EQ(answer([&] { may_react(muted); }), role == Role::restricted ? 'F' : 'A') << to_string(role);
        EXPECT_EQ(answer([&] { may_start_call(muted); }), 'F') << to_string(role);
    }
}

// A block between a direct chat's two members stops everything that writes to the other one
// (messages of every type, calls, opening the chat), with a reason telling the two sides
// apart; reading, reacting and voting on what is already there stay. A group's standing
// never carries a block (blocks do not reach groups).
TEST(RulesTable, ABlockStopsADirectChatBothWays) {
    struct Row {
        DirectBlock block;
        const char* expected;  // post text, post image, start a call, open the chat; react
    };
    const std::vector<Row> rows{
        {DirectBlock::none, "admits admits admits admits; admits"},
        {DirectBlock::blocked, "forbidden:blocked forbidden:blocked forbidden:blocked forbidden:blocked; admits"},
        {DirectBlock::you_blocked,
         "forbidden:you_blocked forbidden:you_blocked forbidden:you_blocked forbidden:you_blocked; admits"},
    };
    for (const auto& row : rows) {
        const Standing standing{ChatType::direct, ChatSettings{}, Role::member, false, row.block};
        const auto got = reason([&] { may_post(standing, MessageType::text); }) + " " +
                         reason([&] { may_post(standing, MessageType::image); }) + " " +
                         reason([&] { may_start_call(standing); }) + " " +
                         reason([&] { may_message_directly(row.block); }) + "; " + reason([&] { may_react(standing); });
        EXPECT_EQ(got, row.expected);
    }
}

TEST(RulesTable, ABlockFavoursTheBlockersSideWhenBothBlock) {
    EXPECT_EQ(direct_block(false, false), DirectBlock::none);
    EXPECT_EQ(direct_block(false, true), DirectBlock::blocked);
    EXPECT_EQ(direct_block(true, false), DirectBlock::you_blocked);
    EXPECT_EQ(direct_block(true, true), DirectBlock::you_blocked) << "so their client can offer to unblock";
}

TEST(RulesTable, NobodyBlocksThemself) {
    EXPECT_EQ(reason([] { may_block(true); }), "bad_request:");
    EXPECT_EQ(reason([] { may_block(false); }), "admits");
}

// Broadcast lists: the owner alone uses a list, and anyone else is told it is not found (so
// lists cannot be probed); a list holds 0 to 256 recipients, never its owner; a broadcast
// names no upload, reply or thread (they belong to one chat) and needs its client_id.
TEST(RulesTable, WhoUsesABroadcastListAndWhatItHolds) {
    EXPECT_EQ(reason([] { may_use_broadcast_list(true); }), "admits");
    EXPECT_EQ(reason([] { may_use_broadcast_list(false); }), "not_found:");
    struct Row {
        std::size_t count;
        bool includes_owner;
        const char* expected;
    };
    const std::vector<Row> rows{
        {0, false, "admits"},
        {1, false, "admits"},
        {max_broadcast_recipients, false, "admits"},
        {max_broadcast_recipients + 1, false, "conflict:too_many_recipients"},
        {1, true, "bad_request:self_recipient"},
        {max_broadcast_recipients + 1, true, "bad_request:self_recipient"},
    };
    for (const auto& row : rows)
        EXPECT_EQ(reason([&] { check_broadcast_recipients(row.count, row.includes_owner, "recipient_ids"); }),
                  row.expected)
            << row.count << " recipients, owner among them: " << row.includes_owner;
}

TEST(RulesTable, WhatABroadcastMayCarry) {
    struct Row {
        bool client_id, media, reply, thread;
        const char* expected_field;  // empty: admitted
    };
    const std::vector<Row> rows{
        {true, false, false, false, ""},
        {false, false, false, false, "client_id"},
        {true, true, false, false, "media_id"},
        {true, false, true, false, "reply_to_id"},
        {true, false, false, true, "thread_root_id"},
    };
    for (const auto& row : rows) {
        std::string field;
        try {
            may_broadcast(row.client_id, row.media, row.reply, row.thread);
        } catch (const Error& error) {
            EXPECT_EQ(error.code(), ErrorCode::bad_request);
            field = error.field().value_or("?");
        }
        EXPECT_EQ(field, row.expected_field);
    }
}

// Whether a message can be forwarded, whoever forwards it (where to is may_post's question).
TEST(RulesTable, WhichMessagesCanBeForwarded) {
    struct Row {
        const char* message;
        Message value;
        char expected;
    };
    const std::vector<Row> rows{
        {"text", Message{.type = MessageType::text}, 'A'},
        {"image", Message{.type = MessageType::image, .media = Media{}}, 'A'},
        {"location", Message{.type = MessageType::location}, 'A'},
        {"forwarded", Message{.forwarded_from = ForwardOrigin{}}, 'A'},
        {"image whose media was removed", Message{.type = MessageType::image}, 'C'},
        {"deleted", Message{.is_deleted = true}, 'C'},
        {"system", Message{.type = MessageType::system}, 'B'},
        {"poll", open_poll("ann"), 'B'},
    };
    for (const auto& row : rows) EXPECT_EQ(answer([&] { may_forward(row.value); }), row.expected) << row.message;
}

// Whom each privacy circle admits, and so who may add a user without asking and who sees
// their presence: the user themself, a contact (shares a chat), anybody else.
TEST(RulesTable, WhomEachPrivacyCircleAdmits) {
    struct Row {
        Circle circle;
        // adds without asking (contact, other); presence (self, contact, other); presence to
        // one in a block with the user, either way (contact, other)
        const char* expected;
    };
    const std::vector<Row> rows{
        {Circle::everyone, "yy yyy nn"},
        {Circle::contacts, "yn yyn nn"},
        {Circle::nobody, "nn ynn nn"},
    };
    const auto mark = [](bool yes) { return yes ? 'y' : 'n'; };
    for (const auto& row : rows) {
        const Privacy privacy{.who_can_add_me = row.circle, .who_can_see_presence = row.circle};
        std::string got{mark(admits(row.circle, true)), mark(admits(row.circle, false)), ' '};
        got += mark(sees_presence(privacy, true, false, false));
        got += mark(sees_presence(privacy, false, true, false));
        got += mark(sees_presence(privacy, false, false, false));
        got += ' ';
        got += mark(sees_presence(privacy, false, true, true));
        got += mark(sees_presence(privacy, false, false, true));
        EXPECT_EQ(got, row.expected) << to_string(row.circle);
    }
}

TEST(RulesTable, ReadReceiptsAreKeptFromOthersOnlyWhenTurnedOff) {
    const Privacy sending{}, keeping{.send_read_receipts = false};
    EXPECT_TRUE(sees_reads(sending, false));
    EXPECT_TRUE(sees_reads(sending, true));
    EXPECT_FALSE(sees_reads(keeping, false));
    EXPECT_TRUE(sees_reads(keeping, true)) << "the reader always sees their own";
}

TEST(RulesTable, AMuteIsSeenByTheMemberWhoMutedAlone) {
    EXPECT_TRUE(sees_mute(true));
    EXPECT_FALSE(sees_mute(false));
}

// Whether a message takes a vote, whoever votes: any member may (the caller has checked
// membership), whatever the group's settings, as long as the poll is open.
TEST(RulesTable, WhichMessagesTakeAVote) {
    struct Row {
        const char* message;
        Message value;
        char expected;
    };
    const auto closed = [] {
        auto poll = open_poll("ann");
        poll.poll->closed_at = Timestamp{};
        return poll;
    };
    const std::vector<Row> rows{
        {"open poll", open_poll("ann"), 'A'},
        {"closed poll", closed(), 'C'},
        {"deleted poll", Message{.type = MessageType::poll, .is_deleted = true}, 'C'},
        {"text", Message{.type = MessageType::text}, 'B'},
        {"system", Message{.type = MessageType::system}, 'B'},
    };
    for (const auto& row : rows) EXPECT_EQ(answer([&] { may_vote(row.value); }), row.expected) << row.message;
}

TEST(RulesTable, APollIsNotEdited) {
    EXPECT_EQ(answer([] { may_edit_message("ann", open_poll("ann")); }), 'B');
}

// Which messages can be a thread's root, whoever replies (who may reply is may_post's question).
TEST(RulesTable, WhichMessagesCanHaveAThread) {
    struct Row {
        const char* message;
        Message value;
        char expected;
    };
    const std::vector<Row> rows{
        {"text", Message{.type = MessageType::text}, 'A'},
        {"image", Message{.type = MessageType::image, .media = Media{}}, 'A'},
        {"forwarded", Message{.forwarded_from = ForwardOrigin{}}, 'A'},
        {"a root already", Message{.thread = ThreadSummary{.reply_count = 3}}, 'A'},
        {"deleted", Message{.is_deleted = true}, 'C'},
        {"system", Message{.type = MessageType::system}, 'B'},
        {"a thread reply", Message{.thread_root_id = "root"}, 'B'},
    };
    for (const auto& row : rows)
        EXPECT_EQ(answer([&] { may_reply_in_thread(row.value); }), row.expected) << row.message;
}

// Which messages have text to translate, whoever reads them (who may read is standing_in's).
TEST(RulesTable, WhichMessagesCanBeTranslated) {
    struct Row {
        const char* message;
        Message value;
        char expected;
    };
    const std::vector<Row> rows{
        {"text", Message{.type = MessageType::text, .content = "hi"}, 'A'},
        {"captioned image", Message{.type = MessageType::image, .content = "look", .media = Media{}}, 'A'},
        {"captioned file", Message{.type = MessageType::file, .content = "the plan", .media = Media{}}, 'A'},
        {"forwarded text", Message{.content = "hi", .forwarded_from = ForwardOrigin{}}, 'A'},
        {"thread reply", Message{.content = "hi", .thread_root_id = "root"}, 'A'},
        {"image without caption", Message{.type = MessageType::image, .media = Media{}}, 'B'},
        {"location", Message{.type = MessageType::location, .content = "here"}, 'B'},
        {"system", Message{.type = MessageType::system, .content = "Ann joined"}, 'B'},
        {"poll", Message{.type = MessageType::poll, .content = "Lunch?", .poll = Poll{}}, 'B'},
        {"deleted", Message{.is_deleted = true}, 'C'},
        {"deleted poll", Message{.type = MessageType::poll, .is_deleted = true}, 'C'},
    };
    for (const auto& row : rows) EXPECT_EQ(answer([&] { may_translate(row.value); }), row.expected) << row.message;
}

// Deleting an account: a password account with its password, a host account (no password)
// by the authenticated request alone, whatever it sends.
TEST(RulesTable, WhatConfirmsAnAccountsDeletion) {
    struct Row {
        bool has_password;
        std::optional<bool> password_matches;
        char expected;
    };
    const std::vector<Row> rows{
        {true, true, 'A'},          {true, false, 'F'},  {true, std::nullopt, 'B'},
        {false, std::nullopt, 'A'}, {false, false, 'A'}, {false, true, 'A'},
    };
    for (const auto& row : rows)
        EXPECT_EQ(answer([&] { may_delete_account(row.has_password, row.password_matches); }), row.expected)
            << "password account: " << row.has_password
            << " matches: " << (row.password_matches ? std::to_string(*row.password_matches) : "none given");
}

// An avatar is the caller's own image uploaded with purpose=avatar (of no chat), not attached.
TEST(RulesTable, WhichUploadsCanBeAnAvatar) {
    const Media avatar_upload{.uploader_id = "ann", .kind = MediaKind::image};
    struct Row {
        const char* media;
        std::optional<Media> value;
        char expected;
    };
    const std::vector<Row> rows{
        {"own avatar upload", avatar_upload, 'A'},
        {"none", std::nullopt, 'B'},
        {"another's avatar upload", Media{.uploader_id = "bob", .kind = MediaKind::image}, 'B'},
        {"own upload to a chat", Media{.chat_id = "c1", .uploader_id = "ann", .kind = MediaKind::image}, 'B'},
        {"own chat media attached to a message",
         Media{.chat_id = "c1", .uploader_id = "ann", .kind = MediaKind::image, .attached = true}, 'B'},
        {"own file without a chat", Media{.uploader_id = "ann", .kind = MediaKind::file}, 'B'},
        {"own avatar upload attached already", Media{.uploader_id = "ann", .kind = MediaKind::image, .attached = true},
         'C'},
    };
    for (const auto& row : rows)
        EXPECT_EQ(answer([&] { may_set_avatar(row.value, "ann"); }), row.expected) << row.media;
}

TEST(RulesTable, OneExportAtATimeAndOnlyAReadyOneDownloads) {
    EXPECT_EQ(answer([] { may_start_export(false); }), 'A');
    EXPECT_EQ(answer([] { may_start_export(true); }), 'C');
    const std::vector<std::pair<ExportStatus, char>> rows{{ExportStatus::pending, 'C'},
                                                          {ExportStatus::running, 'C'},
                                                          {ExportStatus::ready, 'A'},
                                                          {ExportStatus::failed, 'C'}};
    for (const auto& row : rows)
        EXPECT_EQ(answer([&row] { may_download_export(row.first); }), row.second) << to_string(row.first);
}

// Every combination of who the member is to the message and what they chose for the chat.
TEST(RulesTable, WhoIsPushedANewMessage) {
    const Timestamp now{std::chrono::milliseconds(1'000'000)};
    const std::optional<Timestamp> unmuted;
    const std::optional<Timestamp> muted_ahead = now + std::chrono::minutes(5);
    const std::optional<Timestamp> muted_past = now - std::chrono::minutes(5);
    struct Row {
        const char* name;
        PushCandidate member;
        bool pushed;
    };
    const auto with = [](NotifyLevel level, std::optional<Timestamp> until, bool is_muted) {
        return NotificationSettings{.level = level, .muted_until = until, .is_muted = is_muted};
    };
    const std::vector<Row> rows{
        {"offline member, all", {false, false, false, with(NotifyLevel::all, unmuted, false)}, true},
        {"offline member, all, mentioned", {false, false, true, with(NotifyLevel::all, unmuted, false)}, true},
        {"the sender", {true, false, true, with(NotifyLevel::all, unmuted, false)}, false},
        {"connected member", {false, true, true, with(NotifyLevel::all, unmuted, false)}, false},
        {"is_muted member", {false, false, true, with(NotifyLevel::all, unmuted, true)}, false},
        {"mentions only, not mentioned", {false, false, false, with(NotifyLevel::mentions, unmuted, false)}, false},
        {"mentions only, mentioned", {false, false, true, with(NotifyLevel::mentions, unmuted, false)}, true},
        {"none, mentioned", {false, false, true, with(NotifyLevel::none, unmuted, false)}, false},
        {"muted until later", {false, false, true, with(NotifyLevel::all, muted_ahead, false)}, false},
        {"muted until a time passed", {false, false, false, with(NotifyLevel::all, muted_past, false)}, true},
        {"mentions only, muted until later, mentioned",
         {false, false, true, with(NotifyLevel::mentions, muted_ahead, false)},
         false},
        {"mentions only, mute passed, mentioned",
         {false, false, true, with(NotifyLevel::mentions, muted_past, false)},
         true},
        {"is_muted with level all and mute passed",
         {false, false, false, with(NotifyLevel::all, muted_past, true)},
         false},
    };
    for (const auto& row : rows) EXPECT_EQ(should_push(row.member, now), row.pushed) << row.name;
}

// Slow mode: for every role, a member's last post against the interval (60 s here): 'A' to
// post, 'R' rate_limited (reason slow_mode, with the wait). Moderators and above are exempt;
// so is everyone where it is off, and in a direct chat (which has no settings).
TEST(RulesTable, WhomSlowModeHoldsBack) {
    const Timestamp now{std::chrono::hours(1000)};
    const auto verdict = [&](const Standing& actor, std::optional<Timestamp> last) {
        try {
            may_post_after(actor, last, now);
            return 'A';
        } catch (const Error& error) {
            if (error.code() != ErrorCode::rate_limited || error.reason != "slow_mode") return '?';
            return 'R';
        }
    };
    struct Row {
        const char* last_post;
        std::optional<Timestamp> at;
        const char* on;  // restricted, member, moderator, admin, owner, with slow mode at 60 s
    };
    const std::vector<Row> rows{
        {"none yet", std::nullopt, "AAAAA"},
        {"just now", now, "RRAAA"},
        {"59.999 s ago", now - std::chrono::milliseconds(59'999), "RRAAA"},
        {"60 s ago", now - std::chrono::seconds(60), "AAAAA"},
        {"an hour ago", now - std::chrono::hours(1), "AAAAA"},
        {"ahead of the clock", now + std::chrono::seconds(5), "RRAAA"},
    };
    for (const auto& row : rows) {
        std::string on;
        std::string off;
        for (const auto role : roles) {
            on += verdict({ChatType::group, {.slow_mode_seconds = 60}, role, false}, row.at);
            off += verdict({ChatType::group, {}, role, false}, row.at);
        }
        EXPECT_EQ(on, row.on) << row.last_post;
        EXPECT_EQ(off, "AAAAA") << row.last_post;
        EXPECT_EQ(verdict({ChatType::direct, {.slow_mode_seconds = 60}, Role::member, false}, row.at), 'A')
            << row.last_post;
    }
}

// The wait a refusal reports: exact in retry_after_ms, rounded up in retry_after_seconds.
TEST(RulesTable, HowLongSlowModeSaysToWait) {
    const Timestamp now{std::chrono::hours(1000)};
    const Standing member{ChatType::group, {.slow_mode_seconds = 10}, Role::member, false};
    struct Row {
        std::chrono::milliseconds since_last;
        std::int64_t ms;
        std::int64_t seconds;
    };
    for (const auto& row : std::vector<Row>{{std::chrono::milliseconds(0), 10'000, 10},
                                            {std::chrono::milliseconds(1), 9'999, 10},
                                            {std::chrono::milliseconds(9'000), 1'000, 1},
                                            {std::chrono::milliseconds(9'999), 1, 1}}) {
        try {
            may_post_after(member, now - row.since_last, now);
            ADD_FAILURE() << row.since_last.count() << " ms after: allowed";
        } catch (const Error& error) {
            EXPECT_EQ(error.retry_after_ms, row.ms) << row.since_last.count();
            ASSERT_EQ(error.amounts.size(), 1u);
            EXPECT_EQ(error.amounts[0], (std::pair<std::string, std::int64_t>{"retry_after_seconds", row.seconds}))
                << row.since_last.count();
        }
    }
}

TEST(RulesTable, WhichSlowModeIntervalsAGroupMaySet) {
    for (const auto& [seconds, expected] : std::vector<std::pair<std::int64_t, char>>{
             {-1, 'B'}, {0, 'A'}, {1, 'A'}, {3600, 'A'}, {3601, 'B'}, {std::numeric_limits<std::int64_t>::max(), 'B'}})
        EXPECT_EQ(answer([s = seconds] { check_slow_mode_seconds(s); }), expected) << seconds;
}

// Reports: which messages a member may report, who handles a chat's reports (who holds
// `handle_reports`: moderators, admins, the owner, whatever the settings; nobody in a direct
// chat, whose reports go to operators only), and that a report is resolved once.
TEST(RulesTable, WhatIsReportedAndWhoHandlesReports) {
    const std::string actor = "a";
    struct Row {
        const char* message;
        Message m;
        char answer;
    };
    const std::vector<Row> rows{
        {"another's text", Message{.sender_id = "b", .type = MessageType::text}, 'A'},
        {"another's poll", Message{.sender_id = "b", .type = MessageType::poll}, 'A'},
        {"one's own", Message{.sender_id = actor, .type = MessageType::text}, 'B'},
        {"a system message", Message{.type = MessageType::system}, 'B'},
        {"another's, deleted", Message{.sender_id = "b", .type = MessageType::text, .is_deleted = true}, 'C'},
    };
    for (const auto& row : rows) EXPECT_EQ(answer([&] { may_report(actor, row.m); }), row.answer) << row.message;

    for (const auto& settings : every_setting()) {
        EXPECT_EQ(answer([&] { may_handle_reports({ChatType::direct, settings, Role::owner, false}); }), 'F');
        std::string got;
        for (const auto role : roles)
            got += answer([&] { may_handle_reports({ChatType::group, settings, role, false}); });
        EXPECT_EQ(got, "FFAAA") << describe({ChatType::group, settings, Role::member, false});
    }
    EXPECT_EQ(answer([] { may_resolve_report(false); }), 'A');
    EXPECT_EQ(answer([] { may_resolve_report(true); }), 'C');
}

// A report of one's own message is handled by the other handlers and the operators: its
// sender neither hears of it, lists it nor resolves it (own_message), whatever their role.
TEST(RulesTable, NobodyHandlesReportsOfTheirOwnMessage) {
    const std::string actor = "a";
    const std::optional<std::string> own = actor, another = std::string("b"), gone = std::nullopt;
    for (const auto& settings : every_setting()) {
        std::string handles, of_another, of_own, of_gone;
        for (const auto role : roles) {
            const Standing standing{ChatType::group, settings, role, false};
            handles += handles_report(standing, actor, another) ? 'y' : 'n';
            handles += handles_report(standing, actor, own) ? 'y' : 'n';
            handles += handles_report(standing, actor, gone) ? 'y' : 'n';
            of_another += answer([&] { may_handle_report(standing, actor, another); });
            of_own += reason([&] { may_handle_report(standing, actor, own); }) + " ";
            of_gone += answer([&] { may_handle_report(standing, actor, gone); });
        }
        const auto context = describe({ChatType::group, settings, Role::member, false});
        // restricted, member, moderator, admin, owner; each: another's, own, a gone account's
        EXPECT_EQ(handles, "nnnnnnynyynyyny") << context;
        EXPECT_EQ(of_another, "FFAAA") << context;
        EXPECT_EQ(of_gone, "FFAAA") << context;
        EXPECT_EQ(of_own, "forbidden: forbidden: forbidden:own_message forbidden:own_message forbidden:own_message ")
            << context;
    }
    const Standing direct{ChatType::direct, ChatSettings{}, Role::owner, false};
    EXPECT_FALSE(handles_report(direct, actor, another));
    EXPECT_EQ(answer([&] { may_handle_report(direct, actor, another); }), 'F');
}

}  // namespace
}  // namespace confab::domain::rules
