#include "confab/net/http_session.hpp"

#include "confab/api/ws_events.hpp"
#include "confab/http/dispatch.hpp"
#include "confab/http/errors.hpp"
#include "confab/net/file_io.hpp"
#include "confab/net/ws_session.hpp"
#include "confab/obs/metrics.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <sodium.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <memory>
#include <random>
#include <sstream>
#include <tuple>

namespace confab::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view websocket_path = "/api/v1/ws";
constexpr std::string_view upload_path = "/api/v1/messages/upload";
constexpr auto send_timeout = std::chrono::seconds(30);
constexpr std::size_t discard_chunk_bytes = 64 * 1024;
// Bytes of a download read, or of an upload written, per hop to the file threads: large
// enough that the two thread switches of a hop cost little next to the copy.
constexpr std::size_t file_hop_bytes = 1024 * 1024;
// A connection refused mid-request is read and discarded this long before it is closed, so
// that unread request bytes do not turn into a TCP reset that destroys the refusal.
constexpr auto linger_after_refusal = std::chrono::seconds(2);
// A connection slot frees when a connection closes; there is no refill time to report.
constexpr std::int64_t connection_retry_after_ms = 5000;

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

// Request ids need to be distinct, not secret: each thread draws them from a generator
// seeded once, rather than asking the kernel for random bytes on every request.
std::string new_request_id() {
    thread_local std::mt19937_64 generator{[] {
        std::uint64_t seed = 0;
        randombytes_buf(&seed, sizeof seed);
        return seed;
    }()};
    const std::uint64_t raw = generator();
    char hex[2 * sizeof raw + 1];
    sodium_bin2hex(hex, sizeof hex, reinterpret_cast<const unsigned char*>(&raw), sizeof raw);
    return hex;
}

// The parts of a Beast request the layers above need; a string body is moved, not copied.
template <class Body>
http::Request to_request(bhttp::request<Body>& beast_request, const std::string& remote) {
    http::Request request;
    request.method = method_of(beast_request.method());
    request.target = std::string(beast_request.target());
    const auto question = request.target.find('?');
    request.path = request.target.substr(0, question);
    if (question != std::string::npos) request.query = request.target.substr(question + 1);
    // Repeated lines of a field are one value, joined in order with commas (RFC 9110 5.3): a
    // list (If-None-Match) keeps every element, and a field that takes one value (Range,
    // Authorization) given twice reads as malformed instead of as its first line.
    for (const auto& field : beast_request) {
        std::string name(field.name_string());
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        const auto [held, first_line] = request.headers.try_emplace(std::move(name), field.value());
        if (!first_line) held->second.append(", ").append(field.value());
    }
    if constexpr (std::is_same_v<Body, bhttp::string_body>) request.body = std::move(beast_request.body());
    const auto* offered_id = request.header("x-request-id");
    request.request_id = offered_id && acceptable_request_id(*offered_id) ? *offered_id : new_request_id();
    request.remote_address = remote;
    return request;
}

template <class Body>
void set_headers(bhttp::response<Body>& out, const http::Response& response, const http::Request& request,
                 bool keep_alive) {
    out.set(bhttp::field::server, "confab");
    if (!response.content_type.empty()) out.set(bhttp::field::content_type, response.content_type);
    out.set("X-Request-Id", request.request_id);
    for (const auto& [name, value] : response.headers) out.insert(name, value);
    out.keep_alive(keep_alive);
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
    using model::ErrorCode;
    if (ec == bhttp::error::body_limit)
        return http::error_response(
            http::describe(model::Error(ErrorCode::payload_too_large, "request body too large")));
    if (ec == bhttp::error::header_limit) {
        auto response = http::error_response(http::describe(model::bad_request("request headers too large")));
        response.status = 431;
        return response;
    }
    return http::error_response(http::describe(model::bad_request("malformed HTTP request")));
}

