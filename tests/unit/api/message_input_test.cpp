#include "confab/api/message_input.hpp"
#include "confab/api/json.hpp"

#include "confab/model/error.hpp"

#include <gtest/gtest.h>

namespace confab::api {
namespace {

domain::SendMessage parse(const char* text) { return parse_send(Json::parse(text), "chat", "sender"); }

void expect_bad_request(const char* text, const std::string& field) {
    try {
        parse(text);
        ADD_FAILURE() << "accepted " << text;
    } catch (const model::Error& e) {
        EXPECT_EQ(e.code(), model::ErrorCode::bad_request) << text;
        EXPECT_EQ(e.field().value_or(""), field) << text;
    }
}

TEST(ParseSend, TextWithEverything) {
    const auto m = parse(R"({"type":"text","content":"hi","reply_to_id":"r","client_id":"c","metadata":{"k":1}})");
    EXPECT_EQ(m.chat_id, "chat");
    EXPECT_EQ(m.sender_id, "sender");
    EXPECT_EQ(m.type, model::MessageType::text);
    EXPECT_EQ(m.content, "hi");
    EXPECT_EQ(m.reply_to_id, "r");
    EXPECT_EQ(m.client_id, "c");
    EXPECT_EQ(Json::parse(m.metadata.text), Json::parse(R"({"k":1})"));
}

TEST(ParseSend, ReplyToIsASynonym) {
    EXPECT_EQ(parse(R"({"type":"text","content":"x","reply_to":"r"})").reply_to_id, "r");
}

TEST(ParseSend, NullOptionalsAreAbsent) {
    const auto m = parse(R"({"type":"text","content":"x","reply_to_id":null,"client_id":null,"media_id":null})");
    EXPECT_FALSE(m.reply_to_id);
    EXPECT_FALSE(m.client_id);
    EXPECT_FALSE(m.media_id);
    EXPECT_EQ(m.metadata.text, "{}");
}

TEST(ParseSend, LocationIsValidated) {
    const auto m = parse(R"({"type":"location","metadata":{"location":{"latitude":-90,"longitude":180,"name":"x"}}})");
    ASSERT_TRUE(m.location);
    EXPECT_DOUBLE_EQ(m.location->latitude, -90);
    EXPECT_DOUBLE_EQ(m.location->longitude, 180);
    expect_bad_request(R"({"type":"location"})", "metadata");
    expect_bad_request(R"({"type":"location","metadata":{"location":{"latitude":90.5,"longitude":0}}})", "metadata");
    expect_bad_request(R"({"type":"location","metadata":{"location":{"latitude":0,"longitude":-181}}})", "metadata");
    expect_bad_request(R"({"type":"location","metadata":{"location":{"latitude":"1","longitude":0}}})", "metadata");
    expect_bad_request(R"({"type":"location","metadata":{"location":{"latitude":1}}})", "metadata");
    expect_bad_request(R"({"type":"location","metadata":{"location":{"latitude":1,"longitude":1,"x":1}}})", "x");
}

TEST(ParseSend, AnyMessagesMetadataLocationIsAPlace) {
    const auto m = parse(R"({"type":"text","content":"here","metadata":{"location":{"latitude":1,"longitude":2}}})");
    ASSERT_TRUE(m.location);
    EXPECT_DOUBLE_EQ(m.location->longitude, 2);
    EXPECT_FALSE(parse(R"({"type":"text","content":"x","metadata":{"place":"Paris"}})").location);
    expect_bad_request(R"({"type":"text","content":"x","metadata":{"location":"Paris"}})", "metadata");
    expect_bad_request(R"({"type":"text","content":"x","metadata":{"location":{"latitude":999,"longitude":0}}})",
                       "metadata");
    expect_bad_request(R"({"type":"file","media_id":"m","metadata":{"location":{"latitude":1,"longitude":1,"e":1}}})",
                       "e");
}

TEST(ParseSend, APlaceNameIsUpTo256CharactersNotBytes) {
    std::string accented;
    for (int i = 0; i < 256; ++i) accented += "\xC3\xA9";  // é, 2 bytes
    const auto with_name = [](const std::string& name) {
        return Json{{"type", "location"},
                    {"metadata", {{"location", {{"latitude", 1}, {"longitude", 2}, {"name", name}}}}}}
            .dump();
    };
    EXPECT_TRUE(parse(with_name(accented).c_str()).location);
    expect_bad_request(with_name(accented + "\xC3\xA9").c_str(), "metadata");
}

TEST(ParseSend, WrongTypesAreBadRequests) {
    expect_bad_request(R"({})", "type");
    expect_bad_request(R"({"type":"sticker"})", "type");
    expect_bad_request(R"({"type":1})", "type");
    expect_bad_request(R"({"type":"text","content":5})", "content");
    expect_bad_request(R"({"type":"text","metadata":[]})", "metadata");
    expect_bad_request(R"({"type":"text","client_id":7})", "client_id");
    expect_bad_request(R"({"type":"text","reply_to_id":true})", "reply_to_id");
}

void expect_too_large(const Json& body) {
    try {
        parse_send(body, "c", "s");
        ADD_FAILURE() << "accepted";
    } catch (const model::Error& e) {
        EXPECT_EQ(e.code(), model::ErrorCode::payload_too_large);
    }
}

TEST(ParseSend, MetadataNumbersPastTwoToThe53AreRefusedNotStoredChanged) {
    for (const char* number : {"18446744073709551616", "100000000000000000000000", "9007199254740992",
                               "-9007199254740992", "1e20", "-1.5e300"}) {
        const std::string body =
            std::string(R"({"type":"text","content":"x","metadata":{"deep":[{"n":)") + number + "}]}}";
        expect_bad_request(body.c_str(), "metadata");
    }
    const auto kept =
        parse(R"({"type":"text","content":"x","metadata":{"a":9007199254740991,"b":-9007199254740991,"c":0.1}})");
    EXPECT_EQ(Json::parse(kept.metadata.text), Json::parse(R"({"a":9007199254740991,"b":-9007199254740991,"c":0.1})"));
}

TEST(JsonIntegers, ExactUpToTwoToThe53MinusOneEitherWay) {
    for (const char* exact : {"0", "9007199254740991", "-9007199254740991", "0.5", "9007199254740991.0"})
        EXPECT_FALSE(beyond_exact_integers(Json::parse(exact))) << exact;
    for (const char* beyond : {"9007199254740992", "-9007199254740992", "-1152921504606846976", "18446744073709551615",
                               "18446744073709551616", "1e16"})
        EXPECT_TRUE(beyond_exact_integers(Json::parse(beyond))) << beyond;
    EXPECT_EQ(optional_integer(Json::parse(R"({"n":-9007199254740991})"), "n"), -9007199254740991LL);
    EXPECT_THROW(optional_integer(Json::parse(R"({"n":-1152921504606846976})"), "n"), model::Error);
}

TEST(ParseSend, EntityOffsetsPastTwoToThe53AreRefused) {
    expect_bad_request(
        R"({"type":"text","content":"hi","entities":[{"type":"bold","offset":9007199254740992,"length":1}]})",
        "entities");
}

TEST(ParseSend, OversizeMetadataIsTooLarge) {
    expect_too_large(Json{{"type", "text"}, {"content", "x"}, {"metadata", {{"blob", std::string(17 * 1024, 'a')}}}});
}

// A request body under the 256 KiB limit nests metadata 130000 levels deep: serializing it
// recursively to measure its size ran off the thread's stack and killed the server.
TEST(ParseSend, MetadataNestedDeeperThanItsSizeAllowsIsTooLargeWithoutRecursing) {
    const std::size_t depth = 200000;
    expect_too_large(
        Json::parse(R"({"type":"text","metadata":{"a":)" + std::string(depth, '[') + std::string(depth, ']') + "}}"));
}

TEST(ParseSend, MetadataNestsAtMost64LevelsAndDeeperThanItsSizeAllowsIsTooLarge) {
    const auto with_metadata = [](std::size_t brackets) {  // the metadata object and `brackets` arrays in it
        return Json::parse(R"({"type":"text","metadata":{"a":)" + std::string(brackets, '[') +
                           std::string(brackets, ']') + "}}");
    };
    EXPECT_EQ(parse_send(with_metadata(63), "c", "s").metadata.text.size(), 2 * 63 + 6);
    const auto refused = [&](std::size_t brackets) -> std::optional<model::Error> {
        try {
            parse_send(with_metadata(brackets), "c", "s");
        } catch (const model::Error& error) {
            return error;
        }
        return std::nullopt;
    };
    const auto deeper = refused(64);
    ASSERT_TRUE(deeper);
    EXPECT_EQ(deeper->code(), model::ErrorCode::bad_request);
    EXPECT_EQ(deeper->field(), "metadata");
    const auto beyond_size = refused(9000);  // 16 KiB of brackets cannot nest this deep
    ASSERT_TRUE(beyond_size);
    EXPECT_EQ(beyond_size->code(), model::ErrorCode::payload_too_large);
}

}  // namespace
}  // namespace confab::api
