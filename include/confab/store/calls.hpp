#pragma once

#include "confab/store/tx.hpp"

#include <optional>
#include <string>

// Which running process of a cluster owns each chat's call (migrations/0036_call_owners.sql).
namespace confab::store::calls {

void prepare(Tx& tx);

// Records the process as the owner of the chat's new call; false when the chat already has
// one (owned by a process that is not yet swept as silent).
bool claim(Tx& tx, const std::string& chat_id, const std::string& call_id, const std::string& process_id);
// The call ended (or never started): its chat is free.
void release(Tx& tx, const std::string& call_id);

struct Owner {
    std::string call_id;
    std::string process_id;
};
std::optional<Owner> of_chat(Tx& tx, const std::string& chat_id);
std::optional<Owner> of_call(Tx& tx, const std::string& call_id);

}  // namespace confab::store::calls
