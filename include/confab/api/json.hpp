#pragma once

#include "confab/model/chat.hpp"
#include "confab/domain/events.hpp"
#include "confab/model/scheduled.hpp"
#include "confab/model/template.hpp"
#include "confab/model/user.hpp"

#include <nlohmann/json.hpp>

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// JSON at the edge: request bodies in, models out. Every malformed input becomes
// model::Error{bad_request} naming the field.
namespace confab::api {

using Json = nlohmann::json;

// Parses a request body (or, named by `what`, a WebSocket frame) that must be one JSON object:
// 400 for anything else, a raw NUL, or a key given twice in one object (readers disagree on
// which one counts, so neither does).
Json parse_object(std::string_view text, std::string_view what = "body");

std::string required_string(const Json& object, const char* field);
std::optional<std::string> optional_string(const Json& object, const char* field);
// A field that may be absent or null yields nullopt.
std::optional<std::string> nullable_string(const Json& object, const char* field);
// A number past 2^53-1 in magnitude: what not every JSON reader holds exactly (docs/api.md).
bool beyond_exact_integers(const Json& number);
// An integer of at most 2^53-1 in magnitude; 400 for anything else.
std::optional<long long> optional_integer(const Json& object, const char* field);
std::optional<bool> optional_bool(const Json& object, const char* field);
std::optional<std::vector<std::string>> optional_string_array(const Json& object, const char* field);
// An object whose values are all strings.
std::optional<std::map<std::string, std::string>> optional_string_map(const Json& object, const char* field);
// A JSON object field, stored as text (at most `max_bytes` serialized).
std::optional<model::OpaqueJson> optional_object(const Json& object, const char* field, std::size_t max_bytes);
void reject_unknown_fields(const Json& object, std::initializer_list<std::string_view> known);

// RFC 3339 UTC with milliseconds: 2026-11-24T10:15:30.123Z
std::string format_timestamp(model::Timestamp at);
// RFC 3339 date-time: 2026-11-24T10:15:30Z, with optional fractional seconds (milliseconds
// kept, further digits dropped) and a Z or +hh:mm/-hh:mm offset; nullopt when malformed.
std::optional<model::Timestamp> parse_timestamp(std::string_view text);
// A required RFC 3339 field, as bad_request naming it when absent or malformed.
model::Timestamp required_timestamp(const Json& object, const char* field);
// An optional RFC 3339 field: absent or null is none.
std::optional<model::Timestamp> optional_timestamp(const Json& object, const char* field);

Json to_json(const model::User& user);
// UserModel with the presence fields, for callers who share a chat with the user.
Json to_json(const model::User& user, const model::Presence& presence);
Json to_json(const model::Message& message);
// The same message as dump(to_json(message)) prints it, appended to `out` without building
// the tree: for bodies that carry many messages (a history page).
void write_json(std::string& out, const model::Message& message);
// PollModel: `my_votes` only where the poll is one reader's.
Json to_json(const model::Poll& poll);
Json to_json(const model::TextEntity& entity);
// MediaModel; `url` only once the media belongs to a message.
Json to_json(const model::Media& media, const std::optional<std::string>& message_id);
Json to_json(const model::ChatView& view);
Json to_json(const model::Channel& channel);
Json to_json(const model::Member& member);
Json to_json(const model::CustomRole& role);
Json to_json(const model::Invitation& invitation);
Json to_json(const model::Template& value);
Json to_json(const model::ScheduledMessage& scheduled);
Json to_json(const model::Report& report);

// {"type": "<event name>", "data": {...}}: one server event frame.
Json event_frame(const domain::Event& event);
// dump(event_frame(event)), with a message event's message written straight (write_json):
// the frame every member of a chat is sent.
std::string event_text(const domain::Event& event);

// Stored metadata (always a JSON object) back into JSON.
Json parse_stored(const model::OpaqueJson& json);

// Serializes for the wire; never throws on text (invalid UTF-8 cannot reach here, but a
// replacement character beats a dropped event).
std::string dump(const Json& value);

}  // namespace confab::api
