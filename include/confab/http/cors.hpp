#pragma once

#include "confab/http/message.hpp"

#include <optional>
#include <string>
#include <vector>

namespace confab::http {

// Cross-origin access for browser front ends. Tokens travel in the Authorization header,
// never in cookies, so no credentials are allowed and an empty allow-list means any origin.
class Cors {
public:
    explicit Cors(std::vector<std::string> allowed_origins) : allowed_(std::move(allowed_origins)) {}

    // The answer to a preflight (OPTIONS with Access-Control-Request-Method), if this is one.
    std::optional<Response> preflight(const Request& request) const;
    // Adds the CORS headers to a response for an allowed Origin.
    void decorate(const Request& request, Response& response) const;

private:
    const std::string* allowed_origin(const Request& request) const;
    std::vector<std::string> allowed_;
};

}  // namespace confab::http