bool is_quiet_end(const beast::error_code& ec) {
    return ec == bhttp::error::end_of_stream || ec == asio::error::operation_aborted || ec == beast::error::timeout ||
           ec == asio::error::connection_reset || ec == asio::error::eof;
}

// Sends a file slice from disk in chunks, so a large download never sits in memory; false
// when it could not be sent whole, and the connection must close.
asio::awaitable<bool> write_file(Connection& connection, const http::Response& response, const http::Request& request,
                                 bool keep_alive, domain::Workers& files, const OpenFile& file) {
    const auto& slice = *response.file;
    bhttp::response<bhttp::buffer_body> out{static_cast<bhttp::status>(response.status), 11};
    set_headers(out, response, request, keep_alive);
    out.content_length(slice.length);
    out.body().data = nullptr;
    out.body().more = true;
    bhttp::response_serializer<bhttp::buffer_body> serializer{out};
    connection.stream.expires_after(send_timeout);
    auto [header_error, header_bytes] = co_await bhttp::async_write_header(connection.stream, serializer, use_tuple);
    if (header_error) co_return false;
    std::vector<char> chunk(std::min<std::uint64_t>(file_hop_bytes, slice.length));
    auto offset = slice.offset;
    for (std::uint64_t remaining = slice.length; remaining > 0;) {
        const auto want = std::min<std::uint64_t>(chunk.size(), remaining);
        const auto got = co_await read_at(files, file, {chunk.data(), static_cast<std::size_t>(want)}, offset);
        if (got == 0) co_return false;  // the file shrank: drop the connection mid-body
        remaining -= got;
        offset += got;
        out.body().data = chunk.data();
        out.body().size = got;
        out.body().more = remaining > 0;
        connection.stream.expires_after(send_timeout);
        auto [ec, bytes] = co_await bhttp::async_write(connection.stream, serializer, use_tuple);
        if (ec && ec != bhttp::error::need_buffer) co_return false;
    }
    co_return true;
}

// A shared body is sent from where it is kept, through the serializer downloads use.
asio::awaitable<void> write_shared(Connection& connection, const http::Response& response, const http::Request& request,
                                   bool keep_alive) {
    const auto& bytes = *response.shared_body;
    bhttp::response<bhttp::buffer_body> out{static_cast<bhttp::status>(response.status), 11};
    set_headers(out, response, request, keep_alive);
    out.content_length(bytes.size());
    // buffer_body's pointer is not const, but a response serializer only reads through it.
    out.body().data = const_cast<char*>(bytes.data());  // NOLINT(cppcoreguidelines-pro-type-const-cast)
    out.body().size = bytes.size();
    out.body().more = false;
    bhttp::response_serializer<bhttp::buffer_body> serializer{out};
    connection.stream.expires_after(send_timeout);
    co_await bhttp::async_write(connection.stream, serializer, use_tuple);
}

asio::awaitable<void> write_response(Connection& connection, http::Response response, const http::Request& request,
                                     bool keep_alive) {
    if (response.shared_body) {
        co_await write_shared(connection, response, request, keep_alive);
        co_return;
    }
    bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(response.status), 11};
    set_headers(out, response, request, keep_alive);
    // A 204 or 304 has no body and no Content-Length (RFC 9110 8.6: a 304's would be its 200's).
    if (out.result() != bhttp::status::no_content && out.result() != bhttp::status::not_modified) {
        out.body() = std::move(response.body);
        out.prepare_payload();
    }
    connection.stream.expires_after(send_timeout);
    co_await bhttp::async_write(connection.stream, out, use_tuple);
}

// A HEAD gets the header block its GET would get, Content-Length included, and no body.
asio::awaitable<void> write_head(Connection& connection, const http::Response& response, const http::Request& request,
                                 bool keep_alive) {
    bhttp::response<bhttp::empty_body> out{static_cast<bhttp::status>(response.status), 11};
    set_headers(out, response, request, keep_alive);
    out.content_length(response.file ? response.file->length : response.body_bytes().size());
    connection.stream.expires_after(send_timeout);
    co_await bhttp::async_write(connection.stream, out, use_tuple);
}

