#include "confab/net/response_budget.hpp"

#include <gtest/gtest.h>

#include <optional>

namespace confab::net {
namespace {

TEST(ResponseBudget, LargeAnswersShareTheBudgetAndGiveItBackWhenWritten) {
    ResponseBudget budget(1000, 1000, 100);
    auto first = budget.take(600, "ann");
    ASSERT_TRUE(first);
    EXPECT_EQ(budget.held(), 600u);
    EXPECT_FALSE(budget.take(500, "ann")) << "600 + 500 is over 1000";
    auto second = budget.take(400, "ann");
    ASSERT_TRUE(second) << "600 + 400 fits exactly";
    EXPECT_FALSE(budget.take(101, "ann"));
    first.reset();
    EXPECT_EQ(budget.held(), 400u);
    EXPECT_TRUE(budget.take(600, "ann"));
    EXPECT_EQ(budget.held(), 400u) << "a hold not kept gives its share back at once";
}

TEST(ResponseBudget, SmallAnswersAlwaysGoOutUncounted) {
    ResponseBudget budget(1000, 1000, 100);
    auto full = budget.take(1000, "ann");
    ASSERT_TRUE(full);
    auto small = budget.take(100, "ann");
    EXPECT_TRUE(small) << "at most `small` bytes is never refused";
    EXPECT_EQ(budget.held(), 1000u);
    EXPECT_FALSE(budget.take(1001 - 1000 + 100, "ann")) << "one byte over `small` counts";
}

TEST(ResponseBudget, AMovedHoldGivesBackOnce) {
    ResponseBudget budget(1000, 1000, 0);
    std::optional<ResponseBudget::Hold> kept;
    {
        auto taken = budget.take(300, "ann");
        ASSERT_TRUE(taken);
        kept.emplace(std::move(*taken));
    }
    EXPECT_EQ(budget.held(), 300u);
    kept.reset();
    EXPECT_EQ(budget.held(), 0u);
}

TEST(ResponseBudget, OneHolderHoldsAtMostItsShareBeyondItsFirstAnswer) {
    ResponseBudget budget(1000, 300, 10);
    auto first = budget.take(500, "ann");
    ASSERT_TRUE(first) << "a holder's first answer is taken whatever its size";
    EXPECT_FALSE(budget.take(20, "ann")) << "ann already holds more than her share";
    auto bens = budget.take(200, "ben");
    ASSERT_TRUE(bens) << "ann's stalled answers leave room for ben's";
    auto more_of_bens = budget.take(100, "ben");
    ASSERT_TRUE(more_of_bens) << "200 + 100 is ben's whole share";
    EXPECT_FALSE(budget.take(11, "ben"));
    EXPECT_TRUE(budget.take(10, "ben")) << "small answers are never counted";
    EXPECT_EQ(budget.held_by("ben"), 300u);
    first.reset();
    EXPECT_EQ(budget.held_by("ann"), 0u);
    EXPECT_TRUE(budget.take(20, "ann")) << "ann's share came back with her answer";
    EXPECT_EQ(budget.held(), 300u);
}

}  // namespace
}  // namespace confab::net
