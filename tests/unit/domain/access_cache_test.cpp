#include "confab/domain/access_cache.hpp"
#include "confab/domain/chat_service.hpp"
#include "confab/domain/commit.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace confab::domain {
namespace {

TEST(AccessCache, UpdatesReplaceSnapshotsReadersKeep) {
    AccessCache cache;
    EXPECT_EQ(cache.find("c"), nullptr);
    cache.put("c", ChatAccess{ChatType::group, {}, {{"u1", Role::owner}}, {}});
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

// A change to a large group copies the one shard of the member it names, not the group:
// an update's cost does not grow with the group's size.
TEST(AccessCache, AnUpdateSharesTheUnchangedMembersWithTheSnapshotBefore) {
    AccessCache cache;
    ChatAccess access{ChatType::group, {}, {}, {}};
    for (int i = 0; i < 20000; ++i) access.members.emplace("u" + std::to_string(i), Role::member);
    cache.put("large", std::move(access));
    const auto before = cache.find("large");
    cache.update("large", [](ChatAccess& a) { a.members.emplace("joiner", Role::member); });
    const auto after = cache.find("large");
    EXPECT_EQ(after->members.size(), 20001u);
    EXPECT_EQ(before->members.size(), 20000u);
    EXPECT_FALSE(before->members.contains("joiner"));
    EXPECT_EQ(after->members.shards_shared_with(before->members), before->members.shard_count() - 1);
}

// What a write's transaction loaded goes into the cache once the write commits, before the
// write's own change to it, and tells no other node (it is the chat as committed, not a change).
TEST(AccessCache, AWritesLoadedAccessIsKeptBeforeItsOwnChange) {
    AccessCache cache;
    std::vector<std::string> told;
    cache.on_change([&told](const std::string& chat_id) { told.push_back(chat_id); });
    cache.put("c", ChatAccess{ChatType::group, {}, {{"owner", Role::owner}, {"leaver", Role::member}}, {}});
    told.clear();
    Effects effects;
    effects.cache_change = [](AccessCache& c) {
        c.update("c", [](ChatAccess& a) { a.members.emplace("joiner", Role::member); });
    };
    auto loaded = std::make_shared<const ChatAccess>(ChatAccess{ChatType::group, {}, {{"owner", Role::owner}}, {}});
    effects.keep_seen("c", {loaded, true});
    EXPECT_EQ(cache.find("c")->members.size(), 2u) << "nothing is cached before the commit";
    effects.cache_change(cache);
    const auto kept = cache.find("c");
    EXPECT_FALSE(kept->members.contains("leaver"));
    EXPECT_TRUE(kept->members.contains("joiner"));
    EXPECT_EQ(told, std::vector<std::string>{"c"}) << "only the write's own change is told";

    Effects found_cached;
    found_cached.keep_seen("c", {cache.find("c"), false});
    EXPECT_FALSE(found_cached.cache_change) << "an entry found in the cache is not kept again";
}

TEST(AccessCache, OneChatAlwaysGetsTheSameOrderMutex) {
    AccessCache cache;
    EXPECT_EQ(&cache.order_of("chat-a"), &cache.order_of("chat-a"));
}

ChatAccess with_members(int count) {
    ChatAccess access{ChatType::group, {}, {}, {}};
    for (int i = 0; i < count; ++i) access.members.emplace("u" + std::to_string(i), Role::member);
    return access;
}

TEST(AccessCache, EvictsTheLeastRecentlyUsedChatsPastItsBound) {
    AccessCache cache(30);  // a chat weighs its members plus one
    cache.put("a", with_members(9));
    cache.put("b", with_members(9));
    cache.put("c", with_members(9));
    EXPECT_EQ(cache.members(), 30u);
    ASSERT_NE(cache.find("a"), nullptr);  // a is now more recent than b
    cache.put("d", with_members(4));
    EXPECT_EQ(cache.find("b"), nullptr) << "the least recently used goes first";
    EXPECT_NE(cache.find("a"), nullptr);
    EXPECT_NE(cache.find("c"), nullptr);
    EXPECT_NE(cache.find("d"), nullptr);
    EXPECT_EQ(cache.chats(), 3u);
    EXPECT_EQ(cache.members(), 25u);
    cache.update("d", [](ChatAccess& a) { a.members.emplace("x", Role::member); });  // 6: still in bounds
    cache.update("d", [](ChatAccess& a) {
        for (int i = 0; i < 10; ++i) a.members.emplace("y" + std::to_string(i), Role::member);
    });
    EXPECT_NE(cache.find("d"), nullptr) << "the entry just stored stays";
    EXPECT_LE(cache.members(), 30u);
    cache.erase("d");
    EXPECT_LE(cache.members(), 30u - 16u);
}

TEST(AccessCache, AChatOverTheWholeBoundIsKeptUntilTheNextOne) {
    AccessCache cache(10);
    cache.put("big", with_members(50));
    EXPECT_NE(cache.find("big"), nullptr);
    cache.put("small", with_members(1));
    EXPECT_EQ(cache.find("big"), nullptr);
    EXPECT_NE(cache.find("small"), nullptr);
}

// An update reads the entry, changes a copy and stores it. When the entry is evicted in
// between, storing the copy would bring the chat back into the cache, where later updates
// (applied in commit order) might miss it and no load would replace it; instead the update
// is dropped with the entry and the next use loads the committed state.
TEST(AccessCache, AnUpdateRacingAnEvictionIsDroppedNotStoredBack) {
    AccessCache cache(20);
    cache.put("a", with_members(9));
    cache.update("a", [&](ChatAccess& a) {
        a.members.emplace("late", Role::member);
        cache.put("b", with_members(9));
        cache.put("c", with_members(9));  // evicts a while its update is being made
    });
    EXPECT_EQ(cache.find("a"), nullptr);
    EXPECT_NE(cache.find("c"), nullptr);
}

TEST(AccessCache, PinnedChatsAreNeverEvicted) {
    AccessCache cache(20);
    cache.put("a", with_members(9));
    {
        const AccessCache::Pin pin(cache, "a");
        const AccessCache::Pin again(cache, "a");
        cache.put("b", with_members(9));
        cache.put("c", with_members(9));
        EXPECT_NE(cache.find("a"), nullptr) << "a write of a is in flight";
        EXPECT_EQ(cache.find("b"), nullptr);
    }
    cache.put("d", with_members(19));  // the bound's worth: every other chat must go
    EXPECT_EQ(cache.find("a"), nullptr) << "unpinned, it is evicted like any other";
    EXPECT_EQ(cache.chats(), 1u);
}

TEST(AccessCache, EveryChangeIsToldCachedHereOrNotButNoLoad) {
    AccessCache cache;
    std::vector<std::string> told;
    cache.on_change([&](const std::string& chat_id) { told.push_back(chat_id); });
    cache.put("a", with_members(1));
    cache.update("a", [](ChatAccess& a) { a.members.emplace("u2", Role::member); });
    cache.update("elsewhere", [](ChatAccess& a) { a.members.emplace("u2", Role::member); });
    cache.erase("a");
    EXPECT_EQ(told, (std::vector<std::string>{"a", "a", "elsewhere", "a"}))
        << "another node may cache a chat this one does not";
}

TEST(AccessCache, AChatChangedElsewhereIsForgottenOnceNoWriteHoldsIt) {
    AccessCache cache;
    cache.put("idle", with_members(1));
    cache.put("busy", with_members(1));
    cache.forget("idle");
    EXPECT_EQ(cache.find("idle"), nullptr);
    {
        const AccessCache::Pin pin(cache, "busy");
        cache.forget("busy");
        EXPECT_NE(cache.find("busy"), nullptr) << "the write in flight publishes to its members";
    }
    EXPECT_EQ(cache.find("busy"), nullptr) << "gone with the last pin";
    cache.put("busy", with_members(1));
    { const AccessCache::Pin pin(cache, "busy"); }
    EXPECT_NE(cache.find("busy"), nullptr) << "forgotten once, not on every later unpin";
}

TEST(StandingIn, NonMembersLearnNothing) {
    ChatAccess access{ChatType::group, {true, false, true}, {{"u1", Role::admin}}, {}};
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
