#pragma once

#include "confab/api/json.hpp"
#include "confab/domain/message_service.hpp"

namespace confab::api {

// The body of POST /chats/{id}/messages and the data of message.send, as one command.
domain::SendMessage parse_send(const Json& data, std::string chat_id, std::string sender_id);

// The optional `entities` of a send or an edit (docs/api.md, Rich text), as sent: their
// fit to the content is the domain's to judge (domain::rich_text::validate).
std::vector<model::TextEntity> parse_entities(const Json& data);

// The body of POST /messages/{id}/forward and the data of message.forward ({"chat_id",
// "client_id"?}), the message forwarded named apart.
domain::Forward parse_forward(const Json& data, std::string message_id, std::string actor);

// The option indices of a vote: {"options": [0, 2]} (the body of PUT
// /messages/{id}/votes and the data of poll.vote); the domain checks them.
std::vector<std::int64_t> parse_vote(const Json& data);

// {"messages": [...], "hidden": [...], "version", "has_more"}: the since_version sync result.
Json to_json(const domain::SyncPage& page);

}  // namespace confab::api
