// WsSession over an in-memory stream, against a fake of the event protocol: what the
// connection machinery promises (handshake, replies, order, close codes) without sockets or
// a database. The event protocol itself (api::WsEvents) is tested over real sockets in
// tests/integration.
#include "confab/net/ws_session_impl.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/http/read.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace confab::net {
namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using TestStream = beast::test::stream;

// api::WsEvents as the session uses it. Every request is answered "reply to <frame>";
// a frame starting "hold" is answered only once release() is called, one starting
// "overlap" may run beside the requests before it, one starting "quiet" gets no reply.
class FakeEvents {
public:
    class Request {
    public:
        bool overlaps() const { return frame.starts_with("overlap"); }
        std::string frame;
    };

    explicit FakeEvents(asio::any_io_executor executor) : gate_(executor, asio::steady_timer::time_point::max()) {}

    Request read(const model::Principal&, std::string_view frame) { return {std::string(frame)}; }

    asio::awaitable<std::optional<std::string>> handle(const model::Principal&, Request request) {
        handled.push_back(request.frame);
        if (request.frame.find("hold") != std::string::npos) {
            while (!released_) co_await gate_.async_wait(asio::as_tuple(asio::use_awaitable));
        }
        if (request.frame.starts_with("quiet")) co_return std::nullopt;
        co_return "reply to " + request.frame;
    }

    void release() {
        released_ = true;
        gate_.cancel();
    }

    asio::awaitable<std::optional<model::Timestamp>> signed_in_until(const model::Principal& principal) {
        co_return signed_in ? std::optional(principal.expires_at) : std::nullopt;
    }
    asio::awaitable<void> opened(const model::Principal&) {
        ++opens;
        co_return;
    }
    asio::awaitable<void> closed(const model::Principal&) {
        ++closes;
        co_return;
    }

    std::vector<std::string> handled;  // requests handed to handle(), in order
    bool signed_in = true;
    int opens = 0;
    int closes = 0;

private:
    asio::steady_timer gate_;
    bool released_ = false;
};

using Session = WsSession<TestStream, FakeEvents>;

realtime::Frame frame(std::string text) { return std::make_shared<const std::string>(std::move(text)); }

class WsSessionTest : public ::testing::Test {
protected:
    WsSessionTest() {
        hub.deliver_on(io.get_executor());
        config.limits.ws_outbound_queue = 3;
        config.limits.frame_bytes = 64;
    }

    // Every test ends with its session gone, as at shutdown, so that the io_context is left
    // no session to destroy with its handlers.
    void TearDown() override {
        events.release();
        registry.begin_shutdown();
        run();
        EXPECT_EQ(registry.alive(), 0u);
        EXPECT_EQ(hub.connection_count(), 0u);
    }

    // The client's handshake, read by the server as the HTTP session would, and the
    // session started with it (not yet run).
    void start(WsRole role = WsRole::events) {
        TestStream server_end(io);
        client.next_layer().connect(server_end);
        client.async_handshake(handshake_response, "localhost", "/api/v1/ws",
                               [this](const beast::error_code& ec) { handshake_error = ec; });
        run();
        beast::flat_buffer buffer;
        UpgradeRequest request;
        beast::http::read(server_end, buffer, request);
        const model::Principal principal{"u1", "token-hash",
                                         std::chrono::time_point_cast<std::chrono::milliseconds>(
                                             std::chrono::system_clock::now() + std::chrono::hours(1))};
        std::make_shared<Session>(std::move(server_end), role, role == WsRole::events ? principal : model::Principal{},
                                  std::vector<ConnectionCounter::Slot>{},
                                  WsContext<FakeEvents>{config, events, hub, registry})
            ->start(std::move(request));
    }

    void open(WsRole role = WsRole::events) {
        start(role);
        run();
        ASSERT_EQ(handshake_error, beast::error_code{});
        keep_reading();
        run();
    }

