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

// docs/api.md: validation errors name the offending field; here the parameter, or the name as
// sent when the name itself does not decode.
TEST(Query, MalformedEncodingNamesTheParameter) {
    for (const auto& [raw, field] : std::vector<std::pair<std::string, std::string>>{
             {"query=%zz", "query"}, {"limit=%", "limit"}, {"a=1&b%20c=%4", "b c"}, {"x%z=1", "x%z"}}) {
        try {
            Query::parse(raw);
            ADD_FAILURE() << raw << ": expected bad_request";
        } catch (const model::Error& e) {
            EXPECT_EQ(e.code(), model::ErrorCode::bad_request) << raw;
            EXPECT_EQ(e.field(), field) << raw;
        }
    }
}

// /users?query=nu%00l answered 200 with nothing found while /search/messages refused it.
TEST(Query, AValueWithUPlus0000IsBadRequestNamingIt) {
    try {
        Query::parse("limit=5&query=nu%00l");
        ADD_FAILURE() << "expected bad_request";
    } catch (const model::Error& e) {
        EXPECT_EQ(e.code(), model::ErrorCode::bad_request);
        EXPECT_EQ(e.field(), "query");
    }
}

TEST(PageLimit, DefaultsTo50AndAcceptsOneTo200) {
    EXPECT_EQ(limit_of(""), 50);
    EXPECT_EQ(limit_of("limit=1"), 1);
    EXPECT_EQ(limit_of("limit=200"), 200);
}

// One answer for every wrong limit: a client told "must be a non-negative integer" for `abc`
// could try 0 and be refused again.
TEST(PageLimit, RejectsOutOfRangeAndNonNumbersSayingWhatIsAllowed) {
    for (const auto* raw : {"limit=0", "limit=201", "limit=-1", "limit=abc", "limit=", "limit=5x", "limit=1e2",
                            "limit=99999999999999999999"}) {
        SCOPED_TRACE(raw);
        expect_bad_request([raw] { limit_of(raw); });
        try {
            limit_of(raw);
        } catch (const model::Error& e) {
            EXPECT_STREQ(e.what(), "limit must be an integer from 1 to 200");
            EXPECT_EQ(e.field(), "limit");
        }
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

std::optional<model::ListPlace> place_of(const std::string& cursor, char kind) {
    return place_cursor(Query::parse("cursor=" + cursor), kind);
}

void expect_bad_cursor(const std::function<void()>& action) {
    try {
        action();
        ADD_FAILURE() << "expected bad_request";
    } catch (const model::Error& e) {
        EXPECT_EQ(e.code(), model::ErrorCode::bad_request);
        EXPECT_EQ(e.field(), "cursor");
    }
}

TEST(PlaceCursor, RoundTripsWithinItsKind) {
    const std::string uuid = "0b6c0a52-9d43-4f7e-8a8e-2f1c3c4d5e6f";
    const std::string code = "Ab-_0123456789abcdefghijklmnopqrstuvwxyzABCD";  // an id may hold anything
    for (const auto& [time_us, id] : {std::pair{std::int64_t{1700000000123456}, uuid}, std::pair{std::int64_t{0}, code},
                                      std::pair{std::int64_t{5}, std::string("a:b:c")}}) {
        const auto place = place_of(encode_place_cursor('x', model::ListPlace{time_us, id}), 'x');
        ASSERT_TRUE(place.has_value()) << id;
        EXPECT_EQ(place->time_us, time_us);
        EXPECT_EQ(place->id, id);
    }
    EXPECT_EQ(place_cursor(Query::parse(""), 'x'), std::nullopt) << "the first page";
    EXPECT_EQ(place_cursor(Query::parse("cursor="), 'x'), std::nullopt) << "the first page";
}

TEST(PlaceCursor, ReadsTheInvitationCursorsMadeBeforeItAsTheyWere) {
    // base64url("i:1700000000123456:0b6c0a52-9d43-4f7e-8a8e-2f1c3c4d5e6f"), as GET /invitations
    // wrote its cursors before the lists shared this code.
    const auto place = place_of("aToxNzAwMDAwMDAwMTIzNDU2OjBiNmMwYTUyLTlkNDMtNGY3ZS04YThlLTJmMWMzYzRkNWU2Zg", 'i');
    ASSERT_TRUE(place.has_value());
    EXPECT_EQ(place->time_us, 1700000000123456);
    EXPECT_EQ(place->id, "0b6c0a52-9d43-4f7e-8a8e-2f1c3c4d5e6f");
}

TEST(PlaceCursor, RefusesOtherKindsAndForgeriesNamingTheCursor) {
    const model::ListPlace place{1700000000123456, "0b6c0a52-9d43-4f7e-8a8e-2f1c3c4d5e6f"};
    for (const auto& cursor :
         {encode_place_cursor('t', place), encode_place_cursor('i', place), encode_integer_cursor('x', 42),
          encode_cursor("x"), encode_cursor("x:"), encode_cursor("x::id"), encode_cursor("x:12"),
          encode_cursor("x:12:"), encode_cursor("x:-1:id"), encode_cursor("x:1e3:id"), encode_cursor("x:12x:id"),
          encode_cursor("x:99999999999999999999:id"), encode_cursor("X:12:id"), std::string("garbage!"),
          std::string("eDoxMjppZA==")}) {
        SCOPED_TRACE(cursor);
        expect_bad_cursor([&] { place_of(cursor, 'x'); });
    }
}

TEST(PlaceCursor, AnIntegerCursorIsNotAPlaceNorAPlaceAnInteger) {
    expect_bad_cursor([] { place_of(encode_integer_cursor('i', 7), 'i'); });
    expect_bad_cursor([] {
        integer_cursor(Query::parse("cursor=" + encode_place_cursor('a', model::ListPlace{7, "id"})), 'a');
    });
}

}  // namespace
}  // namespace confab::api
