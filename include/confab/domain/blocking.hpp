#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

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

}  // namespace confab::domain
