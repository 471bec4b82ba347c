#include "confab/http/cors.hpp"

#include <algorithm>

namespace confab::http {
namespace {

constexpr const char* allowed_methods = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
constexpr const char* allowed_headers =
    "Authorization, Content-Type, X-Request-Id, X-File-Name, X-Media-Metadata, If-None-Match, If-Range, Range";
constexpr const char* exposed_headers =
    "X-Request-Id, ETag, Content-Range, Content-Disposition, Retry-After, Accept-Ranges";
constexpr const char* preflight_max_age = "600";

}  // namespace

const std::string* Cors::allowed_origin(const Request& request) const {
    const auto* origin = request.header("origin");
    if (!origin) return nullptr;
    if (!allowed_.empty() && std::find(allowed_.begin(), allowed_.end(), *origin) == allowed_.end()) return nullptr;
    return origin;
}

std::optional<Response> Cors::preflight(const Request& request) const {
    if (request.method != Method::options || !request.header("access-control-request-method")) return std::nullopt;
    Response response = no_content();
    if (const auto* origin = allowed_origin(request)) {
        response.headers = {{"Access-Control-Allow-Origin", *origin},
                            {"Access-Control-Allow-Methods", allowed_methods},
                            {"Access-Control-Allow-Headers", allowed_headers},
                            {"Access-Control-Max-Age", preflight_max_age},
                            {"Vary", "Origin"}};
    }
    return response;
}

void Cors::decorate(const Request& request, Response& response) const {
    const auto* origin = allowed_origin(request);
    if (!origin) return;
    response.headers.emplace_back("Access-Control-Allow-Origin", *origin);
    response.headers.emplace_back("Access-Control-Expose-Headers", exposed_headers);
    response.headers.emplace_back("Vary", "Origin");
}

}  // namespace confab::http
