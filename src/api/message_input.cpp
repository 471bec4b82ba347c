#include "confab/api/message_input.hpp"

#include "confab/domain/rich_text.hpp"
#include "confab/domain/validation.hpp"
#include "confab/model/error.hpp"

#include <cmath>
#include <cstdint>
#include <limits>

namespace confab::api {
namespace {

constexpr std::size_t max_metadata_bytes = 16 * 1024;
constexpr std::size_t max_place_text = 256;  // code points

double coordinate(const Json& location, const char* field, double bound) {
    const auto found = location.find(field);
    if (found == location.end() || !found->is_number())
        throw model::bad_request(std::string("metadata.location.") + field + " must be a number", "metadata");
    const double value = found->get<double>();
    if (!std::isfinite(value) || value < -bound || value > bound)
        throw model::bad_request(std::string("metadata.location.") + field + " is out of range", "metadata");
    return value;
}

// metadata.location = {"latitude": -90..90, "longitude": -180..180, "name"?, "address"?}
domain::Location parse_location(const Json& metadata) {
    const auto found = metadata.find("location");
    if (found == metadata.end() || !found->is_object())
        throw model::bad_request("location messages need metadata.location", "metadata");
    reject_unknown_fields(*found, {"latitude", "longitude", "name", "address"});
    for (const char* text_field : {"name", "address"}) {
        const auto text = optional_string(*found, text_field);
        if (text && domain::code_points(*text) > max_place_text)
            throw model::bad_request(std::string("metadata.location.") + text_field + " is too long", "metadata");
    }
    return {coordinate(*found, "latitude", 90), coordinate(*found, "longitude", 180)};
}

// A poll field's text: a string without U+0000 (PostgreSQL text cannot hold it).
std::string poll_text(const Json& value, const char* field) {
    if (!value.is_string() || value.get_ref<const std::string&>().find('\0') != std::string::npos)
        throw model::bad_request(std::string("poll.") + field + " must be text", std::string("poll.") + field);
    return value.get<std::string>();
}

bool poll_flag(const Json& poll, const char* field) {
    const auto found = poll.find(field);
    if (found == poll.end()) return false;
    if (!found->is_boolean())
        throw model::bad_request(std::string("poll.") + field + " must be a boolean", std::string("poll.") + field);
    return found->get<bool>();
}

// poll = {"question", "options": [...], "multiple_choice"?, "anonymous"?, "closes_at"?}; the
// question becomes the message's content. The domain checks the values (domain/polls), and
// every refusal names its field as poll.<name>.
model::Poll parse_poll(const Json& poll, std::string& content) {
    if (!poll.is_object()) throw model::bad_request("poll must be an object", "poll");
    reject_unknown_fields(poll, {"question", "options", "multiple_choice", "anonymous", "closes_at"});
    if (!content.empty()) throw model::bad_request("a poll's content is its question", "content");
    const auto question = poll.find("question");
    if (question == poll.end()) throw model::bad_request("poll.question is required", "poll.question");
    content = poll_text(*question, "question");
    const auto options = poll.find("options");
    if (options == poll.end() || !options->is_array())
        throw model::bad_request("poll.options must be an array of text", "poll.options");
    model::Poll parsed;
    for (const auto& option : *options) parsed.options.push_back({poll_text(option, "options"), 0, {}});
    parsed.multiple_choice = poll_flag(poll, "multiple_choice");
    parsed.anonymous = poll_flag(poll, "anonymous");
    if (const auto closes_at = poll.find("closes_at"); closes_at != poll.end() && !closes_at->is_null()) {
        if (closes_at->is_string()) parsed.closes_at = parse_timestamp(closes_at->get_ref<const std::string&>());
        if (!parsed.closes_at)
            throw model::bad_request("poll.closes_at must be an RFC 3339 date-time", "poll.closes_at");
    }
    return parsed;
}

model::Error invalid_entities(const std::string& message) { return model::bad_request(message, "entities"); }

std::int64_t entity_integer(const Json& entity, const char* field) {
    const auto found = entity.find(field);
    if (found == entity.end() || !found->is_number_unsigned() || beyond_exact_integers(*found))
        throw invalid_entities(std::string("an entity's ") + field + " must be a non-negative integer");
    return found->get<std::int64_t>();
}

std::optional<std::string> entity_text(const Json& entity, const char* field) {
    const auto found = entity.find(field);
    if (found == entity.end() || found->is_null()) return std::nullopt;
    if (!found->is_string()) throw invalid_entities(std::string("an entity's ") + field + " must be a string");
    return found->get<std::string>();
}

model::TextEntity parse_entity(const Json& entity) {
    if (!entity.is_object()) throw invalid_entities("each entity must be an object");
    for (const auto& [key, value] : entity.items())
        if (key != "type" && key != "offset" && key != "length" && key != "url" && key != "language" &&
            key != "user_id")
            throw invalid_entities("unknown entity field: " + key);
    const auto type_name = entity_text(entity, "type");
    const auto type = type_name ? model::entity_type_from(*type_name) : std::nullopt;
    if (!type) throw invalid_entities("unknown entity type");
    // A null stands for a field given all the same: refused where the type takes no such field.
    for (const char* field : {"url", "language", "user_id"})
        if (const auto given = entity.find(field); given != entity.end() && given->is_null())
            domain::rich_text::require_takes(*type, field);
    return {*type,
            entity_integer(entity, "offset"),
            entity_integer(entity, "length"),
            entity_text(entity, "url"),
            entity_text(entity, "language"),
            entity_text(entity, "user_id")};
}

}  // namespace

std::vector<model::TextEntity> parse_entities(const Json& data) {
    std::vector<model::TextEntity> entities;
    const auto found = data.find("entities");
    if (found == data.end() || found->is_null()) return entities;
    if (!found->is_array()) throw invalid_entities("entities must be an array");
    if (found->size() > domain::rich_text::max_entities) throw invalid_entities("a message has at most 100 entities");
    entities.reserve(found->size());
    for (const auto& entity : *found) entities.push_back(parse_entity(entity));
    return entities;
}

domain::SendMessage parse_send(const Json& data, std::string chat_id, std::string sender_id) {
    domain::SendMessage message;
    message.chat_id = std::move(chat_id);
    message.sender_id = std::move(sender_id);
    const auto type = model::message_type_from(required_string(data, "type"));
    if (!type) throw model::bad_request("unknown message type", "type");
    message.type = *type;
    message.content = optional_string(data, "content").value_or("");
    message.media_id = nullable_string(data, "media_id");
    message.reply_to_id = nullable_string(data, "reply_to_id");
    if (!message.reply_to_id) message.reply_to_id = nullable_string(data, "reply_to");
    message.thread_root_id = nullable_string(data, "thread_root_id");
    message.client_id = nullable_string(data, "client_id");
    message.entities = parse_entities(data);
    auto values = optional_string_map(data, "values");
    if (auto template_id = nullable_string(data, "template_id")) {
        message.from_template = domain::TemplateUse{std::move(*template_id),
                                                    values ? std::move(*values) : std::map<std::string, std::string>{}};
    } else if (values) {
        throw model::bad_request("values are for a template_id", "values");
    }
    if (auto metadata = optional_object(data, "metadata", max_metadata_bytes)) message.metadata = std::move(*metadata);
    // metadata.location is a place on any message, so that what reads it can trust its shape.
    static const Json no_metadata = Json::object();
    const auto given = data.find("metadata");
    const Json& metadata = given != data.end() && given->is_object() ? *given : no_metadata;
    if (message.type == model::MessageType::location || metadata.contains("location"))
        message.location = parse_location(metadata);
    // A poll on another type is refused by the domain, naming `poll`, whatever it holds.
    if (const auto poll = data.find("poll"); poll != data.end() && !poll->is_null())
        message.poll = message.type == model::MessageType::poll ? parse_poll(*poll, message.content) : model::Poll{};
    return message;
}

domain::Forward parse_forward(const Json& data, std::string message_id, std::string actor) {
    return {std::move(actor), std::move(message_id), required_string(data, "chat_id"),
            nullable_string(data, "client_id")};
}

std::vector<std::int64_t> parse_vote(const Json& data) {
    const auto options = data.find("options");
    const auto refused = model::bad_request("options must be an array of option indices", "options");
    if (options == data.end() || !options->is_array()) throw refused;
    std::vector<std::int64_t> chosen;
    constexpr auto largest = std::numeric_limits<std::int64_t>::max();
    for (const auto& option : *options) {
        if (!option.is_number_integer()) throw refused;
        // Past int64 is out of range as surely as any index past the options.
        const bool huge = option.is_number_unsigned() && option.get<std::uint64_t>() > std::uint64_t{largest};
        chosen.push_back(huge ? largest : option.get<std::int64_t>());
    }
    return chosen;
}

Json to_json(const domain::SyncPage& page) {
    Json messages = Json::array();
    for (const auto& message : page.messages) messages.push_back(to_json(message));
    Json hidden = Json::array();
    for (const auto& h : page.hidden)
        hidden.push_back({{"message_id", h.message_id}, {"chat_id", h.chat_id}, {"version", h.version}});
    return Json{{"messages", std::move(messages)},
                {"hidden", std::move(hidden)},
                {"version", page.version},
                {"has_more", page.has_more}};
}

}  // namespace confab::api
