#pragma once

#include "confab/store/pool.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

namespace confab::store {

// Prepares every repository's statements on a fresh connection.
void prepare_statements(Tx& tx);

// Runs fn in one transaction on a connection of its own, every statement prepared: for
// commands run outside the server (`confab admin`). Throws Unavailable when the database
// cannot be reached.
void run_alone(const std::string& database_url, const std::function<void(Tx&)>& fn);

// Whether the database answers and has every migration this binary knows: nullopt when it
// does, else why not. The database is asked at most once per `interval`, however often this
// is called (GET /readyz is unauthenticated, so a flood of it must not become one query
// each); in between, and while one probe is running, the last answer is given.
class ReadinessProbe {
public:
    ReadinessProbe(Pool& pool, std::chrono::milliseconds interval) : pool_(pool), interval_(interval) {}

    boost::asio::awaitable<std::optional<std::string>> problem();

private:
    using Clock = std::chrono::steady_clock;

    Pool& pool_;
    const std::chrono::milliseconds interval_;
    std::mutex mutex_;
    std::optional<Clock::time_point> probed_;  // when the last probe started
    std::optional<std::string> problem_ = "not probed yet";
};

}  // namespace confab::store
