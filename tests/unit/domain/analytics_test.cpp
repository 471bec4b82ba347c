#include "confab/domain/analytics.hpp"

#include <gtest/gtest.h>

namespace confab::domain {
namespace {

Timestamp at(std::int64_t ms) { return Timestamp(std::chrono::milliseconds(ms)); }

AnalyticsEvent event(std::string name, std::optional<std::string> user, std::string detail, std::int64_t ms,
                     std::int64_t bytes = 0) {
    return {std::move(name), std::move(user), std::optional<std::string>("c1"), std::move(detail), bytes, at(ms)};
}

TEST(AnalyticsRollupTest, CountsEventsOfOneMinuteAndKeyInOneRow) {
    AnalyticsRollup rollup;
    const std::int64_t minute = 1'700'000'040'000;  // a whole minute
    rollup.add(event("message.sent", "u1", "text", minute));
    rollup.add(event("message.sent", "u1", "text", minute + 59'999));
    rollup.add(event("media.shared", "u1", "image", minute + 1, 100));
    rollup.add(event("media.shared", "u1", "image", minute + 2, 250));
    const auto rows = rollup.rows();
    ASSERT_EQ(rows.size(), 2u);
    const auto& media = rows[0].name == "media.shared" ? rows[0] : rows[1];
    const auto& sent = rows[0].name == "message.sent" ? rows[0] : rows[1];
    EXPECT_EQ(sent.events, 2);
    EXPECT_EQ(sent.minute, at(minute));
    EXPECT_EQ(sent.detail, "text");
    EXPECT_EQ(sent.user_id, "u1");
    EXPECT_EQ(sent.chat_id, "c1");
    EXPECT_EQ(media.events, 2);
    EXPECT_EQ(media.bytes, 350);
}

TEST(AnalyticsRollupTest, KeepsMinutesUsersDetailsAndMissingIdsApart) {
    AnalyticsRollup rollup;
    const std::int64_t minute = 1'700'000'040'000;
    rollup.add(event("message.sent", "u1", "text", minute));
    rollup.add(event("message.sent", "u1", "text", minute + 60'000));  // the next minute
    rollup.add(event("message.sent", "u2", "text", minute));           // another user
    rollup.add(event("message.sent", "u1", "image", minute));          // another detail
    rollup.add(event("session.started", std::nullopt, "", minute));    // no user
    const auto rows = rollup.rows();
    ASSERT_EQ(rows.size(), 5u);
    EXPECT_EQ(rollup.size(), 5u);
    std::int64_t total = 0;
    bool anonymous = false;
    for (const auto& row : rows) {
        total += row.events;
        anonymous = anonymous || !row.user_id;
    }
    EXPECT_EQ(total, 5);
    EXPECT_TRUE(anonymous) << "a missing user stays missing, not an empty id";
    rollup.clear();
    EXPECT_TRUE(rollup.rows().empty());
}

}  // namespace
}  // namespace confab::domain
