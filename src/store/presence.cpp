#include "confab/store/presence.hpp"
#include "confab/store/sql.hpp"

#include "confab/store/rows.hpp"

namespace confab::store::presence {
namespace {

// The first key of the advisory locks presence takes (the second is the user's hash), so they
// cannot collide with another feature's.
constexpr int lock_space = 0x70726573;  // "pres"

void lock_user(Tx& tx, const std::string& user_id) { tx.exec_prepared("presence_lock", lock_space, user_id); }

bool held_elsewhere(Tx& tx, const std::string& user_id, const std::string& process_id) {
    return tx.exec_prepared1("presence_held_elsewhere", user_id, process_id)[0].as<bool>();
}

}  // namespace

void prepare(Tx& tx) {
    tx.prepare("presence_lock", "SELECT pg_advisory_xact_lock($1::int, hashtext($2::text))");
    tx.prepare("presence_held_elsewhere",
               "SELECT EXISTS (SELECT 1 FROM presence_connections WHERE user_id = $1::uuid AND process_id <> $2)");
    tx.prepare("presence_hold",
               "INSERT INTO presence_connections (user_id, process_id) VALUES ($1::uuid, $2) ON CONFLICT DO NOTHING");
    tx.prepare("presence_release", "DELETE FROM presence_connections WHERE user_id = $1::uuid AND process_id = $2");
    tx.prepare("presence_heartbeat", "UPDATE presence_processes SET seen_at = now() WHERE process_id = $1");
    tx.prepare("presence_register",
               "INSERT INTO presence_processes (process_id) VALUES ($1) "
               "ON CONFLICT (process_id) DO UPDATE SET seen_at = now()");
    tx.prepare("presence_silent",
               "DELETE FROM presence_processes WHERE seen_at < now() - $1::bigint * interval '1 millisecond' "
               "RETURNING process_id");
    tx.prepare("presence_users_of",
               "SELECT DISTINCT user_id::text FROM presence_connections WHERE process_id = ANY($1::text[]) "
               "ORDER BY 1");
    tx.prepare("presence_release_all",
               "DELETE FROM presence_connections WHERE user_id = $1::uuid AND process_id = ANY($2::text[])");
    tx.prepare("presence_held_anywhere", "SELECT" CONFAB_ONLINE("$1::uuid"));
}

Change set_held(Tx& tx, const std::string& user_id, const std::string& process_id,
                const std::function<bool()>& held_now) {
    lock_user(tx, user_id);
    const bool elsewhere = held_elsewhere(tx, user_id, process_id);
    if (held_now()) {
        const bool added = tx.exec_prepared("presence_hold", user_id, process_id).affected_rows() > 0;
        return {elsewhere || !added, true};
    }
    const bool removed = tx.exec_prepared("presence_release", user_id, process_id).affected_rows() > 0;
    return {elsewhere || removed, elsewhere};
}

bool heartbeat(Tx& tx, const std::string& process_id) {
    if (tx.exec_prepared("presence_heartbeat", process_id).affected_rows() > 0) return true;
    tx.exec_prepared("presence_register", process_id);
    return false;
}

std::vector<std::string> sweep(Tx& tx, std::chrono::milliseconds timeout) {
    std::vector<std::optional<std::string>> silent;
    for (const auto& row : tx.exec_prepared("presence_silent", static_cast<long long>(timeout.count())))
        silent.emplace_back(row[0].as<std::string>());
    if (silent.empty()) return {};
    const auto processes = text_array(silent);
    std::vector<std::string> gone;
    // In user order, the order every sweeper locks in, so that two sweeping at once cannot deadlock.
    for (const auto& row : tx.exec_prepared("presence_users_of", processes)) {
        const auto user_id = row[0].as<std::string>();
        lock_user(tx, user_id);
        tx.exec_prepared("presence_release_all", user_id, processes);
        if (!online(tx, user_id)) gone.push_back(user_id);
    }
    return gone;
}

bool online(Tx& tx, const std::string& user_id) {
    return tx.exec_prepared1("presence_held_anywhere", user_id)[0].as<bool>();
}

}  // namespace confab::store::presence
