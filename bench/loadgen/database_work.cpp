#include "database_work.hpp"

#include <pqxx/pqxx>

namespace confab::bench {

DatabaseWork sample_database_work(const std::string& database_url) {
    pqxx::connection c(database_url);
    pqxx::nontransaction tx(c);
    const auto counters = tx.exec1(
        "SELECT xact_commit, tup_inserted, tup_updated FROM pg_stat_database WHERE datname = current_database()");
    DatabaseWork work{counters[0].as<double>(), counters[1].as<double>(), counters[2].as<double>(), std::nullopt};
    if (tx.exec1("SELECT to_regclass('pg_stat_statements') IS NOT NULL")[0].as<bool>())
        work.statements = tx.exec1(
                                "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements "
                                "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())")[0]
                              .as<double>();
    return work;
}

void vacuum_analyze(const std::string& database_url) {
    pqxx::connection c(database_url);
    pqxx::nontransaction(c).exec0("VACUUM ANALYZE");
}

DatabaseWork operator-(const DatabaseWork& after, const DatabaseWork& before) {
    DatabaseWork work{after.commits - before.commits, after.rows_inserted - before.rows_inserted,
                      after.rows_updated - before.rows_updated, std::nullopt};
    if (after.statements && before.statements) work.statements = *after.statements - *before.statements;
    return work;
}

}  // namespace confab::bench
