#include "confab/store/pool.hpp"

#include "confab/obs/metrics.hpp"

#include <pqxx/except>
#include <spdlog/spdlog.h>

namespace confab::store {
namespace {

struct PoolMetrics {
    obs::Gauge& waiting = obs::metrics().db_waiting.only();
    obs::Gauge& in_use = obs::metrics().db_in_use.only();
    obs::Histogram& duration = obs::metrics().db_duration.only();
    obs::Counter& unavailable = obs::metrics().db_errors.with({"unavailable"});
    obs::Counter& broken = obs::metrics().db_errors.with({"broken_connection"});
    obs::Counter& rolled_back = obs::metrics().db_errors.with({"rolled_back"});
};

PoolMetrics& pool_metrics() {
    static PoolMetrics instance;
    return instance;
}

// libpq takes connect_timeout (whole seconds) from the URI's query or a key=value string.
std::string with_connect_timeout(const std::string& url, std::chrono::milliseconds timeout) {
    const auto seconds = std::max<long long>(1, std::chrono::ceil<std::chrono::seconds>(timeout).count());
    if (url.find("connect_timeout") != std::string::npos) return url;
    if (url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return url + (url.find('?') == std::string::npos ? "?" : "&") + "connect_timeout=" + std::to_string(seconds);
    }
    return url + " connect_timeout=" + std::to_string(seconds);
}

}  // namespace

Pool::Pool(std::string url, unsigned size, std::chrono::milliseconds connect_timeout, Prepare prepare)
    : conninfo_(with_connect_timeout(url, connect_timeout)), prepare_(std::move(prepare)) {
    threads_.reserve(size);
    for (unsigned i = 0; i < size; ++i) threads_.emplace_back([this] { worker(); });
}

Pool::~Pool() { stop(); }

void Pool::stop() {
    std::deque<std::unique_ptr<Job>> abandoned;
    {
        std::lock_guard lock(mutex_);
        if (stopping_ && threads_.empty()) return;
        stopping_ = true;
        abandoned.swap(queue_);
    }
    wake_.notify_all();
    pool_metrics().waiting.add(-static_cast<std::int64_t>(abandoned.size()));
    for (auto& job : abandoned) job->fail(std::make_exception_ptr(Unavailable("server is shutting down")));
    for (auto& thread : threads_) thread.join();
    threads_.clear();
}

void Pool::submit(std::unique_ptr<Job> job) {
    {
        std::lock_guard lock(mutex_);
        if (!stopping_) {
            queue_.push_back(std::move(job));
            pool_metrics().waiting.add(1);
            wake_.notify_one();
            return;
        }
    }
    job->fail(std::make_exception_ptr(Unavailable("server is shutting down")));
}

std::unique_ptr<pqxx::connection> Pool::connect() {
    try {
        auto connection = std::make_unique<pqxx::connection>(conninfo_);
        prepare_(*connection);
        return connection;
    } catch (const std::exception& e) {
        spdlog::warn("database connection failed: {}", e.what());
        return nullptr;
    }
}

void Pool::worker() {
    std::unique_ptr<pqxx::connection> connection;
    for (;;) {
        std::unique_ptr<Job> job;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;
            job = std::move(queue_.front());
            queue_.pop_front();
        }
        auto& metrics = pool_metrics();
        metrics.waiting.add(-1);
        metrics.in_use.add(1);
        const auto started = std::chrono::steady_clock::now();
        execute_with_retry(connection, *job);
        metrics.duration.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        metrics.in_use.add(-1);
    }
}

// A connection found broken before the transaction committed is replaced and the job
// tried again on the fresh one: nothing of it can have been committed. So is a job whose
// transaction PostgreSQL rolled back to break a deadlock. A failure during COMMIT itself
// (in_doubt_error) is never retried.
void Pool::execute_with_retry(std::unique_ptr<pqxx::connection>& connection, Job& job) {
    constexpr int attempts = 3;
    for (int attempt = 0; attempt < attempts; ++attempt) {
        if (!connection || !connection->is_open()) connection = connect();
        if (!connection) {
            pool_metrics().unavailable.inc();
            job.fail(std::make_exception_ptr(Unavailable("database unavailable")));
            return;
        }
        try {
            job.execute(*connection);
            return;
        } catch (const pqxx::in_doubt_error&) {
            connection.reset();
            job.fail(std::make_exception_ptr(Unavailable("database connection lost during commit")));
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
        } catch (...) {
            job.fail(std::current_exception());
            return;
        }
    }
    job.fail(std::make_exception_ptr(Unavailable("database unavailable")));
}

}  // namespace confab::store
