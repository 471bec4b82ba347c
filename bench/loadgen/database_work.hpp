#pragma once

#include <optional>
#include <string>

namespace confab::bench {

// PostgreSQL's cumulative counters for one database: what its transactions did. A window's
// work is the difference of two samples. `statements` counts top-level statements
// (BEGIN and COMMIT included) and is unknown without pg_stat_statements.
struct DatabaseWork {
    double commits = 0;
    double rows_inserted = 0;
    double rows_updated = 0;
    std::optional<double> statements;
};

DatabaseWork sample_database_work(const std::string& database_url);

DatabaseWork operator-(const DatabaseWork& after, const DatabaseWork& before);

// VACUUM ANALYZE of the whole database: what the last writes left for autovacuum is done now,
// not during a measurement, and reads find the same settled state in every database so treated.
void vacuum_analyze(const std::string& database_url);

}  // namespace confab::bench
