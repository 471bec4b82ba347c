#pragma once

#include "confab/model/user.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace confab::model {

// A URL told of a chat's events (docs/api.md, Webhooks): a chat admin's for that chat, an
// operator's for every chat (chat_id empty), or a bot's for the chats it is a member of
// (bot_id set; docs/api.md, Bots). Its secret signs each delivery.
struct WebhookSubscription {
    std::string id;
    std::optional<std::string> chat_id;
    std::string url;
    std::string secret;
    std::vector<std::string> events;
    std::optional<std::string> created_by;
    Timestamp created_at;
    std::optional<std::string> bot_id;
};

// A delivery that failed for webhooks.retry_for_seconds and was parked: its body is kept as
// it was first sent, so a replay sends the same event with the same delivery id.
struct WebhookFailure {
    std::string id;
    std::string subscription_id;
    std::string chat_id;
    std::string delivery_id;
    std::string event;
    std::string body;
    std::int64_t attempts = 0;
    std::string last_error;
    Timestamp failed_at;
};

}  // namespace confab::model
