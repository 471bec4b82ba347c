#pragma once

// Synchronous HTTP and WebSocket clients for the integration tests.
// Boost.Beast is used only inside client.cpp; this header stays light.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace confab::test {

using namespace std::chrono_literals;

struct HttpResponse {
    int status = 0;
    std::map<std::string, std::string> headers;  // lower-case names; repeated headers joined by ", "
    std::string body;

    // The body parsed as JSON; throws std::runtime_error quoting the body if it is not JSON.
    nlohmann::json json() const;
    // Case-insensitive lookup; "" when absent.
    std::string header(std::string_view name) const;
    bool has_header(std::string_view name) const;
    // "HTTP 400 {...body...}" for assertion messages (body truncated to 2000 bytes).
    std::string describe() const;
};

void PrintTo(const HttpResponse& r, std::ostream* os);

// One request on a fresh connection ("Connection: close"). Sets
// "Content-Type: application/json" when a body is given and no content-type header was.
// Throws std::runtime_error on connection failure or timeout.
HttpResponse http(std::uint16_t port, std::string method, std::string target, std::optional<std::string> body = {},
                  std::map<std::string, std::string> headers = {}, std::chrono::milliseconds timeout = 10s);

// Writes `bytes` to a new TCP connection and returns everything the server sends back
// until it closes the connection or `wait` has elapsed (since the write finished). `then`
// is written once the response's header block has arrived (a WebSocket client's frames
// wait for the 101). Throws only if the connection cannot be made.
std::string raw_exchange(std::uint16_t port, std::string bytes, std::chrono::milliseconds wait, std::string then = {});
// Of raw_exchange's answer: the status ("HTTP/1.1 431 ...", 0 when there is none), and what
// follows the header block (a body not chunked; empty when there is none).
int raw_status(const std::string& out);
std::string raw_body(const std::string& out);

// A bare blocking socket connected to 127.0.0.1:port, its receive buffer set to
// `receive_buffer` bytes before it connects, for tests that read slower than the server
// writes (the server's sends then stall early). The caller closes it. Throws when the
// connection cannot be made.
int connect_with_receive_buffer(std::uint16_t port, int receive_buffer);

class WsClient;

struct WsConnectResult {
    std::unique_ptr<WsClient> client;            // set when the upgrade succeeded
    int status = 0;                              // 101 on success, else the refused response's status
    std::map<std::string, std::string> headers;  // of the refused response, lower-case names
    std::string body;                            // of the refused response
    std::string error;                           // transport error text, if the handshake failed otherwise

    bool ok() const { return client != nullptr; }
    nlohmann::json json() const;  // the refused response's body as JSON (throws if not JSON)
};

// A WebSocket client with a background I/O thread: frames are read continuously into a
// queue, pings are answered automatically, all calls block with a timeout.
class WsClient {
public:
    struct Frame {
        bool text = true;
        std::string raw;
        std::optional<nlohmann::json> json;  // parsed text frame (nullopt if not JSON / binary)
    };

    static WsConnectResult connect(std::uint16_t port, std::string target,
                                   std::map<std::string, std::string> headers = {},
                                   std::chrono::milliseconds timeout = 10s);

    ~WsClient();
    WsClient(const WsClient&) = delete;
    WsClient& operator=(const WsClient&) = delete;

    // Throw std::runtime_error if the write fails (e.g. the connection is gone).
    void send_text(std::string text);
    void send_binary(std::string bytes);
    void send_json(const nlohmann::json& j);

    // The next frame from the server, parsed as JSON. nullopt on timeout or when the
    // connection is closed (then close_code() says how). Throws if the server sent a
    // frame that is not JSON text.
    std::optional<nlohmann::json> receive(std::chrono::milliseconds timeout = 5s);
    // The next raw frame (text or binary), nullopt on timeout/close.
    std::optional<Frame> receive_frame(std::chrono::milliseconds timeout = 5s);
    // The first queued/arriving JSON frame satisfying pred; other frames stay queued in order.
    std::optional<nlohmann::json> receive_matching(const std::function<bool(const nlohmann::json&)>& pred,
                                                   std::chrono::milliseconds timeout = 5s);
    // The first frame whose "type" equals `type` (others stay queued).
    std::optional<nlohmann::json> receive_type(const std::string& type, std::chrono::milliseconds timeout = 5s);

    // Drops frames until the connection closes; returns the close code the server sent
    // (1006 if the TCP connection ended without a close frame), nullopt on timeout.
    std::optional<int> wait_for_close(std::chrono::milliseconds timeout = 5s);

    // Sends {"type", "id": <unique>, "data"} and returns the first ack/error frame with that
    // id; other frames stay queued for receive(). Throws std::runtime_error on timeout.
    nlohmann::json request(const std::string& type, nlohmann::json data = nlohmann::json::object(),
                           std::chrono::milliseconds timeout = 5s);
    // The id `request` will use next (for tests that want to send the frame themselves).
    std::string next_request_id();

    // Client-initiated close handshake (waits up to `timeout`).
    void close(int code = 1000, std::chrono::milliseconds timeout = 3s);

    bool is_open() const;                   // no close/teardown seen yet
    std::optional<int> close_code() const;  // set once the server closed (1006 without a close frame)
    std::string close_reason() const;       // reason text of the close frame
    std::string last_error() const;         // read error text, if any
    std::size_t queued() const;             // frames received but not yet taken

private:
    WsClient();
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace confab::test
