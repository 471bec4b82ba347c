#include "confab/store/calls.hpp"
#include "confab/store/sql.hpp"

#include "confab/store/rows.hpp"

namespace confab::store::calls {
namespace {

std::optional<Owner> owner_of(const pqxx::result& rows) {
    if (rows.empty()) return std::nullopt;
    return Owner{rows[0][0].as<std::string>(), rows[0][1].as<std::string>()};
}

}  // namespace

void prepare(Tx& tx) {
    // The process row first: a claim before the process's first heartbeat still has its owner.
    tx.prepare("call_owner_process",
               "INSERT INTO presence_processes (process_id) VALUES ($1) ON CONFLICT (process_id) DO NOTHING");
    tx.prepare("call_owner_claim",
               "INSERT INTO call_owners (chat_id, call_id, process_id, kind, is_group, caller_id, started_at) "
               "VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6::uuid, to_timestamp($7::bigint / 1000.0)) "
               "ON CONFLICT (chat_id) DO NOTHING");
    tx.prepare("call_owner_release", "DELETE FROM call_owners WHERE call_id = $1::uuid");
    tx.prepare("call_owner_of_chat", "SELECT call_id::text, process_id FROM call_owners WHERE chat_id = $1::uuid");
    tx.prepare("call_owner_of_call", "SELECT call_id::text, process_id FROM call_owners WHERE call_id = $1::uuid");
    tx.prepare("call_owner_answered",
               "UPDATE call_owners SET answered_at = to_timestamp($2::bigint / 1000.0) "
               "WHERE call_id = $1::uuid AND answered_at IS NULL");
    tx.prepare("call_owners_of_process", "SELECT call_id::text FROM call_owners WHERE process_id = $1");
    // The delete is the claim on a lost call: a second node deleting at once waits for the first
    // and then finds nothing. The participants are read in the same snapshot, before their rows
    // go with the call's.
    tx.prepare("call_owners_take_lost",
               "WITH lost AS (DELETE FROM call_owners c WHERE NOT EXISTS "
               "(SELECT 1 FROM presence_processes p WHERE p.process_id = c.process_id) RETURNING c.*) "
               "SELECT chat_id::text, call_id::text, kind, is_group, caller_id::text, "  //
               CONFAB_TIME("started_at") ", " CONFAB_TIME("answered_at") ", "
               "(SELECT string_agg(p.user_id::text, ',' ORDER BY p.user_id) FROM call_participants p "
               "WHERE p.call_id = lost.call_id) "
               "FROM lost WHERE caller_id IS NOT NULL AND kind IS NOT NULL");
    tx.prepare("call_seat_in_call", "SELECT call_id::text FROM call_participants WHERE user_id = $1::uuid");
    tx.prepare("call_seat_take",
               "INSERT INTO call_participants (user_id, call_id) SELECT $1::uuid, $2::uuid "
               "WHERE EXISTS (SELECT 1 FROM call_owners WHERE call_id = $2::uuid) ON CONFLICT (user_id) "
               "DO UPDATE SET entries = call_participants.entries + 1 WHERE call_participants.call_id = $2::uuid "
               "RETURNING entries");
    tx.prepare("call_seat_free",
               "DELETE FROM call_participants WHERE user_id = $1::uuid AND call_id = $2::uuid AND entries <= $3");
    tx.prepare("call_seats_busy",
               "SELECT user_id::text FROM call_participants WHERE user_id = ANY($1::uuid[]) ORDER BY 1");
}

Claim claim(Tx& tx, const NewCall& call, const std::string& process_id, const std::vector<std::string>& callees) {
    tx.exec_prepared("call_owner_process", process_id);
    if (!tx.exec_prepared("call_seat_in_call", call.caller_id).empty()) return {Claim::Result::caller_in_call, {}};
    if (tx.exec_prepared("call_owner_claim", call.chat_id, call.call_id, process_id, call.kind, call.group,
                         call.caller_id, epoch_ms(call.started_at))
            .affected_rows() == 0)
        return {Claim::Result::call_running, {}};
    if (take_seat(tx, call.caller_id, call.call_id).seat != Seat::taken) {
        release(tx, call.call_id);  // the caller entered another call a moment ago
        return {Claim::Result::caller_in_call, {}};
    }
    Claim claimed;
    claimed.busy = first_column(tx.exec_prepared("call_seats_busy", text_array(callees)));
    return claimed;
}

void release(Tx& tx, const std::string& call_id) { tx.exec_prepared("call_owner_release", call_id); }

Seating take_seat(Tx& tx, const std::string& user_id, const std::string& call_id) {
    if (const auto entered = tx.exec_prepared("call_seat_take", user_id, call_id); !entered.empty()) {
        const auto entries = entered[0][0].as<std::int64_t>();
        return {entries == 1 ? Seat::taken : Seat::already_in_this_call, entries};
    }
    // No row of the user's: the call's own row is gone (its owner was swept as silent).
    if (tx.exec_prepared("call_seat_in_call", user_id).empty()) return {Seat::call_gone, 0};
    return {Seat::in_another_call, 0};
}

void free_seat(Tx& tx, const std::string& user_id, const std::string& call_id, std::int64_t entries) {
    tx.exec_prepared("call_seat_free", user_id, call_id, entries);
}

void answered(Tx& tx, const std::string& call_id, model::Timestamp at) {
    tx.exec_prepared("call_owner_answered", call_id, epoch_ms(at));
}

std::optional<Owner> of_chat(Tx& tx, const std::string& chat_id) {
    return owner_of(tx.exec_prepared("call_owner_of_chat", chat_id));
}

std::optional<Owner> of_call(Tx& tx, const std::string& call_id) {
    return owner_of(tx.exec_prepared("call_owner_of_call", call_id));
}

std::vector<Lost> take_lost(Tx& tx) {
    std::vector<Lost> lost;
    for (const auto& row : tx.exec_prepared("call_owners_take_lost")) {
        Lost call{{row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(), row[3].as<bool>(false),
                   row[4].as<std::string>(), timestamp(row[5])},
                  optional_timestamp(row[6]),
                  split_ids(row[7])};
        lost.push_back(std::move(call));
    }
    return lost;
}

std::vector<std::string> owned_by(Tx& tx, const std::string& process_id) {
    return first_column(tx.exec_prepared("call_owners_of_process", process_id));
}

}  // namespace confab::store::calls
