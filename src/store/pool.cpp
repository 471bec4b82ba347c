#include "confab/store/pool.hpp"

#include "confab/store/sql.hpp"

#include "confab/obs/metrics.hpp"

#include <pqxx/connection>
#include <pqxx/except>
#include <pqxx/nontransaction>
#include <pqxx/transaction>
#include <pqxx/subtransaction>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>

namespace confab::store {
namespace {

struct PoolMetrics {
    obs::Gauge& waiting = obs::metrics().db_waiting.only();
    obs::Gauge& in_use = obs::metrics().db_in_use.only();
    obs::Histogram& duration = obs::metrics().db_duration.only();
    obs::Counter& unavailable = obs::metrics().db_errors.with({"unavailable"});
    obs::Counter& broken = obs::metrics().db_errors.with({"broken_connection"});
    obs::Counter& rolled_back = obs::metrics().db_errors.with({"rolled_back"});
    obs::Counter& effects_failed = obs::metrics().db_errors.with({"effects_failed"});
    obs::Counter& groups = obs::metrics().db_group_commits.only();
    obs::Counter& grouped_writes = obs::metrics().db_group_commit_writes.only();
    obs::Counter& shed = obs::metrics().shed.with({"database"});
    obs::Counter& connect_attempts = obs::metrics().db_connect_attempts.only();
};

PoolMetrics& pool_metrics() {
    static PoolMetrics instance;
    return instance;
}

// libpq takes connect_timeout (whole seconds) from the URI's query or a key=value string.
std::string with_connect_timeout(std::string url, std::chrono::milliseconds timeout) {
    const auto seconds = std::max<long long>(1, std::chrono::ceil<std::chrono::seconds>(timeout).count());
    if (url.find("connect_timeout") != std::string::npos) return url;
    if (url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        url += url.find('?') == std::string::npos ? "?" : "&";
        return url + "connect_timeout=" + std::to_string(seconds);
    }
    return url + " connect_timeout=" + std::to_string(seconds);
}

// Between half the step and the whole of it, so that servers (and workers) that lost the
// database together do not all knock again in the same instant.
std::chrono::milliseconds jittered(std::chrono::milliseconds step) {
    thread_local std::minstd_rand random{std::random_device{}()};
    const auto half = step.count() / 2;
    return std::chrono::milliseconds(half + std::uniform_int_distribution<long long>(0, step.count() - half)(random));
}

// A transaction's count on the in-use gauge, held until end() or destruction.
class InUse {
public:
    InUse() { pool_metrics().in_use.add(1); }
    ~InUse() { end(); }
    InUse(const InUse&) = delete;
    InUse& operator=(const InUse&) = delete;