// A download's file is opened on the file threads when it is sent. Once open it stays
// readable to its end even if it is removed meanwhile; gone before, it is 404 as if its
// row had been missing. False when a download was cut short and the connection must close.
asio::awaitable<bool> send_response(Connection& connection, http::Response response, const http::Request& request,
                                    bool keep_alive, domain::Workers& files) {
    if (request.method == http::Method::head) {
        co_await write_head(connection, response, request, keep_alive);
        co_return true;
    }
    if (response.file) {
        if (auto file = co_await open_for_reading(files, response.file->path))
            co_return co_await write_file(connection, response, request, keep_alive, files, *file);
        response = http::error_response(http::describe(model::not_found("media")));
    }
    co_await write_response(connection, std::move(response), request, keep_alive);
    co_return true;
}

struct Upgrade {
    UpgradeRequest message;
    http::Request request;
};

// RFC 6455 4.1: the key is 16 bytes in base64, so 22 characters of its alphabet and "==".
bool is_websocket_key(std::string_view key) {
    const auto base64 = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/'; };
    return key.size() == 24 && key.ends_with("==") && std::all_of(key.begin(), key.end() - 2, base64);
}

// What Beast's handshake would refuse with a plain-text body, refused in the error shape
// instead: a version other than 13 (RFC 6455 4.4: the answer names the version spoken) or
// a key that is not 16 bytes in base64.
std::optional<http::Response> handshake_refusal(const UpgradeRequest& message) {
    if (message[bhttp::field::sec_websocket_version] != "13") {
        auto response = http::error_response(
            http::describe(model::bad_request("Sec-WebSocket-Version must be 13", "Sec-WebSocket-Version")));
        response.headers.emplace_back("Sec-WebSocket-Version", "13");
        return response;
    }
    if (!is_websocket_key(message[bhttp::field::sec_websocket_key]))
        return http::error_response(
            http::describe(model::bad_request("Sec-WebSocket-Key must be 16 bytes in base64", "Sec-WebSocket-Key")));
    return std::nullopt;
}

// Authenticates an upgrade and hands the connection, with its slots, to the WebSocket
// session; a refused upgrade gets its HTTP error response.
asio::awaitable<void> upgrade(std::shared_ptr<Connection> connection, Upgrade upgrade,
                              std::vector<ConnectionCounter::Slot> slots, SessionContext& context) {
    auto& request = upgrade.request;
    const auto started = std::chrono::steady_clock::now();
    http::Context http_context{request, {}, {}, std::string(websocket_path)};
    std::optional<http::Response> refusal = handshake_refusal(upgrade.message);
    model::Principal principal;
    try {
        if (!refusal) principal = co_await context.events.authenticate(http_context);
    } catch (...) {
        refusal = http::error_response(http::describe(std::current_exception()));
    }
    auto user_slot = refusal ? std::nullopt : context.connections_per_user.try_take(principal.user_id);
    if (!refusal && !user_slot) refusal = too_many_connections("this user");
    if (refusal) {
        auto response = std::move(*refusal);
        http::log_request(request, response, http_context.route, http_context.user_id, started);
        co_await write_response(*connection, std::move(response), request, false);
        co_return;
    }
    http::Response switching;
    switching.status = 101;
    http::log_request(request, switching, http_context.route, http_context.user_id, started);
    slots.push_back(std::move(*user_slot));
    start_websocket(std::move(connection->stream), std::move(upgrade.message), std::move(principal), std::move(slots),
                    context);
}

// The conformance echo of server.ws_echo_path: unauthenticated by design, and so off unless
// configured.
void upgrade_echo(Connection& connection, Upgrade upgrade, std::vector<ConnectionCounter::Slot> slots,
                  SessionContext& context) {
    http::Response switching;
    switching.status = 101;
    http::log_request(upgrade.request, switching, context.config.server.ws_echo_path, {},
                      std::chrono::steady_clock::now());
    start_websocket_echo(std::move(connection.stream), std::move(upgrade.message), std::move(slots), context);
}

