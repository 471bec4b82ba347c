#pragma once

#include "confab/store/pool.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <string>

namespace confab::store {

// Prepares every repository's statements on a fresh connection.
void prepare_statements(pqxx::connection& connection);

// For the rest of the transaction, prepared statements run their generic plan, made once per
// connection. The set-based statements of batched writes take about a millisecond to plan,
// twice what they take to run, and PostgreSQL would plan them afresh for every call
// (their plans for small arrays look cheaper than the generic one). Statements whose plans
// depend on their values (LIKE prefixes, optional filters) are reads that never run in a
// write's transaction.
void plan_once(pqxx::transaction_base& tx);

// True when the database answers and has every migration this binary knows.
boost::asio::awaitable<bool> is_ready(Pool& pool);

}  // namespace confab::store
