// The only translation unit of the test support library that includes Boost.Beast.

#include "support/client.hpp"

#include "support/contract_log.hpp"

#include <algorithm>
#include <cstdlib>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace confab::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = net::ip::tcp;

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

template <class Fields>
std::map<std::string, std::string> header_map(const Fields& fields) {
    std::map<std::string, std::string> out;
    for (const auto& f : fields) {
        auto name = lower(std::string_view(f.name_string().data(), f.name_string().size()));
        std::string value(f.value().data(), f.value().size());
        auto it = out.find(name);
        if (it == out.end()) {
            out.emplace(std::move(name), std::move(value));
        } else {
            it->second += ", " + value;
        }
    }
    return out;
}

tcp::endpoint local_endpoint(std::uint16_t port) { return tcp::endpoint(net::ip::make_address_v4("127.0.0.1"), port); }

nlohmann::json parse_body_or_throw(int status, const std::string& body) {
    try {
        return nlohmann::json::parse(body);
    } catch (const nlohmann::json::parse_error& e) {
        throw std::runtime_error("response body is not JSON (HTTP " + std::to_string(status) + "): " + e.what() +
                                 "; body: " + body.substr(0, 2000));
    }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// HTTP

nlohmann::json HttpResponse::json() const { return parse_body_or_throw(status, body); }

std::string HttpResponse::header(std::string_view name) const {
    auto it = headers.find(lower(name));
    return it == headers.end() ? std::string() : it->second;
}

bool HttpResponse::has_header(std::string_view name) const { return headers.count(lower(name)) > 0; }

std::string HttpResponse::describe() const {
    std::string b = body.size() > 2000 ? body.substr(0, 2000) + "...(" + std::to_string(body.size()) + " bytes)" : body;
    return "HTTP " + std::to_string(status) + " " + b;
}

void PrintTo(const HttpResponse& r, std::ostream* os) { *os << r.describe(); }

HttpResponse http(std::uint16_t port, std::string method, std::string target, std::optional<std::string> body,
                  std::map<std::string, std::string> headers, std::chrono::milliseconds timeout) {
    net::io_context ioc;
    beast::tcp_stream stream(ioc);

    bhttp::request<bhttp::string_body> req;
    auto verb = bhttp::string_to_verb(method);
    if (verb == bhttp::verb::unknown) {
        req.method_string(method);
    } else {
        req.method(verb);
    }
    req.target(target);
    req.version(11);
    req.set(bhttp::field::host, "127.0.0.1:" + std::to_string(port));
    req.set(bhttp::field::user_agent, "confab-integration-tests");
    req.set(bhttp::field::connection, "close");
    bool has_content_type = false;
    for (const auto& [name, value] : headers) {
        req.set(name, value);
        if (lower(name) == "content-type") has_content_type = true;
    }
    if (body) {
        req.body() = *body;
        if (!has_content_type) req.set(bhttp::field::content_type, "application/json");
    }
    req.prepare_payload();

    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(std::uint64_t{1} << 30);
    parser.header_limit(1 << 20);
    if (verb == bhttp::verb::head) parser.skip(true);

    beast::error_code connect_ec, write_ec, read_ec;
    bool read_started = false;
    stream.expires_after(timeout);
    stream.async_connect(local_endpoint(port), [&](beast::error_code ec) {
        if (ec) {
            connect_ec = ec;
            return;
        }
        bhttp::async_write(stream, req, [&](beast::error_code wec, std::size_t) {
            write_ec = wec;
            if (wec == beast::error::timeout) return;
            // Even when the write failed (the server may answer 413 and close early), try to
            // read whatever response the server sent.
            read_started = true;
            bhttp::async_read(stream, buffer, parser, [&](beast::error_code rec, std::size_t) { read_ec = rec; });
        });
    });
    ioc.run();

    std::string what = method + " " + target + " on port " + std::to_string(port);
    if (connect_ec) throw std::runtime_error("http " + what + ": connect: " + connect_ec.message());
    if (!read_started || read_ec) {
        std::string msg = "http " + what + ":";
        if (write_ec) msg += " write: " + write_ec.message();
        if (read_ec) msg += " read: " + read_ec.message();
        if (!read_started && !write_ec) msg += " no response";
        throw std::runtime_error(msg);
    }

    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);

    HttpResponse out;
    const auto& res = parser.get();
    out.status = static_cast<int>(res.result_int());
    out.headers = header_map(res);
    out.body = res.body();
    const auto request_type = req[bhttp::field::content_type];
    contract_log::http({.method = method,
                        .target = target,
                        .request_content_type = std::string_view(request_type.data(), request_type.size()),
                        .request_body = req.body(),
                        .status = out.status,
                        .content_type = out.header("content-type"),
                        .body = out.body,
                        .headers = &out.headers});
    return out;
}

