#include "confab/net/fcm.hpp"

#include "confab/net/http_client.hpp"
#include "confab/net/push_providers.hpp"
#include "confab/model/user.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace confab::net {
namespace {

constexpr auto assertion_lifetime = std::chrono::hours(1);  // Google's maximum
constexpr auto renew_before_expiry = std::chrono::minutes(5);
constexpr const char* messaging_scope = "https://www.googleapis.com/auth/firebase.messaging";

std::string required_field(const nlohmann::json& account, const char* name) {
    const auto field = account.find(name);
    if (field == account.end() || !field->is_string() || field->get<std::string>().empty())
        throw CryptoError(std::string("the service account has no ") + name);
    return field->get<std::string>();
}

// "UNREGISTERED" in a google.firebase.fcm.v1.FcmError detail of an error answer.
bool unregistered(const std::string& answer) {
    const auto body = nlohmann::json::parse(answer, nullptr, false);
    if (!body.is_object() || !body.contains("error") || !body["error"].is_object()) return false;
    const auto& details = body["error"].value("details", nlohmann::json::array());
    if (!details.is_array()) return false;
    for (const auto& detail : details)
        if (detail.is_object() && detail.contains("errorCode") && detail["errorCode"] == "UNREGISTERED") return true;
    return false;
}

}  // namespace

ServiceAccount service_account_from(const std::string& json_text) {
    const auto account = nlohmann::json::parse(json_text, nullptr, false);
    if (!account.is_object()) throw CryptoError("the service account file is not a JSON object");
    auto key = PrivateKey::from_pem(required_field(account, "private_key"));
    if (!key.is_rsa()) throw CryptoError("the service account's private_key is not an RSA key");
    const auto key_id = account.find("private_key_id");
    return ServiceAccount{.project_id = required_field(account, "project_id"),
                          .client_email = required_field(account, "client_email"),
                          .private_key_id = key_id != account.end() && key_id->is_string() ? key_id->get<std::string>()
                                                                                           : std::string(),
                          .private_key = std::move(key)};
}

std::string fcm_message_body(const std::string& token, const domain::PushNotification& notification) {
    nlohmann::json data{{"dedupe_key", notification.dedupe_key},
                        {"chat_id", notification.chat_id},
                        {"message_id", notification.message_id},
                        {"count", std::to_string(notification.count)}};
    const std::pair<const char*, const std::optional<std::string>*> optional_fields[] = {
        {"sender_id", &notification.sender_id},
        {"sender_name", &notification.sender_name},
        {"chat_title", &notification.chat_title},
        {"type", &notification.message_type},
        {"body", &notification.body}};
    for (const auto& [name, value] : optional_fields)
        if (*value) data[name] = **value;
    nlohmann::json message{{"token", token},
                           {"data", std::move(data)},
                           {"android", {{"collapse_key", notification.chat_id}}}};
    if (const auto& title = notification.chat_title ? notification.chat_title : notification.sender_name; title) {
        message["notification"] = {{"title", *title}};
        if (notification.body) message["notification"]["body"] = *notification.body;
    }
    return nlohmann::json{{"message", std::move(message)}}.dump();
}

std::unique_ptr<Fcm> Fcm::from_settings(const config::Push& settings) {
    if (settings.fcm_service_account.empty()) {
        spdlog::info("push: FCM is off (push.fcm_service_account is not set)");
        return nullptr;
    }
    const auto text = key_file_text(settings.fcm_service_account);
    if (!text) {
        spdlog::error("push: FCM is off: cannot read push.fcm_service_account {}", settings.fcm_service_account);
        return nullptr;
    }
    try {
        auto account = service_account_from(*text);
        spdlog::info("push: FCM is on for project {}", account.project_id);
        return std::make_unique<Fcm>(settings, std::move(account));
    } catch (const CryptoError& e) {
        spdlog::error("push: FCM is off: push.fcm_service_account: {}", e.what());
        return nullptr;
    }
}

Fcm::Fcm(const config::Push& settings, ServiceAccount account) : settings_(settings), account_(std::move(account)) {}

