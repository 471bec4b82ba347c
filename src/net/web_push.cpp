#include "confab/net/web_push.hpp"

#include "confab/net/http_client.hpp"
#include "confab/net/push_providers.hpp"

#include "confab/model/base64url.hpp"
#include "confab/model/user.hpp"

#include <boost/url/parse.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace confab::net {
namespace {

constexpr auto vapid_lifetime = std::chrono::hours(12);  // RFC 8292 allows up to 24

// The key as a base64url scalar (43 characters) or as the path of a PEM file.
PrivateKey vapid_key_from(const std::string& setting) {
    if (const auto scalar = model::from_base64url(setting); scalar && scalar->size() == 32)
        return PrivateKey::p256_from_scalar(*scalar);
    const auto pem = key_file_text(setting);
    if (!pem) throw CryptoError("cannot read the file " + setting);
    auto key = PrivateKey::from_pem(*pem);
    if (!key.is_p256()) throw CryptoError("the key in " + setting + " is not a P-256 key");
    return key;
}

}  // namespace

std::string origin_of(std::string_view url) {
    const auto parsed = boost::urls::parse_absolute_uri(url);
    if (!parsed || (parsed->scheme() != "https" && parsed->scheme() != "http") || parsed->host().empty()) return {};
    std::string origin = std::string(parsed->scheme()) + "://" + std::string(parsed->encoded_host());
    const auto default_port = parsed->scheme() == "https" ? "443" : "80";
    if (parsed->has_port() && parsed->port() != default_port) origin += ":" + std::string(parsed->port());
    return origin;
}

std::unique_ptr<WebPush> WebPush::from_settings(const config::Push& settings, AddressFilter allow) {
    if (settings.webpush_vapid_key.empty()) {
        spdlog::info("push: Web Push is off (push.webpush_vapid_key is not set)");
        return nullptr;
    }
    if (settings.webpush_subject.empty()) {
        spdlog::error("push: Web Push is off: push.webpush_subject (mailto: or https:) is required with a VAPID key");
        return nullptr;
    }
    try {
        auto web_push =
            std::make_unique<WebPush>(settings, vapid_key_from(settings.webpush_vapid_key), std::move(allow));
        spdlog::info("push: Web Push is on, VAPID public key {}", web_push->public_key());
        return web_push;
    } catch (const CryptoError& e) {
        spdlog::error("push: Web Push is off: push.webpush_vapid_key: {}", e.what());
        return nullptr;
    }
}

WebPush::WebPush(const config::Push& settings, PrivateKey vapid_key, AddressFilter allow)
    : settings_(settings),
      vapid_key_(std::move(vapid_key)),
      public_key_(model::to_base64url(vapid_key_.p256_public())),
      allow_(std::move(allow)) {}

std::string WebPush::authorization(std::string_view endpoint, std::chrono::system_clock::time_point now) const {
    const nlohmann::json claims{{"aud", origin_of(endpoint)},
                                {"exp", model::unix_seconds(now + vapid_lifetime)},
                                {"sub", settings_.webpush_subject}};
    return "vapid t=" + signed_jwt(vapid_key_, "{}", claims.dump()) + ", k=" + public_key_;
}

boost::asio::awaitable<domain::PushOutcome> WebPush::send(const model::PushDevice& device, std::string payload) const {
    std::string body;
    try {
        body = encrypt_web_push(payload, model::from_base64url(device.p256dh.value_or("")).value_or(""),
                                model::from_base64url(device.auth.value_or("")).value_or(""),
                                PrivateKey::generate_p256(), random_salt());
    } catch (const CryptoError& e) {
        // Keys the registration let through but no push can be encrypted for (a point off the curve).
        spdlog::warn("push: webpush device {}: {}", device.id, e.what());
        co_return domain::PushOutcome::dead_token;
    }
    OutgoingRequest call{"POST",
                         device.token,
                         {{"Content-Type", "application/octet-stream"},
                          {"Content-Encoding", "aes128gcm"},
                          {"TTL", std::to_string(settings_.webpush_ttl.count())},
                          {"Urgency", settings_.webpush_urgency},
                          {"Authorization", authorization(device.token, std::chrono::system_clock::now())}},
                         std::move(body),
                         settings_.timeout};
    call.allow_address = allow_;
    try {
        const auto response = co_await send_request(std::move(call));
        co_return push_outcome_of(response.status);
    } catch (const HttpClientError& e) {
        spdlog::warn("push: webpush device {}: {}", device.id, e.what());
        co_return domain::PushOutcome::retry;
    }
}

}  // namespace confab::net
