#pragma once

#include "confab/config/config.hpp"
#include "confab/domain/push_sender.hpp"

#include <string>

namespace confab::net {

// The push providers the operator configured ([push], docs/configuration.md). Today: the
// generic push gateway, a JSON POST to push.gateway_url (docs/api.md, Push notifications).
class PushProviders final : public domain::PushSender {
public:
    explicit PushProviders(const config::Push& settings);

    bool serves(model::PushProvider provider) const override;
    boost::asio::awaitable<domain::PushOutcome> send(model::PushDevice device,
                                                     domain::PushNotification notification) override;

private:
    boost::asio::awaitable<domain::PushOutcome> send_to_gateway(const model::PushDevice& device,
                                                                const domain::PushNotification& notification);

    const config::Push& settings_;
};

// The gateway request's JSON body: {"token", "notification": {...}}.
std::string push_gateway_body(const std::string& token, const domain::PushNotification& notification);
// What an HTTP status from a provider means for the notification.
domain::PushOutcome push_outcome_of(int status);

}  // namespace confab::net
