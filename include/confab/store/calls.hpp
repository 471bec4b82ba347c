#pragma once

#include "confab/model/user.hpp"
#include "confab/store/tx.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

// Which running process of a cluster owns each chat's call, and who is in each call anywhere
// (migrations/0036_call_owners.sql, 0037_call_failover.sql).
namespace confab::store::calls {

void prepare(Tx& tx);

// What the cluster records of a new call, so that another node can end it if its owner dies.
struct NewCall {
    std::string chat_id;
    std::string call_id;
    std::string kind;  // voice | video
    bool group = false;
    std::string caller_id;
    model::Timestamp started_at;
};

struct Claim {
    enum class Result { claimed, caller_in_call, call_running } result = Result::claimed;
    // Claimed: the users asked about who are in a call somewhere (they are not rung).
    std::vector<std::string> busy;
};

// Records the process as the owner of the chat's new call, with the caller as its first
// participant; refused when the caller is in a call anywhere, or the chat already has one (owned
// by a process that is not yet swept as silent).
Claim claim(Tx& tx, const NewCall& call, const std::string& process_id, const std::vector<std::string>& callees);
// The call ended (or never started): its chat and its participants are free.
void release(Tx& tx, const std::string& call_id);

enum class Seat { taken, already_in_this_call, in_another_call, call_gone };
struct Seating {
    Seat seat;
    // How many times the user has entered the call on this seat, this time included (taken or
    // already in this call): what free_seat frees up to.
    std::int64_t entries = 0;
};
// The user enters the call (an answer or a join): one call per user across the cluster.
Seating take_seat(Tx& tx, const std::string& user_id, const std::string& call_id);
// The user left the call (or never entered it) after entering it `entries` times: the seat is
// freed, unless they entered it again since (a group call left and joined again at once).
void free_seat(Tx& tx, const std::string& user_id, const std::string& call_id, std::int64_t entries);
// The call's first answer, for the duration of a call whose owner dies.
void answered(Tx& tx, const std::string& call_id, model::Timestamp at);

struct Owner {
    std::string call_id;
    std::string process_id;
};
std::optional<Owner> of_chat(Tx& tx, const std::string& chat_id);
std::optional<Owner> of_call(Tx& tx, const std::string& call_id);

// A call whose owner process was swept as silent, as the cluster recorded it.
struct Lost {
    NewCall call;
    std::optional<model::Timestamp> answered_at;
    std::vector<std::string> participants;
};
// Deletes the calls whose owner process is gone and returns them: of nodes sweeping at once,
// each lost call is returned to exactly one.
std::vector<Lost> take_lost(Tx& tx);
// The calls recorded as owned by the process.
std::vector<std::string> owned_by(Tx& tx, const std::string& process_id);

}  // namespace confab::store::calls
