// Channels as tables (docs/api.md, Channels): every permission against every role in a
// channel, who sees a channel's members, handles, joining without a link, and who receives
// each event in a channel, whose subscribers do not see each other.

#include "confab/domain/audience.hpp"
#include "confab/domain/rules.hpp"

#include "verdicts.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <functional>
#include <string>
#include <vector>

namespace confab::domain {
namespace {

using verdicts::answer;
using verdicts::reason;

using rules::Permission;

constexpr std::array roles{Role::restricted, Role::member, Role::moderator, Role::admin, Role::owner};

Standing in_channel(Role role, ChatSettings settings = {}) { return {ChatType::channel, settings, role}; }

// Every permission in a channel, 'x' for each of restricted, member (subscriber), moderator,
// admin and owner who holds it, whatever the channel's only_admins_can_* settings.
// clang-format off
const std::vector<std::pair<Permission, const char*>> channel_table{
    {Permission::post,                "...xx"},
    {Permission::post_media,          "...xx"},
    {Permission::react,               ".xxxx"},
    {Permission::mention_all,         "...xx"},
    {Permission::add_members,         "...xx"},
    {Permission::remove_members,      "..xxx"},
    {Permission::edit_info,           "...xx"},
    {Permission::change_settings,     "...xx"},
    {Permission::pin,                 "...xx"},
    {Permission::delete_messages,     "..xxx"},
    {Permission::manage_templates,    "...xx"},
    {Permission::manage_roles,        "...xx"},
    {Permission::ban,                 "..xxx"},
    {Permission::manage_invite_links, "...xx"},
    {Permission::handle_reports,      "..xxx"},
};
// clang-format on

TEST(ChannelRules, EveryPermissionAgainstEveryRole) {
    ASSERT_EQ(channel_table.size(), rules::every_permission().size()) << "a permission has no row";
    const std::vector<ChatSettings> settings{
        {}, {.only_admins_can_post = true, .only_admins_can_edit_info = false, .only_admins_can_pin = false}};
    for (const auto& [permission, expected] : channel_table) {
        for (const auto& setting : settings) {
            std::string held;
            for (const auto role : roles) held += rules::permits(in_channel(role, setting), permission) ? 'x' : '.';
            EXPECT_EQ(held, expected) << rules::to_string(permission)
                                      << " (columns: restricted member moderator admin owner)";
        }
    }
}

TEST(ChannelRules, GrantedInChannelListsTheTableInPermissionOrder) {
    for (std::size_t column = 0; column < roles.size(); ++column) {
        std::vector<Permission> expected;
        for (const auto& [permission, marks] : channel_table)
            if (marks[column] == 'x') expected.push_back(permission);
        EXPECT_EQ(rules::granted_in_channel(roles[column]), expected) << to_string(roles[column]);
        EXPECT_EQ(rules::permissions(in_channel(roles[column])), expected) << to_string(roles[column]);
    }
}

// What the permissions mean for the actions a subscriber tries: reads and reacts, never posts.
TEST(ChannelRules, ActionsByRole) {
    struct Row {
        const char* action;
        std::function<void(const Standing&)> call;
        const char* expected;  // restricted member moderator admin owner
    };
    // clang-format off
    const std::vector<Row> table{
        {"post text",        [](const Standing& s) { rules::may_post(s, MessageType::text); },  "FFFAA"},
        {"post an image",    [](const Standing& s) { rules::may_post(s, MessageType::image); }, "FFFAA"},
        {"react or vote",    [](const Standing& s) { rules::may_react(s); },                    "FAAAA"},
        {"start a call",     [](const Standing& s) { rules::may_start_call(s); },               "FFFFF"},
        {"edit info",        [](const Standing& s) { rules::may_update_chat(s, true, false); }, "FFFAA"},
        {"handle, public",   [](const Standing& s) { rules::may_update_chat(s, false, true); }, "FFFAA"},
        {"delete channel",   [](const Standing& s) { rules::may_delete_chat(s); },              "FFFFA"},
        {"add members",      [](const Standing& s) { rules::may_add_members(s); },              "FFFAA"},
        {"list members",     [](const Standing& s) { rules::may_list_members(s); },             "FFAAA"},
        {"invite links",     [](const Standing& s) { rules::may_manage_invite_links(s); },      "FFFAA"},
        {"leave",            [](const Standing& s) { rules::may_remove_member(s, s.role, true); }, "AAAAA"},
        {"remove a member",  [](const Standing& s) { rules::may_remove_member(s, Role::member, false); }, "FFAAA"},
        {"ban a subscriber", [](const Standing& s) { rules::may_ban(s, Role::member, false); }, "FFAAA"},
        {"mention everyone", [](const Standing& s) { rules::may_mention_all(s); },              "FFFAA"},
    };
    // clang-format on
    for (const auto& row : table) {
        std::string got;
        for (const auto role : roles) got += answer([&] { row.call(in_channel(role)); });
        EXPECT_EQ(got, row.expected) << row.action << " (columns: restricted member moderator admin owner)";
    }
    EXPECT_EQ(reason([] { rules::may_list_members(in_channel(Role::member)); }), "forbidden:subscribers_hidden");
}

// A custom role's permissions replace its rank's grants in a channel, and the channel's
// only_admins_can_* settings withdraw none of them, as they withdraw none of the built-in roles'.
TEST(ChannelRules, ACustomRoleKeepsItsPermissionsWhateverTheChannelsSettings) {
    const ChatSettings everything_withheld{.only_admins_can_post = true,
                                           .only_admins_can_edit_info = true,
                                           .only_admins_can_add_members = true,
                                           .only_admins_can_pin = true,
                                           .only_admins_can_mention_all = true};
    const std::vector<Permission> editor{Permission::post, Permission::mention_all, Permission::add_members,
                                         Permission::edit_info, Permission::pin};  // in Permission's order
    for (const auto rank : {Role::member, Role::moderator}) {
        auto actor = in_channel(rank, everything_withheld);
        actor.custom_grants = editor;
        EXPECT_EQ(rules::permissions(actor), editor) << to_string(rank);
        EXPECT_EQ(answer([&] { rules::may_post(actor, MessageType::text); }), 'A') << to_string(rank);
        EXPECT_FALSE(rules::permits(actor, Permission::react)) << "a custom role grants only what it lists";
    }
}

TEST(ChannelRules, OnlyAChannelHidesItsMembers) {
    for (const auto role : roles) {
        EXPECT_TRUE(rules::sees_members({ChatType::group, {}, role})) << to_string(role);
        EXPECT_TRUE(rules::sees_members({ChatType::direct, {}, role})) << to_string(role);
        EXPECT_EQ(rules::sees_members(in_channel(role)), role >= Role::moderator) << to_string(role);
    }
    EXPECT_TRUE(rules::notes_membership(ChatType::group, false));
    EXPECT_FALSE(rules::notes_membership(ChatType::channel, false));
    EXPECT_EQ(rules::member_cap(ChatType::group, false, {3, 10}), 3u);
    EXPECT_FALSE(rules::member_cap(ChatType::channel, false, {3, 10}).has_value());
}

TEST(ChannelRules, Handles) {
    for (const std::string good : {"news1", "Daily_News", "a____", "abcdefghijklmnopqrstuvwxyz012345"}) {
        EXPECT_TRUE(rules::is_handle(good)) << good;
        EXPECT_EQ(answer([&] { rules::check_handle(good); }), 'A') << good;
    }
    for (const std::string bad :
         {"", "news", "1news", "_news", "news-1", "news 1", "nëws1", "news.1", "abcdefghijklmnopqrstuvwxyz0123456"}) {
        EXPECT_FALSE(rules::is_handle(bad)) << bad;
        EXPECT_EQ(answer([&] { rules::check_handle(bad); }), 'B') << bad;
    }
}

TEST(ChannelRules, OnlyAChannelHasAHandleOrIsPublicAndAPublicOneNeedsAHandle) {
    struct Row {
        ChatType type;
        bool handle;
        bool is_public;
        char expected;
    };
    const std::vector<Row> table{
        {ChatType::channel, false, false, 'A'}, {ChatType::channel, true, false, 'A'},
        {ChatType::channel, true, true, 'A'},   {ChatType::channel, false, true, 'B'},
        {ChatType::group, false, false, 'A'},   {ChatType::group, true, false, 'B'},
        {ChatType::group, false, true, 'B'},    {ChatType::direct, true, true, 'B'},
    };
    for (const auto& row : table)
        EXPECT_EQ(answer([&] { rules::check_channel_fields(row.type, row.handle, row.is_public); }), row.expected)
            << to_string(row.type) << " handle:" << row.handle << " public:" << row.is_public;
}

TEST(ChannelRules, JoiningWithoutALink) {
    EXPECT_EQ(reason([] { rules::may_join_channel(ChatType::channel, true, false); }), "admits");
    EXPECT_EQ(reason([] { rules::may_join_channel(ChatType::channel, true, true); }), "forbidden:banned");
    EXPECT_EQ(reason([] { rules::may_join_channel(ChatType::channel, false, false); }), "not_found:");
    EXPECT_EQ(reason([] { rules::may_join_channel(ChatType::channel, false, true); }), "not_found:");
    EXPECT_EQ(reason([] { rules::may_join_channel(ChatType::group, true, false); }), "not_found:");
}

// The cast of a channel: its owner, an admin, a moderator, two subscribers (one the actor),
// a subscriber who has just left, and an outsider.
constexpr std::array cast{"owner", "admin", "moderator", "member", "actor", "removed", "outsider"};

Facts channel_facts(const std::string& subject) {
    Facts facts;
    facts.members = {"owner", "admin", "moderator", "member", "actor"};
    facts.staff = std::vector<std::string>{"owner", "admin", "moderator"};
    facts.actor = "actor";
    facts.subject = subject;
    return facts;
}

TEST(ChannelAudience, SubscribersHearOfPostsNotOfEachOther) {
    struct Row {
        Occasion occasion;
        Event event;
        const char* name;
        const char* subject;
        const char* expected;  // owner admin moderator member actor removed outsider
    };
    // clang-format off
    const std::vector<Row> table{
        {Occasion::message_created, MessageCreated{}, "message.new",          "",        "xxxxx.."},
        {Occasion::message_updated, MessageUpdated{}, "message.updated",      "",        "xxxxx.."},
        {Occasion::message_deleted, MessageDeleted{}, "message.deleted",      "",        "xxxxx.."},
        {Occasion::poll_updated,    PollUpdated{},    "poll.updated",         "",        "xxxxx.."},
        {Occasion::member_added,    MemberAdded{},    "member.added",         "actor",   "xxx.x.."},
        {Occasion::role_changed,    MemberUpdated{},  "member.updated (role)", "actor",  "xxx.x.."},
        {Occasion::member_muted,    MemberUpdated{},  "member.updated (mute)", "member", "xxxx..."},
        {Occasion::member_removed,  MemberRemoved{},  "member.removed",       "removed", "xxx..x."},
        {Occasion::read_updated,    ReadUpdated{},    "read.updated",         "",        "....x.."},
        {Occasion::typing_updated,  TypingUpdated{},  "typing.update",        "",        "xxx...."},
    };
    // clang-format on
    for (const auto& row : table)
        EXPECT_EQ(verdicts::receivers(address(row.occasion, row.event, channel_facts(row.subject)), cast), row.expected)
            << row.name << " (columns: owner admin moderator member actor removed outsider)";
}

TEST(ChannelAudience, AStaffMembersTypingGoesToTheOtherStaff) {
    auto facts = channel_facts("");
    facts.actor = "admin";
    EXPECT_EQ(verdicts::receivers(address(Occasion::typing_updated, TypingUpdated{}, facts), cast), "x.x....");
}

TEST(ChannelAudience, OtherChatsKeepTheirAudience) {
    auto facts = channel_facts("actor");
    facts.staff.reset();
    EXPECT_EQ(verdicts::receivers(address(Occasion::member_added, MemberAdded{}, facts), cast), "xxxxx..");
    EXPECT_EQ(rules::sees_members({ChatType::group, {}, Role::member}), true);
}

}  // namespace
}  // namespace confab::domain
