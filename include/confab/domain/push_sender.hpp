#pragma once

#include "confab/model/push.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>

namespace confab::domain {

// What one device is told: a chat's new messages, `count` of them, the latest `message_id`.
// The text fields are absent when the operator chose content-free pushes (push.content_free)
// and where there is nothing to show (a deleted message has no body).
struct PushNotification {
    std::string dedupe_key;  // the same on every try of one notification
    std::string chat_id;
    std::string message_id;
    int count = 0;
    std::optional<std::string> sender_id;
    std::optional<std::string> sender_name;
    std::optional<std::string> chat_title;
    std::optional<std::string> message_type;
    std::optional<std::string> body;
};

enum class PushOutcome {
    delivered,   // the provider accepted it
    retry,       // not accepted now (an error, no answer): try again later
    dead_token,  // the provider says the device is gone (404/410, UNREGISTERED): forget it
};

// The push providers, outside the server (the network layer implements them). A call runs on
// the caller's executor and never blocks it; it does not throw.
class PushSender {
public:
    PushSender() = default;
    PushSender(const PushSender&) = delete;
    PushSender& operator=(const PushSender&) = delete;
    virtual ~PushSender() = default;

    // Whether devices of this provider can be told (the operator configured it).
    virtual bool serves(model::PushProvider provider) const = 0;
    virtual boost::asio::awaitable<PushOutcome> send(model::PushDevice device, PushNotification notification) = 0;
};

}  // namespace confab::domain