int raw_status(const std::string& out) {
    if (out.size() < 12 || out.rfind("HTTP/1.", 0) != 0) return 0;
    return std::atoi(out.substr(9, 3).c_str());
}

std::string raw_body(const std::string& out) {
    auto at = out.find("\r\n\r\n");
    return at == std::string::npos ? std::string() : out.substr(at + 4);
}

std::string raw_exchange(std::uint16_t port, std::string bytes, std::chrono::milliseconds wait, std::string then) {
    net::io_context ioc;
    beast::tcp_stream stream(ioc);
    std::string received;
    std::array<char, 16384> chunk{};
    beast::error_code connect_ec;
    bool then_written = then.empty();

    std::function<void()> read_more = [&] {
        stream.async_read_some(net::buffer(chunk), [&](beast::error_code ec, std::size_t n) {
            received.append(chunk.data(), n);
            if (!then_written && received.find("\r\n\r\n") != std::string::npos) {
                then_written = true;
                net::async_write(stream, net::buffer(then), [](beast::error_code, std::size_t) {});
            }
            if (!ec) read_more();
        });
    };

    stream.expires_after(std::chrono::seconds(10));
    stream.async_connect(local_endpoint(port), [&](beast::error_code ec) {
        if (ec) {
            connect_ec = ec;
            return;
        }
        net::async_write(stream, net::buffer(bytes), [&](beast::error_code, std::size_t) {
            stream.expires_after(wait);
            read_more();
        });
    });
    ioc.run();
    if (connect_ec) {
        throw std::runtime_error("raw_exchange on port " + std::to_string(port) + ": connect: " + connect_ec.message());
    }
    return received;
}

int connect_with_receive_buffer(std::uint16_t port, int receive_buffer) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket failed");
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd);
        throw std::runtime_error("connect to port " + std::to_string(port) + " failed");
    }
    return fd;
}

// ---------------------------------------------------------------------------------------------
// WebSocket

nlohmann::json WsConnectResult::json() const { return parse_body_or_throw(status, body); }

struct WsClient::Impl {
    net::io_context ioc;
    std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
    websocket::stream<beast::tcp_stream> ws{ioc};
    beast::flat_buffer rbuf;
    std::thread thread;

    mutable std::mutex mu;
    std::condition_variable cv;
    std::deque<Frame> frames;
    bool open = true;
    std::optional<int> close_code;
    std::string close_reason;
    std::string last_error;
    std::atomic<std::uint64_t> counter{0};
    const std::uint64_t serial = next_serial();  // names the connection in the contract log

    static std::uint64_t next_serial() {
        static std::atomic<std::uint64_t> connections{0};
        return ++connections;
    }

    void start_read() {
        ws.async_read(rbuf, [this](beast::error_code ec, std::size_t) { on_read(ec); });
    }

    void on_read(beast::error_code ec) {
        if (ec) {
            std::lock_guard lock(mu);
            open = false;
            if (ec == websocket::error::closed) {
                close_code = static_cast<int>(ws.reason().code);
                close_reason = std::string(ws.reason().reason.data(), ws.reason().reason.size());
            } else {
                last_error = ec.message();
                if (!close_code) close_code = 1006;
            }
            cv.notify_all();
            return;
        }
        Frame f;
        f.text = ws.got_text();
        f.raw = beast::buffers_to_string(rbuf.data());
        rbuf.consume(rbuf.size());
        if (f.text) {
            auto j = nlohmann::json::parse(f.raw, nullptr, false);
            if (!j.is_discarded()) f.json = std::move(j);
            contract_log::ws_frame(serial, contract_log::Direction::received, f.raw, f.json.has_value());
        }
        {
            std::lock_guard lock(mu);
            frames.push_back(std::move(f));
        }
        cv.notify_all();
        start_read();
    }

