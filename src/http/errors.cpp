#include "confab/http/errors.hpp"

#include "confab/store/tx.hpp"

#include <spdlog/spdlog.h>

namespace confab::http {

int status_of(model::ErrorCode code) {
    using enum model::ErrorCode;
    switch (code) {
        case bad_request: return 400;
        case unauthorized: return 401;
        case forbidden: return 403;
        case not_found: return 404;
        case method_not_allowed: return 405;
        case conflict: return 409;
        case payload_too_large: return 413;
        case unsupported_media_type: return 415;
        case rate_limited: return 429;
        case internal: return 500;
        case unavailable: return 503;
    }
    return 500;
}

namespace {

// Every 503 says when to retry (PROTOCOL.md): its own hint, else a second.
WireError retry_later(WireError wire, std::chrono::milliseconds after = std::chrono::seconds(1)) {
    if (!wire.details.contains("retry_after_ms")) wire.details["retry_after_ms"] = after.count();
    return wire;
}

}  // namespace

WireError describe(const model::Error& error) {
    WireError wire{error.code(), error.what(), nullptr, error.what()};
    if (error.field()) wire.details["field"] = *error.field();
    if (error.retry_after_ms) wire.details["retry_after_ms"] = *error.retry_after_ms;
    for (const auto& [name, amount] : error.amounts) wire.details[name] = amount;
    if (error.reason) wire.details["reason"] = *error.reason;
    if (error.code() == model::ErrorCode::unavailable) return retry_later(std::move(wire));
    return wire;
}

WireError describe(std::exception_ptr error) {
    using enum model::ErrorCode;
    try {
        std::rethrow_exception(std::move(error));
    } catch (const model::Error& e) {
        return describe(e);
    } catch (const store::Unavailable& e) {
        return retry_later({unavailable, "service temporarily unavailable, retry later", nullptr, e.what()},
                           e.retry_after());
    } catch (const std::exception& e) {
        return {internal, "internal error", nullptr, e.what()};
    } catch (...) {
        return {internal, "internal error", nullptr, "unknown exception"};
    }
}

nlohmann::json error_object(const WireError& error) {
    nlohmann::json object{{"code", model::to_string(error.code)}, {"message", error.message}};
    if (!error.details.is_null()) object["details"] = error.details;
    return object;
}

Response error_response(const WireError& error) {
    auto response = json_response(status_of(error.code), nlohmann::json{{"error", error_object(error)}}.dump());
    if (error.details.contains("retry_after_ms")) {
        const auto ms = error.details["retry_after_ms"].get<long long>();
        response.headers.emplace_back("Retry-After", std::to_string((ms + 999) / 1000));
    }
    return response;
}

void log_failure(const WireError& error, std::string_view what) {
    if (error.code == model::ErrorCode::internal) spdlog::error("{} failed: {}", what, error.log_detail);
    else if (error.code == model::ErrorCode::unavailable) spdlog::debug("{} unavailable: {}", what, error.log_detail);
}

}  // namespace confab::http
