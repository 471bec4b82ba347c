#pragma once

// The member functions of CoalescingStream, for the translation units that compile it for a
// stream of their own: coalescing_stream.cpp (tcp_stream) and the unit tests.
#include "confab/net/coalescing_stream.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <iterator>
#include <utility>

namespace confab::net {

template <class NextLayer>
void CoalescingStream<NextLayer>::write_whole(std::shared_ptr<const std::string> bytes, WriteHandler handler) {
    if (replies_owed_ > 0 && !failed_) {
        held_.push_back({std::move(bytes), std::move(handler)});
        return;
    }
    const auto size = bytes->size();
    if (failed_) {
        // Never complete inside the initiating call; Beast's handlers run on this same strand.
        boost::asio::post(get_executor(),
                          [handler = std::move(handler), ec = failed_]() mutable { std::move(handler)(ec, 0); });
        return;
    }
    outbound_.push_bytes(std::move(bytes));
    beast_writes_.push_back({std::move(handler), size, sends_started_ + 1});
    flush();
}

template <class NextLayer>
void CoalescingStream<NextLayer>::settle_reply() {
    if (--replies_owed_ > 0) return;
    for (auto& write : std::exchange(held_, {})) write_whole(std::move(write.bytes), std::move(write.handler));
}

template <class NextLayer>
void CoalescingStream<NextLayer>::flush() {
    if (failed_) return;
    const auto buffers = outbound_.start_send();
    if (buffers.empty()) return;
    ++sends_started_;
    boost::asio::async_write(raw_writer(stream_), buffers,
                             [this, observer = observer_.lock()](const boost::system::error_code& ec, std::size_t) {
                                 finish_send(ec, observer);
                             });
}

template <class NextLayer>
void CoalescingStream<NextLayer>::finish_send(const boost::system::error_code& ec,
                                              const std::shared_ptr<Observer>& observer) {
    const auto frames = outbound_.finish_send();
    if (ec) failed_ = ec;
    // Beast's writes in this send (all of them, once sending failed) complete now. Taken out
    // first: a completion may start Beast's next write, which lands back in beast_writes_.
    std::vector<BeastWrite> done;
    const auto last = failed_ ? beast_writes_.end()
                              : std::find_if(beast_writes_.begin(), beast_writes_.end(),
                                             [&](const BeastWrite& write) { return write.send > sends_started_; });
    std::move(beast_writes_.begin(), last, std::back_inserter(done));
    beast_writes_.erase(beast_writes_.begin(), last);
    if (observer) observer->sent(failed_, frames);
    for (auto& write : done) std::move(write.handler)(failed_, failed_ ? 0 : write.bytes);
    flush();
}

}  // namespace confab::net
