#pragma once

#include "confab/domain/stats_service.hpp"

#include <pqxx/connection>
#include <pqxx/transaction_base>

namespace confab::store::stats {

void prepare(pqxx::connection& connection);

bool is_admin(pqxx::transaction_base& tx, const std::string& user_id);
using Window = std::pair<domain::Timestamp, domain::Timestamp>;
// RFC 3339 texts already checked for shape, parsed by PostgreSQL ("now" for `to`; an empty
// `from` is seven days before `to`). Throws pqxx::data_exception for impossible dates.
Window window(pqxx::transaction_base& tx, const std::string& from, const std::string& to);
domain::Stats compute(pqxx::transaction_base& tx, const Window& window, const std::string& bucket);
// Sets or clears a user's server-admin flag; false when no such user.
bool set_admin(pqxx::transaction_base& tx, const std::string& username, bool admin);

}  // namespace confab::store::stats
