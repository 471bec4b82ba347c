// What the APNs provider sends and how it reads Apple's answers (docs/api.md, APNs requests).

#include "confab/net/apns.hpp"

#include "confab/model/base64url.hpp"

#include "sample_notification.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace confab::net {
namespace {

using domain::PushOutcome;

nlohmann::json jwt_part(const std::string& jwt, int index) {
    std::size_t start = 0;
    for (int i = 0; i < index; ++i) start = jwt.find('.', start) + 1;
    const auto end = jwt.find('.', start);
    return nlohmann::json::parse(model::from_base64url(jwt.substr(start, end - start)).value_or(""), nullptr, false);
}

TEST(ApnsProviderToken, IsAnEs256JwtNamingTheKeyAndTheTeam) {
    const auto key = PrivateKey::generate_p256();
    const auto issued = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
    const auto jwt = apns_provider_token(key, "KEY1234567", "TEAM123456", issued);
    EXPECT_EQ(jwt_part(jwt, 0), (nlohmann::json{{"alg", "ES256"}, {"typ", "JWT"}, {"kid", "KEY1234567"}}));
    EXPECT_EQ(jwt_part(jwt, 1), (nlohmann::json{{"iss", "TEAM123456"}, {"iat", 1700000000}}));
    EXPECT_EQ(model::from_base64url(jwt.substr(jwt.rfind('.') + 1)).value_or("").size(), 64u);
}

TEST(ApnsPayload, AnAlertWithTheChatsOrSendersNameAndTheIdsBesideAps) {
    const auto payload = nlohmann::json::parse(apns_payload(notification_with_content(), false));
    EXPECT_EQ(payload,
              (nlohmann::json{
                  {"aps", {{"alert", {{"title", "Ann"}, {"body", "hi"}}}, {"thread-id", "c1"}, {"mutable-content", 1}}},
                  {"dedupe_key", "k1"},
                  {"chat_id", "c1"},
                  {"message_id", "m1"},
                  {"count", 2},
                  {"sender_id", "u1"},
                  {"sender_name", "Ann"},
                  {"type", "text"}}));
    auto titled = notification_with_content();
    titled.chat_title = "Lunch";
    EXPECT_EQ(nlohmann::json::parse(apns_payload(titled, false))["aps"]["alert"]["title"], "Lunch");
}

TEST(ApnsPayload, ContentFreeIsABackgroundPushWithIdsOnly) {
    const domain::PushNotification ids_only{.dedupe_key = "k1", .chat_id = "c1", .message_id = "m1", .count = 1};
    EXPECT_EQ(nlohmann::json::parse(apns_payload(ids_only, true)), (nlohmann::json{{"aps", {{"content-available", 1}}},
                                                                                   {"dedupe_key", "k1"},
                                                                                   {"chat_id", "c1"},
                                                                                   {"message_id", "m1"},
                                                                                   {"count", 1}}));
}

TEST(ApnsPayload, ALongBodyIsCutOnACharacterBoundaryToFitApplesLimit) {
    auto long_text = notification_with_content();
    long_text.body = std::string(3, 'a') + std::string(3000, '\0');
    for (std::size_t i = 3; i + 1 < long_text.body->size(); i += 2) {
        (*long_text.body)[i] = '\xc3';  // "é", two bytes
        (*long_text.body)[i + 1] = '\xa9';
    }
    long_text.sender_name = std::string(1500, 'n');  // names are shown whole, the body gives way
    const auto text = apns_payload(long_text, false);
    EXPECT_LE(text.size(), 4096u);
    const auto payload = nlohmann::json::parse(text);  // throws on a split character
    const std::string body = payload["aps"]["alert"]["body"];
    EXPECT_TRUE(body.starts_with("aaa\xc3\xa9"));
    EXPECT_TRUE(body.ends_with("\xc3\xa9\u2026"));
    EXPECT_LT(body.size(), long_text.body->size());
}

TEST(ApnsVerdict, MapsStatusAndReason) {
    struct Case {
        int status;
        const char* body;
        ApnsVerdict expected;
    };
    const Case cases[] = {
        {200, "", {PushOutcome::delivered}},
        {410, R"({"reason":"Unregistered","timestamp":1700000000000})", {PushOutcome::dead_token}},
        {400, R"({"reason":"BadDeviceToken"})", {PushOutcome::dead_token}},
        {400, R"({"reason":"DeviceTokenNotForTopic"})", {PushOutcome::dead_token}},
        {400, R"({"reason":"Unregistered"})", {PushOutcome::dead_token}},
        {400, R"({"reason":"BadCollapseId"})", {PushOutcome::retry}},
        {400, "not json", {PushOutcome::retry}},
        {403, R"({"reason":"ExpiredProviderToken"})", {PushOutcome::retry, true}},
        {403, R"({"reason":"InvalidProviderToken"})", {PushOutcome::retry}},
        {404, R"({"reason":"BadPath"})", {PushOutcome::retry}},
        {429, R"({"reason":"TooManyRequests"})", {PushOutcome::retry}},
        {500, R"({"reason":"InternalServerError"})", {PushOutcome::retry}},
        {503, R"({"reason":"ServiceUnavailable"})", {PushOutcome::retry}},
    };
    for (const auto& c : cases) EXPECT_EQ(apns_verdict(c.status, c.body), c.expected) << c.status << " " << c.body;
}

}  // namespace
}  // namespace confab::net