// Answers a request that never reached the router (too large, malformed), logs it, and
// leaves the connection to be closed.
asio::awaitable<void> refuse(Connection& connection, http::Response response, const std::string& target,
                             const std::string& remote) {
    http::Request request;
    request.request_id = new_request_id();
    request.remote_address = remote;
    request.path = target.substr(0, target.find('?'));
    http::log_request(request, response, {}, {}, std::chrono::steady_clock::now());
    co_await write_response(connection, std::move(response), request, false);
}

// The time a request body has. It starts when its header is in, not with the header's own
// deadline (a late request on a keep-alive connection got only what was left of it): the body
// may pause up to `idle` between chunks, and must end within `idle` plus one second per 64 KiB
// it may hold, so a large upload on a slow link finishes while a trickled body still ends.
class BodyDeadline {
public:
    BodyDeadline(std::chrono::seconds idle, std::uint64_t length)
        : idle_(idle),
          end_(std::chrono::steady_clock::now() + idle + std::chrono::seconds(length / bytes_per_second)) {}

    // When the next read must have brought something.
    std::chrono::steady_clock::time_point next() const {
        return std::min(std::chrono::steady_clock::now() + idle_, end_);
    }

private:
    static constexpr std::uint64_t bytes_per_second = 64 * 1024;
    std::chrono::seconds idle_;
    std::chrono::steady_clock::time_point end_;
};

// Reads the rest of a request whose header is in, within its BodyDeadline.
template <class Parser>
asio::awaitable<beast::error_code> read_body(Connection& connection, beast::flat_buffer& buffer, Parser& parser,
                                             std::chrono::seconds idle, std::uint64_t limit) {
    const BodyDeadline deadline(idle, parser.content_length().value_or(limit));
    while (!parser.is_done()) {
        connection.stream.expires_at(deadline.next());
        auto [ec, bytes] = co_await bhttp::async_read_some(connection.stream, buffer, parser, use_tuple);
        if (ec) co_return ec;
    }
    co_return beast::error_code{};
}

// Reads an upload's body within its BodyDeadline into `file`, written on the file threads a
// full chunk at a time; the first read or write error.
asio::awaitable<beast::error_code> receive_into(Connection& connection, beast::flat_buffer& buffer,
                                                bhttp::request_parser<bhttp::buffer_body>& parser,
                                                std::chrono::seconds idle, std::uint64_t limit, domain::Workers& files,
                                                const OpenFile& file) {
    const auto length = parser.content_length().value_or(limit);
    const BodyDeadline deadline(idle, length);
    std::vector<char> chunk(std::clamp<std::uint64_t>(length, 1, file_hop_bytes));  // a small upload, a small buffer
    std::size_t filled = 0;
    while (!parser.is_done()) {
        auto& body = parser.get().body();
        body.data = chunk.data() + filled;
        body.size = chunk.size() - filled;
        connection.stream.expires_at(deadline.next());
        auto [ec, bytes] = co_await bhttp::async_read_some(connection.stream, buffer, parser, use_tuple);
        if (ec && ec != bhttp::error::need_buffer) co_return ec;  // need_buffer: the chunk is full
        filled = chunk.size() - body.size;
        if (filled == chunk.size() || (parser.is_done() && filled > 0)) {
            if (const auto error = co_await write_all(files, file, {chunk.data(), filled})) co_return error;
            filled = 0;
        }
    }
    co_return beast::error_code{};
}

