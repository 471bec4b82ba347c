#pragma once

#include "confab/model/chat.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace confab::model {

enum class ScheduledStatus { pending, sent, cancelled };
std::string_view to_string(ScheduledStatus status);
std::optional<ScheduledStatus> scheduled_status_from(std::string_view text);

// A message its author scheduled: visible to them alone until it is posted as an ordinary
// message at `send_at`, or cancelled (by them, or by the server with the reason).
struct ScheduledMessage {
    std::string id;
    std::string chat_id;
    std::string sender_id;
    Timestamp send_at;
    MessageType type = MessageType::text;
    std::string content;
    std::optional<std::string> media_id;
    std::optional<std::string> reply_to_id;
    OpaqueJson metadata;
    std::optional<std::string> client_id;
    std::vector<TextEntity> entities;  // over `content`, as a message's (docs/api.md, Rich text)
    ScheduledStatus status = ScheduledStatus::pending;
    std::optional<std::string> message_id;  // once sent
    struct Cancellation {
        std::string code;  // an error code of the contract, e.g. forbidden
        std::string reason;
    };
    std::optional<Cancellation> cancelled;  // when the server cancelled it
    Timestamp created_at;
    Timestamp updated_at;
};

}  // namespace confab::model
