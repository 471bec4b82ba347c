#include "confab/domain/rate_limiter.hpp"

#include "confab/domain/model.hpp"

#include <gtest/gtest.h>

namespace confab::domain {
namespace {

using namespace std::chrono_literals;

TEST(RateLimiter, AllowsTheBurstThenAsksToWait) {
    RateLimiter limiter("test", 20, 10);
    const auto t0 = RateLimiter::Clock::now();
    for (int i = 0; i < 20; ++i) EXPECT_FALSE(limiter.acquire("u", t0)) << i;
    const auto wait = limiter.acquire("u", t0);
    ASSERT_TRUE(wait);
    EXPECT_EQ(*wait, 100ms);  // one token per 100 ms at 10/s
}

TEST(RateLimiter, RefillsAtTheSustainedRate) {
    RateLimiter limiter("test", 2, 10);
    const auto t0 = RateLimiter::Clock::now();
    EXPECT_FALSE(limiter.acquire("u", t0));
    EXPECT_FALSE(limiter.acquire("u", t0));
    EXPECT_TRUE(limiter.acquire("u", t0 + 50ms));
    EXPECT_FALSE(limiter.acquire("u", t0 + 150ms));
    EXPECT_FALSE(limiter.acquire("u", t0 + 10s));  // never more than the burst
    EXPECT_FALSE(limiter.acquire("u", t0 + 10s));
    EXPECT_TRUE(limiter.acquire("u", t0 + 10s));
}

TEST(RateLimiter, KeysAreIndependent) {
    RateLimiter limiter("test", 1, 1);
    const auto t0 = RateLimiter::Clock::now();
    EXPECT_FALSE(limiter.acquire("a", t0));
    EXPECT_TRUE(limiter.acquire("a", t0));
    EXPECT_FALSE(limiter.acquire("b", t0));
}

TEST(RateLimiter, PerMinuteLimitWaitsUpToAMinute) {
    RateLimiter limiter("test", 30, 30.0 / 60.0);
    const auto t0 = RateLimiter::Clock::now();
    for (int i = 0; i < 30; ++i) EXPECT_FALSE(limiter.acquire("10.0.0.1", t0));
    EXPECT_EQ(limiter.acquire("10.0.0.1", t0), 2000ms);
}

TEST(RateLimiter, RequireThrowsRateLimitedWithRetryAfter) {
    RateLimiter limiter("test", 1, 2);
    limiter.require("u", "messages");
    try {
        limiter.require("u", "messages");
        FAIL() << "expected rate_limited";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::rate_limited);
        ASSERT_TRUE(e.retry_after_ms);
        EXPECT_GT(*e.retry_after_ms, 0);
        EXPECT_LE(*e.retry_after_ms, 500);
    }
    EXPECT_GE(obs::metrics().rate_limited.with({"test"}).value(), 1u);
}

// A budget spent only by failures: checking it takes nothing, so a client that never fails
// is never refused, and one that has failed `burst` times is refused before trying again.
TEST(RateLimiter, RequireLeftChecksWithoutSpending) {
    RateLimiter limiter("test", 2, 1);
    const auto t0 = RateLimiter::Clock::now();
    for (int i = 0; i < 10; ++i) EXPECT_NO_THROW(limiter.require_left("ip", "failures", t0));
    EXPECT_FALSE(limiter.acquire("ip", t0));
    EXPECT_NO_THROW(limiter.require_left("ip", "failures", t0));
    EXPECT_FALSE(limiter.acquire("ip", t0));
    try {
        limiter.require_left("ip", "failures", t0);
        FAIL() << "an empty budget must refuse";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::rate_limited);
        EXPECT_EQ(e.retry_after_ms, 1000);
    }
    EXPECT_NO_THROW(limiter.require_left("other", "failures", t0));
    EXPECT_NO_THROW(limiter.require_left("ip", "failures", t0 + 1s));  // refilled
}

TEST(RateLimiter, PeekTakesNoToken) {
    RateLimiter limiter("test", 2, 1);
    const auto t0 = RateLimiter::Clock::now();
    EXPECT_FALSE(limiter.peek("u", t0));  // an unknown key has its full burst
    EXPECT_EQ(limiter.tracked(), 0u) << "peeking does not track a key";
    EXPECT_FALSE(limiter.acquire("u", t0));
    for (int i = 0; i < 5; ++i) EXPECT_FALSE(limiter.peek("u", t0));
    EXPECT_FALSE(limiter.acquire("u", t0));
    const auto wait = limiter.peek("u", t0);
    ASSERT_TRUE(wait);
    EXPECT_EQ(*wait, 1000ms);
    EXPECT_FALSE(limiter.peek("u", t0 + 1s));
}

TEST(AddressKey, IPv4IsItsOwnKey) {
    EXPECT_EQ(address_key("203.0.113.7"), "203.0.113.7");
    EXPECT_NE(address_key("203.0.113.7"), address_key("203.0.113.8"));
}

TEST(AddressKey, IPv6IsKeyedByItsSlash64) {
    EXPECT_EQ(address_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64");
    EXPECT_EQ(address_key("2001:db8:1:2::1"), address_key("2001:db8:1:2:ffff:ffff:ffff:ffff"));
    EXPECT_EQ(address_key("2001:DB8:1:2::1"), "2001:db8:1:2::/64") << "one spelling per prefix";
    EXPECT_NE(address_key("2001:db8:1:2::1"), address_key("2001:db8:1:3::1"));
    EXPECT_EQ(address_key("::1"), "::/64");
}

TEST(AddressKey, IPv4MappedIPv6IsTheIPv4Address) {
    EXPECT_EQ(address_key("::ffff:203.0.113.7"), "203.0.113.7");
    EXPECT_EQ(address_key("::ffff:cb00:7107"), "203.0.113.7");
    EXPECT_NE(address_key("::ffff:203.0.113.7"), address_key("::ffff:203.0.113.8")) << "not by a /64";
}

TEST(AddressKey, TextThatIsNoAddressIsItsOwnKey) {
    EXPECT_EQ(address_key(""), "");
    EXPECT_EQ(address_key("not an address"), "not an address");
}

}  // namespace
}  // namespace confab::domain
