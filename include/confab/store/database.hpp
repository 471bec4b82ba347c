#pragma once

#include "confab/store/pool.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <string>

namespace confab::store {

// Prepares every repository's statements on a fresh connection.
void prepare_statements(pqxx::connection& connection);

// True when the database answers and has every migration this binary knows.
boost::asio::awaitable<bool> is_ready(Pool& pool);

}  // namespace confab::store
