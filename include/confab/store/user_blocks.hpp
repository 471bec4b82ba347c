#pragma once

#include "confab/model/chat.hpp"
#include "confab/model/user_block.hpp"
#include "confab/store/tx.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

// Who blocks whom (docs/api.md, Blocking). A change bumps the access version of the pair's
// direct chat (migrations/0025_user_blocks.sql).
namespace confab::store::user_blocks {

void prepare(Tx& tx);

// False when the blocker already blocked the user.
bool insert(Tx& tx, const std::string& blocker_id, const std::string& blocked_id);
// False when the blocker did not block the user.
bool remove(Tx& tx, const std::string& blocker_id, const std::string& blocked_id);
// Up to `limit` users the blocker blocks, newest block first, each with its list position,
// from after `before_position` (none: from the newest).
std::vector<std::pair<model::BlockedUser, std::int64_t>> list(Tx& tx, const std::string& blocker_id,
                                                              std::optional<std::int64_t> before_position, int limit);
// The block between two users as `user_id` sees it.
model::DirectBlock between(Tx& tx, const std::string& user_id, const std::string& other_id);
// Everyone the user blocks or who blocks the user.
std::vector<std::string> related(Tx& tx, const std::string& user_id);

}  // namespace confab::store::user_blocks
