#pragma once

// WsSession itself, for the translation units that run it over a stream of their own:
// ws_session.cpp (tcp_stream and api::WsEvents, the server) and the unit tests (an in-memory
// stream and a fake of the event protocol). Beast's WebSocket is heavy to compile: keep it
// out of every other file.
#include "confab/config/config.hpp"
#include "confab/model/user.hpp"
#include "confab/net/coalescing_stream_impl.hpp"
#include "confab/net/connection_counter.hpp"
#include "confab/net/session_registry.hpp"
#include "confab/net/ws_session.hpp"
#include "confab/obs/metrics.hpp"
#include "confab/realtime/hub.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace confab::net {
namespace ws_detail {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// How long a close handshake may take before the socket is simply closed: a peer that
// stopped reading would otherwise hold its connection, and its queued frames, forever.
constexpr auto close_deadline = std::chrono::seconds(5);

// What a session does with the messages it reads; everything below the message level
// (limits, UTF-8 and close handling, timeouts) is the same for both.
enum class WsRole {
    events,  // the event protocol of PROTOCOL.md, for an authenticated user
    echo,    // every message sent back as it came (server.ws_echo_path, conformance suites)
};

// What a session needs from the server. Events is api::WsEvents in the server; the unit
// tests put a fake with the same members in its place.
template <class Events>
struct WsContext {
    const config::Config& config;
    Events& events;
    realtime::Hub& hub;
    SessionRegistry& registry;
};

// The transport beneath the WebSocket: a TCP stream in the server, an in-memory one in tests
// (which has no timeouts of its own).
inline void stop_transport_timeouts(beast::tcp_stream& stream) { stream.expires_never(); }
template <class Stream>
void stop_transport_timeouts(Stream&) {}
inline void close_transport(beast::tcp_stream& stream) {
    beast::error_code ignored;
    stream.socket().close(ignored);
}
template <class Stream>
void close_transport(Stream& stream) {
    stream.close();
}

// One live WebSocket. Every member function runs on the connection's strand (the
// stream's executor); deliver() and close() are the only entry points from other
// threads and hop onto it first. deliver() runs at once when it can (the hub's drain, on an
// I/O thread, while the strand is idle): a delivery then costs no other thread's wake-up.
template <class NextLayer, class Events>
class WsSession final : public realtime::Connection,
                        public CoalescingStream<NextLayer>::Observer,
                        public std::enable_shared_from_this<WsSession<NextLayer, Events>> {
    using std::enable_shared_from_this<WsSession>::shared_from_this;
    using std::enable_shared_from_this<WsSession>::weak_from_this;

public:
    WsSession(NextLayer stream, WsRole role, model::Principal principal, std::vector<ConnectionCounter::Slot> slots,
              WsContext<Events> context)
        : ws_(CoalescingStream<NextLayer>(std::move(stream))),
          role_(role),
          principal_(std::move(principal)),
          slots_(std::move(slots)),
          context_(context),
          give_up_(ws_.get_executor()),
          expiry_(ws_.get_executor()) {}

    const std::string& user_id() const override { return principal_.user_id; }
    const std::string& token_hash() const override { return principal_.token_hash; }

    void deliver(realtime::Frames frames) override {
        asio::dispatch(ws_.get_executor(), [self = shared_from_this(), frames = std::move(frames)]() mutable {
            for (auto& frame : frames) self->enqueue(std::move(frame));
            self->ws_.next_layer().flush();
        });
    }

    void close(realtime::CloseCode code) override {
        asio::post(ws_.get_executor(), [self = shared_from_this(), code] { self->request_close(code); });
    }

    void start(UpgradeRequest request) {
        ws_.next_layer().observe(weak_from_this());
        session_id_ = context_.registry.enter([weak = weak_from_this()] {
            if (auto self = weak.lock()) self->close(realtime::CloseCode::going_away);
        });
        asio::co_spawn(
            ws_.get_executor(),
            [self = shared_from_this(), request = std::move(request)]() mutable {
                return self->run(std::move(request));
            },
            asio::detached);
    }

private:
    asio::awaitable<void> run(UpgradeRequest request) {
        configure();
        // In the hub before the 101 goes out, so that no event published once the client
        // sees its connection open is missed; what arrives meanwhile waits in the queue.
        if (role_ == WsRole::events) context_.hub.attach(shared_from_this());
        auto [ec] = co_await ws_.async_accept(request, use_tuple);
        request = {};  // an idle connection should hold nothing of its upgrade
        if (ec) {
            if (role_ == WsRole::events) context_.hub.detach(*this);
            context_.registry.leave(session_id_);
            co_return;
        }
        accepted_ = true;
        if (close_code_) {
            send_close();  // asked for during the handshake: the held frames are dropped, as after any close
        } else {
            // An overflow here closes the connection itself (request_close sends the close).
            for (auto& frame : std::exchange(early_, {})) enqueue(std::move(frame));
            ws_.next_layer().flush();
        }
        static auto& open_websockets = obs::metrics().connections_open.with({"websocket"});
        open_websockets.add(1);
        spdlog::debug("websocket open user_id={}", principal_.user_id);
        if (role_ == WsRole::events) {
            close_at(principal_.expires_at);
            co_await check_signed_in();
            co_await announce(true);
        }
        co_await read_loop();
        co_await until([this] { return requests_running_ == 0; });  // their writes still commit
        finished_ = true;
        give_up_.cancel();
        expiry_.cancel();
        if (role_ == WsRole::events) {
            context_.hub.detach(*this);
            co_await announce(false);
        }
        context_.registry.leave(session_id_);
        open_websockets.add(-1);
        spdlog::debug("websocket closed user_id={}", principal_.user_id);
    }

    void configure() {
        stop_transport_timeouts(ws_.next_layer().next_layer());
        auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
        // Beast pings after half the idle timeout without traffic and drops the peer after
        // the whole of it: so the ping goes out every ws_ping_interval.
        timeouts.idle_timeout = 2 * context_.config.server.ws_ping_interval;
        timeouts.keep_alive_pings = true;
        ws_.set_option(timeouts);
        // After answering a close the client started, Beast waits for the client to close TCP,
        // bounded by nothing but the idle timeout; the session, and the user's presence, lived
        // on until then. A client's close gets the deadline our own closes get.
        ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
            if (kind == websocket::frame_type::close) give_up_after_deadline();
        });
        ws_.read_message_max(0);  // the frame limit is enforced by read_loop
        ws_.set_option(websocket::stream_base::decorator(
            [](websocket::response_type& response) { response.set(beast::http::field::server, "confab"); }));
    }

    // A token stops working on its open sockets too when it expires; by then, use elsewhere may
    // have renewed it (sliding expiry), so the database is asked before the socket is closed.
    void close_at(model::Timestamp expiry) {
        signed_in_until_ = expiry;
        expiry_.expires_after(expiry - model::now());
        expiry_.async_wait([weak = weak_from_this()](const beast::error_code& ec) {
            auto self = weak.lock();
            if (!self || ec) return;
            asio::co_spawn(
                self->ws_.get_executor(), [self] { return self->check_signed_in(); }, asio::detached);
        });
    }

    // Closes the socket if its token no longer works, else waits for its current expiry. Also
    // catches a logout that revoked the token after the upgrade authenticated and closed its
    // sockets before this one joined the hub; one after this finds it there.
    asio::awaitable<void> check_signed_in() {
        try {
            const auto until = co_await context_.events.signed_in_until(principal_);
            if (until && *until > model::now()) {
                close_at(*until);
            } else {
                request_close(realtime::CloseCode::token_revoked);
            }
        } catch (const std::exception& e) {
            spdlog::warn("token check failed user_id={}: {}", principal_.user_id, e.what());
            // Unknown whether it was renewed: past the expiry it is known to have, it is over.
            if (signed_in_until_ <= model::now()) request_close(realtime::CloseCode::token_revoked);
        }
    }

    // Presence is best effort: a database hiccup must not take the connection down.
    asio::awaitable<void> announce(bool opened) {
        try {
            co_await (opened ? context_.events.opened(principal_) : context_.events.closed(principal_));
        } catch (const std::exception& e) {
            spdlog::warn("presence update failed user_id={}: {}", principal_.user_id, e.what());
        }
    }

    enum class Kind { event, reply };

    // Queues a message for the next flush and returns its place in the order of all
    // messages queued (see written_count_). Once a close is under way (Beast has left the
    // open state, or this session asked for one) only the replies owed are queued: they go
    // before the close frame, which CoalescingStream holds until they are.
    std::uint64_t enqueue(realtime::Frame payload, Kind kind = Kind::event, bool text = true) {
        if (finished_ || (kind == Kind::event && close_code_)) return queued_count_;
        if (!accepted_) {  // events only: no reply comes before the 101
            if (early_.size() >= context_.config.limits.ws_outbound_queue) {
                early_.clear();
                request_close(realtime::CloseCode::policy_violation);
            } else {
                early_.push_back(std::move(payload));
            }
            return queued_count_;
        }
        if (kind == Kind::event && !ws_.is_open()) return queued_count_;
        auto& outbound = ws_.next_layer();
        if (outbound.unsent_frames() >= context_.config.limits.ws_outbound_queue) {
            static auto& overflows = obs::metrics().queue_drops.only();
            overflows.inc();
            spdlog::warn("websocket outbound queue full user_id={}; closing", principal_.user_id);
            outbound.drop_unsent_frames();
            request_close(realtime::CloseCode::policy_violation);
            return queued_count_;
        }
        outbound.queue_frame(text, std::move(payload));
        return ++queued_count_;
    }

    // The close frame follows whatever is queued: Beast writes it through the same queue.
    void request_close(realtime::CloseCode code) {
        if (close_code_ || finished_) return;
        close_code_ = code;
        wake_reader();
        if (accepted_) send_close();  // else once the handshake is done
        give_up_after_deadline();
    }

    // A close handshake not done by the deadline is ended by closing the socket.
    void give_up_after_deadline() {
        give_up_.expires_after(close_deadline);
        give_up_.async_wait([self = shared_from_this()](const beast::error_code& ec) {
            if (!ec && !self->finished_) close_transport(self->ws_.next_layer().next_layer());
        });
    }

    void send_close() {
        ws_.async_close(websocket::close_reason(static_cast<std::uint16_t>(*close_code_)),
                        [self = shared_from_this()](const beast::error_code&) {});
    }

    // Reads each message piecewise, so an oversized one is refused after limit + 1 bytes
    // and never buffered. Beast's own read_message_max would also close with 1009, but its
    // teardown stops reading early and the client's unread bytes turn into a TCP reset that
    // destroys the close frame; here the writer's async_close drains until the client's
    // close frame instead.
    asio::awaitable<void> read_loop() {
        const auto limit = context_.config.limits.frame_bytes;
        constexpr std::size_t discard_chunk = 64 * 1024;
        beast::flat_buffer buffer;
        bool discarding = false;  // the rest of a refused message
        for (;;) {
            const auto room = discarding || close_code_ ? discard_chunk : limit + 1 - buffer.size();
            auto [ec, bytes] = co_await ws_.async_read_some(buffer, room, use_tuple);
            if (ec) co_return;  // closed by either side, timed out, or invalid UTF-8 (Beast sent 1007)
            if (discarding || close_code_) {
                buffer.consume(buffer.size());
                discarding = discarding && !ws_.is_message_done();
                continue;
            }
            if (buffer.size() > limit || (role_ == WsRole::events && !ws_.got_text())) {
                request_close(buffer.size() > limit ? realtime::CloseCode::message_too_big
                                                    : realtime::CloseCode::unsupported_data);
                buffer.consume(buffer.size());
                discarding = !ws_.is_message_done();
                continue;
            }
            if (!ws_.is_message_done()) continue;
            co_await answer(beast::buffers_to_string(buffer.data()));
            buffer.consume(buffer.size());
        }
    }

    // A reply is answered once written: its place is kept until then.
    void queue_reply(std::string frame, bool text = true) {
        const auto place = enqueue(std::make_shared<const std::string>(std::move(frame)), Kind::reply, text);
        if (place > written_count_) unwritten_replies_.push_back(place);
    }

    std::size_t unanswered() const { return requests_running_ + unwritten_replies_.size(); }

    // Whether at most `limit` requests are unanswered, or none ever will be (closing, or the
    // writer stopped).
    auto answered_down_to(std::size_t limit) const {
        return [this, limit] { return unanswered() <= limit || close_code_ || writer_stopped_; };
    }

    // An echo is queued at once. A request runs beside those read before it, up to
    // limits.ws_requests_in_flight unanswered ones, when it overlaps (Events::Request);
    // otherwise it runs alone. Answered means its reply is written, so a client that stops
    // reading stops being read too, and no request is left unanswered behind a close frame
    // (CoalescingStream holds Beast's writes while replies are owed).
    asio::awaitable<void> answer(std::string message) {
        if (role_ == WsRole::echo) {
            queue_reply(std::move(message), ws_.got_text());
            ws_.next_layer().flush();
            co_await until(answered_down_to(0));
            co_return;
        }
        auto request = context_.events.read(principal_, message);
        const auto answered_enough =
            answered_down_to(request.overlaps() ? context_.config.limits.ws_requests_in_flight - 1 : 0);
        if (!request.overlaps()) co_await until(answered_enough);
        ++requests_running_;
        ws_.next_layer().owe_reply();
        asio::co_spawn(
            ws_.get_executor(),
            [self = shared_from_this(), request = std::move(request)]() mutable {
                return self->reply_to(std::move(request));
            },
            asio::detached);
        co_await until(answered_enough);
    }

    // Always settles the reply it owes: Beast's writes wait for that.
    asio::awaitable<void> reply_to(typename Events::Request request) {
        std::optional<std::string> frame;
        try {
            frame = co_await context_.events.handle(principal_, std::move(request));
        } catch (const std::exception& e) {  // handle() answers errors itself; this is out of memory
            spdlog::error("websocket request failed user_id={}: {}", principal_.user_id, e.what());
        }
        if (frame) queue_reply(std::move(*frame));
        --requests_running_;
        ws_.next_layer().settle_reply();
        ws_.next_layer().flush();
        wake_reader();
    }

    // Suspends the reader until ready(), re-checked whenever a send finishes or a request
    // ends. The timer lives only while waiting.
    template <class Ready>
    asio::awaitable<void> until(Ready ready) {
        if (ready()) co_return;
        asio::steady_timer wake(ws_.get_executor(), asio::steady_timer::time_point::max());
        reader_waiting_ = &wake;
        while (!ready()) co_await wake.async_wait(use_tuple);
        reader_waiting_ = nullptr;
    }

    void wake_reader() {
        if (reader_waiting_) reader_waiting_->cancel();
    }

    void sent(const beast::error_code& ec, std::size_t frames) override {
        if (ec) {
            writer_stopped_ = true;
        } else {
            written_count_ += frames;
            const auto written = std::find_if(unwritten_replies_.begin(), unwritten_replies_.end(),
                                              [this](std::uint64_t place) { return place > written_count_; });
            unwritten_replies_.erase(unwritten_replies_.begin(), written);
            static auto& sent_frames = obs::metrics().ws_frames_out.only();
            sent_frames.inc(frames);
        }
        wake_reader();
    }

    websocket::stream<CoalescingStream<NextLayer>> ws_;
    const WsRole role_;
    model::Principal principal_;                  // empty for an echo
    std::vector<ConnectionCounter::Slot> slots_;  // given back when the session is destroyed
    WsContext<Events> context_;
    std::size_t session_id_ = 0;
    asio::steady_timer give_up_;          // ends a close handshake the peer does not complete
    asio::steady_timer expiry_;           // closes the socket when its token expires
    model::Timestamp signed_in_until_;    // the latest expiry of the token known here
    bool accepted_ = false;               // the handshake is done: frames may be queued
    std::vector<realtime::Frame> early_;  // delivered during the handshake
    std::uint64_t queued_count_ = 0;      // messages ever queued
    std::uint64_t written_count_ = 0;     // messages ever written, in the same order
    bool writer_stopped_ = false;         // a send failed: nothing more will be written
    std::size_t requests_running_ = 0;    // read, reply not yet queued
    // Places of replies queued, not yet written, oldest first: at most ws_requests_in_flight,
    // and a vector allocates nothing while a connection idles (a deque would, at once).
    std::vector<std::uint64_t> unwritten_replies_;
    asio::steady_timer* reader_waiting_ = nullptr;  // until()'s timer, while it waits
    std::optional<realtime::CloseCode> close_code_;
    bool finished_ = false;
};

}  // namespace ws_detail

using ws_detail::WsContext;
using ws_detail::WsRole;
using ws_detail::WsSession;

}  // namespace confab::net
