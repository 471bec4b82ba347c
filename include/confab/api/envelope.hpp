#pragma once

#include "confab/api/json.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace confab::api {

// One client frame of the WebSocket protocol (PROTOCOL.md): {"type", "id"?, "data"?}.
struct Envelope {
    std::string type;
    std::optional<std::string> id;  // 1-64 characters; the ack and error echo it
    Json data;                      // always an object ({} when the frame has none)
};

// Parses one client frame; throws model::Error{bad_request} when it is not an envelope.
// `id_for_errors` is set as soon as a valid id is read, so that the error frame for a
// later mistake (a missing type, say) still names the request; a bad id is not echoed.
Envelope parse_envelope(std::string_view frame, std::optional<std::string>& id_for_errors);

}  // namespace confab::api