// Streams an upload body into a fresh file, cut off with 413 past the limit; nullopt
// when the connection must close (the file is removed then).
asio::awaitable<std::optional<http::Request>> receive_upload(Connection& connection, beast::flat_buffer& buffer,
                                                             bhttp::request_parser<bhttp::empty_body>&& head,
                                                             std::uint64_t limit, SessionContext& context) {
    const std::string target(head.get().target());
    bhttp::request_parser<bhttp::buffer_body> parser{std::move(head)};
    parser.body_limit(limit);
    const auto path = context.upload_path();
    auto created = co_await create_for_writing(context.files, path);
    if (!created.file) {
        spdlog::error("cannot create upload file {}: {}", path.string(), created.error.message());
        co_await refuse(connection, read_failure_response(bhttp::error::bad_transfer_encoding), target, "-");
        co_return std::nullopt;
    }
    const auto error = co_await receive_into(connection, buffer, parser, context.config.server.idle_timeout, limit,
                                             context.files, *created.file);
    created.file.reset();
    if (error) {
        co_await remove_file(context.files, path);
        if (!is_quiet_end(error)) co_await refuse(connection, read_failure_response(error), target, "-");
        co_return std::nullopt;
    }
    auto request = to_request(parser.get(), "-");
    request.body_file = path;
    co_return request;
}

// Reads and drops what the client still sends after a refusal, until it closes or the
// linger time is up.
asio::awaitable<void> discard_until_closed(Connection& connection, beast::flat_buffer& buffer) {
    connection.stream.expires_after(linger_after_refusal);
    for (;;) {
        buffer.clear();
        auto [ec, bytes] = co_await connection.stream.async_read_some(buffer.prepare(discard_chunk_bytes), use_tuple);
        if (ec) co_return;
    }
}

// What reading the next request from a connection came to.
struct NextRequest {
    enum class Outcome {
        serve,      // `request` is to be dispatched
        websocket,  // `upgrade` asks for the event WebSocket
        echo,       // `upgrade` asks for the conformance echo WebSocket
        close,      // the client is gone, or the connection broke: nothing more to answer
        refused,    // it was answered with an error and the connection must close
    };
    Outcome outcome = Outcome::close;
    http::Request request;
    bool keep_alive = false;
    std::optional<Upgrade> upgrade;
};

// RFC 9112 3.2: a server must answer 400 to an HTTP/1.1 request without a Host, or with more
// than one.
bool lacks_one_host(const bhttp::request_header<>& header) {
    return header.version() >= 11 && header.count(bhttp::field::host) != 1;
}

// RFC 9112 6.1: a request whose Transfer-Encoding does not end in chunked has no body length
// one can rely on, and must be answered 400 and closed; read by its Content-Length, or as
// bodiless, its bytes would be taken for a next request (smuggling past a proxy that frames
// it otherwise).
bool has_unframed_transfer_encoding(const bhttp::request_parser<bhttp::empty_body>& head) {
    return head.get().count(bhttp::field::transfer_encoding) > 0 && !head.chunked();
}

// Refuses what is over a limit, has no single Host or no body length, before a byte of its body is read: the
// address's connection cap, the body size, an upload the user may not make now.
asio::awaitable<std::optional<http::Response>> refusal_of(bhttp::request_parser<bhttp::empty_body>& head,
                                                          bool is_upload, std::uint64_t limit, bool address_admitted,
                                                          const std::string& remote, SessionContext& context) {
    if (!address_admitted) co_return too_many_connections("this address");
    if (lacks_one_host(head.get()))
        co_return http::error_response(
            http::describe(model::bad_request("an HTTP/1.1 request carries exactly one Host header", "Host")));
    if (has_unframed_transfer_encoding(head))
        co_return http::error_response(http::describe(
            model::bad_request("a Transfer-Encoding must end in chunked, the only coding taken", "Transfer-Encoding")));
    if (head.content_length() && *head.content_length() > limit)
        co_return read_failure_response(bhttp::error::body_limit);
    if (is_upload) co_return co_await context.admit_upload(to_request(head.get(), remote));
    co_return std::nullopt;
}

