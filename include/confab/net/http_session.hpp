#pragma once

#include "confab/config/config.hpp"
#include "confab/net/session_registry.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <filesystem>
#include <functional>

namespace confab::api {
class WsEvents;
}
namespace confab::http {
class Router;
class Cors;
}
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
};

// Serves HTTP/1.1 requests on one connection (its executor is the connection's strand)
// until it closes, and hands an authenticated upgrade on /api/v1/ws to the WebSocket session.
boost::asio::awaitable<void> serve_http(boost::asio::ip::tcp::socket socket, SessionContext& context);

}  // namespace confab::net
