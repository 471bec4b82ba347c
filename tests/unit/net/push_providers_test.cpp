// What the push providers send (docs/api.md, Web Push requests and FCM requests).

#include "confab/net/fcm.hpp"
#include "confab/net/web_push.hpp"

#include "sample_notification.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace confab::net {
namespace {

TEST(WebPushOrigin, IsTheEndpointsSchemeHostAndPort) {
    EXPECT_EQ(origin_of("https://fcm.googleapis.com/fcm/send/abc:def"), "https://fcm.googleapis.com");
    EXPECT_EQ(origin_of("https://updates.push.services.mozilla.com:443/wpush/v2/x?y=1"),
              "https://updates.push.services.mozilla.com")
        << "a default port is left out";
    EXPECT_EQ(origin_of("https://push.example:8443/x"), "https://push.example:8443");
    EXPECT_EQ(origin_of("http://127.0.0.1:8080/wp/ann"), "http://127.0.0.1:8080");
    EXPECT_EQ(origin_of("ftp://example.com/x"), "");
    EXPECT_EQ(origin_of("not a url"), "");
}

TEST(FcmMessage, DataIsAllStringsAndTheTitleIsTheChatsOrElseTheSenders) {
    const auto body = nlohmann::json::parse(fcm_message_body("device-1", notification_with_content()));
    const auto& message = body["message"];
    EXPECT_EQ(message["token"], "device-1");
    EXPECT_EQ(message["data"], (nlohmann::json{{"dedupe_key", "k1"},
                                               {"chat_id", "c1"},
                                               {"message_id", "m1"},
                                               {"count", "2"},
                                               {"sender_id", "u1"},
                                               {"sender_name", "Ann"},
                                               {"type", "text"},
                                               {"body", "hi"}}));
    EXPECT_EQ(message["notification"], (nlohmann::json{{"title", "Ann"}, {"body", "hi"}}));
    EXPECT_EQ(message["android"], (nlohmann::json{{"collapse_key", "c1"}}));
}

TEST(FcmMessage, AContentFreeNotificationIsDataOnly) {
    const domain::PushNotification ids_only{.dedupe_key = "k1", .chat_id = "c1", .message_id = "m1", .count = 1};
    const auto body = nlohmann::json::parse(fcm_message_body("device-1", ids_only));
    EXPECT_FALSE(body["message"].contains("notification"));
    EXPECT_EQ(body["message"]["data"],
              (nlohmann::json{{"dedupe_key", "k1"}, {"chat_id", "c1"}, {"message_id", "m1"}, {"count", "1"}}));
}

TEST(ServiceAccount, NamesWhatIsMissingOrWrong) {
    EXPECT_THROW(service_account_from("not json"), CryptoError);
    try {
        service_account_from(R"({"project_id":"p","client_email":"e"})");
        FAIL() << "no private key";
    } catch (const CryptoError& e) {
        EXPECT_STREQ(e.what(), "the service account has no private_key");
    }
    const auto p256 =
        "-----BEGIN EC PRIVATE KEY-----\n"
        "MHcCAQEEIMnlj4mBPp+Ohy5x9CqmThdXySVNzGK3LdwBC7QEPqEcoAoGCCqGSM49\n"
        "AwEHoUQDQgAE/jP0qw3qcZFNtVgj9ztUlI9BMG2SBzLbuaWaUyhkgiAOWXp7e8Jg\n"
        "uhwieZhYCZLpOXMALzASooro8Gu7eOXsDw==\n"
        "-----END EC PRIVATE KEY-----\n";
    const nlohmann::json not_rsa{{"project_id", "p"}, {"client_email", "e"}, {"private_key", p256}};
    EXPECT_THROW(service_account_from(not_rsa.dump()), CryptoError) << "FCM assertions are RS256";
}

}  // namespace
}  // namespace confab::net
