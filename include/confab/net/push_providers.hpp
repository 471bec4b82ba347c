#pragma once

#include "confab/config/config.hpp"
#include "confab/domain/push_sender.hpp"
#include "confab/net/apns.hpp"
#include "confab/net/fcm.hpp"
#include "confab/net/web_push.hpp"

#include <memory>
#include <string>

namespace confab::net {

// The push providers the operator configured ([push], docs/configuration.md; docs/api.md,
// Push notifications): the generic push gateway (a JSON POST to push.gateway_url), Web Push
// FCM HTTP v1 and APNs. A provider whose settings are missing or unreadable is off (logged once).
class PushProviders final : public domain::PushSender {
public:
    // `allow_endpoint` judges the addresses of Web Push endpoints (the webhook address policy).
    PushProviders(const config::Push& settings, AddressFilter allow_endpoint);

    bool serves(model::PushProvider provider) const override;
    boost::asio::awaitable<domain::PushOutcome> send(model::PushDevice device,
                                                     domain::PushNotification notification) override;

private:
    boost::asio::awaitable<domain::PushOutcome> send_to_gateway(const model::PushDevice& device,
                                                                const domain::PushNotification& notification);

    const config::Push& settings_;
    std::unique_ptr<WebPush> web_push_;
    std::unique_ptr<Fcm> fcm_;
    std::unique_ptr<Apns> apns_;
};

// The notification as JSON: the gateway's "notification" object and a Web Push payload.
std::string push_notification_json(const domain::PushNotification& notification);
// The gateway request's JSON body: {"token", "notification": {...}}.
std::string push_gateway_body(const std::string& token, const domain::PushNotification& notification);
// What an HTTP status from a provider means for the notification.
domain::PushOutcome push_outcome_of(int status);

}  // namespace confab::net
