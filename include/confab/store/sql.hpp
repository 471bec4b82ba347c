#pragma once

// The statements a Tx runs: for the store's repositories (and the store's own tests) only.

#include "confab/model/error.hpp"
#include "confab/store/tx.hpp"

#include <pqxx/connection>
#include <pqxx/connection_base>
#include <pqxx/except>
#include <pqxx/result>
#include <pqxx/row>
#include <pqxx/transaction_base>

#include <string>
#include <utility>

namespace confab::store {

// A connection of its own, outside the Pool (migrations, `confab admin`); Unavailable when
// the database cannot be reached, as for the Pool.
pqxx::connection connect(const std::string& database_url);

// Statements throw the store's own errors (tx.hpp) for what callers act on; the rest of
// libpqxx's errors (a broken connection, a deadlock) are the Pool's to handle. A row that
// would newly name a deleted account (migrations/0044_deleted_account_guard.sql) is
// `404 user not found`, whichever write tried it.
class Tx {
public:
    explicit Tx(pqxx::transaction_base& transaction) : transaction_(transaction) {}
    Tx(const Tx&) = delete;
    Tx& operator=(const Tx&) = delete;

    template <class... Args>
    pqxx::result exec_prepared(const std::string& statement, Args&&... args) {
        return translated([&] { return transaction_.exec_prepared(statement, std::forward<Args>(args)...); });
    }
    template <class... Args>
    pqxx::row exec_prepared1(const std::string& statement, Args&&... args) {
        return translated([&] { return transaction_.exec_prepared1(statement, std::forward<Args>(args)...); });
    }
    template <class... Args>
    pqxx::result exec_params(const std::string& query, Args&&... args) {
        return translated([&] { return transaction_.exec_params(query, std::forward<Args>(args)...); });
    }
    pqxx::result exec(const std::string& query) {
        return translated([&] { return transaction_.exec(query); });
    }
    pqxx::result exec0(const std::string& query) {
        return translated([&] { return transaction_.exec0(query); });
    }
    pqxx::row exec1(const std::string& query) {
        return translated([&] { return transaction_.exec1(query); });
    }
    template <class T>
    std::string quote(const T& value) const {
        return transaction_.quote(value);
    }
    // Registers a statement on the transaction's connection, prepared on first use.
    void prepare(const std::string& name, const std::string& definition) {
        transaction_.conn().prepare(name, definition);
    }

private:
    // Raised by the trigger refuse_deleted_account.
    static constexpr const char* deleted_account_state = "CF404";

    template <class Statement>
    static auto translated(Statement statement) -> decltype(statement()) {
        try {
            return statement();
        } catch (const pqxx::unique_violation& e) {
            throw Duplicate(e.what());
        } catch (const pqxx::data_exception& e) {
            throw InvalidValue(e.what());
        } catch (const pqxx::sql_error& e) {
            if (e.sqlstate() == deleted_account_state) throw model::not_found("user");
            throw;
        }
    }

    pqxx::transaction_base& transaction_;
};

}  // namespace confab::store