    void write(bool text, std::string data, bool known_json = false) {
        if (text) contract_log::ws_frame(serial, contract_log::Direction::sent, data, known_json);
        auto buf = std::make_shared<std::string>(std::move(data));
        auto done = std::make_shared<std::promise<beast::error_code>>();
        auto fut = done->get_future();
        net::post(ioc, [this, buf, text, done] {
            ws.text(text);
            ws.async_write(net::buffer(*buf), [buf, done](beast::error_code ec, std::size_t) { done->set_value(ec); });
        });
        if (fut.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
            throw std::runtime_error("WebSocket write timed out after 10 s");
        }
        auto ec = fut.get();
        if (ec) throw std::runtime_error("WebSocket write failed: " + ec.message());
    }
};

WsClient::WsClient() : impl_(std::make_unique<Impl>()) {}

WsClient::~WsClient() {
    if (!impl_) return;
    if (is_open()) {
        try {
            close(1000, std::chrono::milliseconds(500));
        } catch (...) {
        }
    }
    auto& im = *impl_;
    if (im.thread.joinable()) {
        net::post(im.ioc, [&im] {
            beast::error_code ignored;
            beast::get_lowest_layer(im.ws).socket().close(ignored);
        });
        im.work.reset();
        im.ioc.stop();
        im.thread.join();
    }
}

WsConnectResult WsClient::connect(std::uint16_t port, std::string target, std::map<std::string, std::string> headers,
                                  std::chrono::milliseconds timeout) {
    WsConnectResult result;
    std::unique_ptr<WsClient> client(new WsClient());
    auto& im = *client->impl_;
    auto& lowest = beast::get_lowest_layer(im.ws);

    im.ws.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
        req.set(bhttp::field::user_agent, "confab-integration-tests");
        for (const auto& [name, value] : headers) req.set(name, value);
    }));
    im.ws.read_message_max(std::uint64_t{64} << 20);
    im.ws.auto_fragment(false);

    websocket::response_type res;
    beast::error_code ec_result;
    std::string host = "127.0.0.1:" + std::to_string(port);
    lowest.expires_after(timeout);
    lowest.async_connect(local_endpoint(port), [&](beast::error_code ec) {
        if (ec) {
            ec_result = ec;
            return;
        }
        im.ws.async_handshake(res, host, target, [&](beast::error_code hec) { ec_result = hec; });
    });
    im.ioc.run();
    im.ioc.restart();

    if (ec_result) {
        im.open = false;  // never started: nothing to close
        result.status = static_cast<int>(res.result_int());
        result.headers = header_map(res);
        result.body = res.body();
        result.error = ec_result.message();
        if (ec_result == websocket::error::upgrade_declined) {
            const auto type = result.headers.find("content-type");
            contract_log::http({.method = "GET",
                                .target = target,
                                .status = result.status,
                                .content_type = type == result.headers.end() ? "" : type->second,
                                .body = result.body,
                                .headers = &result.headers});
        }
        if (result.status == 0 && ec_result != websocket::error::upgrade_declined) {
            result.error = "WebSocket connect to " + host + target + ": " + ec_result.message();
        }
        return result;
    }

    lowest.expires_never();
    websocket::stream_base::timeout opt{};
    opt.handshake_timeout = std::chrono::seconds(5);
    opt.idle_timeout = websocket::stream_base::none();
    opt.keep_alive_pings = false;
    im.ws.set_option(opt);

    im.work.emplace(im.ioc.get_executor());
    net::post(im.ioc, [&im] { im.start_read(); });
    im.thread = std::thread([&im] { im.ioc.run(); });

    result.status = 101;
    result.headers = header_map(res);
    result.client = std::move(client);
    return result;
}

void WsClient::send_text(std::string text) { impl_->write(true, std::move(text)); }
void WsClient::send_binary(std::string bytes) { impl_->write(false, std::move(bytes)); }
void WsClient::send_json(const nlohmann::json& j) { impl_->write(true, j.dump(), true); }

std::optional<WsClient::Frame> WsClient::receive_frame(std::chrono::milliseconds timeout) {
    auto& im = *impl_;
    std::unique_lock lock(im.mu);
    im.cv.wait_for(lock, timeout, [&] { return !im.frames.empty() || !im.open; });
    if (im.frames.empty()) return std::nullopt;
    Frame f = std::move(im.frames.front());
    im.frames.pop_front();
    return f;
}

