#include "support/api.hpp"

#include <thread>

#include <cctype>
#include <ctime>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <cstdio>
#include <mutex>
#include <random>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace confab::test {

namespace {

std::mt19937_64& rng() {
    static std::mt19937_64 r{std::random_device{}()};
    return r;
}
std::mutex rng_mu;

std::string dump(const json& j) { return j.dump().substr(0, 2000); }

}  // namespace

std::string random_alnum(std::size_t n) {
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::lock_guard lock(rng_mu);
    std::uniform_int_distribution<std::size_t> dist(0, sizeof(alphabet) - 2);
    std::string out;
    for (std::size_t i = 0; i < n; ++i) out += alphabet[dist(rng())];
    return out;
}

std::string unique_username(const std::string& prefix) {
    std::size_t n = prefix.size() >= 22 ? 32 - prefix.size() : 10;
    if (prefix.size() >= 32) throw std::invalid_argument("username prefix too long: " + prefix);
    return prefix + random_alnum(n);
}

std::string random_uuid() {
    static const char hex[] = "0123456789abcdef";
    std::string out;
    std::lock_guard lock(rng_mu);
    std::uniform_int_distribution<int> dist(0, 15);
    for (int i = 0; i < 32; ++i) {
        if (i == 8 || i == 12 || i == 16 || i == 20) out += '-';
        int v = dist(rng());
        if (i == 12) v = 4;
        if (i == 16) v = 8 | (v & 3);
        out += hex[v];
    }
    return out;
}

