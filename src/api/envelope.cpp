#include "confab/api/envelope.hpp"

#include "confab/domain/validation.hpp"
#include "confab/model/error.hpp"

namespace confab::api {
namespace {

constexpr std::size_t max_request_id = 64;  // code points

}  // namespace

Envelope parse_envelope(std::string_view frame, std::optional<std::string>& id_for_errors) {
    Json parsed = parse_object(frame, "frame");
    Envelope envelope;
    if (const auto id = parsed.find("id"); id != parsed.end()) {
        // Escaped (\u0000), a NUL passes the raw check above.
        if (!id->is_string() || id->get_ref<const std::string&>().empty() ||
            domain::code_points(id->get_ref<const std::string&>()) > max_request_id ||
            id->get_ref<const std::string&>().find('\0') != std::string::npos)
            throw model::bad_request("id must be a string of 1-64 characters without U+0000", "id");
        envelope.id = id_for_errors = id->get<std::string>();
    }
    const auto type = parsed.find("type");
    if (type == parsed.end() || !type->is_string()) throw model::bad_request("type is required", "type");
    envelope.type = type->get<std::string>();
    const auto data = parsed.find("data");
    if (data != parsed.end() && !data->is_object()) throw model::bad_request("data must be an object", "data");
    envelope.data = data == parsed.end() ? Json::object() : std::move(*data);
    return envelope;
}

}  // namespace confab::api
