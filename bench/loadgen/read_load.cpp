#include "read_load.hpp"

#include "concurrency.hpp"
#include "traffic.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/verb.hpp>

namespace confab::bench {
namespace asio = boost::asio;

ReadLoad::ReadLoad(const Population& population, const std::vector<Chat>& chats, ReadMix mix)
    : population_(population), chats_(chats), mix_(mix) {}

asio::awaitable<void> ReadLoad::start(std::size_t connections) {
    auto executor = co_await asio::this_coro::executor;
    wake_ = std::make_unique<asio::steady_timer>(executor, asio::steady_timer::time_point::max());
    workers_ = connections;
    for (std::size_t i = 0; i < connections; ++i)
        asio::co_spawn(executor, work(HttpClient(executor, population_.server())),
                       [this](std::exception_ptr) { --workers_; });
}

void ReadLoad::schedule(std::int64_t intended_ns) {
    const bool counted = window_open_ && intended_ns >= window_start_ns_;
    if (counted) ++counters_.offered;
    queue_.push_back({intended_ns, scheduled_++, counted ? window_ : 0u});
    wake_->cancel_one();
}

asio::awaitable<void> ReadLoad::stop() {
    stopped_ = true;
    wake_->cancel();
    while (workers_ > 0) co_await sleep_for(std::chrono::milliseconds(20));
}

void ReadLoad::begin_window() {
    ++window_;
    window_open_ = true;
    window_start_ns_ = now_ns();
    counters_ = ReadCounters{};
}

void ReadLoad::end_window() {
    window_open_ = false;
    counters_.seconds = static_cast<double>(now_ns() - window_start_ns_) / 1e9;
}

asio::awaitable<void> ReadLoad::work(HttpClient http) {
    while (!stopped_) {
        if (queue_.empty()) {
            // The timer never expires (so one worker resetting it cannot cancel the others'
            // waits): schedule() wakes one worker by cancelling one wait.
            co_await wake_->async_wait(asio::as_tuple(asio::use_awaitable));
            continue;
        }
        const auto read = queue_.front();
        queue_.pop_front();
        ++in_flight_;
        // Spread reads over chats and members with a multiplicative hash of the read's number.
        const auto& chat = chats_[(read.number * 2654435761u) % chats_.size()];
        const auto& reader = population_.user(chat.members[(read.number / 2) % chat.members.size()]);
        const bool list = mix_ == ReadMix::lists_and_pages && read.number % 2 == 0;
        const auto target =
            list ? std::string("/api/v1/chats?limit=20") : "/api/v1/chats/" + chat.id + "/messages?limit=50";
        int status = 0;
        try {
            status = (co_await http.request(boost::beast::http::verb::get, target, reader.token)).status;
        } catch (const std::exception&) {
            status = 0;
        }
        --in_flight_;
        if (status != 200) {
            ++counters_.failed;
            continue;
        }
        if (window_open_) ++counters_.completed;
        if (read.window == window_ && read.window != 0) counters_.latency.add_ns(now_ns() - read.intended_ns);
    }
}

}  // namespace confab::bench
