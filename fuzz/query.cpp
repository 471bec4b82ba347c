// The query string parser (api::Query::parse) and what handlers read from it: malformed
// input is a bad_request, never anything else, and cursors round-trip.

#include "expect.hpp"

#include "confab/api/pagination.hpp"
#include "confab/api/query.hpp"
#include "confab/model/error.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

namespace api = confab::api;

template <class Read>
void expect_value_or_bad_request(Read read) {
    try {
        read();
    } catch (const confab::model::Error& error) {
        FUZZ_EXPECT(error.code() == confab::model::ErrorCode::bad_request);
    }
}

void read_parameters(const api::Query& query) {
    expect_value_or_bad_request([&] {
        const int limit = api::page_limit(query);
        FUZZ_EXPECT(limit >= 1 && limit <= 200);
    });
    expect_value_or_bad_request([&] {
        const auto before = api::non_negative_integer(query, "before_seq");
        FUZZ_EXPECT(!before || *before >= 0);
    });
    expect_value_or_bad_request([&] {
        if (const auto key = api::integer_cursor(query, 'a'))
            FUZZ_EXPECT(
                api::integer_cursor(api::Query::parse("cursor=" + api::encode_integer_cursor('a', *key)), 'a') == key);
    });
}

// A cursor this server made decodes to its key, and decoding accepts only what encoding makes.
void expect_cursor_round_trip(std::string_view text) {
    if (!text.empty()) FUZZ_EXPECT(api::decode_cursor(api::encode_cursor(text)) == text);
    if (const auto key = api::decode_cursor(text)) FUZZ_EXPECT(api::encode_cursor(*key) == text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    const std::string_view raw(reinterpret_cast<const char*>(bytes), size);
    expect_cursor_round_trip(raw);
    try {
        const auto query = api::Query::parse(raw);
        read_parameters(query);
        if (const auto cursor = query.get("cursor")) expect_cursor_round_trip(*cursor);
    } catch (const confab::model::Error& error) {
        FUZZ_EXPECT(error.code() == confab::model::ErrorCode::bad_request);
    }
    return 0;
}
