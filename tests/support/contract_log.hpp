#pragma once

// What the integration tests' clients and webhook receivers receive, written down for
// tools/api-docs/contract.mjs to check against docs/openapi.yaml and docs/asyncapi.yaml. Off
// unless the environment names a directory in CONFAB_CONTRACT_LOG; then each test process
// appends one JSON line per HTTP exchange, WebSocket text frame (either way) and webhook delivery to a
// file of its own there.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace confab::test::contract_log {

struct HttpExchange {
    std::string_view method;
    std::string_view target;
    std::string_view request_content_type;
    std::string_view request_body;
    int status = 0;
    std::string_view content_type;
    std::string_view body;
    const std::map<std::string, std::string>* headers = nullptr;  // the response's, lower-case names
};

void http(const HttpExchange& exchange);
enum class Direction { sent, received };

// `connection` tells one client's frames from another's, so that a reply can be paired
// with its request by id. A frame known to be JSON is written into the log as it is, not
// quoted: a reader that logs a frame costs no more than one that does not.
void ws_frame(std::uint64_t connection, Direction direction, std::string_view text, bool known_json = false);
void webhook(std::string_view body);

}  // namespace confab::test::contract_log
