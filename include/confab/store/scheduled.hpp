#pragma once

#include "confab/model/list_page.hpp"
#include "confab/model/scheduled.hpp"

#include "confab/store/tx.hpp"

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

// Scheduled messages (domain::ScheduledService).
namespace confab::store::scheduled {

void prepare(Tx& tx);

// nullopt when the sender already scheduled one with this client_id (find_by_client_id).
std::optional<model::ScheduledMessage> insert(Tx& tx, const model::ScheduledMessage& message);
std::optional<model::ScheduledMessage> find(Tx& tx, const std::string& id);
std::optional<model::ScheduledMessage> find_by_client_id(Tx& tx, const std::string& sender_id,
                                                         const std::string& client_id);

// The sender's scheduled messages of this status, by send_at then id, each with its place,
// after the given place.
std::vector<std::pair<model::ScheduledMessage, model::ListPlace>> of_sender(
    Tx& tx, const std::string& sender_id, model::ScheduledStatus status, const std::optional<std::string>& chat_id,
    const std::optional<model::ListPlace>& after, int limit);

struct Change {
    std::optional<model::Timestamp> send_at;
    std::optional<std::string> content;
    std::optional<std::string> metadata;
    std::optional<std::vector<model::TextEntity>> entities;  // replaced whole
};
// Changes a pending one no node is posting; nullopt when it is no longer pending or a claim
// holds it (claim_due): the post would carry what it read when claimed.
std::optional<model::ScheduledMessage> update(Tx& tx, const std::string& id, const Change& change);
// How many the sender has pending in the chat.
std::size_t pending_in_chat(Tx& tx, const std::string& sender_id, const std::string& chat_id);
// Deletes a pending one no node is posting; false when it is no longer pending or claimed.
bool remove(Tx& tx, const std::string& id);

// Takes up to `limit` pending messages that are due, oldest first, for `lease`: until then
// no other claim takes them (a node that dies holding them leaves them to the next claim).
std::vector<model::ScheduledMessage> claim_due(Tx& tx, int limit, std::chrono::seconds lease);
// Claims still held by a node posting them, held `lease` longer (a post slower than its
// lease, behind a busy chat, would otherwise leave the message editable while it is posted);
// one finished or given back meanwhile is left alone.
void renew_claims(Tx& tx, const std::vector<std::string>& ids, std::chrono::seconds lease);
// A claimed message that may be tried again after `wait` (a rate limit's, slow mode's) gives
// its claim back, so its author may edit or cancel it meanwhile, and is not claimed again
// until the wait is over (or a new send_at replaces it).
void retry_after(Tx& tx, const std::string& id, std::chrono::milliseconds wait);
// The pending ones due now (claimed or not), and when the next of the others comes due.
struct Backlog {
    std::int64_t due = 0;
    std::optional<model::Timestamp> next_send_at;
};
Backlog backlog(Tx& tx);

// pending -> sent or cancelled; nullopt when it was not pending (another claim finished it).
std::optional<model::ScheduledMessage> mark_sent(Tx& tx, const std::string& id, const std::string& message_id);
std::optional<model::ScheduledMessage> mark_cancelled(Tx& tx, const std::string& id, const std::string& code,
                                                      const std::string& reason);

}  // namespace confab::store::scheduled
