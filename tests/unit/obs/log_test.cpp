#include "confab/obs/log.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace confab::obs {
namespace {

nlohmann::json line(std::string_view text) {
    spdlog::memory_buf_t out;
    append_json_line("2026-11-25T10:00:00.000Z", "info", text, out);
    const std::string rendered(out.data(), out.size());
    EXPECT_EQ(rendered.back(), '\n');
    return nlohmann::json::parse(rendered);
}

TEST(JsonLogs, KeyValueWordsBecomeFields) {
    const auto json = line(
        "request_id=ab12 method=GET path=/api/v1/chats route=/api/v1/chats status=200 "
        "duration_ms=1.25 user_id=-");
    EXPECT_EQ(json["ts"], "2026-11-25T10:00:00.000Z");
    EXPECT_EQ(json["level"], "info");
    EXPECT_EQ(json["msg"], "");
    EXPECT_EQ(json["request_id"], "ab12");
    EXPECT_EQ(json["method"], "GET");
    EXPECT_EQ(json["route"], "/api/v1/chats");
    EXPECT_EQ(json["status"], "200");
    EXPECT_EQ(json["duration_ms"], "1.25");
}

TEST(JsonLogs, OtherWordsStayInTheMessage) {
    const auto json = line("user registered user_id=42 at once");
    EXPECT_EQ(json["msg"], "user registered at once");
    EXPECT_EQ(json["user_id"], "42");
}

TEST(JsonLogs, AnyTextStaysValidJson) {
    const auto json = line("quote=\"x\" back\\slash tab\there newline\nend ctl=\x01");
    EXPECT_EQ(json["quote"], "\"x\"");
    EXPECT_EQ(json["ctl"], "\x01");
    EXPECT_NE(json["msg"].get<std::string>().find("back\\slash"), std::string::npos);
}

}  // namespace
}  // namespace confab::obs
