#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/as_tuple.hpp>

#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>

namespace confab::bench {

// Runs job(i) for i in [0, count) with at most `width` jobs at a time, on the caller's
// (single-threaded) executor; rethrows the first exception once every worker stopped.
// make_worker_state() is called once per worker, so each can own e.g. an HTTP connection.
template <class State>
boost::asio::awaitable<void> for_each_bounded(std::size_t count, std::size_t width,
                                              std::function<State()> make_worker_state,
                                              std::function<boost::asio::awaitable<void>(std::size_t, State&)> job) {
    namespace asio = boost::asio;
    auto executor = co_await asio::this_coro::executor;
    struct Shared {
        explicit Shared(asio::any_io_executor e) : done(e, asio::steady_timer::time_point::max()) {}
        asio::steady_timer done;
        std::size_t next = 0;
        std::size_t running = 0;
        std::exception_ptr error;
    };
    auto shared = std::make_shared<Shared>(executor);
    const auto workers = std::min(width, count);
    for (std::size_t w = 0; w < workers; ++w) {
        ++shared->running;
        asio::co_spawn(
            executor,
            [shared, count, make_worker_state, job]() -> asio::awaitable<void> {
                auto state = make_worker_state();
                while (!shared->error && shared->next < count) {
                    const auto index = shared->next++;
                    co_await job(index, state);
                }
            },
            [shared](std::exception_ptr error) {
                if (error && !shared->error) shared->error = error;
                if (--shared->running == 0) shared->done.cancel();
            });
    }
    if (workers > 0) co_await shared->done.async_wait(asio::as_tuple(asio::use_awaitable));
    if (shared->error) std::rethrow_exception(shared->error);
}

// Waits `duration` on the current executor.
inline boost::asio::awaitable<void> sleep_for(std::chrono::steady_clock::duration duration) {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, duration);
    co_await timer.async_wait(boost::asio::use_awaitable);
}

}  // namespace confab::bench
