#include "confab/api/json.hpp"

#include "confab/domain/error.hpp"

#include <ctime>

namespace confab::api {

using domain::bad_request;

Json parse_object(std::string_view text) {
    Json parsed = Json::parse(text, nullptr, false);
    if (parsed.is_discarded()) throw bad_request("body is not valid JSON");
    if (!parsed.is_object()) throw bad_request("body must be a JSON object");
    return parsed;
}

std::optional<std::string> optional_string(const Json& object, const char* field) {
    const auto found = object.find(field);
    if (found == object.end()) return std::nullopt;
    if (!found->is_string()) throw bad_request(std::string(field) + " must be a string", field);
    return found->get<std::string>();
}

std::string required_string(const Json& object, const char* field) {
    auto value = optional_string(object, field);
    if (!value) throw bad_request(std::string(field) + " is required", field);
    return std::move(*value);
}

std::optional<std::string> nullable_string(const Json& object, const char* field) {
    const auto found = object.find(field);
    if (found != object.end() && found->is_null()) return std::nullopt;
    return optional_string(object, field);
}

std::optional<long long> optional_integer(const Json& object, const char* field) {
    const auto found = object.find(field);
    if (found == object.end()) return std::nullopt;
    if (!found->is_number_integer()) throw bad_request(std::string(field) + " must be an integer", field);
    if (found->is_number_unsigned() && found->get<unsigned long long>() > 9007199254740991ULL)
        throw bad_request(std::string(field) + " is out of range", field);
    return found->get<long long>();
}

std::optional<bool> optional_bool(const Json& object, const char* field) {
    const auto found = object.find(field);
    if (found == object.end()) return std::nullopt;
    if (!found->is_boolean()) throw bad_request(std::string(field) + " must be a boolean", field);
    return found->get<bool>();
}

void reject_unknown_fields(const Json& object, std::initializer_list<std::string_view> known) {
    for (const auto& [key, value] : object.items()) {
        bool is_known = false;
        for (auto name : known) is_known = is_known || key == name;
        if (!is_known) throw bad_request("unknown field " + key, key);
    }
}

std::string format_timestamp(domain::Timestamp at) {
    const auto ms = at.time_since_epoch().count();
    const auto seconds = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    const auto millis = static_cast<int>(ms - static_cast<long long>(seconds) * 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[40];
    const auto length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    char suffix[8];
    std::snprintf(suffix, sizeof suffix, ".%03dZ", millis);
    return std::string(text, length) + suffix;
}

Json to_json(const domain::User& user) {
    return Json{{"id", user.id},
                {"username", user.username},
                {"display_name", user.display_name},
                {"avatar_url", user.avatar_url ? Json(*user.avatar_url) : Json(nullptr)},
                {"created_at", format_timestamp(user.created_at)}};
}

std::string dump(const Json& value) { return value.dump(-1, ' ', false, Json::error_handler_t::replace); }

}  // namespace confab::api
