#pragma once

#include <string>
#include <vector>

namespace confab::store {

struct Migration {
    int version;
    std::string name;
    std::string sql;
};

// migrations/NNNN_name.sql, compiled into the binary (cmake/embed_migrations.cmake), in order.
const std::vector<Migration>& embedded_migrations();

// Applies every migration not yet recorded in schema_migrations, each in its own
// transaction, under a session advisory lock so that servers starting together apply
// each migration once. Blocking: call before serving. Returns how many were applied;
// throws Unavailable when the database cannot be reached.
int apply_migrations(const std::string& database_url, const std::vector<Migration>& migrations);

// The newest version the binary knows; readiness requires the database to have it.
int latest_version(const std::vector<Migration>& migrations);

}  // namespace confab::store
