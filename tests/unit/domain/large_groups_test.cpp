// Large groups as tables (docs/api.md, Large groups): who makes a group large, the cap each
// kind of chat has, and what a large group stops telling every member.

#include "confab/domain/rules.hpp"

#include "verdicts.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>

namespace confab::domain {
namespace {

using verdicts::answer;

constexpr std::array roles{Role::restricted, Role::member, Role::moderator, Role::admin, Role::owner};

Standing standing(ChatType type, Role role, bool large) {
    Standing s{type, {}, role};
    s.large = large;
    return s;
}

// Every role asking `large` true and false, in every kind of chat: a letter per role
// (restricted member moderator admin owner), 'A' allowed, else the refusal's first letter.
TEST(LargeGroupRules, WhoMakesAGroupLarge) {
    struct Row {
        ChatType type;
        bool large_now;
        bool asked;
        const char* expected;
    };
    // clang-format off
    const std::vector<Row> table{
        {ChatType::group,   false, true,  "FFFFA"},  // the owner alone makes a group large
        {ChatType::group,   false, false, "AAAAA"},  // false on an ordinary group changes nothing
        {ChatType::group,   true,  true,  "AAAAA"},  // true again changes nothing
        {ChatType::group,   true,  false, "FFFFB"},  // one way: a large group stays large
        {ChatType::direct,  false, true,  "BBBBB"},
        {ChatType::channel, false, true,  "BBBBB"},
    };
    // clang-format on
    for (const auto& row : table) {
        std::string got;
        for (const auto role : roles)
            got += answer([&] { rules::may_make_large(standing(row.type, role, row.large_now), row.asked); });
        EXPECT_EQ(got, row.expected) << to_string(row.type) << " large=" << row.large_now << " asked=" << row.asked
                                     << " (columns: restricted member moderator admin owner)";
    }
}

TEST(LargeGroupRules, EachKindOfChatHasItsCap) {
    const rules::MemberCaps caps{3, 10};
    EXPECT_EQ(rules::member_cap(ChatType::group, false, caps), 3u);
    EXPECT_EQ(rules::member_cap(ChatType::group, true, caps), 10u);
    EXPECT_EQ(rules::member_cap(ChatType::direct, false, caps), 3u);
    EXPECT_FALSE(rules::member_cap(ChatType::channel, false, caps).has_value());
    struct Row {
        ChatType type;
        bool large;
        std::size_t members;
        char expected;
    };
    const std::vector<Row> table{
        {ChatType::group, false, 3, 'A'}, {ChatType::group, false, 4, 'C'},
        {ChatType::group, true, 4, 'A'},  {ChatType::group, true, 10, 'A'},
        {ChatType::group, true, 11, 'C'}, {ChatType::channel, false, 11, 'A'},
        {ChatType::group, false, 0, 'A'}, {ChatType::channel, false, 1'000'000, 'A'},
    };
    for (const auto& row : table)
        EXPECT_EQ(answer([&] { rules::check_room(row.type, row.large, row.members, caps); }), row.expected)
            << to_string(row.type) << " large=" << row.large << " members=" << row.members;
}

TEST(LargeGroupRules, AFullGroupNamesTheFieldAsked) {
    try {
        rules::check_room(ChatType::group, false, 4, {3, 10}, "user_ids");
        FAIL() << "a full group was not refused";
    } catch (const model::Error& error) {
        EXPECT_EQ(error.code(), model::ErrorCode::conflict);
        EXPECT_EQ(error.field(), "user_ids");
    }
}

// What goes to every member, per kind of chat: (hears_each_member, notes_membership).
TEST(LargeGroupRules, ALargeGroupTellsMembershipToItsStaffAlone) {
    struct Row {
        ChatType type;
        bool large;
        bool hears, notes;
    };
    const std::vector<Row> table{{ChatType::group, false, true, true},
                                 {ChatType::group, true, false, false},
                                 {ChatType::direct, false, true, true},
                                 {ChatType::channel, false, false, false}};
    for (const auto& row : table) {
        EXPECT_EQ(rules::hears_each_member(row.type, row.large), row.hears) << to_string(row.type) << row.large;
        EXPECT_EQ(rules::notes_membership(row.type, row.large), row.notes) << to_string(row.type) << row.large;
    }
    // Staff rank above member: events find a chat's staff among MemberRoles::promoted().
    std::string staff;
    for (const auto role : roles) staff += rules::is_staff(role) ? 'x' : '.';
    EXPECT_EQ(staff, "..xxx");
    // A large group's members still list each other; a channel's subscribers do not.
    for (const auto role : roles) EXPECT_TRUE(rules::sees_members(standing(ChatType::group, role, true)));
}

// A call rings every other member: a large group's owner could ring them all for a mesh of six.
TEST(LargeGroupRules, NobodyStartsACallInALargeGroup) {
    std::string in_large, in_ordinary;
    for (const auto role : roles) {
        in_large += answer([&] { rules::may_start_call(standing(ChatType::group, role, true)); });
        in_ordinary += answer([&] { rules::may_start_call(standing(ChatType::group, role, false)); });
    }
    EXPECT_EQ(in_large, "FFFFF") << "(columns: restricted member moderator admin owner)";
    EXPECT_EQ(in_ordinary, "FAAAA");
}

// An everyone-mention costs a stored mention and a mention.new per member: in a large group
// it is the admins' and the owner's, whatever only_admins_can_mention_all says.
TEST(LargeGroupRules, OnlyAdminsAndTheOwnerMentionEveryoneInALargeGroup) {
    std::string in_large, in_ordinary;
    for (const auto role : roles) {
        in_large += rules::permits(standing(ChatType::group, role, true), rules::Permission::mention_all) ? 'Y' : 'N';
        in_ordinary +=
            rules::permits(standing(ChatType::group, role, false), rules::Permission::mention_all) ? 'Y' : 'N';
    }
    EXPECT_EQ(in_large, "NNNYY") << "(columns: restricted member moderator admin owner)";
    EXPECT_EQ(in_ordinary, "NYYYY");
    EXPECT_FALSE(rules::permits(rules::standing_of(ChatType::group, {}, true, {.role = Role::member}),
                                rules::Permission::mention_all))
        << "what ChatModel.me.permissions shows";
}

TEST(LargeGroupRules, OneAddTakesAtMostAThousandUsers) {
    EXPECT_EQ(answer([] { rules::check_users_per_add(1); }), 'A');
    EXPECT_EQ(answer([] { rules::check_users_per_add(rules::max_users_per_add); }), 'A');
    EXPECT_EQ(answer([] { rules::check_users_per_add(rules::max_users_per_add + 1); }), 'B');
}

}  // namespace
}  // namespace confab::domain
