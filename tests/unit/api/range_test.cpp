#include "confab/api/range.hpp"

#include <gtest/gtest.h>

namespace confab::api {
namespace {

std::optional<std::pair<std::uint64_t, std::uint64_t>> slice(const char* header, std::uint64_t size) {
    const auto result = parse_range(std::string_view(header), size);
    if (const auto* range = std::get_if<ByteRange>(&result)) return std::pair{range->first, range->last};
    return std::nullopt;
}

bool whole(std::optional<std::string_view> header, std::uint64_t size) {
    return std::holds_alternative<WholeFile>(parse_range(header, size));
}
bool unsatisfiable(const char* header, std::uint64_t size) {
    return std::holds_alternative<Unsatisfiable>(parse_range(std::string_view(header), size));
}

TEST(Range, SingleRanges) {
    EXPECT_EQ(slice("bytes=0-0", 100), (std::pair<std::uint64_t, std::uint64_t>{0, 0}));
    EXPECT_EQ(slice("bytes=10-19", 100), (std::pair<std::uint64_t, std::uint64_t>{10, 19}));
    EXPECT_EQ(slice("bytes=90-", 100), (std::pair<std::uint64_t, std::uint64_t>{90, 99}));
    EXPECT_EQ(slice("bytes=-5", 100), (std::pair<std::uint64_t, std::uint64_t>{95, 99}));
    EXPECT_EQ(slice("bytes=-500", 100), (std::pair<std::uint64_t, std::uint64_t>{0, 99}));
    EXPECT_EQ(slice("bytes=50-500", 100), (std::pair<std::uint64_t, std::uint64_t>{50, 99}));
}

TEST(Range, PastTheEndIsUnsatisfiable) {
    EXPECT_TRUE(unsatisfiable("bytes=100-", 100));
    EXPECT_TRUE(unsatisfiable("bytes=100-200", 100));
    EXPECT_TRUE(unsatisfiable("bytes=-0", 100));
}

// Positions are digits of any length: one past 64 bits is past any file.
TEST(Range, PositionsPastSixtyFourBitsAreClampedLikeAnyPastTheEnd) {
    EXPECT_EQ(slice("bytes=0-99999999999999999999", 100), (std::pair<std::uint64_t, std::uint64_t>{0, 99}));
    EXPECT_EQ(slice("bytes=40-18446744073709551616", 100), (std::pair<std::uint64_t, std::uint64_t>{40, 99}));
    EXPECT_EQ(slice("bytes=-99999999999999999999", 100), (std::pair<std::uint64_t, std::uint64_t>{0, 99}));
    EXPECT_TRUE(unsatisfiable("bytes=99999999999999999999-", 100));
    EXPECT_TRUE(whole(std::string_view("bytes=0-9999999999999999999x"), 100)) << "not digits";
}

TEST(Range, MalformedOrMultipleIsTheWholeFile) {
    EXPECT_TRUE(whole(std::nullopt, 100));
    for (const char* header : {"bytes=0-1,5-6", "bytes=a-b", "bytes=5-1", "items=0-1", "bytes=", "bytes=-", "bytes=1",
                               "bytes=0-1, bytes=2-3", "bytes=,", "byte=0-1", "bytes 0-1"})
        EXPECT_TRUE(whole(std::string_view(header), 100)) << header;
}

// RFC 9110: the unit is case-insensitive, and a list's empty elements count for nothing.
TEST(Range, TheUnitIgnoresCaseAndEmptyElementsAreSkipped) {
    for (const char* header : {"BYTES=10-19", "Bytes=10-19", "bytes=10-19,", "bytes=, 10-19", "bytes=10-19 , ,"})
        EXPECT_EQ(slice(header, 100), (std::pair<std::uint64_t, std::uint64_t>{10, 19})) << header;
}

}  // namespace
}  // namespace confab::api
