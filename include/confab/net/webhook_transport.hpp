#pragma once

#include "confab/config/config.hpp"
#include "confab/domain/webhook_service.hpp"

#include <boost/asio/ip/address.hpp>

namespace confab::net {

// Where an address leads, as the webhook settings judge it (docs/configuration.md, webhooks.*).
enum class AddressKind {
    public_internet,
    loopback,         // 127.0.0.0/8, ::1, and the unspecified 0.0.0.0 and :: (which reach this host)
    private_network,  // 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7, link-local 169.254/16, fe80::/10
    never,            // multicast, broadcast and reserved ranges: no receiver lives there
};
AddressKind classify(const boost::asio::ip::address& address);

// Webhook deliveries over net/http_client, refusing (when subscribing and at each delivery,
// after the name lookup) the addresses the settings do not allow.
class HttpWebhookTransport final : public domain::WebhookTransport {
public:
    explicit HttpWebhookTransport(const config::Webhooks& settings) : settings_(settings) {}

    boost::asio::awaitable<void> check_destination(std::string url, std::string field) override;
    boost::asio::awaitable<std::optional<std::string>> post(domain::WebhookPost post) override;

    bool allows(const boost::asio::ip::address& address) const;

private:
    const config::Webhooks& settings_;
};

}  // namespace confab::net
