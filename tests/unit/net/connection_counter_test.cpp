#include "confab/net/connection_counter.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

namespace confab::net {
namespace {

TEST(ConnectionCounter, RefusesPastTheCapPerKey) {
    ConnectionCounter counter("test_cap", 2);
    auto first = counter.try_take("10.0.0.1");
    auto second = counter.try_take("10.0.0.1");
    ASSERT_TRUE(first && second);
    EXPECT_FALSE(counter.try_take("10.0.0.1"));
    EXPECT_TRUE(counter.try_take("10.0.0.2")) << "another key has its own cap";
    EXPECT_EQ(counter.held("10.0.0.1"), 2u);
}

TEST(ConnectionCounter, ReleasedSlotIsTakenAgain) {
    ConnectionCounter counter("test_release", 1);
    auto slot = counter.try_take("user");
    ASSERT_TRUE(slot);
    EXPECT_FALSE(counter.try_take("user"));
    slot.reset();
    EXPECT_EQ(counter.held("user"), 0u);
    EXPECT_TRUE(counter.try_take("user"));
}

TEST(ConnectionCounter, MovedSlotReleasesOnce) {
    ConnectionCounter counter("test_move", 2);
    std::vector<ConnectionCounter::Slot> held;
    {
        auto slot = counter.try_take("k");
        ASSERT_TRUE(slot);
        held.push_back(std::move(*slot));
    }  // the moved-from slot is destroyed here and must not release
    EXPECT_EQ(counter.held("k"), 1u);
    held.clear();
    EXPECT_EQ(counter.held("k"), 0u);
}

}  // namespace
}  // namespace confab::net
