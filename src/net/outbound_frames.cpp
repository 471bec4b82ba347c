#include "confab/net/outbound_frames.hpp"

#include <algorithm>

namespace confab::net {

FrameHeader::FrameHeader(bool text, std::size_t payload_size) {
    constexpr unsigned char fin = 0x80, text_opcode = 0x1, binary_opcode = 0x2;
    constexpr unsigned char length_16 = 126, length_64 = 127;
    data[size++] = fin | (text ? text_opcode : binary_opcode);
    // The payload length in the fewest bytes the RFC allows: 7 bits, or 126 then 16 bits,
    // or 127 then 64 bits, in network byte order.
    int length_bytes = 0;
    if (payload_size < length_16) {
        data[size++] = static_cast<unsigned char>(payload_size);
    } else if (payload_size <= 0xFFFF) {
        data[size++] = length_16;
        length_bytes = 2;
    } else {
        data[size++] = length_64;
        length_bytes = 8;
    }
    for (int shift = 8 * (length_bytes - 1); shift >= 0; shift -= 8)
        data[size++] = static_cast<unsigned char>((static_cast<std::uint64_t>(payload_size) >> shift) & 0xFF);
}

void OutboundFrames::push_frame(bool text, realtime::Frame payload) {
    if (queued_.capacity() == 0) queued_.reserve(kept_frames);
    const FrameHeader header(text, payload->size());
    queued_.push_back({std::move(payload), header});
    ++unsent_frames_;
}

void OutboundFrames::push_bytes(realtime::Frame bytes) { queued_.push_back({std::move(bytes), std::nullopt}); }

void OutboundFrames::drop_unsent_frames() {
    std::erase_if(queued_, [](const Entry& entry) { return entry.header.has_value(); });
    unsent_frames_ = 0;
}

std::span<const boost::asio::const_buffer> OutboundFrames::start_send() {
    if (sending_ || queued_.empty()) return {};
    sending_ = true;
    std::swap(queued_, in_flight_);
    unsent_frames_ = 0;
    buffers_.clear();
    buffers_.reserve(2 * in_flight_.size());
    for (const auto& entry : in_flight_) {
        if (entry.header) buffers_.push_back(entry.header->bytes());
        buffers_.push_back(boost::asio::buffer(*entry.bytes));
    }
    return buffers_;
}

std::size_t OutboundFrames::finish_send() {
    const auto frames =
        static_cast<std::size_t>(std::count_if(in_flight_.begin(), in_flight_.end(),
                                               [](const Entry& entry) { return entry.header.has_value(); }));
    sending_ = false;
    in_flight_.clear();
    buffers_.clear();
    // Drained after a burst: an idle connection gives its capacity back. Room for a few
    // frames stays, so that a steady trickle of single frames allocates nothing per send.
    if (queued_.empty() && in_flight_.capacity() + queued_.capacity() > 2 * kept_frames) {
        in_flight_ = {};
        buffers_ = {};
        queued_ = {};
    }
    return frames;
}

}  // namespace confab::net
