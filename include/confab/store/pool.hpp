#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <pqxx/connection>
#include <pqxx/transaction>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <variant>
#include <vector>

namespace confab::store {

// The database cannot be reached, or the connection broke mid-request: safe to retry.
class Unavailable : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A fixed set of libpqxx connections, each owned by its own thread, so that no blocking
// libpq call ever runs on an I/O thread. Coroutines co_await `run`, which executes the
// function inside one committed transaction on a pool thread and resumes the caller on
// its own executor. A broken connection is dropped and reopened for the next job.
class Pool {
public:
    using Prepare = std::function<void(pqxx::connection&)>;

    Pool(std::string url, unsigned size, std::chrono::milliseconds connect_timeout, Prepare prepare);
    ~Pool();
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    // Runs fn(pqxx::work&) in a transaction that commits if fn returns. Throws Unavailable
    // when the database is unreachable, and rethrows whatever fn threw. fn is moved
    // straight into the job.
    template <class Fn>
    auto run(Fn&& fn) -> boost::asio::awaitable<std::invoke_result_t<std::decay_t<Fn>&, pqxx::work&>>;

    // As run, but commits while holding `order` and calls after_commit(result) on the
    // database thread before releasing it. Writers of one chat share one mutex, so what
    // after_commit publishes leaves in commit order (which the chat row lock makes seq
    // order), and readers that load state under the same mutex never miss a change.
    template <class Fn, class AfterCommit>
    auto run(Fn&& fn, std::mutex& order, AfterCommit&& after_commit)
        -> boost::asio::awaitable<std::invoke_result_t<std::decay_t<Fn>&, pqxx::work&>>;

    // Stops taking jobs, fails the queued ones with Unavailable and joins the threads.
    void stop();

private:
    struct Job {
        virtual ~Job() = default;
        virtual void execute(pqxx::connection& connection) = 0;
        virtual void fail(std::exception_ptr error) = 0;
    };
    template <class Fn, class Finish, class Handler>
    struct TransactionJob;
    struct PlainCommit {
        template <class Result>
        void operator()(pqxx::work& transaction, Result&) const {
            transaction.commit();
        }
    };
    template <class AfterCommit>
    struct OrderedCommit {
        std::mutex* order;
        AfterCommit after_commit;
        template <class Result>
        void operator()(pqxx::work& transaction, Result& result) {
            std::lock_guard lock(*order);
            transaction.commit();
            after_commit(result);
        }
    };
    template <class Fn, class Finish>
    auto submit_transaction(Fn&& fn, Finish finish)
        -> boost::asio::awaitable<std::invoke_result_t<std::decay_t<Fn>&, pqxx::work&>>;

    void submit(std::unique_ptr<Job> job);
    void worker();
    void execute_with_retry(std::unique_ptr<pqxx::connection>& connection, Job& job);
    std::unique_ptr<pqxx::connection> connect();

    std::string conninfo_;
    Prepare prepare_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::unique_ptr<Job>> queue_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

template <class Fn, class Finish, class Handler>
struct Pool::TransactionJob final : Pool::Job {
    using Result = std::invoke_result_t<Fn&, pqxx::work&>;
    using Stored = std::conditional_t<std::is_void_v<Result>, std::monostate, Result>;

    TransactionJob(Fn f, Finish fin, Handler h)
        : fn(std::move(f)), finish(std::move(fin)), handler(std::move(h)),
          work(boost::asio::make_work_guard(boost::asio::get_associated_executor(handler))) {}

    void execute(pqxx::connection& connection) override {
        pqxx::work transaction(connection);
        Stored value = invoke(transaction);
        finish(transaction, value);
        complete(nullptr, std::move(value));
    }
    void fail(std::exception_ptr error) override { complete(error, std::nullopt); }

    Stored invoke(pqxx::work& transaction) {
        if constexpr (std::is_void_v<Result>) {
            fn(transaction);
            return {};
        } else {
            return fn(transaction);
        }
    }

    void complete(std::exception_ptr error, std::optional<Stored> value) {
        auto executor = boost::asio::get_associated_executor(handler);
        boost::asio::post(executor, [h = std::move(handler), error, v = std::move(value)]() mutable {
            std::move(h)(error, std::move(v));
        });
        work.reset();
    }

    Fn fn;
    Finish finish;
    Handler handler;
    boost::asio::executor_work_guard<boost::asio::associated_executor_t<Handler>> work;
};

template <class Fn, class Finish>
auto Pool::submit_transaction(Fn&& fn, Finish finish)
    -> boost::asio::awaitable<std::invoke_result_t<std::decay_t<Fn>&, pqxx::work&>> {
    using Work = std::decay_t<Fn>;
    using Result = std::invoke_result_t<Work&, pqxx::work&>;
    using Stored = std::conditional_t<std::is_void_v<Result>, std::monostate, Result>;
    auto result = co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&,
                                                       void(std::exception_ptr, std::optional<Stored>)>(
        [this, &fn, &finish](auto handler) {
            submit(std::make_unique<TransactionJob<Work, Finish, decltype(handler)>>(
                Work(std::forward<Fn>(fn)), std::move(finish), std::move(handler)));
        },
        boost::asio::use_awaitable);
    if constexpr (!std::is_void_v<Result>) co_return std::move(*result);
}

template <class Fn>
auto Pool::run(Fn&& fn) -> boost::asio::awaitable<std::invoke_result_t<std::decay_t<Fn>&, pqxx::work&>> {
    return submit_transaction(std::forward<Fn>(fn), PlainCommit{});
}

template <class Fn, class AfterCommit>
auto Pool::run(Fn&& fn, std::mutex& order, AfterCommit&& after_commit)
    -> boost::asio::awaitable<std::invoke_result_t<std::decay_t<Fn>&, pqxx::work&>> {
    return submit_transaction(std::forward<Fn>(fn),
                              OrderedCommit<std::decay_t<AfterCommit>>{&order, std::forward<AfterCommit>(after_commit)});
}

}  // namespace confab::store
