#pragma once

#include "confab/store/migrations.hpp"
#include "support/server.hpp"

#include <memory>
#include <string>

namespace confab::test {

// A database of the test's own at the latest schema (after CONFAB_REQUIRE_DATABASE).
inline std::unique_ptr<TestDatabase> migrated_database() {
    auto database = std::make_unique<TestDatabase>();
    store::apply_migrations(database->url(), store::embedded_migrations());
    return database;
}

// Adds a user named `name` (its display name too); its id.
inline std::string add_user(const TestDatabase& database, const std::string& name) {
    return database
        .query_value("insert into users (username, display_name, password_hash) values ('" + name + "', '" + name +
                     "', 'x') returning id")
        .value_or("");
}

}  // namespace confab::test
