#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "confab/store/tx.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <variant>
#include <vector>

namespace confab::store {

// A kind of ordered write that can be done for many callers at once, in set-based
// statements: the writes of one kind queued next to each other in a group are handed to
// its writer together (see Pool::run_batched).
template <class Input, class Result>
class BatchWriter {
public:
    // What became of one input: its result, or the error that refused it.
    using Entry = std::variant<Result, std::exception_ptr>;

    // One entry per input, in order. A refused input must have written nothing. Throwing
    // refuses them all: the group is then rolled back and every write run alone.
    virtual std::vector<Entry> write(Tx& transaction, std::span<const Input* const> inputs) = 0;

protected:
    ~BatchWriter() = default;
};

// How an ordered write shares its transaction. A light one commits in a group with the
// writes queued beside it; a heavy one, whose cost grows with its caller's input (a bulk
// add of members, a chat's deletion), commits alone, so that it holds no other write for
// its length, and a failing neighbour never makes it run twice (see Pool).
enum class Weight { light, heavy };

// How a Pool behaves while the database is unreachable or it is overloaded.
struct PoolLimits {
    std::chrono::milliseconds reconnect_min{100};   // first back-off step after a failed connection
    std::chrono::milliseconds reconnect_max{5000};  // the step doubles up to this
    std::size_t queue_limit = 4096;                 // jobs waiting for a connection, ordered and unordered
    // How long an ordered write may wait for others to share its transaction (see Pool).
    std::chrono::milliseconds gather{0};
};

// A fixed set of libpqxx connections, each owned by its own thread, so that no blocking
// libpq call ever runs on an I/O thread. Coroutines co_await `run`, which executes the
// function inside one committed transaction on a pool thread and resumes the caller on
// its own executor. A broken connection is dropped and reopened for the next job.
//
// While the database cannot be reached, the pool tries to connect once per back-off step
// (doubling from reconnect_min to reconnect_max, with jitter), whichever worker needs a
// connection first; meanwhile jobs that find no open connection fail at once with
// Unavailable instead of each trying to connect. The outage is logged once when it starts
// and once when it ends. At most queue_limit jobs wait for a connection; more fail at once.
//
// Ordered writes (the second `run`) are group-committed in lanes: a write's order mutex
// picks its lane, so all writes of a chat share one. The writes queued in a lane while its
// previous group was busy run together in one transaction and are acknowledged after the
// one COMMIT; lanes run in parallel, one group each, on disjoint chats (so groups never
// deadlock on each other's row locks). A group runs optimistically in a plain transaction;
// if one of its writes fails, it is rolled back and run again with each write inside its
// own savepoint, so that a failure undoes only its own statements. Writes of one
// BatchWriter that are next to each other in a group are handed to it as one batch.
//
// A group is formed once the oldest write queued in an idle lane has waited limits.gather,
// and takes the queued writes of every idle lane: at a low rate each write would otherwise
// commit alone, and a commit costs PostgreSQL several times what one more row in it does.
// A lane busy with its previous group gathers by itself. One worker at a time waits for
// the gathering to end; the others sleep until there is more work.
//
// A heavy write (Weight::heavy) commits alone, at once, and holds only its own order: a
// group stops before it, so the writes queued ahead of it in its lane commit without it,
// and the writes of its order queued behind it wait for it and commit in a later group.
// Once it is first in its idle lane, its order leaves the lane for a side lane of its own
// (the writes of that order queued behind it go along, and later ones follow while the
// side lane has any), so that the lane's other orders keep committing while it runs; the
// side lane is dropped once idle and empty. At most half the workers (at least one) run a
// heavy write at a time: the others keep forming groups and running unordered jobs.
class Pool {
public:
    // Registers the statements a fresh connection prepares (Tx::prepare).
    using Prepare = std::function<void(Tx&)>;
    Pool(std::string url, unsigned size, std::chrono::milliseconds connect_timeout, Prepare prepare,
         PoolLimits limits = PoolLimits{});
    ~Pool();
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    // Runs fn(Tx&) in a transaction that commits if fn returns. Throws Unavailable
    // when the database is unreachable, and rethrows whatever fn threw. fn is moved
    // into the job, and may run more than once (after a broken connection or a
    // deadlock, nothing of an earlier attempt having been committed).
    template <class Fn>
    auto run(Fn&& fn) -> boost::asio::awaitable<std::invoke_result_t<std::decay_t<Fn>&, Tx&>>;

