#pragma once

#include "http_client.hpp"
#include "latency.hpp"
#include "population.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <deque>
#include <vector>

namespace confab::bench {

struct ReadCounters {
    double seconds = 0;
    std::uint64_t offered = 0;    // reads scheduled inside the window
    std::uint64_t completed = 0;  // reads answered inside the window
    std::uint64_t failed = 0;     // reads not answered 200 (whenever scheduled)
    LatencySamples latency;       // schedule -> response, window reads only
};

// Which reads a ReadLoad makes: alternately a member's chat list (GET /chats?limit=20) and a
// chat's newest history page (GET /chats/{id}/messages?limit=50), or history pages alone.
enum class ReadMix { lists_and_pages, pages };

// Open-loop REST reads of `mix`. A fixed set of keep-alive
// connections serves a queue of scheduled reads; time spent waiting in the queue counts as
// latency, as it would for a client whose requests pile up.
class ReadLoad {
public:
    ReadLoad(const Population& population, const std::vector<Chat>& chats, ReadMix mix = ReadMix::lists_and_pages);

    // Starts `connections` workers on the current executor; they run until stop().
    boost::asio::awaitable<void> start(std::size_t connections);
    void schedule(std::int64_t intended_ns);
    // Returns once every worker has finished its last request and exited.
    boost::asio::awaitable<void> stop();

    void begin_window();
    void end_window();
    ReadCounters take_window() { return std::move(counters_); }
    bool drained() const { return queue_.empty() && in_flight_ == 0; }

private:
    struct Scheduled {
        std::int64_t intended_ns;
        std::uint64_t number;
        std::uint32_t window;
    };
    boost::asio::awaitable<void> work(HttpClient http);

    const Population& population_;
    const std::vector<Chat>& chats_;
    ReadMix mix_;
    std::deque<Scheduled> queue_;
    std::unique_ptr<boost::asio::steady_timer> wake_;  // workers with nothing to do wait on it
    std::uint64_t scheduled_ = 0;
    std::size_t in_flight_ = 0;
    std::size_t workers_ = 0;
    bool stopped_ = false;
    std::uint32_t window_ = 0;
    bool window_open_ = false;
    std::int64_t window_start_ns_ = 0;
    ReadCounters counters_;
};

}  // namespace confab::bench
