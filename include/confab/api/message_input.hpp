#pragma once

#include "confab/api/json.hpp"
#include "confab/domain/message_service.hpp"

namespace confab::api {

// The body of POST /chats/{id}/messages and the data of message.send, as one command.
domain::SendMessage parse_send(const Json& data, std::string chat_id, std::string sender_id);

// {"messages": [...], "version", "has_more"}: the since_version sync result.
Json to_json(const domain::SyncPage& page);

}  // namespace confab::api