    // As run, but outside a transaction: each statement of fn commits on its own, so a read
    // of one statement is one round trip, without BEGIN and COMMIT. For reads whose
    // statements need not share one snapshot.
    template <class Fn>
    auto read(Fn&& fn) -> boost::asio::awaitable<std::invoke_result_t<std::decay_t<Fn>&, Tx&>>;

    // As run, but group-committed, and after_commit(result) is called on the database
    // thread right after the commit while `order` is held. Writers of one chat share one
    // mutex, so what after_commit publishes leaves in commit order (which the chat row lock
    // makes seq order), and readers that load state under the same mutex never miss a change.
    // The caller is resumed before its group releases `order`: the mutex must outlive the
    // pool's threads (stop()). A heavy write commits alone (Weight).
    template <class Fn, class AfterCommit>
    auto run(Fn&& fn, std::mutex& order, AfterCommit&& after_commit, Weight weight = Weight::light)
        -> boost::asio::awaitable<std::invoke_result_t<std::decay_t<Fn>&, Tx&>>;

    // As the ordered run, with writer.write(tx, {&input, ...}) for the work: the inputs of
    // this writer that are next to each other in a group are written together (a heavy one
    // alone).
    template <class Input, class Result, class AfterCommit>
    auto run_batched(Input input, BatchWriter<Input, Result>& writer, std::mutex& order, AfterCommit&& after_commit,
                     Weight weight = Weight::light) -> boost::asio::awaitable<Result>;

    // Stops taking jobs, fails the queued ones with Unavailable and joins the threads. What
    // the workers still run after a short wait is cancelled (its callers get Unavailable):
    // once the server stops, nobody is left to answer, and one statement waiting on a lock
    // would otherwise hold the process past any grace period.
    void stop();

    // The most ordered writes committed by one transaction.
    static constexpr std::size_t max_group = 256;

private:
    using Clock = std::chrono::steady_clock;
    struct Job {
        virtual ~Job() = default;
        virtual void invoke(Tx& transaction) = 0;  // runs fn and keeps its result
        // Jobs of one writer, next to each other in a group, run as one write of the first.
        virtual const void* writer() const { return nullptr; }
        virtual void invoke_together(Tx& transaction, std::span<Job* const> jobs) {
            for (auto* job : jobs) job->invoke(transaction);
        }
        // After invoke: why the job was refused without writing anything, if it was.
        virtual std::exception_ptr refusal() const { return nullptr; }
        virtual bool outside_transaction() const { return false; }  // Pool::read
        virtual std::mutex* order() const = 0;                      // nullptr for unordered jobs
        virtual bool heavy() const = 0;                             // an ordered write that commits alone
        virtual void after_commit() = 0;                            // called with order() held
        virtual void succeed() = 0;                                 // resumes the caller with the result
        virtual void fail(std::exception_ptr error) = 0;
    };
    struct NoAfterCommit {
        template <class Result>
        void operator()(Result&) const {}
    };
    template <class Fn>
    struct Call;
    template <class Fn>
    struct Read;
    template <class Input, class Result>
    struct BatchedWrite;
    template <class Work, class AfterCommit, class Handler>
    struct Submitted;
    using Batch = std::vector<std::unique_ptr<Job>>;

    // Queues a Work made of `arguments` and resumes with its result.
    template <class Work, class AfterCommit, class... Arguments>
    auto submit_work(std::mutex* order, Weight weight, AfterCommit after_commit, Arguments... arguments)
        -> boost::asio::awaitable<typename Work::Result>;

    void submit(std::unique_ptr<Job> job);
    void worker();
    // From stop(): waits for the workers to finish, cancelling the statements of those
    // that run on past the wait; mutex_ held by `lock`.
    void cancel_stragglers(std::unique_lock<std::mutex>& lock);
    void cancel_running_statements();
    struct Connection;   // one libpqxx connection (pool.cpp)
    struct Transaction;  // a group's transaction on it (pool.cpp)
    void execute_with_retry(std::unique_ptr<Connection>& connection, Batch& batch);
    void execute(Connection& connection, Batch& batch);
    void read_alone(Connection& connection, Job& job);
    void commit(Connection& connection, Batch& batch, bool isolated);
    static std::exception_ptr run_isolated(Transaction& transaction, Job& job);
    static std::vector<std::unique_lock<std::mutex>> lock_orders(const std::vector<Job*>& jobs);
    std::unique_ptr<Connection> connect();
    std::chrono::milliseconds retry_after() const;

    // The database found unreachable by a connection attempt, until one succeeds again.
    struct Outage {
        bool down = false;
        bool attempting = false;  // a worker is trying to connect: the others do not
        Clock::time_point since;
        Clock::time_point next_attempt;
        std::chrono::milliseconds backoff{0};
        std::uint64_t failed_attempts = 0;
    };

