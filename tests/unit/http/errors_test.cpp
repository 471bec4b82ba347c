#include "confab/http/errors.hpp"

#include "confab/store/pool.hpp"

#include <gtest/gtest.h>

namespace confab::http {
namespace {

using model::ErrorCode;

nlohmann::json body_of(const Response& response) { return nlohmann::json::parse(response.body); }

TEST(ErrorMapping, EveryCodeHasTheContractStatus) {
    const std::vector<std::tuple<ErrorCode, int, std::string>> expected{
        {ErrorCode::bad_request, 400, "bad_request"},
        {ErrorCode::unauthorized, 401, "unauthorized"},
        {ErrorCode::forbidden, 403, "forbidden"},
        {ErrorCode::not_found, 404, "not_found"},
        {ErrorCode::method_not_allowed, 405, "method_not_allowed"},
        {ErrorCode::conflict, 409, "conflict"},
        {ErrorCode::payload_too_large, 413, "payload_too_large"},
        {ErrorCode::unsupported_media_type, 415, "unsupported_media_type"},
        {ErrorCode::rate_limited, 429, "rate_limited"},
        {ErrorCode::internal, 500, "internal"},
        {ErrorCode::unavailable, 503, "unavailable"},
    };
    for (const auto& [code, status, name] : expected) {
        EXPECT_EQ(status_of(code), status) << name;
        EXPECT_EQ(model::to_string(code), name);
    }
}

TEST(ErrorMapping, DomainErrorKeepsMessageAndField) {
    const auto response = error_response(describe(model::bad_request("username is required", "username")));
    EXPECT_EQ(response.status, 400);
    const auto body = body_of(response);
    EXPECT_EQ(body["error"]["code"], "bad_request");
    EXPECT_EQ(body["error"]["message"], "username is required");
    EXPECT_EQ(body["error"]["details"]["field"], "username");
}

TEST(ErrorMapping, NoDetailsMeansNoDetailsKey) {
    const auto body = body_of(error_response(describe(model::not_found("chat"))));
    EXPECT_EQ(body["error"]["message"], "chat not found");
    EXPECT_FALSE(body["error"].contains("details"));
}

TEST(ErrorMapping, RateLimitCarriesRetryAfterInSecondsRoundedUp) {
    model::Error error(ErrorCode::rate_limited, "slow down");
    error.retry_after_ms = 1200;
    const auto response = error_response(describe(error));
    EXPECT_EQ(response.status, 429);
    EXPECT_EQ(body_of(response)["error"]["details"]["retry_after_ms"], 1200);
    ASSERT_EQ(response.headers.size(), 1u);
    EXPECT_EQ(response.headers[0], (std::pair<std::string, std::string>{"Retry-After", "2"}));
}

TEST(ErrorMapping, AmountsAreReportedInDetails) {
    model::Error error(ErrorCode::payload_too_large, "over quota", "body");
    error.amounts = {{"quota_bytes", 100}, {"used_bytes", 90}};
    const auto details = body_of(error_response(describe(error)))["error"]["details"];
    EXPECT_EQ(details["field"], "body");
    EXPECT_EQ(details["quota_bytes"], 100);
    EXPECT_EQ(details["used_bytes"], 90);
}

TEST(ErrorMapping, DatabaseUnavailableIs503WithoutInternals) {
    const auto wire = describe(std::make_exception_ptr(store::Unavailable("connection to 10.0.0.5 refused")));
    EXPECT_EQ(wire.code, ErrorCode::unavailable);
    EXPECT_EQ(wire.message.find("10.0.0.5"), std::string::npos);
    EXPECT_NE(wire.log_detail.find("10.0.0.5"), std::string::npos);
}

TEST(ErrorMapping, Every503SaysWhenToRetry) {
    const auto backing_off = error_response(
        describe(std::make_exception_ptr(store::Unavailable("database unavailable", std::chrono::milliseconds(2500)))));
    EXPECT_EQ(backing_off.status, 503);
    EXPECT_EQ(body_of(backing_off)["error"]["details"]["retry_after_ms"], 2500);
    ASSERT_EQ(backing_off.headers.size(), 1u);
    EXPECT_EQ(backing_off.headers[0], (std::pair<std::string, std::string>{"Retry-After", "3"}));

    const auto shutting_down = error_response(describe(model::Error(ErrorCode::unavailable, "shutting down")));
    ASSERT_EQ(shutting_down.headers.size(), 1u);
    EXPECT_EQ(shutting_down.headers[0], (std::pair<std::string, std::string>{"Retry-After", "1"}));
}

// A domain refusal that gets logged (a 503 of /readyz) says why in the log, not "failed: ".
TEST(ErrorMapping, DomainErrorsLogTheirReason) {
    const auto wire = describe(model::Error(ErrorCode::unavailable, "database unreachable: connection refused"));
    EXPECT_EQ(wire.log_detail, "database unreachable: connection refused");
}

TEST(ErrorMapping, UnexpectedExceptionIsInternalAndSaysNothing) {
    const auto wire = describe(std::make_exception_ptr(std::runtime_error("secret table xyz")));
    const auto body = body_of(error_response(wire));
    EXPECT_EQ(body["error"]["code"], "internal");
    EXPECT_EQ(body.dump().find("xyz"), std::string::npos);
}

}  // namespace
}  // namespace confab::http
