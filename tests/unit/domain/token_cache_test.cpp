#include "confab/domain/token_cache.hpp"

#include <gtest/gtest.h>

namespace confab::domain {
namespace {

using namespace std::chrono_literals;

TEST(TokenCache, RemembersAValidTokenForItsTtl) {
    TokenCache cache(5s, 10);
    const auto t0 = TokenCache::Clock::now();
    EXPECT_EQ(cache.find("h", t0), std::nullopt);
    cache.remember("h", "user", 1h, cache.generation(), t0);
    EXPECT_EQ(cache.find("h", t0 + 4s), "user");
    EXPECT_EQ(cache.find("h", t0 + 5s), std::nullopt);
}

TEST(TokenCache, NeverOutlivesTheTokenItself) {
    TokenCache cache(5s, 10);
    const auto t0 = TokenCache::Clock::now();
    cache.remember("h", "user", 2s, cache.generation(), t0);
    EXPECT_EQ(cache.find("h", t0 + 1s), "user");
    EXPECT_EQ(cache.find("h", t0 + 2s), std::nullopt);
}

TEST(TokenCache, ForgetTakesEffectAtOnce) {
    TokenCache cache(5s, 10);
    cache.remember("h", "user", 1h, cache.generation());
    cache.forget("h");
    EXPECT_EQ(cache.find("h"), std::nullopt);
}

// A lookup that read the token as valid before its logout committed must not put it back.
TEST(TokenCache, ALookupOlderThanAForgetIsNotRemembered) {
    TokenCache cache(5s, 10);
    const auto before = cache.generation();
    cache.forget("h");
    cache.remember("h", "user", 1h, before);
    EXPECT_EQ(cache.find("h"), std::nullopt);
    cache.remember("h", "user", 1h, cache.generation());
    EXPECT_EQ(cache.find("h"), "user");
}

TEST(TokenCache, ZeroTtlRemembersNothing) {
    TokenCache cache(0s, 10);
    cache.remember("h", "user", 1h, cache.generation());
    EXPECT_EQ(cache.find("h"), std::nullopt);
}

TEST(TokenCache, StaysWithinItsCapacity) {
    TokenCache cache(5s, 2);
    const auto t0 = TokenCache::Clock::now();
    cache.remember("a", "1", 1h, cache.generation(), t0);
    cache.remember("b", "2", 1h, cache.generation(), t0);
    cache.remember("c", "3", 1h, cache.generation(), t0);  // full of live entries: not kept
    EXPECT_EQ(cache.find("c", t0), std::nullopt);
    EXPECT_EQ(cache.find("a", t0), "1");
    cache.remember("c", "3", 1h, cache.generation(), t0 + 6s);  // the expired ones make room
    EXPECT_EQ(cache.find("c", t0 + 6s), "3");
}

}  // namespace
}  // namespace confab::domain
