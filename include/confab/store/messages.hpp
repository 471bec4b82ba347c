#pragma once

#include "confab/model/chat.hpp"

#include "confab/store/tx.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace confab::store {

struct NewMessage {
    std::string chat_id;
    std::string sender_id;
    model::MessageType type = model::MessageType::text;
    std::string content;
    std::optional<std::string> reply_to_id;
    std::string metadata = "{}";
    std::optional<std::string> client_id;
    std::optional<std::string> media_id;
    std::optional<std::string> thread_root_id;
    std::vector<model::TextEntity> entities;
};

}  // namespace confab::store

namespace confab::store::messages {

void prepare(Tx& tx);

// Takes each chat's next seqs and versions, in the batch's order, and stores the messages in
// one statement; nullopt for a message whose sender is not a member (or whose chat is
// gone). System messages skip that check: they record what a user did, possibly leaving.
std::vector<std::optional<model::Message>> insert(Tx& tx, const std::vector<NewMessage>& batch);
std::optional<model::Message> insert(Tx& tx, const NewMessage& message);
// Reads name `viewer`'s own reactions (attach_reactions) and leave out the messages `viewer`
// hid for themself; "" for neither.
std::optional<model::Message> find(Tx& tx, const std::string& id, const std::string& viewer);
struct ClientKey {
    std::string sender_id;
    std::string client_id;
};
// The stored messages with any of these (sender, client_id) pairs, in no particular order.
std::vector<model::Message> find_by_client_ids(Tx& tx, const std::vector<ClientKey>& keys);

// What a batch of sends starts with, in one statement (each round trip costs both processes
// two context switches): its chats locked in id order, so two batches never deadlock, with
// their access versions (ChatAccess::version), those gone left out; whether any of `keys`
// was stored before (then find_by_client_ids tells which); and, for the rest of the
// transaction, prepared statements running their generic plan, made once per connection.
// The set-based statements of batched writes take about a millisecond to plan, twice what
// they take to run, and PostgreSQL would plan them afresh for every call (their plans for
// small arrays look cheaper than the generic one).
struct SendLocks {
    std::unordered_map<std::string, std::int64_t> chats;
    bool repeated = false;
};
SendLocks lock_for_sends(Tx& tx, const std::vector<std::string>& chat_ids, const std::vector<ClientKey>& keys);
// Which chat a message belongs to (no data), for authorization before anything is read.
std::optional<std::string> chat_of(Tx& tx, const std::string& id);
// Where a message a send would quote stands: its chat and, for a thread reply, its root;
// nullopt when it does not exist or `viewer` hid it (for them it no longer exists).
struct Quoted {
    std::string chat_id;
    std::optional<std::string> thread_root_id;
};
std::optional<Quoted> quoted(Tx& tx, const std::string& id, const std::string& viewer);
// The chat's highest seq below `below` whose message was stored before `stored_before`, or
// `age` or longer ago on the database's clock; 0 when there is none.
std::int64_t settled_seq(Tx& tx, const std::string& chat_id, std::int64_t below, std::chrono::milliseconds age,
                         std::chrono::system_clock::time_point stored_before);

enum class Direction { newest_first, oldest_first };
// seq < before (newest first) or seq > after (oldest first), or the newest page.
struct PageQuery {
    std::optional<std::int64_t> before_seq;
    std::optional<std::int64_t> after_seq;
    int limit = 50;
};
std::vector<model::Message> page(Tx& tx, const std::string& chat_id, const PageQuery& query,
                                 bool include_thread_replies, const std::string& viewer);
// A page's messages as stored, before what each viewer sees of them differently (attach_live).
struct StoredPage {
    std::vector<model::Message> messages;
    std::vector<bool> reacted;  // per message: whether it has reactions to read
};
// The chat's newest messages, none left out for a viewer (domain::HistoryCache holds them).
StoredPage newest_stored(Tx& tx, const std::string& chat_id, bool include_thread_replies, int limit);
// Reads what a page shows each viewer differently: its reactions (reacted as in StoredPage,
// empty: every message may have some) and polls.
void attach_live(Tx& tx, std::vector<model::Message>& messages, const std::vector<bool>& reacted,
                 const std::string& viewer);
// The first of the page's messages for which attach_live would read anything (a reaction or
// a poll), or the page's size when there is none.
std::size_t first_with_live_parts(const StoredPage& page);
// What a cached page is checked against: the chat's version, which every change to one of its
// messages takes, and the messages `viewer` hid there; nullopt when the chat is gone.
struct PageStamp {
    std::int64_t version = 0;
    std::vector<std::string> hidden;
};
// The statement page_stamp runs, $1 the chat and $2 the viewer (NULL: none); PageStamps
// prepares it too.
extern const char* const page_stamp_sql;
std::optional<PageStamp> page_stamp(Tx& tx, const std::string& chat_id, const std::string& viewer);
// The replies in the thread under root_id (of chat_id), paged as a chat's history.
std::vector<model::Message> thread_page(Tx& tx, const std::string& root_id, const std::string& chat_id,
                                        const PageQuery& query, const std::string& viewer);
std::vector<model::Message> changed_since(Tx& tx, const std::string& chat_id, std::int64_t version, int limit,
                                          const std::string& viewer);

// A message the user hid for themself, and the chat version the hiding took.
struct Hidden {
    std::string message_id;
    std::int64_t version = 0;
};
// The user's hidings in the chat after `version`, ascending version.
std::vector<Hidden> hidden_since(Tx& tx, const std::string& chat_id, const std::string& user_id, std::int64_t version,
                                 int limit);
bool is_hidden(Tx& tx, const std::string& id, const std::string& user_id);
// The users who hid the message for themselves.
std::vector<std::string> hidden_by(Tx& tx, const std::string& id);
void hide(Tx& tx, const std::string& id, const std::string& user_id, const std::string& chat_id, std::int64_t version);

// A chat's pinned messages, newest pin first, and each one's place in that order (the next
// page's `before_pin`).
struct Pins {
    std::vector<model::Message> messages;
    std::vector<std::int64_t> orders;
};
Pins pins(Tx& tx, const std::string& chat_id, std::optional<std::int64_t> before_pin, int limit,
          const std::string& viewer);
// The pin takes `version`, which also orders the pin list.
void pin(Tx& tx, const std::string& id, const std::string& user_id, std::int64_t version);
void unpin(Tx& tx, const std::string& id, std::int64_t version);
void set_forwarded_from(Tx& tx, const std::string& id, const model::ForwardOrigin& origin);

// Takes the chat's next version (for a change to an existing message).
std::int64_t next_version(Tx& tx, const std::string& chat_id);
// Replaces the content and its entities together.
void edit(Tx& tx, const std::string& id, const std::string& content, const std::vector<model::TextEntity>& entities,
          std::int64_t version);
// Deletes for everyone: content, entities, mentions, media, reactions, pin and a poll with its votes go.
void tombstone(Tx& tx, const std::string& id, std::int64_t version);
// media becomes null (the media row itself is store::media::remove's).
void detach_media(Tx& tx, const std::string& id, std::int64_t version);
void set_version(Tx& tx, const std::string& id, std::int64_t version);
// A thread root's summary (model::ThreadSummary) with one more reply, sent now by sender_id;
// the root takes `version`.
void add_thread_reply(Tx& tx, const std::string& root_id, const std::string& sender_id, std::int64_t version);
// A thread root's summary counted again from its replies (after one was deleted); the root
// takes `version`.
void recount_thread(Tx& tx, const std::string& root_id, std::int64_t version);

bool add_reaction(Tx& tx, const std::string& id, const std::string& user_id, const std::string& emoji);
bool remove_reaction(Tx& tx, const std::string& id, const std::string& user_id, const std::string& emoji);
int distinct_emoji(Tx& tx, const std::string& id);

}  // namespace confab::store::messages
