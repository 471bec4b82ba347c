#pragma once

#include "confab/model/invite_link.hpp"
#include "confab/model/list_page.hpp"
#include "confab/store/tx.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

// A group's invite links (docs/api.md, Invite links).
namespace confab::store::invite_links {

void prepare(Tx& tx);

model::InviteLink insert(Tx& tx, const std::string& code, const std::string& chat_id, const std::string& created_by,
                         std::optional<model::Timestamp> expires_at, std::optional<std::int64_t> max_uses);
// The link with that code, revoked or not.
std::optional<model::InviteLink> find(Tx& tx, const std::string& code);
// The chat's links not revoked, newest first (created_at, then code, descending), after
// `after` when given, at most `limit`, each with its place (the next page's `after`).
std::vector<std::pair<model::InviteLink, model::ListPlace>> of_chat(Tx& tx, const std::string& chat_id,
                                                                    const std::optional<model::ListPlace>& after,
                                                                    int limit);
// Revokes the chat's link; false when it has no such link not revoked already.
bool revoke(Tx& tx, const std::string& chat_id, const std::string& code);
// How many of the chat's links are neither revoked, expired nor used up.
std::size_t live_in_chat(Tx& tx, const std::string& chat_id);
// Counts one join through the link.
void count_use(Tx& tx, const std::string& code);
// The link's group as it shows before joining; none when the link is gone.
std::optional<model::InvitePreview> preview(Tx& tx, const std::string& code);

}  // namespace confab::store::invite_links
