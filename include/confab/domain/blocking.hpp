#pragma once

#include "confab/domain/error.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <type_traits>

namespace confab::domain {

// Runs CPU-heavy or blocking work (Argon2id, fsync) on `workers` and resumes the caller
// on its own executor, so an I/O thread never blocks. fn is moved straight into the job.
template <class Fn>
auto offload(boost::asio::thread_pool& workers, Fn&& fn)
    -> boost::asio::awaitable<std::invoke_result_t<std::decay_t<Fn>&>> {
    namespace asio = boost::asio;
    using Work = std::decay_t<Fn>;
    using Result = std::invoke_result_t<Work&>;
    static_assert(!std::is_void_v<Result>, "offload returns the work's result");
    auto result = co_await asio::async_initiate<const asio::use_awaitable_t<>&,
                                                void(std::exception_ptr, std::optional<Result>)>(
        [&workers, &fn](auto handler) {
            auto guard = asio::make_work_guard(asio::get_associated_executor(handler));
            asio::post(workers, [handler = std::move(handler), work = Work(std::forward<Fn>(fn)),
                                 guard = std::move(guard)]() mutable {
                std::exception_ptr error;
                std::optional<Result> value;
                try {
                    value.emplace(work());
                } catch (...) {
                    error = std::current_exception();
                }
                auto executor = asio::get_associated_executor(handler);
                asio::post(executor, [handler = std::move(handler), error, value = std::move(value)]() mutable {
                    std::move(handler)(error, std::move(value));
                });
            });
        },
        asio::use_awaitable);
    co_return std::move(*result);
}

// A worker pool that admits at most `threads + queue` jobs at a time (running or waiting);
// past that a job is refused at once with Error{unavailable} (503, Retry-After) instead of
// waiting behind the others. Password hashing runs here, on threads of its own, so a flood
// of sign-ins neither queues without bound nor delays media work, and media work never
// delays sign-ins.
class BoundedWorkers {
public:
    BoundedWorkers(unsigned threads, std::size_t queue) : pool_(threads), capacity_(threads + queue) {}

    template <class Fn>
    auto run(Fn fn) -> boost::asio::awaitable<std::invoke_result_t<Fn&>> {
        if (admitted_.fetch_add(1) >= capacity_) {
            admitted_.fetch_sub(1);
            Error busy(ErrorCode::unavailable, "the server is busy; retry later");
            busy.retry_after_ms = retry_after_ms;
            throw busy;
        }
        // Released when the job is done, failed, or dropped with the pool at shutdown.
        const struct Admission {
            std::atomic<std::size_t>& admitted;
            ~Admission() { admitted.fetch_sub(1); }
        } admission{admitted_};
        co_return co_await offload(pool_, std::move(fn));
    }

    void stop() { pool_.stop(); }
    void join() { pool_.join(); }

private:
    static constexpr std::int64_t retry_after_ms = 1000;
    boost::asio::thread_pool pool_;
    const std::size_t capacity_;
    std::atomic<std::size_t> admitted_{0};
};

}  // namespace confab::domain
