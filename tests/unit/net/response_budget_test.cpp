#include "confab/net/response_budget.hpp"

#include <gtest/gtest.h>

#include <optional>

namespace confab::net {
namespace {

TEST(ResponseBudget, LargeAnswersShareTheBudgetAndGiveItBackWhenWritten) {
    ResponseBudget budget(1000, 100);
    auto first = budget.take(600);
    ASSERT_TRUE(first);
    EXPECT_EQ(budget.held(), 600u);
    EXPECT_FALSE(budget.take(500)) << "600 + 500 is over 1000";
    auto second = budget.take(400);
    ASSERT_TRUE(second) << "600 + 400 fits exactly";
    EXPECT_FALSE(budget.take(101));
    first.reset();
    EXPECT_EQ(budget.held(), 400u);
    EXPECT_TRUE(budget.take(600));
    EXPECT_EQ(budget.held(), 400u) << "a hold not kept gives its share back at once";
}

TEST(ResponseBudget, SmallAnswersAlwaysGoOutUncounted) {
    ResponseBudget budget(1000, 100);
    auto full = budget.take(1000);
    ASSERT_TRUE(full);
    auto small = budget.take(100);
    EXPECT_TRUE(small) << "at most `small` bytes is never refused";
    EXPECT_EQ(budget.held(), 1000u);
    EXPECT_FALSE(budget.take(1001 - 1000 + 100)) << "one byte over `small` counts";
}

TEST(ResponseBudget, AMovedHoldGivesBackOnce) {
    ResponseBudget budget(1000, 0);
    std::optional<ResponseBudget::Hold> kept;
    {
        auto taken = budget.take(300);
        ASSERT_TRUE(taken);
        kept.emplace(std::move(*taken));
    }
    EXPECT_EQ(budget.held(), 300u);
    kept.reset();
    EXPECT_EQ(budget.held(), 0u);
}

}  // namespace
}  // namespace confab::net
