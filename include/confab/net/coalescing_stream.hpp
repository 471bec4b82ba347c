#pragma once

// Beast types: included by net/*.cpp (and the unit tests, which run it over
// boost::beast::test::stream) only. The member functions not defined here are in
// coalescing_stream_impl.hpp, compiled for tcp_stream once in coalescing_stream.cpp.
#include "confab/net/outbound_frames.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/teardown.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace confab::net {

// The stream beneath one connection's websocket::stream. Reads pass straight through to the
// TCP stream (NextLayer: beast::tcp_stream in the server, an in-memory stream in tests); every byte to the peer leaves through one OutboundFrames queue, both Beast's
// own writes (the handshake response, pongs, keep-alive pings, close frames) and the
// session's data frames, which the session queues here directly instead of making one
// websocket async_write, and one send(), per frame.
//
// Why writing beside Beast is safe: this queue is the socket's only writer and takes every
// write whole, so frames never interleave; Beast's writes complete only once they are on the
// socket, so its teardown never overtakes its close frame; and Beast leaves the open state
// before it queues a close frame, after which the session queues no data frame (it checks
// websocket::stream::is_open first) but the replies it owes. Those go first: while the
// session owes any, Beast's writes wait (a close frame answered the moment Beast reads the
// peer's would otherwise overtake the replies to the requests read before it).
template <class NextLayer>
class CoalescingStream {
public:
    using executor_type = typename NextLayer::executor_type;

    // Told when a send finishes: how many data frames it carried, or the error that ends all
    // sending. A send in flight keeps its observer (the session owning this stream) alive.
    class Observer {
    public:
        virtual void sent(const boost::system::error_code& ec, std::size_t frames) = 0;

    protected:
        ~Observer() = default;
    };

    explicit CoalescingStream(NextLayer stream) : stream_(std::move(stream)) {}

    executor_type get_executor() noexcept { return stream_.get_executor(); }
    NextLayer& next_layer() noexcept { return stream_; }
    void observe(std::weak_ptr<Observer> observer) { observer_ = std::move(observer); }

    template <class MutableBuffers, class Token>
    auto async_read_some(const MutableBuffers& buffers, Token&& token) {
        return stream_.async_read_some(buffers, std::forward<Token>(token));
    }

    // Beast's writes: taken whole, in order with the data frames queued before them.
    template <class ConstBuffers, class Token>
    auto async_write_some(const ConstBuffers& buffers, Token&& token) {
        return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
            [this](auto handler, const ConstBuffers& buffers) {
                auto bytes = std::make_shared<std::string>(boost::asio::buffer_size(buffers), '\0');
                boost::asio::buffer_copy(boost::asio::buffer(*bytes), buffers);
                write_whole(std::move(bytes), std::move(handler));
            },
            token, buffers);
    }

    // A data frame, sent by the next flush(); see the class comment for when it may be queued.
    void queue_frame(bool text, realtime::Frame payload) { outbound_.push_frame(text, std::move(payload)); }
    // The session read a request and owes its reply (or knowing it has none): until it settles
    // every one it owes, Beast's writes are held back.
    void owe_reply() { ++replies_owed_; }
    void settle_reply();
    std::size_t unsent_frames() const { return outbound_.unsent_frames(); }
    void drop_unsent_frames() { outbound_.drop_unsent_frames(); }
    // Sends everything queued in one write, or after the write in flight.
    void flush();

private:
    using WriteHandler = boost::asio::any_completion_handler<void(boost::system::error_code, std::size_t)>;
    struct BeastWrite {
        WriteHandler handler;
        std::size_t bytes;
        std::uint64_t send;  // the send that carries it
    };

    void write_whole(std::shared_ptr<const std::string> bytes, WriteHandler handler);
    void finish_send(const boost::system::error_code& ec, const std::shared_ptr<Observer>& observer);

    NextLayer stream_;
    OutboundFrames outbound_;
    struct HeldWrite {
        std::shared_ptr<const std::string> bytes;
        WriteHandler handler;
    };

    std::vector<BeastWrite> beast_writes_;  // oldest first
    std::vector<HeldWrite> held_;           // Beast's writes while replies are owed, oldest first
    std::size_t replies_owed_ = 0;
    std::uint64_t sends_started_ = 0;
    boost::system::error_code failed_;  // the error that ended sending
    std::weak_ptr<Observer> observer_;
};

extern template class CoalescingStream<boost::beast::tcp_stream>;

// Where the queue writes: beneath a tcp_stream, its socket, which skips the per-operation
// timeout bookkeeping (the session turns those timeouts off; Beast's own keep the peer honest).
template <class Stream>
Stream& raw_writer(Stream& stream) noexcept {
    return stream;
}
inline boost::asio::ip::tcp::socket& raw_writer(boost::beast::tcp_stream& stream) noexcept { return stream.socket(); }

// Beast's closing handshake ends by tearing the TCP stream down.
template <class NextLayer, class Handler>
void async_teardown(boost::beast::role_type role, CoalescingStream<NextLayer>& stream, Handler&& handler) {
    using boost::beast::websocket::async_teardown;
    async_teardown(role, stream.next_layer(), std::forward<Handler>(handler));
}

}  // namespace confab::net
