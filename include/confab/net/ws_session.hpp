#pragma once

// Beast types: included by net/*.cpp only.
#include "confab/model/user.hpp"
#include "confab/net/http_session.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <vector>

namespace confab::net {

using UpgradeRequest = boost::beast::http::request<boost::beast::http::string_body>;

// Starts the WebSocket on the stream's strand and returns at once: the handshake, then a
// reader that hands each text frame to api::WsEvents, and a bounded queue of shared frames
// that leaves in one send per burst (CoalescingStream). The session owns itself and its connection `slots` until it
// closes, so an idle WebSocket holds nothing of the HTTP session that upgraded it. It is
// in the session registry before this returns, so shutdown never misses it.
void start_websocket(boost::beast::tcp_stream stream, UpgradeRequest request, model::Principal principal,
                     std::vector<ConnectionCounter::Slot> slots, SessionContext& context);

// The same connection machinery (limits, UTF-8 and close handling, timeouts), sending every
// message back as it came: the unauthenticated server.ws_echo_path that conformance suites drive.
void start_websocket_echo(boost::beast::tcp_stream stream, UpgradeRequest request,
                          std::vector<ConnectionCounter::Slot> slots, SessionContext& context);

}  // namespace confab::net