// Reads the next request: the header first, whose target decides where the body goes
// (memory, or a file for uploads) and which size limit applies before a byte of the body is
// read; then the body.
asio::awaitable<NextRequest> next_request(Connection& connection, beast::flat_buffer& buffer, const std::string& remote,
                                          bool address_admitted, SessionContext& context) {
    using enum NextRequest::Outcome;
    const auto& limits = context.config.limits;
    bhttp::request_parser<bhttp::empty_body> head;
    head.header_limit(static_cast<std::uint32_t>(limits.header_bytes));
    head.body_limit(std::max(limits.body_bytes, limits.upload_bytes));
    connection.idle = true;
    connection.stream.expires_after(context.config.server.idle_timeout);
    auto [ec, bytes] = co_await bhttp::async_read_header(connection.stream, buffer, head, use_tuple);
    connection.idle = false;
    const std::string target = head.is_header_done() ? std::string(head.get().target()) : std::string("-");
    if (ec) {
        if (!is_quiet_end(ec) && ec != bhttp::error::partial_message)
            co_await refuse(connection, read_failure_response(ec), target, remote);
        co_return NextRequest{};
    }
    const bool is_upload =
        head.get().method() == bhttp::verb::post && target.substr(0, target.find('?')) == upload_path;
    const auto limit = is_upload ? limits.upload_bytes : limits.body_bytes;
    if (auto refusal = co_await refusal_of(head, is_upload, limit, address_admitted, remote, context)) {
        co_await refuse(connection, std::move(*refusal), target, remote);
        co_return NextRequest{refused, {}, false, std::nullopt};
    }
    if (beast::iequals(head.get()[bhttp::field::expect], "100-continue")) {
        bhttp::response<bhttp::empty_body> proceed{bhttp::status::continue_, 11};
        co_await bhttp::async_write(connection.stream, proceed, use_tuple);
    }
    if (is_upload) {
        auto received = co_await receive_upload(connection, buffer, std::move(head), limit, context);
        if (!received) co_return NextRequest{};
        NextRequest next{serve, std::move(*received), false, std::nullopt};
        next.request.remote_address = remote;
        const auto* connection_header = next.request.header("connection");
        next.keep_alive = connection_header == nullptr || !beast::iequals(*connection_header, "close");
        co_return next;
    }
    bhttp::request_parser<bhttp::string_body> parser{std::move(head)};
    parser.body_limit(limit);
    ec = co_await read_body(connection, buffer, parser, context.config.server.idle_timeout, limit);
    if (ec) {
        if (!is_quiet_end(ec)) co_await refuse(connection, read_failure_response(ec), target, remote);
        co_return NextRequest{};
    }
    auto message = parser.release();
    NextRequest next{serve, to_request(message, remote), message.keep_alive(), std::nullopt};
    if (beast::websocket::is_upgrade(message)) {
        const auto& echo_path = context.config.server.ws_echo_path;
        if (next.request.path == websocket_path) next.outcome = websocket;
        if (!echo_path.empty() && next.request.path == echo_path) next.outcome = echo;
        if (next.outcome != serve) next.upgrade.emplace(Upgrade{std::move(message), std::move(next.request)});
    }
    co_return next;
}

// An answer that does not fit in the response budget beside those being written.
http::Response held_too_much() {
    model::Error error(model::ErrorCode::unavailable, "too many large answers are waiting for their clients; retry");
    error.retry_after_ms = 1000;
    return http::error_response(http::describe(error));
}

// Dispatches the request and sends its answer, held in the response budget while it is
// written; false when the connection must close.
asio::awaitable<bool> answer(Connection& connection, NextRequest next, SessionContext& context) {
    auto& request = next.request;
    std::optional<ResponseBudget::Hold> hold;
    const auto admit = [&](http::Response& answer, const http::Context& asked) {
        // Before sign-in (or without it) the address stands for the user.
        const auto holder = asked.user_id.empty() ? "@" + request.remote_address : asked.user_id;
        if (auto taken = context.responses.take(answer.body_bytes().size(), holder)) {
            hold.emplace(std::move(*taken));
        } else {
            answer = held_too_much();
        }
    };
    auto response = co_await http::dispatch(context.router, context.cors, request, admit);
    if (!request.body_file.empty()) co_await remove_file(context.files, request.body_file);
    const bool keep_open = next.keep_alive && !context.registry.stopping();
    const bool sent_whole = co_await send_response(connection, std::move(response), request, keep_open, context.files);
    co_return sent_whole&& keep_open;
}

