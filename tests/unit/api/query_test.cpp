#include "confab/api/query.hpp"

#include "confab/model/error.hpp"

#include <gtest/gtest.h>

namespace confab::api {
namespace {

int limit_of(std::string_view raw) { return page_limit(Query::parse(raw)); }

void expect_bad_request(const std::function<void()>& action) {
    try {
        action();
        ADD_FAILURE() << "expected bad_request";
    } catch (const model::Error& e) {
        EXPECT_EQ(e.code(), model::ErrorCode::bad_request);
    }
}

TEST(Query, DecodesKeysAndValues) {
    const auto query = Query::parse("query=ana%20b&x=1+2&flag&&empty=");
    EXPECT_EQ(query.get("query"), "ana b");
    EXPECT_EQ(query.get("x"), "1 2");
    EXPECT_EQ(query.get("flag"), "");
    EXPECT_EQ(query.get("empty"), "");
    EXPECT_EQ(query.get("missing"), std::nullopt);
}

TEST(Query, FirstValueOfARepeatedKeyWins) { EXPECT_EQ(Query::parse("a=1&a=2").get("a"), "1"); }

TEST(Query, MalformedEncodingIsBadRequest) {
    expect_bad_request([] { Query::parse("a=%zz"); });
}

TEST(PageLimit, DefaultsTo50AndAcceptsOneTo200) {
    EXPECT_EQ(limit_of(""), 50);
    EXPECT_EQ(limit_of("limit=1"), 1);
    EXPECT_EQ(limit_of("limit=200"), 200);
}

TEST(PageLimit, RejectsOutOfRangeAndNonNumbers) {
    for (const auto* raw : {"limit=0", "limit=201", "limit=-1", "limit=abc", "limit=", "limit=5x", "limit=1e2",
                            "limit=99999999999999999999"}) {
        SCOPED_TRACE(raw);
        expect_bad_request([raw] { limit_of(raw); });
    }
}

TEST(Cursor, RoundTripsAnyText) {
    for (const std::string& key : std::vector<std::string>{"a", "ab", "abc", "ana.b_42", std::string("\0\xff", 2)}) {
        const auto cursor = encode_cursor(key);
        EXPECT_EQ(decode_cursor(cursor), key);
        EXPECT_EQ(cursor.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                  std::string::npos);
    }
}

TEST(Cursor, RejectsTextItDidNotMake) {
    EXPECT_EQ(decode_cursor(""), std::nullopt);
    EXPECT_EQ(decode_cursor("a"), std::nullopt);     // 6 bits cannot hold a byte
    EXPECT_EQ(decode_cursor("YW=="), std::nullopt);  // padding is not ours
    EXPECT_EQ(decode_cursor("YX"), std::nullopt);    // non-zero leftover bits
    EXPECT_EQ(decode_cursor("!!!"), std::nullopt);
}

}  // namespace
}  // namespace confab::api

#include "confab/api/pagination.hpp"

namespace confab::api {
namespace {

TEST(IntegerCursor, RoundTripsWithinItsKind) {
    const auto cursor = encode_integer_cursor('a', 42);
    EXPECT_EQ(integer_cursor(Query::parse("cursor=" + cursor), 'a'), 42);
    EXPECT_EQ(integer_cursor(Query::parse(""), 'a'), std::nullopt);
    EXPECT_EQ(integer_cursor(Query::parse("cursor="), 'a'), std::nullopt);
}

TEST(IntegerCursor, RefusesOtherKindsAndForgeries) {
    const auto member_cursor = encode_integer_cursor('p', 42);
    for (const auto& cursor : {member_cursor, encode_cursor("123"), encode_cursor("a:"), encode_cursor("a:-1"),
                               encode_cursor("a:12x"), std::string("garbage")}) {
        SCOPED_TRACE(cursor);
        expect_bad_request([&] { integer_cursor(Query::parse("cursor=" + cursor), 'a'); });
    }
}

}  // namespace
}  // namespace confab::api
