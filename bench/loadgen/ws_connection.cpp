#include "ws_connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

namespace confab::bench {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;

WsConnection::WsConnection(asio::any_io_executor executor, int chat) : ws_(std::move(executor)), chat_(chat) {}

asio::awaitable<void> WsConnection::open(asio::ip::tcp::endpoint server, const std::string& token) {
    auto& tcp = beast::get_lowest_layer(ws_);
    tcp.expires_after(std::chrono::seconds(60));
    co_await tcp.async_connect(server, asio::use_awaitable);
    tcp.socket().set_option(asio::ip::tcp::no_delay(true));
    tcp.expires_never();
    auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::client);
    timeouts.handshake_timeout = std::chrono::seconds(60);
    ws_.set_option(timeouts);
    ws_.set_option(websocket::stream_base::decorator([token](websocket::request_type& request) {
        request.set(beast::http::field::authorization, "Bearer " + token);
    }));
    co_await ws_.async_handshake("127.0.0.1", "/api/v1/ws", asio::use_awaitable);
    ws_.text(true);
}

void WsConnection::start(FrameSink& sink) {
    asio::co_spawn(
        ws_.get_executor(), [self = shared_from_this(), &sink] { return self->read_loop(sink); }, asio::detached);
}

asio::awaitable<void> WsConnection::read_loop(FrameSink& sink) {
    beast::flat_buffer buffer;
    for (;;) {
        auto [ec, bytes] = co_await ws_.async_read(buffer, asio::as_tuple(asio::use_awaitable));
        if (ec) break;
        const auto data = buffer.cdata();
        sink.on_frame(*this, std::string_view(static_cast<const char*>(data.data()), data.size()));
        buffer.consume(bytes);
    }
    finished_ = true;
    sink.on_closed(*this, closing_);
}

void WsConnection::send(std::string frame) {
    if (closing_) return;
    outbox_.push_back(std::move(frame));
    if (!writing_) write_next();
}

void WsConnection::write_next() {
    if (outbox_.empty() || closing_) {
        writing_ = false;
        if (closing_) close();
        return;
    }
    writing_ = true;
    ws_.async_write(asio::buffer(outbox_.front()), [self = shared_from_this()](beast::error_code ec, std::size_t) {
        self->outbox_.pop_front();
        if (ec) {
            self->outbox_.clear();
            self->writing_ = false;
            return;
        }
        self->write_next();
    });
}

void WsConnection::close() {
    closing_ = true;
    if (writing_ || close_started_) return;  // write_next closes once the write in flight completes
    close_started_ = true;
    ws_.async_close(websocket::close_code::normal, [self = shared_from_this()](beast::error_code) {});
}

void WsConnection::abort() {
    closing_ = true;
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
}

}  // namespace confab::bench
