#include "confab/net/outbound_frames.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace confab::net {
namespace {

std::string bytes_of(const FrameHeader& header) {
    return {reinterpret_cast<const char*>(header.data.data()), header.size};
}

std::string wire(std::span<const boost::asio::const_buffer> buffers) {
    std::string out;
    for (const auto& buffer : buffers) out.append(static_cast<const char*>(buffer.data()), buffer.size());
    return out;
}

realtime::Frame frame(std::string text) { return std::make_shared<const std::string>(std::move(text)); }

// RFC 6455 5.2: FIN set, opcode 1 (text) or 2 (binary), no mask, and the length in 7 bits,
// or 126 then 16 bits, or 127 then 64 bits, big-endian.
TEST(FrameHeader, UsesTheShortestLengthEncoding) {
    EXPECT_EQ(bytes_of(FrameHeader(true, 0)), std::string("\x81\x00", 2));
    EXPECT_EQ(bytes_of(FrameHeader(true, 125)), "\x81\x7d");
    EXPECT_EQ(bytes_of(FrameHeader(false, 126)), std::string("\x82\x7e\x00\x7e", 4));
    EXPECT_EQ(bytes_of(FrameHeader(true, 65535)), "\x81\x7e\xff\xff");
    EXPECT_EQ(bytes_of(FrameHeader(true, 65536)), std::string("\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10));
    EXPECT_EQ(bytes_of(FrameHeader(false, 0x0102030405ull)),
              std::string("\x82\x7f\x00\x00\x00\x01\x02\x03\x04\x05", 10));
}

TEST(OutboundFrames, SendsEverythingQueuedInOneWriteInOrder) {
    OutboundFrames out;
    out.push_frame(true, frame("one"));
    out.push_bytes(frame(std::string("\x8a\x00", 2)));  // a pong Beast wrote
    out.push_frame(false, frame("two"));
    EXPECT_EQ(out.unsent_frames(), 2u);

    const auto buffers = out.start_send();
    EXPECT_EQ(wire(buffers), std::string("\x81\x03one\x8a\x00\x82\x03two", 12));
    EXPECT_TRUE(out.sending());
    EXPECT_EQ(out.unsent_frames(), 0u);
    EXPECT_EQ(out.finish_send(), 2u) << "data frames carried; Beast's pong is not one";
    EXPECT_FALSE(out.sending());
}

TEST(OutboundFrames, QueuesBehindTheWriteInFlight) {
    OutboundFrames out;
    out.push_frame(true, frame("a"));
    ASSERT_FALSE(out.start_send().empty());
    out.push_frame(true, frame("b"));
    out.push_frame(true, frame("c"));
    EXPECT_TRUE(out.start_send().empty()) << "one write at a time";
    EXPECT_EQ(out.unsent_frames(), 2u);
    EXPECT_EQ(out.finish_send(), 1u);
    EXPECT_EQ(wire(out.start_send()),
              "\x81\x01"
              "b\x81\x01"
              "c");
    EXPECT_EQ(out.finish_send(), 2u);
    EXPECT_TRUE(out.start_send().empty()) << "nothing left";
}

TEST(OutboundFrames, DroppingUnsentFramesKeepsBeastsBytes) {
    OutboundFrames out;
    out.push_frame(true, frame("sent"));
    ASSERT_FALSE(out.start_send().empty());
    out.push_frame(true, frame("x"));
    out.push_bytes(frame("\x88\x02\x03\xf0"));  // a close frame, 1008
    out.push_frame(true, frame("y"));
    out.drop_unsent_frames();
    EXPECT_EQ(out.unsent_frames(), 0u);
    EXPECT_EQ(out.finish_send(), 1u);
    EXPECT_EQ(wire(out.start_send()), "\x88\x02\x03\xf0");
    EXPECT_EQ(out.finish_send(), 0u);
}

}  // namespace
}  // namespace confab::net
