#include "confab/store/calls.hpp"
#include "confab/store/sql.hpp"

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
               "INSERT INTO call_owners (chat_id, call_id, process_id) VALUES ($1::uuid, $2::uuid, $3) "
               "ON CONFLICT (chat_id) DO NOTHING");
    tx.prepare("call_owner_release", "DELETE FROM call_owners WHERE call_id = $1::uuid");
    tx.prepare("call_owner_of_chat", "SELECT call_id::text, process_id FROM call_owners WHERE chat_id = $1::uuid");
    tx.prepare("call_owner_of_call", "SELECT call_id::text, process_id FROM call_owners WHERE call_id = $1::uuid");
}

bool claim(Tx& tx, const std::string& chat_id, const std::string& call_id, const std::string& process_id) {
    tx.exec_prepared("call_owner_process", process_id);
    return tx.exec_prepared("call_owner_claim", chat_id, call_id, process_id).affected_rows() > 0;
}

void release(Tx& tx, const std::string& call_id) { tx.exec_prepared("call_owner_release", call_id); }

std::optional<Owner> of_chat(Tx& tx, const std::string& chat_id) {
    return owner_of(tx.exec_prepared("call_owner_of_chat", chat_id));
}

std::optional<Owner> of_call(Tx& tx, const std::string& call_id) {
    return owner_of(tx.exec_prepared("call_owner_of_call", call_id));
}

}  // namespace confab::store::calls
