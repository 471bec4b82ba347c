// domain::fair_share and SharedSlots: one owner's share of a background sender's slots
// (webhook deliveries, push sends), so that one user's silent receivers leave the rest free.

#include "confab/domain/fair_share.hpp"

#include <gtest/gtest.h>

namespace confab::domain {
namespace {

TEST(FairShare, IsAnEighthOfTheSlotsAndAtLeastOne) {
    EXPECT_EQ(fair_share(64), 8u) << "webhooks.concurrency's default";
    EXPECT_EQ(fair_share(200), 25u) << "push's sends in flight";
    EXPECT_EQ(fair_share(8), 1u);
    EXPECT_EQ(fair_share(15), 1u);
    EXPECT_EQ(fair_share(16), 2u);
    EXPECT_EQ(fair_share(7), 1u) << "a server of few slots still lets each owner send";
    EXPECT_EQ(fair_share(1), 1u);
}

TEST(SharedSlots, AnOwnerAtItsShareWaitsWhileOthersStart) {
    SharedSlots slots(16);
    ASSERT_EQ(slots.share(), 2u);
    slots.started("ann");
    EXPECT_TRUE(slots.may_start("ann"));
    slots.started("ann");
    EXPECT_FALSE(slots.may_start("ann")) << "ann holds her share";
    EXPECT_TRUE(slots.may_start("bob"));
    EXPECT_EQ(slots.room(), 14u);
    slots.finished("ann");
    EXPECT_TRUE(slots.may_start("ann")) << "one of hers ended";
    EXPECT_EQ(slots.by_owner(), (std::map<std::string, int>{{"ann", 1}}));
    slots.finished("ann");
    EXPECT_TRUE(slots.by_owner().empty()) << "an owner with none in flight is not listed";
    EXPECT_EQ(slots.in_flight(), 0u);
}

TEST(SharedSlots, TheOperatorsAreHeldToTheCapacityAlone) {
    SharedSlots slots(8);
    for (int i = 0; i < 7; ++i) {
        ASSERT_TRUE(slots.may_start(std::nullopt)) << i;
        slots.started(std::nullopt);
    }
    EXPECT_TRUE(slots.by_owner().empty());
    EXPECT_TRUE(slots.may_start("ann"));
    slots.started("ann");
    EXPECT_EQ(slots.room(), 0u);
    EXPECT_FALSE(slots.may_start(std::nullopt)) << "every slot is held";
    EXPECT_FALSE(slots.may_start("bob"));
    slots.finished(std::nullopt);
    EXPECT_TRUE(slots.may_start("bob"));
    EXPECT_FALSE(slots.may_start("ann"));
}

}  // namespace
}  // namespace confab::domain
