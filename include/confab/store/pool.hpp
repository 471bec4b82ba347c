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
//
// Ordered writes (the second `run`) are group-committed in lanes: a write's order mutex
// picks its lane, so all writes of a chat share one. The writes queued in a lane while its
// previous group was busy run together in one transaction and are acknowledged after the
// one COMMIT; lanes run in parallel, one group each, on disjoint chats (so groups never
// deadlock on each other's row locks). A group runs optimistically in a plain transaction;
// if one of its writes fails, it is rolled back and run again with each write inside its
// own savepoint, so that a failure undoes only its own statements.
class Pool {
public:
    using Prepare = std::function<void(pqxx::connection&)>;

    Pool(std::string url, unsigned size, std::chrono::milliseconds connect_timeout, Prepare prepare);
    ~Pool();
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    // Runs fn(pqxx::transaction_base&) in a transaction that commits if fn returns. Throws Unavailable
    // when the database is unreachable, and rethrows whatever fn threw. fn is moved
    // straight into the job, and may run more than once (after a broken connection or a
    // deadlock, nothing of an earlier attempt having been committed).
    template <class Fn>
    auto run(Fn&& fn) -> boost::asio::awaitable<std::invoke_result_t<std::decay_t<Fn>&, pqxx::transaction_base&>>;

    // As run, but group-committed, and after_commit(result) is called on the database
    // thread right after the commit while `order` is held. Writers of one chat share one
    // mutex, so what after_commit publishes leaves in commit order (which the chat row lock
    // makes seq order), and readers that load state under the same mutex never miss a change.
    template <class Fn, class AfterCommit>
    auto run(Fn&& fn, std::mutex& order, AfterCommit&& after_commit)
        -> boost::asio::awaitable<std::invoke_result_t<std::decay_t<Fn>&, pqxx::transaction_base&>>;

    // Stops taking jobs, fails the queued ones with Unavailable and joins the threads.
    void stop();

    // The most ordered writes committed by one transaction.
    static constexpr std::size_t max_group = 256;

private:
    struct Job {
        virtual ~Job() = default;
        virtual void invoke(pqxx::transaction_base& transaction) = 0;  // runs fn and keeps its result
        virtual std::mutex* order() const = 0;             // nullptr for unordered jobs
        virtual void after_commit() = 0;                   // called with order() held
        virtual void succeed() = 0;                        // resumes the caller with the result
        virtual void fail(std::exception_ptr error) = 0;
    };
    struct NoAfterCommit {
        template <class Result>
        void operator()(Result&) const {}
    };
    template <class Fn, class AfterCommit, class Handler>
    struct TransactionJob;
    using Batch = std::vector<std::unique_ptr<Job>>;

    template <class Fn, class AfterCommit>
    auto submit_transaction(Fn&& fn, std::mutex* order, AfterCommit after_commit)
        -> boost::asio::awaitable<std::invoke_result_t<std::decay_t<Fn>&, pqxx::transaction_base&>>;

    void submit(std::unique_ptr<Job> job);
    void worker();
    void execute_with_retry(std::unique_ptr<pqxx::connection>& connection, Batch& batch);
    void execute(pqxx::connection& connection, Batch& batch);
    void commit(pqxx::connection& connection, Batch& batch, bool isolated);
    static std::exception_ptr run_isolated(pqxx::work& transaction, Job& job);
    static std::vector<std::unique_lock<std::mutex>> lock_orders(const std::vector<Job*>& jobs);
    std::unique_ptr<pqxx::connection> connect();

    std::string conninfo_;
    Prepare prepare_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::unique_ptr<Job>> queue_;    // unordered jobs, one transaction each
    struct Lane {
        std::deque<std::unique_ptr<Job>> queued;  // the next group
        bool running = false;
        bool runnable() const { return !running && !queued.empty(); }
    };
    Lane* runnable_lane();  // with mutex_ held
    Lane& lane_of(const std::mutex* order);

    std::vector<Lane> lanes_;
    std::size_t next_lane_ = 0;  // where the search for a runnable lane starts, for fairness
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

template <class Fn, class AfterCommit, class Handler>
struct Pool::TransactionJob final : Pool::Job {
    using Result = std::invoke_result_t<Fn&, pqxx::transaction_base&>;
    using Stored = std::conditional_t<std::is_void_v<Result>, std::monostate, Result>;

    TransactionJob(Fn f, std::mutex* o, AfterCommit after, Handler h)
        : fn(std::move(f)), order_mutex(o), after(std::move(after)), handler(std::move(h)),
          work(boost::asio::make_work_guard(boost::asio::get_associated_executor(handler))) {}

    void invoke(pqxx::transaction_base& transaction) override {
        if constexpr (std::is_void_v<Result>) {
            fn(transaction);
            value.emplace();
        } else {
            value.emplace(fn(transaction));
        }
    }
    std::mutex* order() const override { return order_mutex; }
    void after_commit() override { after(*value); }
    void succeed() override { complete(nullptr, std::move(value)); }
    void fail(std::exception_ptr error) override { complete(error, std::nullopt); }

    void complete(std::exception_ptr error, std::optional<Stored> result) {
        auto executor = boost::asio::get_associated_executor(handler);
        boost::asio::post(executor, [h = std::move(handler), error, v = std::move(result)]() mutable {
            std::move(h)(error, std::move(v));
        });
        work.reset();
    }

    Fn fn;
    std::mutex* order_mutex;
    AfterCommit after;
    Handler handler;
    boost::asio::executor_work_guard<boost::asio::associated_executor_t<Handler>> work;
    std::optional<Stored> value;
};

template <class Fn, class AfterCommit>
auto Pool::submit_transaction(Fn&& fn, std::mutex* order, AfterCommit after_commit)
    -> boost::asio::awaitable<std::invoke_result_t<std::decay_t<Fn>&, pqxx::transaction_base&>> {
    using Work = std::decay_t<Fn>;
    using Result = std::invoke_result_t<Work&, pqxx::transaction_base&>;
    using Stored = std::conditional_t<std::is_void_v<Result>, std::monostate, Result>;
    auto result = co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&,
                                                       void(std::exception_ptr, std::optional<Stored>)>(
        [this, &fn, order, &after_commit](auto handler) {
            submit(std::make_unique<TransactionJob<Work, AfterCommit, decltype(handler)>>(
                Work(std::forward<Fn>(fn)), order, std::move(after_commit), std::move(handler)));
        },
        boost::asio::use_awaitable);
    if constexpr (!std::is_void_v<Result>) co_return std::move(*result);
}

template <class Fn>
auto Pool::run(Fn&& fn) -> boost::asio::awaitable<std::invoke_result_t<std::decay_t<Fn>&, pqxx::transaction_base&>> {
    return submit_transaction(std::forward<Fn>(fn), nullptr, NoAfterCommit{});
}

template <class Fn, class AfterCommit>
auto Pool::run(Fn&& fn, std::mutex& order, AfterCommit&& after_commit)
    -> boost::asio::awaitable<std::invoke_result_t<std::decay_t<Fn>&, pqxx::transaction_base&>> {
    return submit_transaction(std::forward<Fn>(fn), &order, std::decay_t<AfterCommit>(std::forward<AfterCommit>(after_commit)));
}

}  // namespace confab::store
