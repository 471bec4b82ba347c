#include "confab/net/coalescing_stream_impl.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace confab::net {
namespace {
namespace asio = boost::asio;
using TestStream = boost::beast::test::stream;
using Stream = CoalescingStream<TestStream>;

realtime::Frame frame(std::string text) { return std::make_shared<const std::string>(std::move(text)); }

// A short unmasked text frame as it leaves the server (RFC 6455 5.2).
std::string text_frame(const std::string& payload) { return "\x81" + std::string(1, char(payload.size())) + payload; }

// A close frame as Beast would write it: whole bytes the stream must not touch.
const std::string beast_close = std::string("\x88\x02\x03\xe8", 4);

struct Send {
    boost::system::error_code ec;
    std::size_t frames;
    bool operator==(const Send&) const = default;
};

class RecordingObserver final : public Stream::Observer {
public:
    void sent(const boost::system::error_code& ec, std::size_t frames) override { sends.push_back({ec, frames}); }
    std::vector<Send> sends;
};

struct BeastWrite {
    bool done = false;
    boost::system::error_code ec;
    std::size_t bytes = 0;
};

class CoalescingStreamTest : public ::testing::Test {
protected:
    CoalescingStreamTest() { stream.observe(observer); }

    TestStream connected_to_peer() {
        TestStream local(io);
        local.connect(*peer);
        return local;
    }

    // A write as Beast makes one (its handshake response, a pong, a close frame).
    std::shared_ptr<BeastWrite> beast_write(const std::string& bytes) {
        auto write = std::make_shared<BeastWrite>();
        stream.async_write_some(asio::buffer(bytes), [write](const boost::system::error_code& ec, std::size_t n) {
            *write = {true, ec, n};
        });
        return write;
    }

    void run() {
        io.restart();
        io.poll();
    }

    std::string on_the_wire() const { return std::string(peer->str()); }
    std::size_t writes() { return stream.next_layer().nwrite(); }

    asio::io_context io;
    std::optional<TestStream> peer{std::in_place, io};
    Stream stream{connected_to_peer()};
    std::shared_ptr<RecordingObserver> observer = std::make_shared<RecordingObserver>();
};

TEST_F(CoalescingStreamTest, FramesQueuedTogetherLeaveInOneWriteInOrder) {
    stream.queue_frame(true, frame("one"));
    stream.queue_frame(true, frame("two"));
    stream.queue_frame(true, frame("three"));
    EXPECT_EQ(stream.unsent_frames(), 3u);
    stream.flush();
    run();
    EXPECT_EQ(on_the_wire(), text_frame("one") + text_frame("two") + text_frame("three"));
    EXPECT_EQ(writes(), 1u);
    EXPECT_EQ(observer->sends, (std::vector<Send>{{{}, 3}}));
    EXPECT_EQ(stream.unsent_frames(), 0u);
}

TEST_F(CoalescingStreamTest, FramesQueuedDuringAWriteLeaveTogetherInTheNext) {
    stream.queue_frame(true, frame("a"));
    stream.flush();
    stream.queue_frame(true, frame("b"));
    stream.queue_frame(true, frame("c"));
    stream.flush();  // a write is in flight: waits for it
    EXPECT_EQ(writes(), 1u);
    run();
    EXPECT_EQ(on_the_wire(), text_frame("a") + text_frame("b") + text_frame("c"));
    EXPECT_EQ(writes(), 2u);
    EXPECT_EQ(observer->sends, (std::vector<Send>{{{}, 1}, {{}, 2}}));
}

TEST_F(CoalescingStreamTest, BeastWritesGoOutAfterTheFramesQueuedBeforeThem) {
    stream.queue_frame(true, frame("before"));
    const auto close = beast_write(beast_close);  // flushes: both leave in this write
    stream.queue_frame(true, frame("after"));
    stream.flush();
    EXPECT_FALSE(close->done) << "a Beast write completes only once it is on the socket";
    run();
    EXPECT_EQ(on_the_wire(), text_frame("before") + beast_close + text_frame("after"));
    EXPECT_EQ(writes(), 2u);
    ASSERT_TRUE(close->done);
    EXPECT_FALSE(close->ec);
    EXPECT_EQ(close->bytes, beast_close.size());
    EXPECT_EQ(observer->sends, (std::vector<Send>{{{}, 1}, {{}, 1}}));
}

TEST_F(CoalescingStreamTest, BeastWritesWaitUntilEveryReplyOwedIsSettled) {
    stream.owe_reply();
    stream.owe_reply();
    const auto close = beast_write(beast_close);
    run();
    EXPECT_EQ(on_the_wire(), "");
    EXPECT_FALSE(close->done);

    stream.queue_frame(true, frame("first reply"));
    stream.flush();
    stream.settle_reply();
    run();
    EXPECT_EQ(on_the_wire(), text_frame("first reply")) << "one reply is still owed";
    EXPECT_FALSE(close->done);

    stream.queue_frame(true, frame("second reply"));
    stream.settle_reply();
    stream.flush();
    run();
    EXPECT_EQ(on_the_wire(), text_frame("first reply") + text_frame("second reply") + beast_close);
    ASSERT_TRUE(close->done);
    EXPECT_FALSE(close->ec);
}

TEST_F(CoalescingStreamTest, AFailedWriteReachesTheObserverAndEndsSending) {
    peer.reset();  // the connection is gone: the next write fails
    stream.queue_frame(true, frame("lost"));
    const auto close = beast_write(beast_close);
    run();
    ASSERT_EQ(observer->sends.size(), 1u);
    EXPECT_EQ(observer->sends[0].ec, asio::error::connection_reset);
    EXPECT_EQ(observer->sends[0].frames, 1u);
    ASSERT_TRUE(close->done) << "Beast's write in the failed send completes with its error";
    EXPECT_EQ(close->ec, asio::error::connection_reset);

    stream.queue_frame(true, frame("never"));
    stream.flush();
    const auto later = beast_write(beast_close);
    EXPECT_FALSE(later->done) << "never completed inside the initiating call";
    run();
    EXPECT_EQ(writes(), 1u) << "nothing is written once sending failed";
    EXPECT_EQ(observer->sends.size(), 1u);
    ASSERT_TRUE(later->done);
    EXPECT_EQ(later->ec, asio::error::connection_reset);
}

TEST_F(CoalescingStreamTest, DroppingUnsentFramesKeepsBeastsWrites) {
    stream.queue_frame(true, frame("in flight"));
    stream.flush();
    stream.queue_frame(true, frame("dropped 1"));
    stream.queue_frame(true, frame("dropped 2"));
    const auto close = beast_write(beast_close);
    EXPECT_EQ(stream.unsent_frames(), 2u);
    stream.drop_unsent_frames();
    EXPECT_EQ(stream.unsent_frames(), 0u);
    run();
    EXPECT_EQ(on_the_wire(), text_frame("in flight") + beast_close);
    ASSERT_TRUE(close->done);
    EXPECT_FALSE(close->ec);
    EXPECT_EQ(observer->sends, (std::vector<Send>{{{}, 1}, {{}, 0}}));
}

TEST_F(CoalescingStreamTest, ReadsPassThroughFromTheNextLayer) {
    peer->write_some(asio::buffer(std::string("hello")));
    std::string data(5, '\0');
    std::size_t read = 0;
    stream.async_read_some(asio::buffer(data), [&](const boost::system::error_code& ec, std::size_t n) {
        EXPECT_FALSE(ec);
        read = n;
    });
    run();
    EXPECT_EQ(data.substr(0, read), "hello");
}

}  // namespace
}  // namespace confab::net