    void end() {
        if (!held_) return;
        held_ = false;
        pool_metrics().in_use.add(-1);
    }

private:
    bool held_ = true;
};

}  // namespace

// Known to the pool while open, so that stop() can cancel the statement it runs.
struct Pool::Connection {
    Connection(const std::string& conninfo, Pool& owner) : pq(conninfo), pool(owner) {
        const std::lock_guard lock(pool.open_mutex_);
        pool.open_.insert(this);
    }
    ~Connection() {
        const std::lock_guard lock(pool.open_mutex_);
        pool.open_.erase(this);
    }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    pqxx::connection pq;
    Pool& pool;
};

// In use until it has committed or rolled back, which is before any of its callers is
// resumed: a caller that reads the gauge next never counts its own finished transaction.
struct Pool::Transaction {
    explicit Transaction(Connection& connection) : work(connection.pq) {}
    void commit() {
        work.commit();
        in_use.end();
    }
    InUse in_use;  // declared before the work, so it ends after the work's rollback
    pqxx::work work;
};

Pool::Pool(std::string url, unsigned size, std::chrono::milliseconds connect_timeout, Prepare prepare,
           PoolLimits limits)
    : conninfo_(with_connect_timeout(std::move(url), connect_timeout)),
      prepare_(std::move(prepare)),
      limits_(limits),
      // One connection is left for unordered work (reads, access loads) when there are two.
      lanes_(std::max(1u, size - 1)),
      // Half the connections or fewer run heavy writes: the rest go on forming groups and
      // answering reads while as many heavy writes are queued as anyone asks for.
      heavy_limit_(std::max(1u, size / 2)) {
    threads_.reserve(size);
    running_workers_ = size;
    for (unsigned i = 0; i < size; ++i) threads_.emplace_back([this] { worker(); });
}

Pool::~Pool() { stop(); }

void Pool::stop() {
    std::deque<std::unique_ptr<Job>> abandoned;
    {
        const std::lock_guard lock(mutex_);
        if (stopping_ && threads_.empty()) return;
        stopping_ = true;
        abandoned.swap(queue_);
        const auto abandon = [&abandoned](Lane& lane) {
            for (auto& job : lane.queued) abandoned.push_back(std::move(job));
            lane.queued.clear();
        };
        for (auto& lane : lanes_) abandon(lane);
        for (auto& lane : side_lanes_) abandon(lane);
        queued_ = 0;
    }
    wake_.notify_all();
    gathered_.notify_all();
    pool_metrics().waiting.add(-static_cast<std::int64_t>(abandoned.size()));
    for (auto& job : abandoned) job->fail(std::make_exception_ptr(Unavailable("server is shutting down")));
    {
        std::unique_lock lock(mutex_);
        cancel_stragglers(lock);
    }
    for (auto& thread : threads_) thread.join();
    threads_.clear();
}

namespace {

// Long enough for a group commit under way to finish; within the margin the server keeps
// between its drain deadline and the grace period (net/server.cpp).
constexpr auto straggler_wait = std::chrono::milliseconds(250);
// A group runs several statements, and a cancel stops only the one running: the workers are
// cancelled again until they stop.
constexpr auto cancel_interval = std::chrono::milliseconds(100);

}  // namespace

void Pool::cancel_stragglers(std::unique_lock<std::mutex>& lock) {
    const auto all_stopped = [this] { return running_workers_ == 0; };
    if (workers_stopped_.wait_for(lock, straggler_wait, all_stopped)) return;
    spdlog::warn("{} database workers still running at shutdown; cancelling their statements", running_workers_);
    cancelling_ = true;
    do {
        lock.unlock();
        cancel_running_statements();
        lock.lock();
    } while (!workers_stopped_.wait_for(lock, cancel_interval, all_stopped));
}

void Pool::cancel_running_statements() {
    const std::lock_guard lock(open_mutex_);
    for (auto* connection : open_) {
        try {
            connection->pq.cancel_query();
        } catch (const std::exception& e) {
            spdlog::debug("cancelling a statement failed: {}", e.what());
        }
    }
}

void Pool::submit(std::unique_ptr<Job> job) {
    const char* refusal = "server is shutting down";
    {
        std::lock_guard lock(mutex_);
        if (!stopping_ && queued_ < limits_.queue_limit) {
            ++queued_;
            // A worker is woken only for work it can take now or wait for: a write queued
            // behind its lane's running group is taken by that group's worker when it
            // finishes, one joining a gathering is taken by the worker waiting for it, and
            // waking another for either would cost a context switch per write for nothing.
            // A heavy write is due at once, earlier than the gathering ends: its worker
            // may have to be the gathering one.
            bool wake = true;
            bool heavy_now = false;
            if (const auto* order = job->order()) {
                auto& lane = lane_of(order);
                if (lane.queued.empty()) lane.since = Clock::now();
                lane.queued.push_back(std::move(job));
                heavy_now = set_heavy_aside(lane);
                wake = heavy_now || (gathers(lane) && !gathering_);
            } else {
                queue_.push_back(std::move(job));
            }
            pool_metrics().waiting.add(1);
            if (wake) wake_.notify_one();
            if (heavy_now && gathering_) gathered_.notify_one();
            return;
        }
        if (!stopping_) {
            // Shed rather than queue: past the limit a caller would wait longer than it takes
            // to retry, and hold its memory meanwhile.
            pool_metrics().shed.inc();
            refusal = "database busy: too many queued transactions";
        }
    }
    job->fail(std::make_exception_ptr(Unavailable(refusal)));
}

// A new connection, or nullptr. During an outage only one worker tries, once its back-off
// step has passed; the others give up at once, so a request then costs no connection attempt.
std::unique_ptr<Pool::Connection> Pool::connect() {
    {
        std::lock_guard lock(outage_mutex_);
        if (outage_.down) {
            if (outage_.attempting || Clock::now() < outage_.next_attempt) return nullptr;
            outage_.attempting = true;
        }
    }
    pool_metrics().connect_attempts.inc();
    try {
        auto connection = std::make_unique<Connection>(conninfo_, *this);
        {
            pqxx::nontransaction registration(connection->pq);
            // Short statements only, where compiling one costs more than running it. An
            // empty table never analyzed is planned as hundreds of rows, which put the
            // webhook poll past jit_above_cost: 20-150 ms of PostgreSQL's CPU each poll.
            registration.exec0("SET jit = off");
            Tx statements(registration);
            prepare_(statements);
        }
        std::lock_guard lock(outage_mutex_);
        if (outage_.down) {
            spdlog::info("database outage over: connected again after {:.1f} s and {} failed attempts",
                         std::chrono::duration<double>(Clock::now() - outage_.since).count(), outage_.failed_attempts);
            outage_ = Outage{};
        }
        return connection;
    } catch (const std::exception& e) {
        std::lock_guard lock(outage_mutex_);
        const auto now = Clock::now();
        if (!outage_.down) {
            spdlog::error(
                "database outage: cannot connect ({}); failing requests with 503 and retrying every "
                "{} to {} ms",
                e.what(), limits_.reconnect_min.count(), limits_.reconnect_max.count());
            outage_.down = true;
            outage_.since = now;
            outage_.backoff = limits_.reconnect_min;
        } else {
            spdlog::debug("database still unreachable: {}", e.what());
            outage_.backoff = std::min(limits_.reconnect_max, outage_.backoff * 2);
        }
        outage_.attempting = false;
        ++outage_.failed_attempts;
        outage_.next_attempt = now + jittered(outage_.backoff);
        return nullptr;
    }
}

// When a connection is worth trying again: the end of the current back-off step.
std::chrono::milliseconds Pool::retry_after() const {
    std::lock_guard lock(outage_mutex_);
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(outage_.next_attempt - Clock::now());
    return std::max(left, limits_.reconnect_min);
}

// A chat's writes share its order mutex, so they share a lane and keep their order: its
// side lane while it has one, else one of lanes_. The mutexes are stripes of one array,
// evenly spaced in memory: the address is mixed (Fibonacci hashing) so that the stride
// cannot send every stripe to the same lane.
Pool::Lane& Pool::lane_of(const std::mutex* order) {
    for (auto& side : side_lanes_)
        if (side.own_order == order) return side;
    const auto mixed = reinterpret_cast<std::uintptr_t>(order) * std::uint64_t{0x9E3779B97F4A7C15};
    return lanes_[(mixed >> 32) % lanes_.size()];
}

// Only while its lane is idle, so that nothing of its order is running: the writes of that
// order ahead of it have all committed, and those queued behind it go with it, in order.
// An idle lane of lanes_ is left with a light write first (or none), which gathered_at and
// take_lanes rely on.
bool Pool::set_heavy_aside(Lane& lane) {
    if (lane.own_order) return heavy_due(lane);
    bool due = false;
    while (lane.runnable() && lane.heavy_first()) {
        auto& side = side_lanes_.emplace_back();
        side.own_order = lane.queued.front()->order();
        side.since = lane.since;
        std::deque<std::unique_ptr<Job>> others;
        for (auto& job : lane.queued) (job->order() == side.own_order ? side.queued : others).push_back(std::move(job));
        lane.queued.swap(others);
        due = heavy_due(side) || due;
    }
    return due;
}

void Pool::finished(Lane& lane) {
    lane.running = false;
    if (lane.own_order && lane.queued.empty()) {
        side_lanes_.remove_if([&lane](const Lane& side) { return &side == &lane; });
        return;
    }
    set_heavy_aside(lane);
}

// A heavy write is due as soon as it may run; a group once its oldest write has gathered.
std::optional<Pool::Clock::time_point> Pool::gathered_at() const {
    std::optional<Clock::time_point> due;
    const auto consider = [&due](Clock::time_point at) {
        if (!due || at < *due) due = at;
    };
    for (const auto& lane : lanes_)
        if (gathers(lane)) consider(lane.since + limits_.gather);
    for (const auto& side : side_lanes_) {
        if (gathers(side)) consider(side.since + limits_.gather);
        if (heavy_due(side)) consider(side.since);
    }
    return due;
}

std::vector<Pool::Lane*> Pool::take_lanes(Batch& batch) {
    for (auto& side : side_lanes_) {
        if (!heavy_due(side)) continue;
        side.running = true;
        ++heavy_running_;
        batch.push_back(std::move(side.queued.front()));
        side.queued.pop_front();
        return {&side};
    }
    std::vector<Lane*> taken;
    const auto take = [&](Lane& lane) {
        if (!gathers(lane)) return;
        lane.running = true;
        taken.push_back(&lane);
        while (batch.size() < max_group && !lane.queued.empty() && !lane.heavy_first()) {
            batch.push_back(std::move(lane.queued.front()));
            lane.queued.pop_front();
        }
    };
    for (std::size_t i = 0; i < lanes_.size() && batch.size() < max_group; ++i)
        take(lanes_[(next_lane_ + i) % lanes_.size()]);
    for (auto& side : side_lanes_)
        if (batch.size() < max_group) take(side);
    next_lane_ = (next_lane_ + 1) % lanes_.size();
    return taken;
}

// Takes a heavy write or the gathered group of the runnable lanes once it is due, else one
// unordered job.
// One worker waits for a gathering to end, on a condition of its own: no new light write
// is due before the oldest queued one, so nothing needs to wake it early, and a job for the
// others does not. A heavy write is due at once: submit wakes a worker for it, and the
// gathering one too.
void Pool::worker() {
    std::unique_ptr<Connection> connection;
    for (;;) {
        Batch batch;
        std::vector<Lane*> lanes;
        {
            std::unique_lock lock(mutex_);
            for (;;) {
                const auto due = gathered_at();
                if (due && *due <= Clock::now()) {
                    lanes = take_lanes(batch);
                    break;
                }
                if (!queue_.empty()) {
                    batch.push_back(std::move(queue_.front()));
                    queue_.pop_front();
                    break;
                }
                if (stopping_) {
                    --running_workers_;
                    workers_stopped_.notify_all();
                    return;
                }
                if (due && !gathering_) {
                    gathering_ = true;
                    gathered_.wait_until(lock, *due);
                    gathering_ = false;
                } else {
                    wake_.wait(lock);
                }
            }
            queued_ -= batch.size();
            // Runnable lanes that no worker waits for (this one took a job instead) need one.
            if (!gathering_ && gathered_at()) wake_.notify_one();
        }
        auto& metrics = pool_metrics();
        metrics.waiting.add(-static_cast<std::int64_t>(batch.size()));
        const bool heavy = batch.front()->heavy();
        const auto started = Clock::now();
        execute_with_retry(connection, batch);
        metrics.duration.observe(std::chrono::duration<double>(Clock::now() - started).count());
        if (lanes.empty()) continue;
        metrics.groups.inc();
        metrics.grouped_writes.inc(batch.size());
        std::lock_guard lock(mutex_);
        // This worker checks for work before it waits again, and every other runnable lane
        // or job already woke a worker, or is waiting for a busy one. Only a gathering set
        // to end later than these lanes' writes are due is told to look again. A heavy
        // write waiting for this one's place, or set aside now, is due: this worker takes it.
        if (heavy) --heavy_running_;
        for (auto* lane : lanes) finished(*lane);
        if (gathering_) gathered_.notify_one();
    }
}

// A connection found broken before the transaction committed is replaced and the batch
// tried again on the fresh one: nothing of it can have been committed. So is a batch whose
// transaction PostgreSQL rolled back to break a deadlock. A failure during COMMIT itself
// (in_doubt_error) is never retried.
void Pool::execute_with_retry(std::unique_ptr<Connection>& connection, Batch& batch) {
    const auto fail_all = [&batch](const std::exception_ptr& error) {
        for (auto& job : batch) job->fail(error);
    };
    constexpr int attempts = 3;
    for (int attempt = 0; attempt < attempts; ++attempt) {
        if (cancelling_) {
            fail_all(std::make_exception_ptr(Unavailable("server is shutting down")));
            return;
        }
        if (!connection || !connection->pq.is_open()) connection = connect();
        if (!connection) {
            pool_metrics().unavailable.inc();
            fail_all(std::make_exception_ptr(Unavailable("database unavailable", retry_after())));
            return;
        }
        try {
            execute(*connection, batch);
            return;
        } catch (const pqxx::in_doubt_error&) {
            connection.reset();
            fail_all(std::make_exception_ptr(Unavailable("database connection lost during commit")));
            return;
        } catch (const pqxx::broken_connection&) {
            pool_metrics().broken.inc();
            spdlog::warn("database connection broken; reconnecting");
            connection.reset();
        } catch (const pqxx::deadlock_detected&) {
            pool_metrics().rolled_back.inc();
            spdlog::warn("transaction rolled back by a deadlock; retrying");
        } catch (const pqxx::serialization_failure&) {
            pool_metrics().rolled_back.inc();
            spdlog::warn("transaction rolled back by a serialization failure; retrying");
        } catch (const RaceLost& race) {
            pool_metrics().rolled_back.inc();
            spdlog::info("transaction run again: {}", race.what());
        } catch (...) {
            fail_all(cancelling_ ? std::make_exception_ptr(Unavailable("server is shutting down"))
                                 : std::current_exception());
            return;
        }
    }
    fail_all(std::make_exception_ptr(Unavailable("database unavailable")));
}

namespace {

constexpr int attempts_per_grouped_job = 3;

// A subtransaction whose SAVEPOINT is issued at once. libpqxx 6 begins one lazily, on its
// first non-prepared statement, so a job of prepared statements only would otherwise run
// outside any savepoint and its failure roll back nothing.
class Savepoint final : public pqxx::subtransaction {
public:
    explicit Savepoint(pqxx::dbtransaction& parent)
        : namedclass("subtransaction", "grouped_write"), pqxx::subtransaction(parent, "grouped_write") {
        Begin();
    }
};

}  // namespace

// Runs one job of a group in a subtransaction (a savepoint); its failure rolls back its own
// statements and is returned, the transaction staying usable for the others. Database
// failures that doom the whole transaction propagate.
std::exception_ptr Pool::run_isolated(Transaction& transaction, Job& job) {
    for (int attempt = 1;; ++attempt) {
        try {
            Savepoint savepoint(transaction.work);
            Tx tx(savepoint);
            job.invoke(tx);
            savepoint.commit();
            return job.refusal();
        } catch (const pqxx::broken_connection&) {
            throw;
        } catch (const pqxx::in_doubt_error&) {
            throw;
        } catch (const pqxx::deadlock_detected&) {
            if (attempt == attempts_per_grouped_job) return std::current_exception();
        } catch (const pqxx::serialization_failure&) {
            if (attempt == attempts_per_grouped_job) return std::current_exception();
        } catch (const RaceLost&) {
            if (attempt == attempts_per_grouped_job) return std::current_exception();
        } catch (...) {
            return std::current_exception();
        }
        pool_metrics().rolled_back.inc();
    }
}

// Every distinct order mutex of the committed jobs, locked in address order so that two
// committers can never wait on each other.
std::vector<std::unique_lock<std::mutex>> Pool::lock_orders(const std::vector<Job*>& jobs) {
    std::vector<std::mutex*> orders;
    for (const auto* job : jobs)
        if (job->order()) orders.push_back(job->order());
    std::sort(orders.begin(), orders.end());
    orders.erase(std::unique(orders.begin(), orders.end()), orders.end());
    std::vector<std::unique_lock<std::mutex>> locks;
    locks.reserve(orders.size());
    for (auto* order : orders) locks.emplace_back(*order);
    return locks;
}

// A group runs first without savepoints, which cost two round trips a write; only when one
// of its writes fails is it rolled back and run again with each write isolated. A batch of
// one is never isolated: its failure fails the transaction as before.
void Pool::execute(Connection& connection, Batch& batch) {
    if (batch.size() == 1 && batch.front()->outside_transaction()) return read_alone(connection, *batch.front());
    if (batch.size() > 1) {
        try {
            commit(connection, batch, false);
            return;
        } catch (const pqxx::broken_connection&) {
            throw;
        } catch (const pqxx::in_doubt_error&) {
            throw;
        } catch (...) {
            // Some write failed; nothing of the group was committed. Cancelled, it is not
            // run again.
            if (cancelling_) throw;
        }
    }
    commit(connection, batch, batch.size() > 1);
}

// A read of Pool::read, whose statements commit one by one: no BEGIN or COMMIT to wait for.
void Pool::read_alone(Connection& connection, Job& job) {
    InUse in_use;
    pqxx::nontransaction statements(connection.pq);
    Tx tx(statements);
    job.invoke(tx);
    statements.commit();
    in_use.end();
    job.succeed();
}

// One transaction for the whole batch. No job is completed before the outcome of the
// COMMIT is known, so a batch run again never answers a caller twice. Unless isolated,
// the jobs of one writer that are next to each other run as one write.
void Pool::commit(Connection& connection, Batch& batch, bool isolated) {
    Transaction transaction(connection);
    Tx tx(transaction.work);
    std::vector<Job*> committed;
    std::vector<std::pair<Job*, std::exception_ptr>> refused;
    const auto settle = [&](Job* job, const std::exception_ptr& refusal) {
        if (refusal) {
            refused.emplace_back(job, refusal);
        } else {
            committed.push_back(job);
        }
    };
    for (std::size_t first = 0; first < batch.size();) {
        auto& job = *batch[first];
        if (isolated) {
            if (cancelling_) throw Unavailable("server is shutting down");
            settle(&job, run_isolated(transaction, job));
            ++first;
            continue;
        }
        std::vector<Job*> together{&job};
        while (job.writer() && first + together.size() < batch.size() &&
               batch[first + together.size()]->writer() == job.writer())
            together.push_back(batch[first + together.size()].get());
        job.invoke_together(tx, together);
        for (auto* done : together) settle(done, done->refusal());
        first += together.size();
    }
    {
        // Each caller resumes as soon as its own effects are applied (not after the whole
        // group's): its next request then sees them, and a hot chat's acks do not wait for
        // the fan-out of every later message of the group.
        const auto locks = lock_orders(committed);
        transaction.commit();
        // Committed is final: nothing may escape from here, or the group would be run again
        // (execute, execute_with_retry) and its callers answered twice.
        for (auto* job : committed) {
            try {
                job->after_commit();
            } catch (const std::exception& e) {
                pool_metrics().effects_failed.inc();
                spdlog::error("the effects of a committed write failed (its caller is still answered): {}", e.what());
            }
            job->succeed();
        }
    }
    for (auto& [job, error] : refused) job->fail(error);
}

}  // namespace confab::store
