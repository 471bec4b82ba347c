#pragma once

#include "confab/model/chat.hpp"

#include "confab/store/tx.hpp"

#include <string>
#include <vector>

namespace confab::store {

// How many voters each option of a poll that is not anonymous names, as for reactions
// (reaction_users_named): a poll goes to every member in every event and page.
constexpr int poll_voters_named = 10;

// Fills in the poll of each poll message that is not deleted, two queries for all of them:
// each option's count and first poll_voters_named voters (none in an anonymous poll), plus
// `viewer`, whose own choices are also `my_votes` (left unset for no viewer, ""). A poll whose closes_at
// has passed reads as closed then.
void attach_polls(Tx& tx, std::vector<model::Message>& messages, const std::string& viewer);
// Whether attach_polls reads a poll for the message: a poll message not deleted.
inline bool has_poll_to_read(const model::Message& message) {
    return message.type == model::MessageType::poll && !message.is_deleted;
}

}  // namespace confab::store

namespace confab::store::polls {

void prepare(Tx& tx);

// Stores the poll of a message just inserted (its question is the message's content) and
// returns it as it now reads: no votes yet.
model::Poll insert(Tx& tx, const std::string& message_id, const std::string& question, const model::Poll& poll);
// The user's chosen option indices, ascending.
std::vector<int> votes_of(Tx& tx, const std::string& message_id, const std::string& user_id);
// Replaces the user's choice (empty: none).
void set_votes(Tx& tx, const std::string& message_id, const std::string& user_id, const std::vector<int>& options);
void close(Tx& tx, const std::string& message_id);

}  // namespace confab::store::polls
