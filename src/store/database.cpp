#include "confab/store/database.hpp"
#include "confab/store/sql.hpp"

#include "confab/obs/metrics.hpp"

#include "confab/store/accounts.hpp"
#include "confab/store/bans.hpp"
#include "confab/store/broadcast_lists.hpp"
#include "confab/store/calls.hpp"
#include "confab/store/chats.hpp"
#include "confab/store/invite_links.hpp"
#include "confab/store/media.hpp"
#include "confab/store/mentions.hpp"
#include "confab/store/messages.hpp"
#include "confab/store/migrations.hpp"
#include "confab/store/polls.hpp"
#include "confab/store/presence.hpp"
#include "confab/store/push.hpp"
#include "confab/store/reports.hpp"
#include "confab/store/roles.hpp"
#include "confab/store/scheduled.hpp"
#include "confab/store/search.hpp"
#include "confab/store/stats.hpp"
#include "confab/store/templates.hpp"
#include "confab/store/translations.hpp"
#include "confab/store/user_blocks.hpp"
#include "confab/store/users.hpp"

#include <pqxx/connection>
#include <pqxx/except>
#include <pqxx/transaction>

namespace confab::store {

void prepare_statements(Tx& tx) {
    // The form CONFAB_TIME's columns are read in (rows.hpp), whatever the server's default;
    // a session setting, so it outlasts the transaction that registers the statements.
    tx.exec0("SET datestyle = ISO");
    users::prepare(tx);
    tokens::prepare(tx);
    identities::prepare(tx);
    chats::prepare(tx);
    members::prepare(tx);
    invitations::prepare(tx);
    bans::prepare(tx);
    roles::prepare(tx);
    invite_links::prepare(tx);
    user_blocks::prepare(tx);
    broadcast_lists::prepare(tx);
    reports::prepare(tx);
    messages::prepare(tx);
    mentions::prepare(tx);
    push::prepare(tx);
    media::prepare(tx);
    search::prepare(tx);
    stats::prepare(tx);
    scheduled::prepare(tx);
    templates::prepare(tx);
    polls::prepare(tx);
    presence::prepare(tx);
    calls::prepare(tx);
    translations::prepare(tx);
    accounts::prepare(tx);
    exports::prepare(tx);
    tx.prepare("schema_version", "SELECT coalesce(max(version), 0) FROM schema_migrations");
}

pqxx::connection connect(const std::string& database_url) {
    try {
        return pqxx::connection(database_url);
    } catch (const pqxx::broken_connection& e) {
        throw Unavailable(e.what());
    }
}

void run_alone(const std::string& database_url, const std::function<void(Tx&)>& fn) {
    auto connection = connect(database_url);
    pqxx::work work(connection);
    Tx tx(work);
    prepare_statements(tx);
    fn(tx);
    work.commit();
}

boost::asio::awaitable<std::optional<std::string>> ReadinessProbe::problem() {
    {
        std::lock_guard lock(mutex_);
        const auto now = Clock::now();
        if (probed_ && now - *probed_ < interval_) co_return problem_;
        probed_ = now;  // taken: callers until the next interval get the answer we have
    }
    obs::metrics().readiness_probes.only().inc();
    std::optional<std::string> found;
    try {
        const int version = co_await pool_.run([](Tx& tx) { return tx.exec_prepared1("schema_version")[0].as<int>(); });
        const int needed = latest_version(embedded_migrations());
        if (version < needed)
            found = "database schema at version " + std::to_string(version) + ", this binary needs " +
                    std::to_string(needed);
    } catch (const std::exception& e) {
        found = std::string("database unreachable: ") + e.what();
    }
    {
        std::lock_guard lock(mutex_);
        problem_ = found;
    }
    co_return found;
}

}  // namespace confab::store
