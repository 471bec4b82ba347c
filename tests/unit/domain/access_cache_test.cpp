#include "confab/domain/access_cache.hpp"
#include "confab/domain/chat_service.hpp"

#include <gtest/gtest.h>

namespace confab::domain {
namespace {

TEST(AccessCache, UpdatesReplaceSnapshotsReadersKeep) {
    AccessCache cache;
    EXPECT_EQ(cache.find("c"), nullptr);
    cache.put("c", ChatAccess{ChatType::group, {}, {{"u1", Role::owner}}});
    const auto before = cache.find("c");
    cache.update("c", [](ChatAccess& a) { a.members.emplace("u2", Role::member); });
    EXPECT_EQ(before->members.size(), 1u);  // an old snapshot never changes under its reader
    EXPECT_EQ(cache.find("c")->members.size(), 2u);
    cache.erase("c");
    EXPECT_EQ(cache.find("c"), nullptr);
}

TEST(AccessCache, UpdateOfAnUncachedChatDoesNothing) {
    AccessCache cache;
    cache.update("c", [](ChatAccess& a) { a.members.emplace("u", Role::member); });
    EXPECT_EQ(cache.find("c"), nullptr);
}

TEST(AccessCache, OneChatAlwaysGetsTheSameOrderMutex) {
    AccessCache cache;
    EXPECT_EQ(&cache.order_of("chat-a"), &cache.order_of("chat-a"));
}

TEST(StandingIn, NonMembersLearnNothing) {
    ChatAccess access{ChatType::group, {true, false, true}, {{"u1", Role::admin}}};
    const auto standing = standing_in(&access, "u1");
    EXPECT_EQ(standing.role, Role::admin);
    EXPECT_EQ(standing.type, ChatType::group);
    EXPECT_EQ(standing.settings, (ChatSettings{true, false, true}));
    EXPECT_THROW(standing_in(&access, "u2"), Error);
    EXPECT_THROW(standing_in(nullptr, "u1"), Error);
}

TEST(SettingsPatch, OnlyGivenKeysChange) {
    SettingsPatch patch;
    EXPECT_TRUE(patch.empty());
    patch.only_admins_can_post = true;
    const auto applied = patch.applied_to({});
    EXPECT_TRUE(applied.only_admins_can_post);
    EXPECT_TRUE(applied.only_admins_can_edit_info);
    EXPECT_FALSE(applied.only_admins_can_add_members);
    EXPECT_FALSE(patch.empty());
}

}  // namespace
}  // namespace confab::domain
