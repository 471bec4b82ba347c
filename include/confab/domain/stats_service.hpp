#pragma once

#include "confab/domain/model.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>

namespace confab::store {
class Pool;
}

namespace confab::domain {

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
