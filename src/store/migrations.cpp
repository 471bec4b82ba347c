#include "confab/store/migrations.hpp"

#include "confab/store/sql.hpp"

#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/transaction>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace confab::store {
namespace {

// An arbitrary constant shared by every Confab server: "confab" in ASCII.
constexpr long long migration_lock_key = 0x636f6e666162;

class AdvisoryLock {
public:
    explicit AdvisoryLock(pqxx::connection& connection) : connection_(connection) {
        pqxx::nontransaction(connection_).exec("SELECT pg_advisory_lock(" + std::to_string(migration_lock_key) + ")");
    }
    ~AdvisoryLock() {
        try {
            pqxx::nontransaction(connection_)
                .exec("SELECT pg_advisory_unlock(" + std::to_string(migration_lock_key) + ")");
        } catch (const std::exception& e) {
            spdlog::warn("releasing the migration lock failed: {}", e.what());  // released at disconnect anyway
        }
    }
    AdvisoryLock(const AdvisoryLock&) = delete;
    AdvisoryLock& operator=(const AdvisoryLock&) = delete;

private:
    pqxx::connection& connection_;
};

int applied_version(pqxx::connection& connection) {
    pqxx::work tx(connection);
    tx.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version integer PRIMARY KEY, name text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())");
    const auto row = tx.exec1("SELECT coalesce(max(version), 0) FROM schema_migrations");
    tx.commit();
    return row[0].as<int>();
}

}  // namespace

int latest_version(const std::vector<Migration>& migrations) {
    int latest = 0;
    for (const auto& m : migrations) latest = std::max(latest, m.version);
    return latest;
}

int apply_migrations(const std::string& database_url, const std::vector<Migration>& migrations) {
    auto connection = connect(database_url);
    AdvisoryLock lock(connection);
    const int current = applied_version(connection);
    int applied = 0;
    for (const auto& migration : migrations) {
        if (migration.version <= current) continue;
        pqxx::work tx(connection);
        tx.exec(migration.sql);
        tx.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", migration.version,
                       migration.name);
        tx.commit();
        spdlog::info("applied migration {:04}_{}", migration.version, migration.name);
        ++applied;
    }
    return applied;
}

}  // namespace confab::store
