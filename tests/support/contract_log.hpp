#pragma once

// What the integration tests' clients and webhook receivers receive, written down for
// tools/api-docs/contract.mjs to check against docs/openapi.yaml and docs/asyncapi.yaml. Off
// unless the environment names a directory in CONFAB_CONTRACT_LOG; then each test process
// appends one JSON line per HTTP response, WebSocket text frame and webhook delivery to a
// file of its own there.

#include <string_view>

namespace confab::test::contract_log {

void http_response(std::string_view method, std::string_view target, int status, std::string_view content_type,
                   std::string_view body);
void ws_frame(std::string_view text);
void webhook(std::string_view body);

}  // namespace confab::test::contract_log