std::string url_encode(std::string_view s) {
    static const char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

TestUser register_user(std::uint16_t port, std::string prefix, std::optional<std::string> display_name) {
    TestUser u;
    u.username = unique_username(prefix);
    json body = {{"username", u.username}, {"password", u.password}};
    if (display_name) body["display_name"] = *display_name;
    auto r = http(port, "POST", "/api/v1/auth/register", body.dump());
    if (r.status != 201) throw std::runtime_error("register " + u.username + " failed: " + r.describe());
    auto j = r.json();
    if (!j.contains("user") || !j["user"].contains("id") || !j.contains("token") || !j["token"].is_string()) {
        throw std::runtime_error("register " + u.username + ": unexpected body " + r.body);
    }
    u.id = j["user"]["id"].get<std::string>();
    u.token = j["token"].get<std::string>();
    u.user = j["user"];
    return u;
}

std::string login(std::uint16_t port, const std::string& username, const std::string& password) {
    json body = {{"username", username}, {"password", password}};
    auto r = http(port, "POST", "/api/v1/auth/login", body.dump());
    if (r.status != 200) throw std::runtime_error("login " + username + " failed: " + r.describe());
    auto j = r.json();
    if (!j.contains("token") || !j["token"].is_string()) {
        throw std::runtime_error("login " + username + ": unexpected body " + r.body);
    }
    return j["token"].get<std::string>();
}

std::map<std::string, std::string> auth_header(const std::string& token) {
    return {{"Authorization", "Bearer " + token}};
}

HttpResponse get(std::uint16_t port, const std::string& token, const std::string& target) {
    return http(port, "GET", target, std::nullopt, auth_header(token));
}

HttpResponse post(std::uint16_t port, const std::string& token, const std::string& target, const json& body) {
    return http(port, "POST", target, body.dump(), auth_header(token));
}

HttpResponse put(std::uint16_t port, const std::string& token, const std::string& target, const json& body) {
    return http(port, "PUT", target, body.dump(), auth_header(token));
}

HttpResponse patch(std::uint16_t port, const std::string& token, const std::string& target, const json& body) {
    return http(port, "PATCH", target, body.dump(), auth_header(token));
}

HttpResponse del(std::uint16_t port, const std::string& token, const std::string& target,
                 const std::optional<json>& body) {
    std::optional<std::string> b;
    if (body) b = body->dump();
    return http(port, "DELETE", target, b, auth_header(token));
}

HttpResponse post_raw(std::uint16_t port, const std::string& target, const std::string& body,
                      std::map<std::string, std::string> headers) {
    return http(port, "POST", target, body, std::move(headers));
}

std::unique_ptr<WsClient> ws_connect(std::uint16_t port, const std::string& token) {
    auto r = WsClient::connect(port, "/api/v1/ws", auth_header(token));
    if (!r.ok()) {
        throw std::runtime_error("WebSocket upgrade refused: HTTP " + std::to_string(r.status) + " " + r.body +
                                 (r.error.empty() ? "" : " (" + r.error + ")"));
    }
    return std::move(r.client);
}

bool is_uuid(const json& j) {
    static const std::regex re("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");
    return j.is_string() && std::regex_match(j.get<std::string>(), re);
}

bool is_timestamp(const json& j) {
    static const std::regex re(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$)");
    return j.is_string() && std::regex_match(j.get<std::string>(), re);
}

std::string timestamp_from_now(std::chrono::milliseconds from_now) {
    using Clock = std::chrono::system_clock;
    const auto when = std::chrono::time_point_cast<std::chrono::milliseconds>(Clock::now() + from_now);
    const auto seconds = Clock::to_time_t(std::chrono::time_point_cast<std::chrono::seconds>(when));
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    char millis[8];
    std::snprintf(millis, sizeof millis, ".%03dZ", static_cast<int>(when.time_since_epoch().count() % 1000));
    return std::string(text) + millis;
}

::testing::AssertionResult IsUserModel(const json& j) {
    if (!j.is_object()) return ::testing::AssertionFailure() << "not an object: " << dump(j);
    for (const char* key : {"id", "username", "display_name", "avatar_url", "bio", "created_at"}) {
        if (!j.contains(key)) return ::testing::AssertionFailure() << "UserModel lacks \"" << key << "\": " << dump(j);
    }
    if (!is_uuid(j["id"])) return ::testing::AssertionFailure() << "id is not a lower-case UUID: " << dump(j);
    if (!j["username"].is_string()) return ::testing::AssertionFailure() << "username not a string: " << dump(j);
    if (!j["display_name"].is_string())
        return ::testing::AssertionFailure() << "display_name not a string: " << dump(j);
    if (!j["avatar_url"].is_null() && !j["avatar_url"].is_string())
        return ::testing::AssertionFailure() << "avatar_url neither null nor string: " << dump(j);
    if (!j["bio"].is_null() && !j["bio"].is_string())
        return ::testing::AssertionFailure() << "bio neither null nor string: " << dump(j);
    if (!j.contains("is_bot") || !j["is_bot"].is_boolean())
        return ::testing::AssertionFailure() << "is_bot is not a boolean: " << dump(j);
    if (!is_timestamp(j["created_at"]))
        return ::testing::AssertionFailure() << "created_at is not RFC 3339 UTC with ms: " << dump(j);
    if (j.contains("password") || j.contains("password_hash"))
        return ::testing::AssertionFailure() << "UserModel leaks a password field: " << dump(j);
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult IsJson(const HttpResponse& r, int status) {
    if (r.status != status)
        return ::testing::AssertionFailure() << "expected HTTP " << status << ", got " << r.describe();
    if (r.header("content-type") != kJsonContentType)
        return ::testing::AssertionFailure() << "Content-Type is \"" << r.header("content-type") << "\", expected \""
                                             << kJsonContentType << "\"; " << r.describe();
    auto j = json::parse(r.body, nullptr, false);
    if (j.is_discarded()) return ::testing::AssertionFailure() << "body is not JSON: " << r.describe();
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult IsError(const HttpResponse& r, int status, std::string_view code) {
    auto base = IsJson(r, status);
    if (!base) return base;
    auto j = json::parse(r.body);
    if (!j.is_object() || !j.contains("error") || !j["error"].is_object())
        return ::testing::AssertionFailure() << "no {\"error\": {...}} object: " << r.describe();
    const auto& e = j["error"];
    if (!e.contains("code") || !e["code"].is_string() || e["code"] != code)
        return ::testing::AssertionFailure() << "expected error code \"" << code << "\": " << r.describe();
    if (!e.contains("message") || !e["message"].is_string() || e["message"].get<std::string>().empty())
        return ::testing::AssertionFailure() << "error.message missing or empty: " << r.describe();
    if (e.contains("details") && !e["details"].is_object())
        return ::testing::AssertionFailure() << "error.details is not an object: " << r.describe();
    return ::testing::AssertionSuccess();
}

namespace {

// IsError, and error.details[key] is `value`.
::testing::AssertionResult HasDetail(const HttpResponse& r, int status, std::string_view code, const std::string& key,
                                     std::string_view value) {
    auto error = IsError(r, status, code);
    if (!error) return error;
    const auto details = r.json()["error"].value("details", json::object());
    if (details.value(key, "") != value)
        return ::testing::AssertionFailure() << key << " is not " << value << ": " << r.body;
    return ::testing::AssertionSuccess();
}

}  // namespace

::testing::AssertionResult HasReason(const HttpResponse& r, int status, std::string_view code,
                                     std::string_view reason) {
    return HasDetail(r, status, code, "reason", reason);
}

::testing::AssertionResult IsBadField(const HttpResponse& r, std::string_view field) {
    return HasDetail(r, 400, "bad_request", "field", field);
}

::testing::AssertionResult IsWsError(const std::optional<json>& frame, std::string_view code,
                                     std::optional<std::string> id) {
    if (!frame) return ::testing::AssertionFailure() << "no frame received (timeout or connection closed)";
    const auto& j = *frame;
    if (!j.is_object() || j.value("type", json()) != "error")
        return ::testing::AssertionFailure() << "not an error frame: " << dump(j);
    if (!j.contains("error") || !j["error"].is_object())
        return ::testing::AssertionFailure() << "error frame without an \"error\" object: " << dump(j);
    const auto& e = j["error"];
    if (e.value("code", json()) != code)
        return ::testing::AssertionFailure() << "expected error code \"" << code << "\": " << dump(j);
    if (!e.contains("message") || !e["message"].is_string())
        return ::testing::AssertionFailure() << "error.message missing: " << dump(j);
    if (id && j.value("id", json()) != *id)
        return ::testing::AssertionFailure() << "expected id \"" << *id << "\": " << dump(j);
    return ::testing::AssertionSuccess();
}

std::optional<double> metric_sample(const std::string& exposition, const std::string& series) {
    std::istringstream lines(exposition);
    std::string line;
    while (std::getline(lines, line))
        if (line.starts_with(series + " ")) return std::stod(line.substr(series.size() + 1));
    return std::nullopt;
}

double metric(std::uint16_t port, const std::string& series) {
    const auto response = http(port, "GET", "/metrics");
    if (response.status != 200) throw std::runtime_error("GET /metrics: " + response.describe());
    return metric_sample(response.body, series).value_or(0);
}

double open_connections(std::uint16_t port, const std::string& kind) {
    return metric(port, "confab_connections_open{kind=\"" + kind + "\"}");
}

double requests_in_flight(std::uint16_t port) { return metric(port, "confab_http_requests_in_flight"); }

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (done()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return done();
}

std::string upper_cased(std::string text) {
    for (auto& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return text;
}

}  // namespace confab::test
