#pragma once

#include "confab/model/stats.hpp"

#include "confab/store/tx.hpp"

namespace confab::store::stats {

void prepare(Tx& tx);

bool is_admin(Tx& tx, const std::string& user_id);
// The rest of the transaction reads one snapshot, so that a report's parts agree with each other
// (the analytics writer commits meanwhile). Before any other statement of the transaction.
void one_snapshot(Tx& tx);
using Window = std::pair<model::Timestamp, model::Timestamp>;
// RFC 3339 texts already checked for shape, parsed by PostgreSQL ("now" for `to`; an empty
// `from` is seven days before `to`). Throws InvalidValue for impossible dates.
Window window(Tx& tx, const std::string& from, const std::string& to);
model::Stats compute(Tx& tx, const Window& window, const std::string& bucket);
// Sets or clears a user's server-admin flag; false when no such user.
bool set_admin(Tx& tx, const std::string& username, bool admin);

}  // namespace confab::store::stats