// A connection's place in the session registry (which cancels its idle read at shutdown) and
// in the open-connections gauge, for as long as it lives.
class RegisteredSession {
public:
    RegisteredSession(const std::shared_ptr<Connection>& connection, SessionContext& context)
        : context_(context), id_(context.registry.enter([weak = std::weak_ptr<Connection>(connection)] {
              if (auto c = weak.lock()) {
                  asio::post(c->stream.get_executor(), [c] {
                      if (c->idle) c->stream.socket().cancel();
                  });
              }
          })) {
        open_connections().add(1);
    }
    ~RegisteredSession() {
        context_.registry.leave(id_);
        open_connections().add(-1);
    }
    RegisteredSession(const RegisteredSession&) = delete;
    RegisteredSession& operator=(const RegisteredSession&) = delete;

private:
    static obs::Gauge& open_connections() {
        static auto& gauge = obs::metrics().connections_open.with({"http"});
        return gauge;
    }

    SessionContext& context_;
    std::size_t id_;
};

}  // namespace

asio::awaitable<void> serve_http(asio::ip::tcp::socket socket, ConnectionCounter::Slot total_slot,
                                 SessionContext& context) {
    using enum NextRequest::Outcome;
    beast::error_code ignored;
    const auto remote = socket.remote_endpoint(ignored).address().to_string(ignored);
    auto connection = std::make_shared<Connection>(std::move(socket));
    const RegisteredSession registered(connection, context);
    // Held until the connection closes; an upgrade hands them to the WebSocket session.
    auto address_slot = context.connections_per_address.try_take(remote);
    const auto held_slots = [&] {
        std::vector<ConnectionCounter::Slot> slots;
        slots.push_back(std::move(total_slot));
        slots.push_back(std::move(*address_slot));
        return slots;
    };
    beast::flat_buffer buffer;
    auto next = NextRequest{};
    while (!context.registry.stopping()) {
        next = co_await next_request(*connection, buffer, remote, address_slot.has_value(), context);
        // The request answered is taken out of `next`, which is read after the loop.
        if (next.outcome != serve || !co_await answer(*connection, std::exchange(next, NextRequest{}), context)) break;
    }
    switch (next.outcome) {
        case websocket: co_await upgrade(connection, std::move(*next.upgrade), held_slots(), context); co_return;
        case echo: upgrade_echo(*connection, std::move(*next.upgrade), held_slots(), context); co_return;
        default: break;
    }
    connection->stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    if (next.outcome == refused) co_await discard_until_closed(*connection, buffer);
}

OverCapacityAnswer::OverCapacityAnswer() {
    auto response = http::error_response(http::describe(
        model::Error(model::ErrorCode::unavailable, "the server has too many open connections; retry later")));
    bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(response.status), 11};
    http::Request unread;
    unread.request_id = new_request_id();
    set_headers(out, response, unread, false);
    out.body() = std::move(response.body);
    out.prepare_payload();
    std::ostringstream bytes;
    bytes << out;
    bytes_ = std::move(bytes).str();
    id_at_ = bytes_.find(unread.request_id);
}

std::string_view OverCapacityAnswer::next() {
    const auto id = new_request_id();  // every id has the same length
    bytes_.replace(id_at_, id.size(), id);
    return bytes_;
}

http::Response too_many_connections(std::string_view whose) {
    model::Error error(model::ErrorCode::rate_limited, "too many open connections from " + std::string(whose));
    error.retry_after_ms = connection_retry_after_ms;
    return http::error_response(http::describe(error));
}

}  // namespace confab::net
