#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <cstddef>
#include <functional>
#include <mutex>
#include <unordered_map>

namespace confab::net {

// What every connection shares with the server: whether shutdown has begun, how many
// sessions are still alive, and a way to interrupt sessions that sit idle between
// requests (so that shutdown need not wait for their keep-alive to time out).
class SessionRegistry {
public:
    using Interrupt = std::function<void()>;  // posts onto the session's strand

    std::size_t enter(Interrupt interrupt);
    void leave(std::size_t id);

    bool stopping() const noexcept { return stopping_.load(std::memory_order_acquire); }
    // Marks shutdown and interrupts every session.
    void begin_shutdown();
    std::size_t alive() const;

private:
    mutable std::mutex mutex_;
    std::unordered_map<std::size_t, Interrupt> sessions_;
    std::size_t next_id_ = 0;
    std::atomic<bool> stopping_{false};
};

}  // namespace confab::net
