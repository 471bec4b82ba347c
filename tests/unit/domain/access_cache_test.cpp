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

TEST(RequireMember, NonMembersLearnNothing) {
    ChatAccess access{ChatType::group, {}, {{"u1", Role::admin}}};
    EXPECT_EQ(require_member(&access, "u1"), Role::admin);
    EXPECT_THROW(require_member(&access, "u2"), Error);
    EXPECT_THROW(require_member(nullptr, "u1"), Error);
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
