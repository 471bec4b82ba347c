#pragma once

#include "confab/config/config.hpp"
#include "confab/domain/push_sender.hpp"
#include "confab/net/push_crypto.hpp"

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

// FCM HTTP v1 (docs/api.md, FCM requests): an OAuth 2.0 access token obtained with the service
// account's RS256-signed JWT (RFC 7523), kept until shortly before it expires, then
// POST <push.fcm_base_url>/v1/projects/<project_id>/messages:send per device.
namespace confab::net {

struct ServiceAccount {
    std::string project_id;
    std::string client_email;
    std::string private_key_id;  // the JWT's "kid"; may be empty
    PrivateKey private_key;
};

// The account in a service-account JSON text. Throws CryptoError naming what is wrong.
ServiceAccount service_account_from(const std::string& json_text);

class Fcm {
public:
    // Null, with a log line saying why, when push.fcm_service_account is unset or unreadable.
    static std::unique_ptr<Fcm> from_settings(const config::Push& settings);
    Fcm(const config::Push& settings, ServiceAccount account);

    boost::asio::awaitable<domain::PushOutcome> send(const model::PushDevice& device,
                                                     const domain::PushNotification& notification);

private:
    using Clock = std::chrono::steady_clock;
    struct AccessToken {
        std::string value;
        Clock::time_point renew_at;
        Clock::time_point expires_at;
    };

    // The token to send with; nullopt when there is none (the send is tried again later).
    boost::asio::awaitable<std::optional<std::string>> access_token();
    boost::asio::awaitable<std::optional<AccessToken>> exchange_assertion();
    std::string assertion() const;
    void forget_token(const std::string& value);

    const config::Push& settings_;
    ServiceAccount account_;
    std::mutex token_mutex_;  // sends run on several threads
    std::optional<AccessToken> token_;
    bool exchanging_ = false;  // one send is getting the next token; the others do not
};

// The messages:send body for one device: data (all strings) and, unless the notification is
// content-free, a notification title and body.
std::string fcm_message_body(const std::string& token, const domain::PushNotification& notification);

}  // namespace confab::net
