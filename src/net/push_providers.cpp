#include "confab/net/push_providers.hpp"

#include "confab/net/http_client.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace confab::net {
namespace {

void put_if(nlohmann::json& object, const char* name, const std::optional<std::string>& value) {
    if (value) object[name] = *value;
}

nlohmann::json notification_object(const domain::PushNotification& notification) {
    nlohmann::json body{{"dedupe_key", notification.dedupe_key},
                        {"chat_id", notification.chat_id},
                        {"message_id", notification.message_id},
                        {"count", notification.count}};
    put_if(body, "sender_id", notification.sender_id);
    put_if(body, "sender_name", notification.sender_name);
    put_if(body, "chat_title", notification.chat_title);
    put_if(body, "type", notification.message_type);
    put_if(body, "body", notification.body);
    return body;
}

}  // namespace

std::string push_notification_json(const domain::PushNotification& notification) {
    return notification_object(notification).dump();
}

std::string push_gateway_body(const std::string& token, const domain::PushNotification& notification) {
    return nlohmann::json{{"token", token}, {"notification", notification_object(notification)}}.dump();
}

domain::PushOutcome push_outcome_of(int status) {
    if (status >= 200 && status < 300) return domain::PushOutcome::delivered;
    if (status == 404 || status == 410) return domain::PushOutcome::dead_token;
    return domain::PushOutcome::retry;
}

PushProviders::PushProviders(const config::Push& settings, AddressFilter allow_endpoint)
    : settings_(settings),
      web_push_(WebPush::from_settings(settings, std::move(allow_endpoint))),
      fcm_(Fcm::from_settings(settings)),
      apns_(Apns::from_settings(settings)) {}

bool PushProviders::serves(model::PushProvider provider) const {
    switch (provider) {
        case model::PushProvider::gateway: return !settings_.gateway_url.empty();
        case model::PushProvider::webpush: return web_push_ != nullptr;
        case model::PushProvider::fcm: return fcm_ != nullptr;
        case model::PushProvider::apns: return apns_ != nullptr;
    }
    return false;
}

boost::asio::awaitable<domain::PushOutcome> PushProviders::send(model::PushDevice device,
                                                                domain::PushNotification notification) {
    if (!serves(device.provider)) co_return domain::PushOutcome::retry;
    switch (device.provider) {
        case model::PushProvider::webpush:
            co_return co_await web_push_->send(device, push_notification_json(notification));
        case model::PushProvider::fcm: co_return co_await fcm_->send(device, notification);
        case model::PushProvider::apns: co_return co_await apns_->send(device, notification);
        default: co_return co_await send_to_gateway(device, notification);
    }
}

boost::asio::awaitable<domain::PushOutcome> PushProviders::send_to_gateway(
    const model::PushDevice& device, const domain::PushNotification& notification) {
    OutgoingRequest call{"POST",
                         settings_.gateway_url,
                         {{"Content-Type", "application/json"}},
                         push_gateway_body(device.token, notification),
                         settings_.timeout};
    if (!settings_.gateway_api_key.empty())
        call.headers.emplace_back("Authorization", "Bearer " + settings_.gateway_api_key);
    try {
        const auto response = co_await send_request(std::move(call));
        co_return push_outcome_of(response.status);
    } catch (const HttpClientError& e) {
        spdlog::warn("push gateway: {}", e.what());
        co_return domain::PushOutcome::retry;
    }
}

}  // namespace confab::net
