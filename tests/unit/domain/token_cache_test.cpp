#include "confab/domain/token_cache.hpp"

#include <gtest/gtest.h>

namespace confab::domain {
namespace {

using namespace std::chrono_literals;

Principal principal(const std::string& token_hash, const std::string& user_id) { return {user_id, token_hash, {}}; }

std::optional<std::string> user_of(const std::optional<Principal>& found) {
    if (!found) return std::nullopt;
    return found->user_id;
}

TEST(TokenCache, RemembersAValidTokenForItsTtl) {
    TokenCache cache(5s, 10);
    const auto t0 = TokenCache::Clock::now();
    EXPECT_EQ(user_of(cache.find("h", t0)), std::nullopt);
    cache.remember(principal("h", "user"), 1h, cache.generation(), t0);
    EXPECT_EQ(user_of(cache.find("h", t0 + 4s)), "user");
    EXPECT_EQ(user_of(cache.find("h", t0 + 5s)), std::nullopt);
}

TEST(TokenCache, NeverOutlivesTheTokenItself) {
    TokenCache cache(5s, 10);
    const auto t0 = TokenCache::Clock::now();
    cache.remember(principal("h", "user"), 2s, cache.generation(), t0);
    EXPECT_EQ(user_of(cache.find("h", t0 + 1s)), "user");
    EXPECT_EQ(user_of(cache.find("h", t0 + 2s)), std::nullopt);
}

TEST(TokenCache, ForgetTakesEffectAtOnce) {
    TokenCache cache(5s, 10);
    cache.remember(principal("h", "user"), 1h, cache.generation());
    cache.forget("h");
    EXPECT_EQ(user_of(cache.find("h")), std::nullopt);
}

// A lookup that read the token as valid before its logout committed must not put it back.
TEST(TokenCache, ALookupOlderThanAForgetIsNotRemembered) {
    TokenCache cache(5s, 10);
    const auto before = cache.generation();
    cache.forget("h");
    cache.remember(principal("h", "user"), 1h, before);
    EXPECT_EQ(user_of(cache.find("h")), std::nullopt);
    cache.remember(principal("h", "user"), 1h, cache.generation());
    EXPECT_EQ(user_of(cache.find("h")), "user");
}

TEST(TokenCache, ZeroTtlRemembersNothing) {
    TokenCache cache(0s, 10);
    cache.remember(principal("h", "user"), 1h, cache.generation());
    EXPECT_EQ(user_of(cache.find("h")), std::nullopt);
}

TEST(TokenCache, StaysWithinItsCapacity) {
    TokenCache cache(5s, 2);
    const auto t0 = TokenCache::Clock::now();
    cache.remember(principal("a", "1"), 1h, cache.generation(), t0);
    cache.remember(principal("b", "2"), 1h, cache.generation(), t0);
    cache.remember(principal("c", "3"), 1h, cache.generation(), t0);  // full of live entries: not kept
    EXPECT_EQ(user_of(cache.find("c", t0)), std::nullopt);
    EXPECT_EQ(user_of(cache.find("a", t0)), "1");
    cache.remember(principal("c", "3"), 1h, cache.generation(), t0 + 6s);  // the expired ones make room
    EXPECT_EQ(user_of(cache.find("c", t0 + 6s)), "3");
}

TEST(TokenCache, ForgettingAUserKeepsOnlyTheTokenAskedFor) {
    TokenCache cache(5s, 10);
    cache.remember(principal("mine", "u1"), 1h, cache.generation());
    cache.remember(principal("other", "u1"), 1h, cache.generation());
    cache.remember(principal("theirs", "u2"), 1h, cache.generation());
    const auto before = cache.generation();
    cache.forget_user("u1", "mine");
    EXPECT_EQ(user_of(cache.find("mine")), "u1");
    EXPECT_EQ(user_of(cache.find("other")), std::nullopt);
    EXPECT_EQ(user_of(cache.find("theirs")), "u2");
    cache.remember(principal("other", "u1"), 1h, before);  // looked up before the forgetting
    EXPECT_EQ(user_of(cache.find("other")), std::nullopt);
    cache.forget_user("u1", "");
    EXPECT_EQ(user_of(cache.find("mine")), std::nullopt);
}

}  // namespace
}  // namespace confab::domain