std::string Fcm::assertion() const {
    const auto now = std::chrono::system_clock::now();
    const nlohmann::json claims{{"iss", account_.client_email},
                                {"scope", messaging_scope},
                                {"aud", settings_.fcm_token_url},
                                {"iat", model::unix_seconds(now)},
                                {"exp", model::unix_seconds(now + assertion_lifetime)}};
    const auto header =
        account_.private_key_id.empty() ? nlohmann::json::object() : nlohmann::json{{"kid", account_.private_key_id}};
    return signed_jwt(account_.private_key, header.dump(), claims.dump());
}

void Fcm::forget_token(const std::string& value) {
    const std::lock_guard lock(token_mutex_);
    if (token_ && token_->value == value) token_.reset();
}

boost::asio::awaitable<std::optional<std::string>> Fcm::access_token() {
    {
        // One exchange at a time: a burst of sends with no fresh token would otherwise sign and
        // send an assertion each. Meanwhile the others send with the token still valid, or,
        // with none (at start, after a 401), are tried again after their backoff.
        const std::lock_guard lock(token_mutex_);
        const auto now = Clock::now();
        if (token_ && (now < token_->renew_at || (exchanging_ && now < token_->expires_at))) co_return token_->value;
        if (exchanging_) co_return std::nullopt;
        exchanging_ = true;
    }
    // Whatever ends the exchange (an answer, none, an exception) lets the next send try again.
    const struct Exchanged {
        Fcm& fcm;
        ~Exchanged() {
            const std::lock_guard lock(fcm.token_mutex_);
            fcm.exchanging_ = false;
        }
    } exchanged{*this};
    auto fresh = co_await exchange_assertion();
    if (!fresh) co_return std::nullopt;
    {
        const std::lock_guard lock(token_mutex_);
        token_ = fresh;
    }
    co_return fresh->value;
}

boost::asio::awaitable<std::optional<Fcm::AccessToken>> Fcm::exchange_assertion() {
    OutgoingRequest call{"POST",
                         settings_.fcm_token_url,
                         {{"Content-Type", "application/x-www-form-urlencoded"}},
                         "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=" + assertion(),
                         settings_.timeout};
    try {
        const auto response = co_await send_request(std::move(call));
        const auto body = nlohmann::json::parse(response.body, nullptr, false);
        if (response.status != 200 || !body.is_object() || !body.contains("access_token") ||
            !body["access_token"].is_string()) {
            spdlog::warn("push: FCM token exchange answered {}", response.status);
            co_return std::nullopt;
        }
        const auto& expires_in = body.contains("expires_in") ? body["expires_in"] : nlohmann::json(3600);
        const auto lifetime =
            std::chrono::seconds(expires_in.is_number_integer() ? expires_in.get<std::int64_t>() : 3600);
        const auto now = Clock::now();
        co_return AccessToken{body["access_token"].get<std::string>(),
                              now + std::max<Clock::duration>(lifetime - renew_before_expiry, lifetime / 2),
                              now + lifetime};
    } catch (const HttpClientError& e) {
        spdlog::warn("push: FCM token exchange: {}", e.what());
        co_return std::nullopt;
    }
}

boost::asio::awaitable<domain::PushOutcome> Fcm::send(const model::PushDevice& device,
                                                      const domain::PushNotification& notification) {
    const auto token = co_await access_token();
    if (!token) co_return domain::PushOutcome::retry;
    OutgoingRequest call{"POST",
                         settings_.fcm_base_url + "/v1/projects/" + account_.project_id + "/messages:send",
                         {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + *token}},
                         fcm_message_body(device.token, notification),
                         settings_.timeout};
    try {
        const auto response = co_await send_request(std::move(call));
        if (response.status == 401) forget_token(*token);  // revoked or expired early: the next try gets another
        if (response.status == 400 && unregistered(response.body)) co_return domain::PushOutcome::dead_token;
        co_return push_outcome_of(response.status);
    } catch (const HttpClientError& e) {
        spdlog::warn("push: fcm device {}: {}", device.id, e.what());
        co_return domain::PushOutcome::retry;
    }
}

}  // namespace confab::net
