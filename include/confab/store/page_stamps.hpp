#pragma once

#include <boost/asio/awaitable.hpp>

#include "confab/store/messages.hpp"
#include "confab/store/pool.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

namespace confab::store {

// Reads page stamps (messages::page_stamp) on the calling coroutine's own thread, over a
// nonblocking libpq connection of that thread's, so that a history page served from
// domain::HistoryCache hands nothing to a pool thread: the hop there and back, with the
// thread switches it costs, was more of the server's CPU than the rest of such a read
// (docs/performance.md, Eighth round). Stamps asked for at once are pipelined on the
// connection. A thread connects on its first read (the blocking part on a Pool thread) and
// again after its connection broke. The caller's thread must run its io_context alone, as
// each of the server's I/O threads does: the connection is only ever used from it.
class PageStamps {
public:
    PageStamps(std::string url, Pool& pool) : url_(std::move(url)), pool_(pool) {}

    // The chat's stamp for `viewer`; nullopt when the chat is gone. Throws Unavailable when
    // no connection can be had or it breaks: the caller may read the stamp through the Pool.
    boost::asio::awaitable<std::optional<messages::PageStamp>> read(std::string chat_id, std::string viewer);

    struct Connection;

private:
    // A thread's connection, owned by the coroutine that reads its results (so that it goes
    // with the thread's io_context); only that thread touches its slot after making it.
    struct Slot {
        std::weak_ptr<Connection> connection;
        bool connecting = false;
    };
    Slot& slot_of_this_thread();
    boost::asio::awaitable<std::shared_ptr<Connection>> connection();

    static inline std::atomic<std::uint64_t> made_{0};
    const std::uint64_t serial_ = ++made_;
    const std::string url_;
    Pool& pool_;
    std::mutex mutex_;  // slots_ itself: threads make their slots at once
    std::unordered_map<std::thread::id, Slot> slots_;
};

}  // namespace confab::store
