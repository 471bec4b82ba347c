#include "confab/model/member_roles.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace confab::model {
namespace {

std::string user(int i) { return "user-" + std::to_string(i); }

MemberRoles with_members(int count) {
    MemberRoles members;
    for (int i = 0; i < count; ++i) members.emplace(user(i), i % 2 ? Role::member : Role::admin);
    return members;
}

// What the map holds, through its iterators: each member once.
std::map<std::string, Role> listed(const MemberRoles& members) {
    std::map<std::string, Role> out;
    for (const auto& [user_id, role] : members) EXPECT_TRUE(out.emplace(user_id, role).second) << user_id;
    return out;
}

TEST(MemberRoles, FindsAddsChangesAndRemovesMembers) {
    MemberRoles members{{"a", Role::owner}, {"b", Role::member}};
    EXPECT_EQ(members.size(), 2u);
    ASSERT_NE(members.find("a"), nullptr);
    EXPECT_EQ(*members.find("a"), Role::owner);
    EXPECT_EQ(members.find("c"), nullptr);
    EXPECT_FALSE(members.emplace("a", Role::member)) << "a present member keeps its role";
    EXPECT_EQ(*members.find("a"), Role::owner);
    EXPECT_TRUE(members.emplace("c", Role::restricted));
    members.assign("b", Role::moderator);
    members.assign("d", Role::admin);
    members.erase("a");
    members.erase("nobody");
    EXPECT_EQ(listed(members),
              (std::map<std::string, Role>{{"b", Role::moderator}, {"c", Role::restricted}, {"d", Role::admin}}));
    EXPECT_EQ(members.size(), 3u);
}

TEST(MemberRoles, KeepsTheMembersAboveMemberApart) {
    MemberRoles members{{"owner", Role::owner}, {"plain", Role::member}, {"quiet", Role::restricted}};
    members.emplace("mod", Role::moderator);
    auto copy = members;
    copy.assign("plain", Role::admin);
    copy.assign("mod", Role::member);
    copy.erase("owner");
    EXPECT_EQ(members.promoted(), (std::map<std::string, Role>{{"mod", Role::moderator}, {"owner", Role::owner}}));
    EXPECT_EQ(copy.promoted(), (std::map<std::string, Role>{{"plain", Role::admin}}));
    auto large = with_members(3000);  // cut into shards as it grows: the promoted stay
    EXPECT_EQ(large.promoted().size(), 1500u);
    large.assign(user(0), Role::member);
    EXPECT_EQ(large.promoted().size(), 1499u);
}

TEST(MemberRoles, AnEmptyMapListsNothing) {
    const MemberRoles members;
    EXPECT_TRUE(members.empty());
    EXPECT_EQ(members.begin(), members.end());
    EXPECT_TRUE(listed(with_members(0)).empty());
}

TEST(MemberRoles, AMapMovedFromIsEmptyAndTakesMembersAgain) {
    auto source = with_members(1000);
    const auto moved = std::move(source);
    EXPECT_EQ(moved.size(), 1000u);
    EXPECT_EQ(moved.promoted().size(), 500u);
    EXPECT_TRUE(source.empty());  // NOLINT(bugprone-use-after-move): what a move leaves is part of the contract
    EXPECT_EQ(source.begin(), source.end());
    EXPECT_TRUE(source.promoted().empty());
    EXPECT_FALSE(source.contains(user(0)));
    source.emplace("again", Role::owner);
    EXPECT_EQ(listed(source), (std::map<std::string, Role>{{"again", Role::owner}}));
}

TEST(MemberRoles, AGrowingMapIsCutIntoShardsAndLosesNoMember) {
    const auto members = with_members(5000);
    EXPECT_GT(members.shard_count(), 8u);
    EXPECT_EQ(members.size(), 5000u);
    const auto all = listed(members);
    ASSERT_EQ(all.size(), 5000u);
    for (int i = 0; i < 5000; ++i) {
        ASSERT_NE(members.find(user(i)), nullptr) << i;
        EXPECT_EQ(*members.find(user(i)), i % 2 ? Role::member : Role::admin);
    }
    MemberRoles reserved;
    reserved.reserve(5000);
    const auto shards = reserved.shard_count();
    for (int i = 0; i < 5000; ++i) reserved.emplace(user(i), Role::member);
    EXPECT_EQ(reserved.shard_count(), shards) << "reserved room is not cut again";
}

TEST(MemberRoles, ACopyChangedInOneMemberCopiesOneShardAndLeavesTheOriginal) {
    const auto original = with_members(5000);
    auto copy = original;
    EXPECT_EQ(copy.shards_shared_with(original), original.shard_count());
    copy.emplace("newcomer", Role::member);
    copy.assign("newcomer", Role::moderator);  // the shard copied once is changed in place after
    EXPECT_EQ(copy.shards_shared_with(original), original.shard_count() - 1);
    copy.erase(user(1));
    copy.assign(user(2), Role::owner);
    EXPECT_GE(copy.shards_shared_with(original), original.shard_count() - 3);

    EXPECT_EQ(original.size(), 5000u);
    EXPECT_EQ(original.find("newcomer"), nullptr);
    ASSERT_NE(original.find(user(1)), nullptr);
    EXPECT_EQ(*original.find(user(2)), Role::admin);
    EXPECT_EQ(copy.size(), 5000u);
    EXPECT_EQ(*copy.find("newcomer"), Role::moderator);
    EXPECT_EQ(copy.find(user(1)), nullptr);
    EXPECT_EQ(*copy.find(user(2)), Role::owner);
}

TEST(MemberRoles, ACopyAssignedOverAnotherSharesWithItsSource) {
    const auto source = with_members(3000);
    auto target = with_members(10);
    target = source;
    EXPECT_EQ(target.shards_shared_with(source), source.shard_count());
    target.erase(user(0));
    EXPECT_TRUE(source.contains(user(0)));
    EXPECT_EQ(listed(target).size(), 2999u);
}

}  // namespace
}  // namespace confab::model
