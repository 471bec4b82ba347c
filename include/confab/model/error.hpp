#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace confab::model {

// The error codes of PROTOCOL.md's Conventions (plus method_not_allowed for the router).
enum class ErrorCode {
    bad_request,
    unauthorized,
    forbidden,
    not_found,
    method_not_allowed,
    conflict,
    payload_too_large,
    unsupported_media_type,
    rate_limited,
    internal,
    unavailable,
};

// A rule of the product said no. Thrown anywhere below the edge; mapped to the wire once,
// in http/errors.
class Error : public std::runtime_error {
public:
    Error(ErrorCode code, const std::string& message, std::optional<std::string> field = std::nullopt)
        : std::runtime_error(message), code_(code), field_(std::move(field)) {}

    ErrorCode code() const noexcept { return code_; }
    // The request field at fault, reported as details.field.
    const std::optional<std::string>& field() const noexcept { return field_; }
    std::optional<std::int64_t> retry_after_ms;
    // Further numbers the client can act on (e.g. a quota and its use), reported in details.
    std::vector<std::pair<std::string, std::int64_t>> amounts;
    // Why, as a stable word a client can branch on (e.g. "expired" for a host token), reported
    // as details.reason.
    std::optional<std::string> reason;

private:
    ErrorCode code_;
    std::optional<std::string> field_;
};

// The code's name on the wire (PROTOCOL.md): bad_request, not_found, ...
std::string_view to_string(ErrorCode code);

inline Error bad_request(const std::string& message, std::optional<std::string> field = std::nullopt) {
    return Error(ErrorCode::bad_request, message, std::move(field));
}
inline Error not_found(const std::string& what) { return Error(ErrorCode::not_found, what + " not found"); }
inline Error forbidden(const std::string& message) { return Error(ErrorCode::forbidden, message); }
inline Error conflict(const std::string& message) { return Error(ErrorCode::conflict, message); }
inline Error unauthorized(const std::string& message = "missing or invalid token") {
    return Error(ErrorCode::unauthorized, message);
}
// An error whose details.reason tells apart what its code alone does not.
inline Error with_reason(ErrorCode code, const std::string& message, std::string reason,
                         std::optional<std::string> field = std::nullopt) {
    Error error(code, message, std::move(field));
    error.reason = std::move(reason);
    return error;
}

}  // namespace confab::model
