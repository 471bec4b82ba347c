#pragma once

#include "confab/model/bot.hpp"

#include "confab/store/tx.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

// Bot accounts (docs/api.md, Bots): users made by another user, their owner. A deleted bot
// is a tombstone like any deleted user, and no longer any owner's bot.
namespace confab::store::bots {

// The new bot (no webhook); nullopt when the username is taken.
std::optional<model::Bot> insert(Tx& tx, const std::string& owner_id, const std::string& username,
                                 const std::string& display_name, const std::optional<std::string>& bio);
// Locks the owner's row until the transaction ends and counts their bots: two creations at
// once cannot both pass the cap.
std::size_t count_locked(Tx& tx, const std::string& owner_id);
// The owner's bots, oldest first, with their webhooks' URLs.
std::vector<model::Bot> of_owner(Tx& tx, const std::string& owner_id);
// The bot `bot_id`, whoever owns it, unless it is deleted (domain::rules::may_manage_bot says
// who may see it).
std::optional<model::Bot> find(Tx& tx, const std::string& bot_id);
// Each of `ids` that is a bot, with its owner.
std::unordered_map<std::string, std::string> owners(Tx& tx, const std::vector<std::string>& ids);

}  // namespace confab::store::bots
