// store::utc_timestamp: how timestamps come back from PostgreSQL (CONFAB_TIME's columns).

#include "confab/store/rows.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>

namespace confab::store {
namespace {

using namespace std::chrono;

model::Timestamp at(sys_days day, milliseconds time_of_day) { return day + time_of_day; }

TEST(UtcTimestamp, EveryFractionPostgresPrintsIsCutToTheMillisecond) {
    const sys_days day = 2026y / December / 5;
    const auto time = hours(4) + minutes(36) + seconds(50);
    EXPECT_EQ(utc_timestamp("2026-12-05 04:36:50"), at(day, time));
    EXPECT_EQ(utc_timestamp("2026-12-05 04:36:50.1"), at(day, time + milliseconds(100)));
    EXPECT_EQ(utc_timestamp("2026-12-05 04:36:50.12"), at(day, time + milliseconds(120)));
    EXPECT_EQ(utc_timestamp("2026-12-05 04:36:50.123"), at(day, time + milliseconds(123)));
    EXPECT_EQ(utc_timestamp("2026-12-05 04:36:50.123999"), at(day, time + milliseconds(123))) << "cut, not rounded";
    EXPECT_EQ(utc_timestamp("2026-12-05 04:36:50.000999"), at(day, time));
}

TEST(UtcTimestamp, DatesAcrossTheEpochLeapDaysAndCenturiesAreExact) {
    EXPECT_EQ(utc_timestamp("1970-01-01 00:00:00").time_since_epoch(), milliseconds(0));
    EXPECT_EQ(utc_timestamp("1969-12-31 23:59:59.999").time_since_epoch(), milliseconds(-1));
    EXPECT_EQ(utc_timestamp("2024-02-29 12:00:00").time_since_epoch(), milliseconds(1'709'208'000'000));
    EXPECT_EQ(utc_timestamp("2100-03-01 00:00:00").time_since_epoch(), milliseconds(4'107'542'400'000));
}

TEST(UtcTimestamp, AnythingElseIsRefused) {
    for (const char* text : {"", "infinity", "-infinity", "2026-12-05", "2026-12-05T04:36:50", "2026-12-05 04:36:50+00",
                             "2026-12-05 04:36:50.", "2026-12-05 04:36:50.1234567", "2026-02-30 00:00:00",
                             "2026-13-01 00:00:00", "2026-12-05 24:00:00", "0001-01-01 00:00:00 BC",
                             "12/05/2026 04:36:50", "Sat Dec 05 04:36:50 2026", "2026-12-05 04:36:5x"})
        EXPECT_THROW(utc_timestamp(text), std::invalid_argument) << text;
}

}  // namespace
}  // namespace confab::store
