#pragma once

#include "confab/model/list_page.hpp"
#include "confab/model/webhook.hpp"

#include "confab/store/tx.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

// Webhook subscriptions, their cursors over the chats' changes, and parked deliveries
// (domain::WebhookService).
namespace confab::store::webhooks {

// Stores the subscription and starts its cursors at the present: each of its chats at the
// chat's current version and last seq (a server-wide one: every chat existing now).
model::WebhookSubscription create(Tx& tx, const model::WebhookSubscription& subscription);
std::optional<model::WebhookSubscription> find(Tx& tx, const std::string& id);
// A chat's subscriptions, or the server-wide ones (chat_id empty); oldest first. Bots' are
// neither.
std::vector<model::WebhookSubscription> of_chat(Tx& tx, const std::optional<std::string>& chat_id);
// Serializes the creations of server-wide subscriptions (a lock held until the transaction
// ends), so that one counting them and inserting another sees every one committed before.
// A chat's are serialized by the chat's row lock (store::chats::lock).
void lock_server_wide(Tx& tx);
// Serializes the replacements of a bot's webhook: locks the bot's row against other writers
// of it, but not against rows that refer to it (a membership being added).
void lock_bot(Tx& tx, const std::string& bot_id);
// Removes the bot's subscription (a bot has at most one), if it has one.
void remove_of_bot(Tx& tx, const std::string& bot_id);
bool remove(Tx& tx, const std::string& id);

// Where a subscription's deliveries for one chat stand (migration 0020 says what each means).
struct Cursor {
    std::int64_t version = 0;
    std::int64_t seq = 0;
    int part = 0;
    int attempts = 0;
    std::optional<model::Timestamp> failing_since;
};

struct Due {
    model::WebhookSubscription subscription;
    std::string chat_id;
    // Whose the subscription is, for their share of the deliveries in flight: its creator; a
    // bot's, the bot's owner (the bot, for one the server API made); one without a creator,
    // itself. None for the operator's server-wide ones, which no share limits.
    std::optional<std::string> owner;
};
// The pairs this node is delivering, and how many of them each owner has.
struct InFlight {
    std::set<std::pair<std::string, std::string>> pairs;  // (subscription, chat)
    std::map<std::string, int> by_owner;
};
// The chats, of those named (every chat: nullopt), with a pair whose chat changed past its
// cursor, whose next attempt is due and which no other node holds; and wherever they are,
// those with a pair whose retry has come due. Asked of every chat it reads them all: the
// webhooks' full look; of some, it costs only theirs.
std::vector<std::string> behind(Tx& tx, const std::string& node, const std::optional<std::vector<std::string>>& among);
// Of the chats named, up to `limit` subscription and chat pairs whose chat changed past their
// cursor, whose next attempt is due and which neither this node (in_flight) nor another holds,
// the longest waiting first, and of each owner at most as many as `share` leaves them beside
// their pairs in flight.
std::vector<Due> due(Tx& tx, const std::string& node, int limit, int share, const InFlight& in_flight,
                     const std::vector<std::string>& among);
// Takes (or renews) the pair's lease for `node` and returns its cursor (a pair without a row
// starts at version 0, but a bot's, whose rows only membership makes); nullopt while another
// node holds it, or when the pair is gone.
std::optional<Cursor> claim(Tx& tx, const std::string& subscription_id, const std::string& chat_id,
                            const std::string& node, std::chrono::milliseconds lease);
std::optional<std::int64_t> chat_version(Tx& tx, const std::string& chat_id);
// Moves the cursor on and clears its failures, if `node` still holds the pair.
void advance(Tx& tx, const std::string& subscription_id, const std::string& chat_id, const std::string& node,
             const Cursor& cursor);
// One more failed attempt at the delivery at hand, if `node` still holds the pair; the next
// is due at next_attempt_at (by any node).
void record_attempt(Tx& tx, const std::string& subscription_id, const std::string& chat_id, const std::string& node,
                    const Cursor& cursor, model::Timestamp next_attempt_at, const std::string& error);

// The member change a system message records (its metadata's event and user_id, as
// domain::write_system stores them), if it records one.
struct MemberChange {
    std::string event, user_id;
};
std::optional<MemberChange> member_change(Tx& tx, const std::string& message_id);

struct Backlog {
    std::int64_t pending = 0;   // subscription and chat pairs with changes not yet delivered
    double oldest_seconds = 0;  // since the oldest of those changes was made
};
Backlog backlog(Tx& tx);

// Parks a delivery, if `node` still holds its pair.
void park(Tx& tx, const model::WebhookFailure& failure, const std::string& node);
// A subscription's parked deliveries, oldest first (by failed_at, then id), each with its place,
// after the given place (which need not be a row that still exists: a replayed one is gone).
std::vector<std::pair<model::WebhookFailure, model::ListPlace>> failures(Tx& tx, const std::string& subscription_id,
                                                                         const std::optional<model::ListPlace>& after,
                                                                         int limit);
std::optional<model::WebhookFailure> find_failure(Tx& tx, const std::string& subscription_id,
                                                  const std::string& failure_id);
void remove_failure(Tx& tx, const std::string& failure_id);
void note_replay_failed(Tx& tx, const std::string& failure_id, const std::string& error);

}  // namespace confab::store::webhooks