std::optional<nlohmann::json> WsClient::receive(std::chrono::milliseconds timeout) {
    auto f = receive_frame(timeout);
    if (!f) return std::nullopt;
    if (!f->json) {
        throw std::runtime_error(std::string("server sent a ") + (f->text ? "non-JSON text" : "binary") +
                                 " frame: " + f->raw.substr(0, 500));
    }
    return std::move(f->json);
}

std::optional<nlohmann::json> WsClient::receive_matching(const std::function<bool(const nlohmann::json&)>& pred,
                                                         std::chrono::milliseconds timeout) {
    auto& im = *impl_;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_lock lock(im.mu);
    std::size_t scanned = 0;
    for (;;) {
        for (; scanned < im.frames.size(); ++scanned) {
            auto& f = im.frames[scanned];
            if (f.json && pred(*f.json)) {
                nlohmann::json out = std::move(*f.json);
                im.frames.erase(im.frames.begin() + static_cast<std::ptrdiff_t>(scanned));
                return out;
            }
        }
        if (!im.open) return std::nullopt;
        if (!im.cv.wait_until(lock, deadline, [&] { return im.frames.size() > scanned || !im.open; })) {
            return std::nullopt;
        }
    }
}

std::optional<nlohmann::json> WsClient::receive_type(const std::string& type, std::chrono::milliseconds timeout) {
    return receive_matching(
        [&](const nlohmann::json& j) {
            return j.is_object() && j.contains("type") && j["type"].is_string() && j["type"] == type;
        },
        timeout);
}

std::optional<int> WsClient::wait_for_close(std::chrono::milliseconds timeout) {
    auto& im = *impl_;
    std::unique_lock lock(im.mu);
    if (!im.cv.wait_for(lock, timeout, [&] { return !im.open; })) return std::nullopt;
    im.frames.clear();
    return im.close_code;
}

std::string WsClient::next_request_id() { return "req-" + std::to_string(++impl_->counter); }

nlohmann::json WsClient::request(const std::string& type, nlohmann::json data, std::chrono::milliseconds timeout) {
    std::string id = next_request_id();
    send_json({{"type", type}, {"id", id}, {"data", std::move(data)}});
    auto reply = receive_matching(
        [&](const nlohmann::json& j) {
            return j.is_object() && j.contains("id") && j["id"].is_string() && j["id"] == id && j.contains("type") &&
                   (j["type"] == "ack" || j["type"] == "error");
        },
        timeout);
    if (!reply) {
        std::string msg = "no ack/error for WebSocket request '" + type + "' id " + id + " within " +
                          std::to_string(timeout.count()) + " ms";
        if (!is_open()) {
            auto code = close_code();
            msg += "; connection closed (code " + (code ? std::to_string(*code) : std::string("none")) + ")";
        }
        throw std::runtime_error(msg);
    }
    return *reply;
}

void WsClient::close(int code, std::chrono::milliseconds timeout) {
    auto& im = *impl_;
    if (!is_open()) return;
    auto done = std::make_shared<std::promise<beast::error_code>>();
    auto fut = done->get_future();
    net::post(im.ioc, [&im, code, done] {
        im.ws.async_close(websocket::close_reason(static_cast<std::uint16_t>(code)),
                          [done](beast::error_code ec) { done->set_value(ec); });
    });
    fut.wait_for(timeout);
    std::unique_lock lock(im.mu);
    im.cv.wait_for(lock, timeout, [&] { return !im.open; });
}

bool WsClient::is_open() const {
    std::lock_guard lock(impl_->mu);
    return impl_->open;
}

std::optional<int> WsClient::close_code() const {
    std::lock_guard lock(impl_->mu);
    return impl_->close_code;
}

std::string WsClient::close_reason() const {
    std::lock_guard lock(impl_->mu);
    return impl_->close_reason;
}

std::string WsClient::last_error() const {
    std::lock_guard lock(impl_->mu);
    return impl_->last_error;
}

std::size_t WsClient::queued() const {
    std::lock_guard lock(impl_->mu);
    return impl_->frames.size();
}

}  // namespace confab::test
