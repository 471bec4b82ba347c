#pragma once

#include "confab/model/broadcast_list.hpp"
#include "confab/store/tx.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

// Broadcast lists and their recipients (migrations/0028_broadcast_lists.sql). Who may use a
// list is domain::rules::may_use_broadcast_list's to judge, from the owner these return.
namespace confab::store::broadcast_lists {

void prepare(Tx& tx);

// A new list without recipients.
model::BroadcastList insert(Tx& tx, const std::string& owner_id, const std::string& name);
std::optional<model::BroadcastList> find(Tx& tx, const std::string& list_id);
// Locks the list for a change (its recipients counted after the lock stay so); its owner, or
// none when there is no such list.
std::optional<std::string> lock(Tx& tx, const std::string& list_id);
// How many lists the owner has, their user row locked until the transaction ends (so that
// two creations count one after the other).
std::size_t count_locked(Tx& tx, const std::string& owner_id);
// Up to `limit` of the owner's lists, newest first, each with its list position, from after
// `before_position` (none: from the newest).
std::vector<std::pair<model::BroadcastList, std::int64_t>> list(Tx& tx, const std::string& owner_id,
                                                                std::optional<std::int64_t> before_position, int limit);
void rename(Tx& tx, const std::string& list_id, const std::string& name);
void remove(Tx& tx, const std::string& list_id);
// Adds the users not yet on the list, after those already on it, and touches updated_at.
void add_recipients(Tx& tx, const std::string& list_id, const std::vector<std::string>& user_ids);
// False when the user was not on the list.
bool remove_recipient(Tx& tx, const std::string& list_id, const std::string& user_id);

}  // namespace confab::store::broadcast_lists
