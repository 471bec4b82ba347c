#include "confab/api/envelope.hpp"
#include "confab/api/json.hpp"
#include "confab/model/error.hpp"

#include <gtest/gtest.h>

namespace confab::api {
namespace {

std::string refusal_of(std::string_view text) {
    try {
        parse_object(text);
    } catch (const model::Error& e) {
        EXPECT_EQ(e.code(), model::ErrorCode::bad_request) << text;
        return e.what();
    }
    return "accepted";
}

TEST(ParseObject, AKeyGivenTwiceInAnyObjectIsRefused) {
    for (const char* twice : {R"({"a":1,"a":2})", R"({"a":{"b":1,"c":2,"b":3}})", R"({"a":[{"x":1},{"y":1,"y":1}]})",
                              R"({"a":1,"b":{"a":1},"a":1})"})
        EXPECT_NE(refusal_of(twice).find("twice"), std::string::npos) << twice;
}

TEST(ParseObject, TheSameKeyInDifferentObjectsIsFine) {
    const auto parsed = parse_object(R"({"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}],"c":{}})");
    EXPECT_EQ(parsed["a"]["a"]["a"], 1);
    EXPECT_EQ(parsed["b"][1]["a"], 2);
}

TEST(ParseObject, InvalidJsonAndNonObjectsAreRefused) {
    EXPECT_NE(refusal_of(R"({"a":1)").find("not valid JSON"), std::string::npos);
    EXPECT_NE(refusal_of(std::string_view("{\"a\":\"\0\"}", 9)).find("not valid JSON"), std::string::npos);
    EXPECT_NE(refusal_of("[1,2]").find("must be a JSON object"), std::string::npos);
}

TEST(ParseEnvelope, AFrameGivingAKeyTwiceIsRefused) {
    std::optional<std::string> id;
    EXPECT_THROW(parse_envelope(R"({"type":"typing.start","type":"message.send","data":{}})", id), model::Error);
    EXPECT_THROW(parse_envelope(R"({"type":"message.send","data":{"content":"a","content":"b"}})", id), model::Error);
    EXPECT_EQ(parse_envelope(R"({"type":"ping","data":{"type":"x"}})", id).type, "ping");
}

}  // namespace
}  // namespace confab::api
