#pragma once

#include "confab/model/ban.hpp"
#include "confab/model/list_page.hpp"
#include "confab/store/tx.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

// Who is banned from which group (docs/api.md, Roles and permissions).
namespace confab::store::bans {

void prepare(Tx& tx);

// Bans the user from the chat until a time (none: for good), replacing an earlier ban.
model::Ban put(Tx& tx, const std::string& chat_id, const std::string& user_id, const std::string& banned_by,
               std::optional<model::Timestamp> until);
// Lifts the user's ban; false when there was none in force (a lapsed one is removed too).
bool remove(Tx& tx, const std::string& chat_id, const std::string& user_id);
// The users among `ids` whose ban from the chat is in force.
std::vector<std::string> banned_among(Tx& tx, const std::string& chat_id, const std::vector<std::string>& ids);
// The chat's bans in force, newest first (created_at, then user_id, descending), after
// `after` when given, at most `limit`, each with its place (the next page's `after`).
std::vector<std::pair<model::Ban, model::ListPlace>> in_force(Tx& tx, const std::string& chat_id,
                                                              const std::optional<model::ListPlace>& after, int limit);

}  // namespace confab::store::bans
