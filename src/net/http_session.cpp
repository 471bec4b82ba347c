#include "confab/net/http_session.hpp"

#include "confab/api/ws_events.hpp"
#include "confab/http/dispatch.hpp"
#include "confab/http/errors.hpp"
#include "confab/net/ws_session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <memory>

namespace confab::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view websocket_path = "/api/v1/ws";

http::Method method_of(bhttp::verb verb) {
    switch (verb) {
    case bhttp::verb::get: return http::Method::get;
    case bhttp::verb::head: return http::Method::head;
    case bhttp::verb::post: return http::Method::post;
    case bhttp::verb::put: return http::Method::put;
    case bhttp::verb::patch: return http::Method::patch;
    case bhttp::verb::delete_: return http::Method::del;
    case bhttp::verb::options: return http::Method::options;
    default: return http::Method::other;
    }
}

bool acceptable_request_id(std::string_view id) {
    return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    });
}

std::string new_request_id() {
    unsigned char raw[8];
    randombytes_buf(raw, sizeof raw);
    char hex[sizeof raw * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
    return hex;
}

// The parts of a Beast request the layers above need; the body is moved, not copied.
http::Request to_request(bhttp::request<bhttp::string_body>& beast_request, const std::string& remote) {
    http::Request request;
    request.method = method_of(beast_request.method());
    request.target = std::string(beast_request.target());
    const auto question = request.target.find('?');
    request.path = request.target.substr(0, question);
    if (question != std::string::npos) request.query = request.target.substr(question + 1);
    for (const auto& field : beast_request) {
        std::string name(field.name_string());
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        request.headers.emplace(std::move(name), std::string(field.value()));
    }
    request.body = std::move(beast_request.body());
    const auto* offered_id = request.header("x-request-id");
    request.request_id = offered_id && acceptable_request_id(*offered_id) ? *offered_id : new_request_id();
    request.remote_address = remote;
    return request;
}

bhttp::response<bhttp::string_body> to_beast(http::Response&& response, const http::Request& request,
                                             bool keep_alive) {
    bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(response.status), 11};
    out.set(bhttp::field::server, "confab");
    if (!response.content_type.empty()) out.set(bhttp::field::content_type, response.content_type);
    out.set("X-Request-Id", request.request_id);
    for (auto& [name, value] : response.headers) out.insert(name, value);
    out.body() = std::move(response.body);
    out.keep_alive(keep_alive);
    out.prepare_payload();
    return out;
}

// Connection state that the shutdown interrupt may touch, on the connection's strand.
struct Connection {
    explicit Connection(asio::ip::tcp::socket socket) : stream(std::move(socket)) {}
    beast::tcp_stream stream;
    bool idle = false;  // waiting for the next request, not serving one
};

// An error the request never reached the router with (too large, malformed): answered
// in the error shape, logged like any request, and the connection closed.
http::Response read_failure_response(const beast::error_code& ec) {
    using domain::ErrorCode;
    if (ec == bhttp::error::body_limit)
        return http::error_response(http::describe(domain::Error(ErrorCode::payload_too_large, "request body too large")));
    if (ec == bhttp::error::header_limit) {
        auto response = http::error_response(http::describe(domain::bad_request("request headers too large")));
        response.status = 431;
        return response;
    }
    return http::error_response(http::describe(domain::bad_request("malformed HTTP request")));
}

bool is_quiet_end(const beast::error_code& ec) {
    return ec == bhttp::error::end_of_stream || ec == asio::error::operation_aborted ||
           ec == beast::error::timeout || ec == asio::error::connection_reset || ec == asio::error::eof;
}

asio::awaitable<void> write_response(Connection& connection, http::Response response, const http::Request& request,
                                     bool keep_alive) {
    auto out = to_beast(std::move(response), request, keep_alive);
    connection.stream.expires_after(std::chrono::seconds(30));
    co_await bhttp::async_write(connection.stream, out, use_tuple);
}

// Authenticates an upgrade and hands the connection to the WebSocket session; a refused
// upgrade gets its HTTP error response.
asio::awaitable<void> upgrade(std::shared_ptr<Connection> connection, bhttp::request<bhttp::string_body> beast_request,
                              http::Request request, SessionContext& context) {
    const auto started = std::chrono::steady_clock::now();
    http::Context http_context{request, {}, {}, std::string(websocket_path)};
    std::exception_ptr failure;
    domain::Principal principal;
    try {
        principal = co_await context.events.authenticate(http_context);
    } catch (...) {
        failure = std::current_exception();
    }
    if (failure) {
        auto response = http::error_response(http::describe(failure));
        http::log_request(request, response, http_context.route, http_context.user_id, started);
        co_await write_response(*connection, std::move(response), request, false);
        co_return;
    }
    http::Response switching;
    switching.status = 101;
    http::log_request(request, switching, http_context.route, http_context.user_id, started);
    co_await serve_websocket(std::move(connection->stream), std::move(beast_request), std::move(principal), context);
}

}  // namespace

asio::awaitable<void> serve_http(asio::ip::tcp::socket socket, SessionContext& context) {
    beast::error_code ignored;
    const auto endpoint = socket.remote_endpoint(ignored);
    const auto remote = endpoint.address().to_string(ignored);
    auto connection = std::make_shared<Connection>(std::move(socket));
    const auto& limits = context.config.limits;
    const auto session_id = context.registry.enter([weak = std::weak_ptr<Connection>(connection)] {
        if (auto c = weak.lock()) {
            asio::post(c->stream.get_executor(), [c] {
                if (c->idle) c->stream.socket().cancel();
            });
        }
    });
    struct Leave {
        SessionContext& context;
        std::size_t id;
        ~Leave() { context.registry.leave(id); }
    } leave{context, session_id};

    beast::flat_buffer buffer;
    while (!context.registry.stopping()) {
        bhttp::request_parser<bhttp::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(limits.header_bytes));
        parser.body_limit(limits.body_bytes);
        connection->idle = true;
        connection->stream.expires_after(context.config.server.idle_timeout);
        auto [ec, bytes] = co_await bhttp::async_read(connection->stream, buffer, parser, use_tuple);
        connection->idle = false;
        if (ec) {
            if (!is_quiet_end(ec) && ec != bhttp::error::partial_message) {
                http::Request request;
                request.request_id = new_request_id();
                request.remote_address = remote;
                request.path = parser.is_header_done() ? std::string(parser.get().target()) : std::string("-");
                request.path = request.path.substr(0, request.path.find('?'));
                auto response = read_failure_response(ec);
                http::log_request(request, response, {}, {}, std::chrono::steady_clock::now());
                co_await write_response(*connection, std::move(response), request, false);
            }
            break;
        }
        auto beast_request = parser.release();
        auto request = to_request(beast_request, remote);
        if (beast::websocket::is_upgrade(beast_request) && request.path == websocket_path) {
            co_await upgrade(connection, std::move(beast_request), std::move(request), context);
            co_return;
        }
        const bool keep_alive = beast_request.keep_alive();
        auto response = co_await http::dispatch(context.router, request);
        const bool keep_open = keep_alive && !context.registry.stopping();
        co_await write_response(*connection, std::move(response), request, keep_open);
        if (!keep_open) break;
    }
    connection->stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
}

}  // namespace confab::net
