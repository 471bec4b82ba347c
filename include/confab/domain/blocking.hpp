#pragma once

#include "confab/domain/model.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <cstddef>
#include <exception>
#include <optional>
#include <type_traits>

namespace confab::domain {

// The threads that do CPU-heavy or blocking work (Argon2id, sniffing, fsync, thumbnails),
// with a bound on the jobs waiting for them: past it, work is refused with 503 at once
// rather than queued behind minutes of hashing, each waiting job holding its request.
class Workers {
public:
    Workers(unsigned threads, std::size_t queue_limit);

    boost::asio::thread_pool& pool() noexcept { return pool_; }

    // For offload: counts one more job waiting, or throws Error{unavailable} when
    // queue_limit already are; started() when a waiting job begins to run.
    void enqueue();
    void started() noexcept { waiting_.fetch_sub(1, std::memory_order_relaxed); }

private:
    boost::asio::thread_pool pool_;
    const std::size_t queue_limit_;
    std::atomic<std::size_t> waiting_{0};
};

// Runs CPU-heavy or blocking work (Argon2id, fsync) on `workers` and resumes the caller
// on its own executor, so an I/O thread never blocks. fn is moved straight into the job.
// Throws Error{unavailable}, without running fn, when too many jobs are waiting.
template <class Fn>
auto offload(Workers& workers, Fn&& fn) -> boost::asio::awaitable<std::invoke_result_t<std::decay_t<Fn>&>> {
    namespace asio = boost::asio;
    using Work = std::decay_t<Fn>;
    using Result = std::invoke_result_t<Work&>;
    static_assert(!std::is_void_v<Result>, "offload returns the work's result");
    workers.enqueue();
    auto result =
        co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(std::exception_ptr, std::optional<Result>)>(
            [&workers, &fn](auto handler) {
                auto guard = asio::make_work_guard(asio::get_associated_executor(handler));
                asio::post(workers.pool(), [&workers, handler = std::move(handler), work = Work(std::forward<Fn>(fn)),
                                            guard = std::move(guard)]() mutable {
                    workers.started();
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

}  // namespace confab::domain
