#include "confab/store/database.hpp"

#include "confab/store/chats.hpp"
#include "confab/store/media.hpp"
#include "confab/store/messages.hpp"
#include "confab/store/migrations.hpp"
#include "confab/store/stats.hpp"
#include "confab/store/users.hpp"

namespace confab::store {

void prepare_statements(pqxx::connection& connection) {
    users::prepare(connection);
    tokens::prepare(connection);
    chats::prepare(connection);
    members::prepare(connection);
    invitations::prepare(connection);
    messages::prepare(connection);
    media::prepare(connection);
    stats::prepare(connection);
    connection.prepare("schema_version", "SELECT coalesce(max(version), 0) FROM schema_migrations");
}

void plan_once(pqxx::transaction_base& tx) { tx.exec0("SET LOCAL plan_cache_mode = force_generic_plan"); }

boost::asio::awaitable<bool> is_ready(Pool& pool) {
    try {
        const int version = co_await pool.run(
            [](pqxx::transaction_base& tx) { return tx.exec_prepared1("schema_version")[0].as<int>(); });
        co_return version >= latest_version(embedded_migrations());
    } catch (const std::exception&) {
        co_return false;
    }
}

}  // namespace confab::store
