#pragma once

#include "confab/domain/user.hpp"

#include <nlohmann/json.hpp>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

// JSON at the edge: request bodies in, models out. Every malformed input becomes
// domain::Error{bad_request} naming the field.
namespace confab::api {

using Json = nlohmann::json;

// Parses a request body that must be one JSON object.
Json parse_object(std::string_view text);

std::string required_string(const Json& object, const char* field);
std::optional<std::string> optional_string(const Json& object, const char* field);
// A field that may be absent or null yields nullopt.
std::optional<std::string> nullable_string(const Json& object, const char* field);
std::optional<long long> optional_integer(const Json& object, const char* field);
std::optional<bool> optional_bool(const Json& object, const char* field);
void reject_unknown_fields(const Json& object, std::initializer_list<std::string_view> known);

// RFC 3339 UTC with milliseconds: 2026-11-24T10:15:30.123Z
std::string format_timestamp(domain::Timestamp at);

Json to_json(const domain::User& user);

// Serializes for the wire; never throws on text (invalid UTF-8 cannot reach here, but a
// replacement character beats a dropped event).
std::string dump(const Json& value);

}  // namespace confab::api