    // Every message the client receives lands in `received`; the read that fails ends it.
    void keep_reading() {
        client.async_read(client_buffer, [this](const beast::error_code& ec, std::size_t) {
            if (ec) {
                read_error = ec;
                return;
            }
            received.push_back(beast::buffers_to_string(client_buffer.data()));
            client_buffer.consume(client_buffer.size());
            keep_reading();
        });
    }

    void send(const std::string& text, bool binary = false) {
        client.binary(binary);
        client.write(asio::buffer(text));
    }

    void run() {
        io.restart();
        io.poll();
    }

    std::uint16_t close_code() const { return client.reason().code; }

    asio::io_context io;
    config::Config config;
    FakeEvents events{io.get_executor()};
    realtime::Hub hub;
    SessionRegistry registry;
    websocket::stream<TestStream> client{io};
    websocket::response_type handshake_response;
    std::optional<beast::error_code> handshake_error;
    beast::flat_buffer client_buffer;
    std::vector<std::string> received;
    std::optional<beast::error_code> read_error;
};

TEST_F(WsSessionTest, TheHandshakeOpensTheSessionInTheHubAndRegistry) {
    open();
    EXPECT_EQ(handshake_response.result(), beast::http::status::switching_protocols);
    EXPECT_EQ(handshake_response[beast::http::field::server], "confab");
    EXPECT_TRUE(client.is_open());
    EXPECT_EQ(hub.connections_of("u1"), 1u);
    EXPECT_EQ(registry.alive(), 1u);
    EXPECT_EQ(events.opens, 1);
    EXPECT_FALSE(read_error);
}

TEST_F(WsSessionTest, ARequestGetsItsReply) {
    open();
    send("hello");
    run();
    EXPECT_EQ(events.handled, std::vector<std::string>{"hello"});
    EXPECT_EQ(received, std::vector<std::string>{"reply to hello"});

    send("quiet please");
    send("again");
    run();
    EXPECT_EQ(received, (std::vector<std::string>{"reply to hello", "reply to again"}));
}

TEST_F(WsSessionTest, EventsArriveInTheOrderTheyWereSent) {
    open();
    for (const auto* event : {"e1", "e2", "e3"}) hub.send_to_users({"u1"}, frame(event));
    run();
    hub.send_to_users({"u1"}, frame("e4"));
    run();
    EXPECT_EQ(received, (std::vector<std::string>{"e1", "e2", "e3", "e4"}));
}

// The session joins the hub before its 101 goes out, so an event published meanwhile is not missed.
TEST_F(WsSessionTest, AnEventPublishedBeforeTheClientSeesThe101IsNotMissed) {
    start();
    while (hub.connections_of("u1") == 0) ASSERT_EQ(io.run_one(), 1u) << "the session never joined the hub";
    hub.send_to_users({"u1"}, frame("early 1"));
    hub.send_to_users({"u1"}, frame("early 2"));
    run();
    ASSERT_EQ(handshake_error, beast::error_code{});
    keep_reading();
    run();
    EXPECT_EQ(received, (std::vector<std::string>{"early 1", "early 2"}));
}

TEST_F(WsSessionTest, ARequestThatDoesNotOverlapWaitsForTheReplyBeforeIt) {
    open();
    send("hold a");
    send("b");
    run();
    EXPECT_EQ(events.handled, std::vector<std::string>{"hold a"}) << "b ran before a was answered";
    EXPECT_TRUE(received.empty());
    events.release();
    run();
    EXPECT_EQ(events.handled, (std::vector<std::string>{"hold a", "b"}));
    EXPECT_EQ(received, (std::vector<std::string>{"reply to hold a", "reply to b"}));
}

TEST_F(WsSessionTest, OverlappingRequestsRunBesideTheOnesBeforeThem) {
    open();
    send("overlap hold a");
    send("overlap b");
    run();
    EXPECT_EQ(events.handled, (std::vector<std::string>{"overlap hold a", "overlap b"}));
    EXPECT_EQ(received, std::vector<std::string>{"reply to overlap b"});
    events.release();
    run();
    EXPECT_EQ(received, (std::vector<std::string>{"reply to overlap b", "reply to overlap hold a"}));
}

