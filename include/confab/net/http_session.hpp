#pragma once

#include "confab/config/config.hpp"
#include "confab/domain/blocking.hpp"
#include "confab/http/message.hpp"
#include "confab/net/connection_counter.hpp"
#include "confab/net/response_budget.hpp"
#include "confab/net/session_registry.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <filesystem>
#include <functional>
#include <optional>

namespace confab::api {
class WsEvents;
}
namespace confab::http {
class Router;
class Cors;
}  // namespace confab::http
namespace confab::realtime {
class Hub;
}

namespace confab::net {

// Everything a connection needs from the server; outlives every session.
struct SessionContext {
    const config::Config& config;
    const http::Router& router;
    const http::Cors& cors;
    api::WsEvents& events;
    realtime::Hub& hub;
    SessionRegistry& registry;
    std::function<std::filesystem::path()> upload_path;  // a fresh file for a streamed upload body
    // Decides from the header alone whether an upload may send its body: nullopt, or the
    // refusal (401, 429) to answer with instead of reading it.
    std::function<boost::asio::awaitable<std::optional<http::Response>>(const http::Request&)> admit_upload;
    ConnectionCounter& connections_per_address;  // every TCP connection, HTTP or WebSocket
    ConnectionCounter& connections_per_user;     // open WebSockets
    domain::Workers& files;                      // download reads, upload writes (net/file_io.hpp)
    ResponseBudget& responses;                   // large answers held while written
};

// The refusal for a connection past one of the caps above.
http::Response too_many_connections(std::string_view whose);

// The whole HTTP response (503 unavailable, Retry-After, Connection: close) sent to a
// connection past the server's total cap, written before anything is read from it. Made
// once; each refusal stamps a new X-Request-Id into it, as every response carries one.
class OverCapacityAnswer {
public:
    OverCapacityAnswer();
    std::string_view next();

private:
    std::string bytes_;
    std::size_t id_at_ = 0;
};

// Serves HTTP/1.1 requests on one connection (its executor is the connection's strand)
// until it closes, and hands an authenticated upgrade on /api/v1/ws to the WebSocket session.
// `total_slot` is the connection's place under the server's total cap, held until it closes.
boost::asio::awaitable<void> serve_http(boost::asio::ip::tcp::socket socket, ConnectionCounter::Slot total_slot,
                                        SessionContext& context);

}  // namespace confab::net
