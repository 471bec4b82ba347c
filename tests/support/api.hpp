#pragma once

// Helpers that read like PROTOCOL.md: register users, call endpoints with a token,
// check the documented shapes.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/client.hpp"

namespace confab::test {

using json = nlohmann::json;

inline constexpr const char* kPassword = "correct horse 1";
inline constexpr const char* kJsonContentType = "application/json; charset=utf-8";

struct TestUser {
    std::string id, username, token;
    std::string password = kPassword;
    json user;  // the UserModel returned by register
};

// Lower-case letters and digits.
std::string random_alnum(std::size_t n);
// prefix + random lower-case alnum, at most 32 characters in total.
std::string unique_username(const std::string& prefix = "u");
// A random version-4 UUID in canonical lower-case form.
std::string random_uuid();
// Percent-encodes everything but unreserved characters.
std::string url_encode(std::string_view s);

// POST /api/v1/auth/register; throws std::runtime_error with the response if it is not 201.
TestUser register_user(std::uint16_t port, std::string prefix = "u",
                       std::optional<std::string> display_name = std::nullopt);
// POST /api/v1/auth/login; throws unless 200. Returns the new token.
std::string login(std::uint16_t port, const std::string& username, const std::string& password = kPassword);

std::map<std::string, std::string> auth_header(const std::string& token);

HttpResponse get(std::uint16_t port, const std::string& token, const std::string& target);
HttpResponse post(std::uint16_t port, const std::string& token, const std::string& target,
                  const json& body = json::object());
HttpResponse put(std::uint16_t port, const std::string& token, const std::string& target,
                 const json& body = json::object());
HttpResponse patch(std::uint16_t port, const std::string& token, const std::string& target,
                   const json& body = json::object());
HttpResponse del(std::uint16_t port, const std::string& token, const std::string& target,
                 const std::optional<json>& body = std::nullopt);
// Raw-body POST without a token (e.g. malformed JSON to register).
HttpResponse post_raw(std::uint16_t port, const std::string& target, const std::string& body,
                      std::map<std::string, std::string> headers = {});

// Opens /api/v1/ws with the token in the Authorization header; throws if refused.
std::unique_ptr<WsClient> ws_connect(std::uint16_t port, const std::string& token);

// Polls `done` every 100 ms until it holds or `timeout` passes (for work the server does on
// its own schedule: log flushes, background cleanup). Returns the last answer.
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout = std::chrono::seconds(8));

// The value of one sample line of a Prometheus exposition, e.g.
// metric_sample(text, "confab_messages_sent_total{type=\"text\"}"); nullopt when absent.
std::optional<double> metric_sample(const std::string& exposition, const std::string& series);
// One sample of GET /metrics (loopback needs no token), e.g.
// metric(port, "confab_auth_token_lookups_total{source=\"cache\"}"); 0 when not yet exposed.
double metric(std::uint16_t port, const std::string& series);
// confab_connections_open{kind="<kind>"} (kind "http" or "websocket") from GET /metrics
// (loopback needs no token); an http count includes the connection asking. An HTTP connection
// is counted from its accept; a WebSocket leaves its count last, after its presence update:
// once that dropped, a closed socket's session has published all it ever will.
double open_connections(std::uint16_t port, const std::string& kind);
// confab_http_requests_in_flight: the /metrics request asking counts itself.
double requests_in_flight(std::uint16_t port);

// `text` with its ASCII letters upper-cased.
std::string upper_cased(std::string text);

// Shape checks, for EXPECT_TRUE(...): they explain what is wrong on failure.
bool is_uuid(const json& j);       // canonical lower-case UUID string
bool is_timestamp(const json& j);  // RFC 3339 UTC with milliseconds
// That form of the time `from_now` from now (negative: ago).
std::string timestamp_from_now(std::chrono::milliseconds from_now);
::testing::AssertionResult IsUserModel(const json& j);
// Status, Content-Type (application/json; charset=utf-8) and {"error": {"code", "message"}}.
::testing::AssertionResult IsError(const HttpResponse& r, int status, std::string_view code);
// IsError, and error.details.reason is `reason`.
::testing::AssertionResult HasReason(const HttpResponse& r, int status, std::string_view code, std::string_view reason);
// 400 bad_request naming `field` in error.details.field.
::testing::AssertionResult IsBadField(const HttpResponse& r, std::string_view field);
// A WebSocket error frame {"type": "error", "error": {"code", "message"}} (optionally with id).
::testing::AssertionResult IsWsError(const std::optional<json>& frame, std::string_view code,
                                     std::optional<std::string> id = std::nullopt);
// Status and JSON content type; the body parses as JSON.
::testing::AssertionResult IsJson(const HttpResponse& r, int status);

}  // namespace confab::test
