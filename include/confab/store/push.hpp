#pragma once

#include "confab/model/list_page.hpp"
#include "confab/model/push.hpp"

#include "confab/store/tx.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

// Push devices, per-chat notification settings, and the jobs derived from committed
// messages (docs/architecture.md, Push notifications).
namespace confab::store::push {

void prepare(Tx& tx);

// Holds the user's devices until the transaction ends: registrations of one user, one at a
// time, so that the cap of keep_newest_devices holds whatever runs beside them.
void lock_devices(Tx& tx, const std::string& user_id);
// Registers the device for the session of `token_hash`; a token already registered (by any
// user) moves to this one. nullopt when the session is gone.
std::optional<model::PushDevice> register_device(Tx& tx, const std::string& user_id, const std::string& token_hash,
                                                 const model::PushDevice& device);
// Removes the user's devices but `kept` and the `keep - 1` newest others (created_at, then
// id); the ids removed. Under lock_devices.
std::vector<std::string> keep_newest_devices(Tx& tx, const std::string& user_id, const std::string& kept, int keep);
// The user's devices of live sessions, oldest first (created_at, then id, ascending), after
// `after` when given, at most `limit`, each with its place (the next page's `after`).
std::vector<std::pair<model::PushDevice, model::ListPlace>> devices_of(Tx& tx, const std::string& user_id,
                                                                       const std::optional<model::ListPlace>& after,
                                                                       int limit);
bool remove_device(Tx& tx, const std::string& user_id, const std::string& device_id);
void remove_device(Tx& tx, const std::string& device_id);

// nullopt when the user is not a member of the chat.
std::optional<model::NotificationSettings> settings(Tx& tx, const std::string& chat_id, const std::string& user_id);
void set_settings(Tx& tx, const std::string& chat_id, const std::string& user_id, model::NotifyLevel level,
                  std::optional<model::Timestamp> muted_until);

// Whether this transaction derives pushes: one at a time across every node of a cluster
// (a transaction-scoped advisory lock, released at its end).
bool lead_derivation(Tx& tx);

// A chat with messages past its push cursor.
struct ChatBehind {
    std::string chat_id;
    std::int64_t cursor = 0;
    std::int64_t last_seq = 0;
};
// Up to `limit` chats whose last_seq is past their cursor: of every chat (nullopt), or of
// those named.
std::vector<ChatBehind> chats_behind(Tx& tx, int limit, const std::optional<std::vector<std::string>>& among);

struct NewMessage {
    std::string id;
    std::int64_t seq = 0;
    std::optional<std::string> sender_id;
    model::Timestamp created_at;
    bool pushable = false;  // neither a system message nor deleted
    std::vector<std::string> mentioned;
};
// Per chat, up to `limit` messages past its cursor and no later than the last_seq read with
// it, in ascending seq; one statement for all. The bound keeps a message committed after
// the derivation read its chat's members (reachable_members: whom it mentions) out of this
// step: the next one sees both.
using NewMessages = std::unordered_map<std::string, std::vector<NewMessage>>;
NewMessages messages_after(Tx& tx, const std::vector<ChatBehind>& chats, int limit);

// A member with at least one device.
struct Reachable {
    std::string user_id;
    model::NotificationSettings settings;
};
// Per chat of `chat_ids`, its members with a device (chats without one are left out).
using ReachableMembers = std::unordered_map<std::string, std::vector<Reachable>>;
ReachableMembers reachable_members(Tx& tx, const std::vector<std::string>& chat_ids);

// What one member is to be told of a chat: `count` messages, the latest `message_id`.
struct Notice {
    std::string user_id;
    std::string message_id;
    int count = 0;
    model::Timestamp first_at;  // the first message's commit; the notice is due a collapse later
};
// Adds the notices to each live device's collecting job of the chat (or starts one).
void collect(Tx& tx, const std::string& chat_id, const std::vector<Notice>& notices,
             std::chrono::milliseconds collapse);
// Moves each chat's cursor forward to its seq (never back).
struct Cursor {
    std::string chat_id;
    std::int64_t seq = 0;
};
void set_cursors(Tx& tx, const std::vector<Cursor>& cursors);

struct Job {
    std::string id;  // the dedupe key
    std::string chat_id;
    std::string message_id;
    int count = 0;
    int attempts = 0;  // this one included
    model::Timestamp first_at;
    model::PushDevice device;
    std::string user_id;  // the device's, whose share of the sends in flight it takes
    std::optional<std::string> sender_id;
    std::optional<std::string> sender_name;
    std::optional<std::string> chat_title;
    std::optional<std::string> message_type;
    std::optional<std::string> content;  // none once the message is deleted
};
// Up to `limit` due jobs, marked sending until `lease` has passed (a crash mid-send retries
// them then). Of each user's devices, at most as many as `share` leaves them beside their
// sends in flight (`in_flight_by_user`): the rest are not claimed, and stay due as they were.
std::vector<Job> claim_due(Tx& tx, int limit, std::chrono::milliseconds lease, int share,
                           const std::map<std::string, int>& in_flight_by_user);
void finish(Tx& tx, const std::string& job_id);
void retry_after(Tx& tx, const std::string& job_id, std::chrono::milliseconds wait);

struct QueueState {
    std::int64_t depth = 0;
    double oldest_seconds = 0;
};
QueueState queue_state(Tx& tx);

}  // namespace confab::store::push
