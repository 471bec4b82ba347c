// domain::PollGate: when a background loop's tick looks in the database.

#include "confab/domain/poll_gate.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace confab::domain {
namespace {

using namespace std::chrono_literals;
using Clock = PollGate::Clock;

TEST(PollGate, TheFirstTickLooks) { EXPECT_TRUE(PollGate(5s).due(0, Clock::now())); }

TEST(PollGate, AfterALookThatFoundNothingOnlyAChangeOrTheFallbackLooksAgain) {
    PollGate gate(5s);
    const auto at = Clock::now();
    gate.looked(7, at, false);
    EXPECT_FALSE(gate.due(7, at + 200ms));
    EXPECT_FALSE(gate.due(7, at + 4999ms));
    EXPECT_TRUE(gate.due(8, at + 200ms)) << "this node changed something";
    EXPECT_TRUE(gate.due(7, at + 5s)) << "the fallback, for what no change here announces";
}

TEST(PollGate, WorkLeftLooksEveryTick) {
    PollGate gate(5s);
    const auto at = Clock::now();
    gate.looked(1, at, true);
    EXPECT_TRUE(gate.due(1, at + 200ms));
    gate.looked(1, at + 200ms, false);
    EXPECT_FALSE(gate.due(1, at + 400ms));
}

TEST(PollGate, ATimeTheLookLearnedOfLooksWhenItComes) {
    PollGate gate(60s);
    const auto at = Clock::now();
    gate.looked(1, at, false, at + 2s);
    EXPECT_FALSE(gate.due(1, at + 1999ms));
    EXPECT_TRUE(gate.due(1, at + 2s));
}

TEST(PollGate, AChangeDuringALookIsSeenAtTheNextTick) {
    PollGate gate(5s);
    const auto at = Clock::now();
    const auto read_before_the_look = 3;
    gate.looked(read_before_the_look, at, false);  // a commit made it 4 meanwhile
    EXPECT_TRUE(gate.due(4, at + 200ms));
}

}  // namespace
}  // namespace confab::domain