    std::string conninfo_;
    Prepare prepare_;
    const PoolLimits limits_;
    mutable std::mutex outage_mutex_;
    Outage outage_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable gathered_;        // the gathering worker's (gathering_)
    std::deque<std::unique_ptr<Job>> queue_;  // unordered jobs, one transaction each
    struct Lane {
        std::deque<std::unique_ptr<Job>> queued;  // the next group
        Clock::time_point since;                  // when its oldest queued write arrived
        bool running = false;
        const std::mutex* own_order = nullptr;  // a side lane's one order; nullptr in lanes_
        bool runnable() const { return !running && !queued.empty(); }
        bool heavy_first() const { return !queued.empty() && queued.front()->heavy(); }
    };
    // With mutex_ held: when the next group or heavy write is due (none without one), and
    // then either one heavy write of a side lane, alone, or the queued writes of every
    // runnable lane up to their first heavy one (up to max_group); their lanes then running.
    std::optional<Clock::time_point> gathered_at() const;
    std::vector<Lane*> take_lanes(Batch& batch);
    bool gathers(const Lane& lane) const { return lane.runnable() && !lane.heavy_first(); }
    bool heavy_due(const Lane& lane) const {
        return lane.runnable() && lane.heavy_first() && heavy_running_ < heavy_limit_;
    }
    Lane& lane_of(const std::mutex* order);
    // With mutex_ held, once `lane` got a write or finished its group: if it is idle with a
    // heavy write first, that write's order moves to a side lane (see Pool). Returns whether
    // a heavy write of it is due now.
    bool set_heavy_aside(Lane& lane);
    // With mutex_ held, when the group of `lane` has finished.
    void finished(Lane& lane);

    std::vector<Lane> lanes_;
    std::list<Lane> side_lanes_;  // a list: the workers hold pointers to those they run
    const std::size_t heavy_limit_;
    std::size_t heavy_running_ = 0;
    std::size_t queued_ = 0;     // jobs in queue_ and every lane
    std::size_t next_lane_ = 0;  // where the search for a runnable lane starts, for fairness
    bool gathering_ = false;     // a worker waits for gathered_at()
    bool stopping_ = false;
    std::size_t running_workers_ = 0;
    std::condition_variable workers_stopped_;
    // Set once stop() cancels statements: a group whose statement was cancelled fails as a
    // whole rather than running its writes again one by one.
    std::atomic<bool> cancelling_ = false;
    std::mutex open_mutex_;
    std::set<Connection*> open_;  // every connection a worker holds, for cancel_running_statements
    std::vector<std::thread> threads_;
};

// The work of a job that runs fn(transaction).
template <class Fn>
struct Pool::Call : Pool::Job {
    using Result = std::invoke_result_t<Fn&, Tx&>;
    using Stored = std::conditional_t<std::is_void_v<Result>, std::monostate, Result>;

    explicit Call(Fn f) : fn(std::move(f)) {}

    void invoke(Tx& transaction) override {
        if constexpr (std::is_void_v<Result>) {
            fn(transaction);
            value.emplace();
        } else {
            value.emplace(fn(transaction));
        }
    }

    Fn fn;
    std::optional<Stored> value;
};

// The work of a job that runs fn outside a transaction.
template <class Fn>
struct Pool::Read : Pool::Call<Fn> {
    using Pool::Call<Fn>::Call;
    bool outside_transaction() const override { return true; }
};

// The work of a job that is one input of a BatchWriter.
template <class Input, class Result_>
struct Pool::BatchedWrite : Pool::Job {
    using Result = Result_;
    using Stored = Result;
    using Writer = BatchWriter<Input, Result>;

    BatchedWrite(Input in, Writer& w) : input(std::move(in)), batch_writer(w) {}

    const void* writer() const override { return &batch_writer; }
    void invoke(Tx& transaction) override {
        Job* self = this;
        invoke_together(transaction, {&self, 1});
    }
    // Every job of the span has this job's writer, so each is a BatchedWrite<Input, Result>.
    void invoke_together(Tx& transaction, std::span<Job* const> jobs) override {
        std::vector<const Input*> inputs;
        inputs.reserve(jobs.size());
        for (auto* job : jobs) inputs.push_back(&static_cast<BatchedWrite&>(*job).input);
        auto entries = batch_writer.write(transaction, inputs);
        if (entries.size() != jobs.size()) throw std::logic_error("a batch writer must answer every input");
        for (std::size_t i = 0; i < jobs.size(); ++i)
            static_cast<BatchedWrite&>(*jobs[i]).settle(std::move(entries[i]));
    }
    std::exception_ptr refusal() const override { return refused; }

