#pragma once

// A webhook receiver (docs/api.md, Webhooks) for the webhook and bot tests: a fake HTTP server
// in this process that checks each request as a receiver would (its Confab-Signature with the
// secret of the webhook named in the body, a fresh timestamp, headers matching the body),
// answers by the test's policy, and keeps the bodies it took (answered 2xx) in order.

#include "support/fake_http_server.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace confab::test {

class WebhookReceiver {
public:
    using json = nlohmann::json;
    using Policy = std::function<int(const json& body, std::size_t request_number)>;

    explicit WebhookReceiver(Policy policy = nullptr, std::string address = "127.0.0.1");

    std::string url() const { return server_.url() + "/hook"; }
    // Each webhook signs with its own secret: a subscription as created ({"id", "secret"}), or
    // a webhook's id and secret given apart (a bot's).
    void add_secret(const json& webhook);
    void add_secret(const std::string& webhook_id, const std::string& secret);
    void set_policy(Policy policy);
    std::vector<json> taken() const;
    // The bodies taken, each delivery once (its first time), optionally of one event type.
    std::vector<json> unique(const std::string& type = "") const;
    std::size_t requests() const { return server_.request_count(); }
    std::vector<std::string> problems() const;

private:
    FakeHttpServer::Reply receive(const FakeHttpServer::Request& request);
    void check(const FakeHttpServer::Request& request);  // under mutex_

    mutable std::mutex mutex_;
    Policy policy_;
    std::map<std::string, std::string> secrets_;  // by webhook id
    std::size_t received_ = 0;
    std::vector<json> taken_;
    std::vector<std::string> problems_;
    FakeHttpServer server_;
};

// The hex HMAC-SHA256 of `text` keyed with `secret`.
std::string hex_hmac(const std::string& secret, const std::string& text);

}  // namespace confab::test
