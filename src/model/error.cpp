#include "confab/model/error.hpp"

namespace confab::model {

std::string_view to_string(ErrorCode code) {
    using enum ErrorCode;
    switch (code) {
        case bad_request: return "bad_request";
        case unauthorized: return "unauthorized";
        case forbidden: return "forbidden";
        case not_found: return "not_found";
        case method_not_allowed: return "method_not_allowed";
        case conflict: return "conflict";
        case payload_too_large: return "payload_too_large";
        case unsupported_media_type: return "unsupported_media_type";
        case rate_limited: return "rate_limited";
        case internal: return "internal";
        case unavailable: return "unavailable";
    }
    return "internal";
}

}  // namespace confab::model
