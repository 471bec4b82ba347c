#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

namespace confab::bench {

class WsConnection;

// Receives every text frame of every connection, on the io_context's only thread.
class FrameSink {
public:
    virtual ~FrameSink() = default;
    virtual void on_frame(WsConnection& connection, std::string_view frame) = 0;
    // The read loop ended: `expected` when the loadgen itself closed the connection.
    virtual void on_closed(WsConnection& connection, bool expected) = 0;
};

// One client WebSocket. Writes are queued and sent one at a time in order (Beast allows a
// single outstanding write); reads run in a coroutine until the connection closes.
class WsConnection : public std::enable_shared_from_this<WsConnection> {
public:
    WsConnection(boost::asio::any_io_executor executor, int chat);

    // TCP connect and upgrade; throws on failure.
    boost::asio::awaitable<void> open(boost::asio::ip::tcp::endpoint server, const std::string& token);
    // Starts the read loop; frames go to `sink` until the connection closes.
    void start(FrameSink& sink);
    void send(std::string frame);
    // Starts the close handshake; the read loop ends (on_closed) when it completes.
    void close();
    // Closes the socket without a handshake: the read loop ends at once.
    void abort();

    int chat() const { return chat_; }           // the scenario chat it listens to, -1 for none
    bool finished() const { return finished_; }  // the read loop has ended
    // seq of the last message.new received, to check they arrive in order.
    std::int64_t last_seq = 0;

private:
    boost::asio::awaitable<void> read_loop(FrameSink& sink);
    void write_next();

    boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
    int chat_;
    std::deque<std::string> outbox_;
    bool writing_ = false;
    bool closing_ = false;  // no more sends; close once the outbox is written
    bool close_started_ = false;
    bool finished_ = false;
};

}  // namespace confab::bench
