#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace confab::domain {

// One run of a job per key at a time, its outcome shared by everyone who asked while it ran.
// A new image in a large group has every member's client ask for its thumbnail at once; each
// asking made it again, and their jobs filled the workers' queue (the rest got 503) behind
// work that had to be done only once. Callers on any executor; each resumes on its own.
template <class Result>
class SingleFlight {
public:
    // The outcome of `start()` (an awaitable<Result>) for `key`: started here, unless a run for
    // the key is under way, whose result (or exception) is then this caller's too.
    template <class Start>
    boost::asio::awaitable<Result> run(std::string key, Start start) {
        for (;;) {
            if (claim(key)) co_return co_await lead(std::move(key), start);
            // Empty when the run ended between the claim and joining it: claim again.
            if (auto joined = co_await join(key)) co_return std::move(*joined);
        }
    }

private:
    using Handler = boost::asio::any_completion_handler<void(std::exception_ptr, std::optional<Result>)>;
    struct Waiter {
        Handler handler;
        boost::asio::executor_work_guard<boost::asio::any_io_executor> guard;
    };

    bool claim(const std::string& key) {
        std::lock_guard lock(mutex_);
        return flights_.try_emplace(key).second;
    }

    template <class Start>
    boost::asio::awaitable<Result> lead(std::string key, Start& start) {
        std::exception_ptr error;
        std::optional<Result> result;
        try {
            result.emplace(co_await start());
        } catch (...) {
            error = std::current_exception();
        }
        land(key, error, result);
        if (error) std::rethrow_exception(error);
        co_return std::move(*result);
    }

    boost::asio::awaitable<std::optional<Result>> join(const std::string& key) {
        namespace asio = boost::asio;
        return asio::async_initiate<const asio::use_awaitable_t<>&, void(std::exception_ptr, std::optional<Result>)>(
            [this, &key](auto handler) {
                std::unique_lock lock(mutex_);
                const auto flight = flights_.find(key);
                if (flight == flights_.end()) {
                    lock.unlock();
                    auto executor = asio::get_associated_executor(handler);
                    asio::post(executor, [handler = std::move(handler)]() mutable {
                        std::move(handler)(nullptr, std::optional<Result>());
                    });
                    return;
                }
                asio::any_io_executor executor = asio::get_associated_executor(handler);
                flight->second.push_back(Waiter{Handler(std::move(handler)), asio::make_work_guard(executor)});
            },
            asio::use_awaitable);
    }

    // The run for `key` ended: everyone who joined it resumes with its outcome.
    void land(const std::string& key, const std::exception_ptr& error, const std::optional<Result>& result) {
        std::vector<Waiter> waiters;
        {
            std::lock_guard lock(mutex_);
            const auto flight = flights_.find(key);
            waiters = std::move(flight->second);
            flights_.erase(flight);
        }
        for (auto& waiter : waiters) {
            auto executor = waiter.guard.get_executor();
            boost::asio::post(executor, [handler = std::move(waiter.handler), error, result]() mutable {
                std::move(handler)(error, std::move(result));
            });
        }
    }

    std::mutex mutex_;
    std::unordered_map<std::string, std::vector<Waiter>> flights_;
};

}  // namespace confab::domain