TEST_F(WsSessionTest, AFullOutboundQueueDropsItsFramesAndClosesWith1008) {
    open();
    for (const auto* event : {"e1", "e2", "e3"}) hub.send_to_users({"u1"}, frame(event));
    run();
    EXPECT_EQ(received, (std::vector<std::string>{"e1", "e2", "e3"})) << "a queue at its limit still sends";

    for (const auto* event : {"e4", "e5", "e6", "e7"}) hub.send_to_users({"u1"}, frame(event));
    run();
    EXPECT_EQ(received.size(), 3u) << "the unsent frames were dropped";
    EXPECT_EQ(read_error, websocket::error::closed);
    EXPECT_EQ(close_code(), websocket::close_code::policy_error);
    EXPECT_EQ(registry.alive(), 0u);
    EXPECT_EQ(hub.connection_count(), 0u);
}

TEST_F(WsSessionTest, TheClientsCloseEndsTheSessionCleanly) {
    open();
    std::optional<beast::error_code> close_error;
    client.async_close(websocket::close_code::normal, [&](const beast::error_code& ec) { close_error = ec; });
    run();
    EXPECT_EQ(close_error, beast::error_code{});
    EXPECT_EQ(registry.alive(), 0u);
    EXPECT_EQ(hub.connection_count(), 0u);
    EXPECT_EQ(events.closes, 1);
}

// A request that overlaps lets the reader go on, so Beast reads the client's close frame
// and answers it at once; the reply owed to the request still goes first. (The close is
// written raw: Beast's own async_close would discard the reply.)
TEST_F(WsSessionTest, ARequestReadBeforeTheClientsCloseIsAnsweredFirst) {
    open();
    send("overlap hold a");
    const std::string masked_close_1000("\x88\x82\x00\x00\x00\x00\x03\xe8", 8);
    client.next_layer().write_some(asio::buffer(masked_close_1000));
    run();
    EXPECT_EQ(events.handled, std::vector<std::string>{"overlap hold a"});
    EXPECT_FALSE(read_error) << "the server's close frame overtook the reply it owed";
    events.release();
    run();
    EXPECT_EQ(received, std::vector<std::string>{"reply to overlap hold a"});
    EXPECT_EQ(read_error, websocket::error::closed);
    EXPECT_EQ(close_code(), websocket::close_code::normal);
    EXPECT_EQ(registry.alive(), 0u);
}

TEST_F(WsSessionTest, ASignedOutTokenIsClosedWith4001) {
    events.signed_in = false;
    open();
    EXPECT_EQ(read_error, websocket::error::closed);
    EXPECT_EQ(close_code(), 4001);
    EXPECT_EQ(registry.alive(), 0u);
}

TEST_F(WsSessionTest, ABinaryFrameIsRefusedWith1003) {
    open();
    send("bytes", true);
    run();
    EXPECT_TRUE(events.handled.empty());
    EXPECT_EQ(read_error, websocket::error::closed);
    EXPECT_EQ(close_code(), websocket::close_code::unknown_data);
}

TEST_F(WsSessionTest, AFrameOverTheLimitIsRefusedWith1009) {
    open();
    send(std::string(config.limits.frame_bytes + 1, 'x'));
    run();
    EXPECT_TRUE(events.handled.empty());
    EXPECT_EQ(read_error, websocket::error::closed);
    EXPECT_EQ(close_code(), websocket::close_code::too_big);
}

TEST_F(WsSessionTest, TheEchoRoleSendsEveryMessageBackAsItCame) {
    open(WsRole::echo);
    send("text");
    send("binary", true);
    run();
    EXPECT_EQ(received, (std::vector<std::string>{"text", "binary"}));
    EXPECT_FALSE(client.got_text());
    EXPECT_EQ(hub.connection_count(), 0u) << "an echo session is not in the hub";
    EXPECT_EQ(events.opens, 0);
}

}  // namespace
}  // namespace confab::net
