#include "support/webhook_receiver.hpp"

#include "support/contract_log.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <chrono>
#include <set>

namespace confab::test {

std::string hex_hmac(const std::string& secret, const std::string& text) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int size = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(text.data()), text.size(), mac.data(), &size);
    static constexpr char digits[] = "0123456789abcdef";
    std::string hex;
    for (unsigned int i = 0; i < size; ++i) {
        hex += digits[mac[i] >> 4U];
        hex += digits[mac[i] & 0xfU];
    }
    return hex;
}

WebhookReceiver::WebhookReceiver(Policy policy, std::string address)
    : policy_(std::move(policy)),
      server_([this](const FakeHttpServer::Request& r) { return receive(r); }, std::move(address)) {}

void WebhookReceiver::add_secret(const json& webhook) {
    add_secret(webhook["id"].get<std::string>(), webhook["secret"].get<std::string>());
}

void WebhookReceiver::add_secret(const std::string& webhook_id, const std::string& secret) {
    std::lock_guard lock(mutex_);
    secrets_[webhook_id] = secret;
}

void WebhookReceiver::set_policy(Policy policy) {
    std::lock_guard lock(mutex_);
    policy_ = std::move(policy);
}

std::vector<nlohmann::json> WebhookReceiver::taken() const {
    std::lock_guard lock(mutex_);
    return taken_;
}

std::vector<nlohmann::json> WebhookReceiver::unique(const std::string& type) const {
    std::set<std::string> seen;
    std::vector<json> found;
    for (const auto& body : taken())
        if (seen.insert(body["delivery_id"].get<std::string>()).second && (type.empty() || body["type"] == type))
            found.push_back(body);
    return found;
}

std::vector<std::string> WebhookReceiver::problems() const {
    std::lock_guard lock(mutex_);
    return problems_;
}

FakeHttpServer::Reply WebhookReceiver::receive(const FakeHttpServer::Request& request) {
    Policy policy;
    std::size_t number = 0;
    {
        std::lock_guard lock(mutex_);
        policy = policy_;
        number = ++received_;
        check(request);
    }
    contract_log::webhook(request.body);
    const auto body = json::parse(request.body, nullptr, false);
    const int status = policy ? policy(body, number) : 200;
    if (status >= 200 && status < 300) {
        std::lock_guard lock(mutex_);
        taken_.push_back(body);
    }
    return {status, "{}"};
}

void WebhookReceiver::check(const FakeHttpServer::Request& request) {
    const auto header = [&](const std::string& name) {
        const auto found = request.headers.find(name);
        return found == request.headers.end() ? std::string() : found->second;
    };
    const auto signature = header("confab-signature");
    const auto comma = signature.find(",v1=");
    if (signature.rfind("t=", 0) != 0 || comma == std::string::npos) {
        problems_.push_back("malformed Confab-Signature: " + signature);
        return;
    }
    const auto body = json::parse(request.body, nullptr, false);
    const auto secret = secrets_.find(body.is_object() ? body.value("webhook_id", "") : "");
    if (secret == secrets_.end()) {
        problems_.push_back("no subscription of this receiver sent " + request.body);
        return;
    }
    const auto timestamp = signature.substr(2, comma - 2);
    if (signature.substr(comma + 4) != hex_hmac(secret->second, timestamp + "." + request.body))
        problems_.push_back("bad signature on " + request.body);
    const auto age = std::chrono::system_clock::now().time_since_epoch() - std::chrono::seconds(std::stoll(timestamp));
    if (std::chrono::abs(age) > std::chrono::minutes(5)) problems_.push_back("stale timestamp " + timestamp);
    if (header("confab-delivery") != body.value("delivery_id", "") ||
        header("confab-event") != body.value("type", "") || request.method != "POST" ||
        header("content-type") != "application/json")
        problems_.push_back("headers do not match the body: " + request.body);
}

}  // namespace confab::test
