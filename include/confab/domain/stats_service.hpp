#pragma once

#include "confab/domain/user.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace confab::store {
class Pool;
}

namespace confab::domain {

struct MediaUsage {
    std::int64_t count = 0;
    std::int64_t bytes = 0;
};

struct StatsBucket {
    Timestamp start;
    std::int64_t messages = 0;
    std::int64_t active_chats = 0;
    std::int64_t active_users = 0;
};

struct Stats {
    Timestamp from, to;
    std::string bucket;  // hour|day
    std::vector<StatsBucket> buckets;
    std::int64_t messages = 0;
    std::int64_t active_chats = 0;
    std::map<std::string, MediaUsage> media;  // by kind
    std::optional<double> response_median_ms, response_p95_ms;
    std::int64_t response_samples = 0;
    std::int64_t daily_active = 0, weekly_active = 0, monthly_active = 0;  // windows ending at `to`
};

struct StatsQuery {
    std::optional<std::string> from, to;  // RFC 3339
    std::string bucket = "day";
};

// The product metrics of the analytics events, for server admins only.
class StatsService {
public:
    explicit StatsService(store::Pool& pool) : pool_(pool) {}

    boost::asio::awaitable<Stats> stats(std::string actor, StatsQuery query);

private:
    store::Pool& pool_;
};

}  // namespace confab::domain
