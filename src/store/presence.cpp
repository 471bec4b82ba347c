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
    tx.prepare("presence_typing_started",
               "INSERT INTO presence_typists (process_id, chat_id, user_id) VALUES ($1, $2::uuid, $3::uuid) "
               "ON CONFLICT DO NOTHING");
    tx.prepare("presence_typing_forget",
               "DELETE FROM presence_typists WHERE process_id = $1 "
               "AND (chat_id, user_id) NOT IN (SELECT * FROM unnest($2::uuid[], $3::uuid[]))");
    tx.prepare("presence_typing_record",
               "INSERT INTO presence_typists (process_id, chat_id, user_id) "
               "SELECT $1, chat_id, user_id FROM unnest($2::uuid[], $3::uuid[]) AS typist (chat_id, user_id) "
               "ON CONFLICT DO NOTHING");
    // The statement sees the table as before its delete: a typist another live process still
    // shows is not stopped.
    tx.prepare("presence_typing_sweep",
               "WITH gone AS (DELETE FROM presence_typists WHERE process_id = ANY($1::text[]) "
               "RETURNING chat_id, user_id) "
               "SELECT DISTINCT chat_id::text, user_id::text FROM gone WHERE NOT EXISTS ("
               "SELECT 1 FROM presence_typists t WHERE t.chat_id = gone.chat_id AND t.user_id = gone.user_id "
               "AND t.process_id <> ALL($1::text[])) ORDER BY 1, 2");
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

void typing_started(Tx& tx, const std::string& process_id, const Typist& typist) {
    tx.exec_prepared("presence_typing_started", process_id, typist.chat_id, typist.user_id);
}

void typing_now(Tx& tx, const std::string& process_id, const std::vector<Typist>& typists) {
    std::vector<std::string> chats, users;
    for (const auto& typist : typists) {
        chats.push_back(typist.chat_id);
        users.push_back(typist.user_id);
    }
    const auto chat_array = uuid_array(chats), user_array = uuid_array(users);
    tx.exec_prepared("presence_typing_forget", process_id, chat_array, user_array);
    tx.exec_prepared("presence_typing_record", process_id, chat_array, user_array);
}

Swept sweep(Tx& tx, std::chrono::milliseconds timeout) {
    std::vector<std::optional<std::string>> silent;
    for (const auto& row : tx.exec_prepared("presence_silent", static_cast<long long>(timeout.count())))
        silent.emplace_back(row[0].as<std::string>());
    if (silent.empty()) return {};
    const auto processes = text_array(silent);
    Swept swept;
    // In user order, the order every sweeper locks in, so that two sweeping at once cannot deadlock.
    for (const auto& row : tx.exec_prepared("presence_users_of", processes)) {
        const auto user_id = row[0].as<std::string>();
        lock_user(tx, user_id);
        tx.exec_prepared("presence_release_all", user_id, processes);
        if (!online(tx, user_id)) swept.offline.push_back(user_id);
    }
    for (const auto& row : tx.exec_prepared("presence_typing_sweep", processes))
        swept.stopped.push_back({row[0].as<std::string>(), row[1].as<std::string>()});
    return swept;
}

bool online(Tx& tx, const std::string& user_id) {
    return tx.exec_prepared1("presence_held_anywhere", user_id)[0].as<bool>();
}

}  // namespace confab::store::presence