    void settle(typename Writer::Entry entry) {
        if (auto* error = std::get_if<std::exception_ptr>(&entry)) {
            refused = *error;
            value.reset();
        } else {
            refused = nullptr;
            value.emplace(std::get<Result>(std::move(entry)));
        }
    }

    Input input;
    Writer& batch_writer;
    std::optional<Result> value;
    std::exception_ptr refused;
};

// A job as submitted: its work, where it is ordered, and whom to resume with the result.
template <class Work, class AfterCommit, class Handler>
struct Pool::Submitted final : Work {
    using Stored = typename Work::Stored;

    template <class... Arguments>
    Submitted(std::mutex* o, Weight w, AfterCommit after, Handler h, Arguments&&... arguments)
        : Work(std::forward<Arguments>(arguments)...),
          order_mutex(o),
          weight(w),
          after(std::move(after)),
          handler(std::move(h)),
          work_guard(boost::asio::make_work_guard(boost::asio::get_associated_executor(handler))) {}

    std::mutex* order() const override { return order_mutex; }
    bool heavy() const override { return weight == Weight::heavy; }
    void after_commit() override { after(*this->value); }
    void succeed() override { complete(nullptr, std::move(this->value)); }
    void fail(std::exception_ptr error) override { complete(error, std::nullopt); }

    void complete(std::exception_ptr error, std::optional<Stored> result) {
        auto executor = boost::asio::get_associated_executor(handler);
        boost::asio::post(executor, [h = std::move(handler), error, v = std::move(result)]() mutable {
            std::move(h)(error, std::move(v));
        });
        work_guard.reset();
    }

    std::mutex* order_mutex;
    Weight weight;
    AfterCommit after;
    Handler handler;
    boost::asio::executor_work_guard<boost::asio::associated_executor_t<Handler>> work_guard;
};

template <class Work, class AfterCommit, class... Arguments>
auto Pool::submit_work(std::mutex* order, Weight weight, AfterCommit after_commit, Arguments... arguments)
    -> boost::asio::awaitable<typename Work::Result> {
    using Stored = typename Work::Stored;
    auto result = co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&,
                                                       void(std::exception_ptr, std::optional<Stored>)>(
        [&](auto handler) {
            submit(std::make_unique<Submitted<Work, AfterCommit, decltype(handler)>>(
                order, weight, std::move(after_commit), std::move(handler), std::move(arguments)...));
        },
        boost::asio::use_awaitable);
    if constexpr (!std::is_void_v<typename Work::Result>) co_return std::move(*result);
}

template <class Fn>
auto Pool::run(Fn&& fn) -> boost::asio::awaitable<std::invoke_result_t<std::decay_t<Fn>&, Tx&>> {
    return submit_work<Call<std::decay_t<Fn>>>(nullptr, Weight::light, NoAfterCommit{},
                                               std::decay_t<Fn>(std::forward<Fn>(fn)));
}

template <class Fn>
auto Pool::read(Fn&& fn) -> boost::asio::awaitable<std::invoke_result_t<std::decay_t<Fn>&, Tx&>> {
    return submit_work<Read<std::decay_t<Fn>>>(nullptr, Weight::light, NoAfterCommit{},
                                               std::decay_t<Fn>(std::forward<Fn>(fn)));
}

template <class Fn, class AfterCommit>
auto Pool::run(Fn&& fn, std::mutex& order, AfterCommit&& after_commit, Weight weight)
    -> boost::asio::awaitable<std::invoke_result_t<std::decay_t<Fn>&, Tx&>> {
    return submit_work<Call<std::decay_t<Fn>>>(&order, weight,
                                               std::decay_t<AfterCommit>(std::forward<AfterCommit>(after_commit)),
                                               std::decay_t<Fn>(std::forward<Fn>(fn)));
}

template <class Input, class Result, class AfterCommit>
auto Pool::run_batched(Input input, BatchWriter<Input, Result>& writer, std::mutex& order, AfterCommit&& after_commit,
                       Weight weight) -> boost::asio::awaitable<Result> {
    return submit_work<BatchedWrite<Input, Result>>(&order, weight,
                                                    std::decay_t<AfterCommit>(std::forward<AfterCommit>(after_commit)),
                                                    std::move(input), std::ref(writer));
}

}  // namespace confab::store
