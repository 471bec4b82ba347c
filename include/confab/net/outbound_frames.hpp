#pragma once

#include "confab/realtime/hub.hpp"

#include <boost/asio/buffer.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace confab::net {

// The header of one complete, unfragmented, unmasked WebSocket frame (RFC 6455 5.2): the
// frame a server sends, since only clients mask.
struct FrameHeader {
    FrameHeader(bool text, std::size_t payload_size);
    boost::asio::const_buffer bytes() const { return {data.data(), size}; }

    std::array<unsigned char, 10> data{};
    std::uint8_t size = 0;
};

// What is waiting to be written to one WebSocket's socket, in order: whole data frames,
// each a shared payload behind a header of its own, and whole frames of bytes that Beast
// wrote (its handshake response and control frames). Everything queued while a write is in
// flight leaves in the next one, so a burst of frames costs one send, not one per frame.
class OutboundFrames {
public:
    void push_frame(bool text, realtime::Frame payload);
    void push_bytes(realtime::Frame bytes);

    // Data frames queued and not yet in a write: what the outbound queue limit bounds.
    std::size_t unsent_frames() const { return unsent_frames_; }
    // Forgets the data frames not yet in a write; Beast's frames stay, in order.
    void drop_unsent_frames();

    bool sending() const { return sending_; }
    // Moves everything queued into the next write and returns its buffers, valid until
    // finish_send(); empty when a write is already in flight or nothing is queued.
    std::span<const boost::asio::const_buffer> start_send();
    // The write in flight finished; returns how many data frames it carried.
    std::size_t finish_send();

private:
    static constexpr std::size_t kept_frames = 4;  // about 400 bytes between bursts

    struct Entry {
        realtime::Frame bytes;
        std::optional<FrameHeader> header;  // a data frame; Beast's bytes are frames already
    };

    std::vector<Entry> queued_;
    std::vector<Entry> in_flight_;
    std::vector<boost::asio::const_buffer> buffers_;
    std::size_t unsent_frames_ = 0;
    bool sending_ = false;
};

}  // namespace confab::net
