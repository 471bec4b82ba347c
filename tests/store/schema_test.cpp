// The schema as migrated, against a real PostgreSQL: what its shape must keep true as tables
// are added.

#include "fresh_database.hpp"
#include "support/server.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace confab::store {
namespace {

// A foreign key acts on the rows naming a deleted row (set null, cascade) by looking them up
// by its column: without an index led by that column, each deleted row costs a scan of the
// naming table, and deleting a chat of 500 messages took seconds while holding the commits of
// every other chat queued with it. Users are never deleted (an account leaves a tombstone), so
// the keys naming a user need no index for that.
TEST(Schema, EveryForeignKeyThatActsOnDeletedRowsIsIndexed) {
    CONFAB_REQUIRE_DATABASE();
    const auto database = test::migrated_database();
    const auto unindexed = database->query_value(
        "SELECT coalesce(string_agg(c.conrelid::regclass || '.' || a.attname, ', '), '') "
        "FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
        "WHERE c.contype = 'f' AND c.confdeltype IN ('c', 'n', 'd') AND c.confrelid <> 'users'::regclass "
        "AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid AND i.indkey[0] = c.conkey[1])");
    EXPECT_EQ(unindexed.value_or("?"), "") << "foreign keys without an index led by their column";
}

}  // namespace
}  // namespace confab::store
