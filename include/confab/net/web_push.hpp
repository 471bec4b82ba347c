#pragma once

#include "confab/config/config.hpp"
#include "confab/domain/push_sender.hpp"
#include "confab/net/push_crypto.hpp"

#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

// Web Push (docs/api.md, Web Push requests): RFC 8030 delivery to a subscription's endpoint,
// authenticated with VAPID (RFC 8292) and its payload encrypted for the subscription (RFC 8291).
namespace confab::net {

using AddressFilter = std::function<bool(const boost::asio::ip::address&)>;

class WebPush {
public:
    // Null, with a log line saying why, when push.webpush_vapid_key is unset, unreadable or not a
    // P-256 key, or push.webpush_subject is missing. `allow` judges each endpoint's addresses.
    static std::unique_ptr<WebPush> from_settings(const config::Push& settings, AddressFilter allow);
    WebPush(const config::Push& settings, PrivateKey vapid_key, AddressFilter allow);

    // `payload` is the notification's JSON text.
    boost::asio::awaitable<domain::PushOutcome> send(const model::PushDevice& device, std::string payload) const;
    // "vapid t=<JWT>, k=<public key>" for `endpoint`: aud is its origin, exp 12 hours after `now`.
    std::string authorization(std::string_view endpoint, std::chrono::system_clock::time_point now) const;
    const std::string& public_key() const { return public_key_; }

private:
    const config::Push& settings_;
    PrivateKey vapid_key_;
    std::string public_key_;  // base64url, as browsers take it (applicationServerKey)
    AddressFilter allow_;
};

// The ASCII origin (RFC 6454) of an absolute http(s) URL, "scheme://host[:port]" with a
// default port left out; empty when it is not one.
std::string origin_of(std::string_view url);

}  // namespace confab::net
