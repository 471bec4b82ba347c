#pragma once

// Beast types: included by net/*.cpp only.
#include "confab/domain/user.hpp"
#include "confab/net/http_session.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace confab::net {

using UpgradeRequest = boost::beast::http::request<boost::beast::http::string_body>;

// Completes the WebSocket handshake and runs the connection: a reader that hands each
// text frame to api::WsEvents, and one writer draining a bounded queue of shared frames.
boost::asio::awaitable<void> serve_websocket(boost::beast::tcp_stream stream, UpgradeRequest request,
                                             domain::Principal principal, SessionContext& context);

// The same connection machinery (limits, UTF-8 and close handling, timeouts), sending every
// message back as it came: the unauthenticated server.ws_echo_path that conformance suites drive.
boost::asio::awaitable<void> serve_websocket_echo(boost::beast::tcp_stream stream, UpgradeRequest request,
                                                  SessionContext& context);

}  // namespace confab::net
