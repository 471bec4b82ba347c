#pragma once

#include "confab/model/error.hpp"
#include "confab/http/message.hpp"

#include <nlohmann/json.hpp>

#include <exception>
#include <string>
#include <string_view>

// The one place where failures become the wire's error shape, for HTTP and WebSocket alike:
// {"error": {"code": "...", "message": "...", "details": {...}}}.
namespace confab::http {

struct WireError {
    model::ErrorCode code = model::ErrorCode::internal;
    std::string message;
    nlohmann::json details;  // null when there are none
    std::string log_detail;  // what went wrong inside, for the log only (never sent)
};

WireError describe(std::exception_ptr error);
WireError describe(const model::Error& error);

// Logs a failure answered to a client, `what` naming the request (its id, or a WebSocket
// event and user): a bug is an error; a 503 is only debug, as an outage or overload is logged
// once where it is detected (store::Pool), and a line per refused request would flood the log.
void log_failure(const WireError& error, std::string_view what);

int status_of(model::ErrorCode code);

// {"code", "message", "details"?}
nlohmann::json error_object(const WireError& error);
// status, {"error": error_object}, and Retry-After for rate limits.
Response error_response(const WireError& error);

}  // namespace confab::http
