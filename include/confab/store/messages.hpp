#pragma once

#include "confab/domain/chat.hpp"

#include <pqxx/connection>
#include <pqxx/transaction_base>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace confab::store {

struct NewMessage {
    std::string chat_id;
    std::string sender_id;
    domain::MessageType type = domain::MessageType::text;
    std::string content;
    std::optional<std::string> reply_to_id;
    std::string metadata = "{}";
    std::optional<std::string> client_id;
    std::optional<std::string> media_id;
};

}  // namespace confab::store

namespace confab::store::messages {

void prepare(pqxx::connection& connection);

// Takes each chat's next seqs and versions, in the batch's order, and stores the messages in
// one statement; nullopt for a message whose sender is not a member (or whose chat is
// gone). System messages skip that check: they record what a user did, possibly leaving.
std::vector<std::optional<domain::Message>> insert(pqxx::transaction_base& tx, const std::vector<NewMessage>& batch);
std::optional<domain::Message> insert(pqxx::transaction_base& tx, const NewMessage& message);
// Reads name `viewer`'s own reactions (attach_reactions); "" for none.
std::optional<domain::Message> find(pqxx::transaction_base& tx, const std::string& id, const std::string& viewer);
struct ClientKey {
    std::string sender_id;
    std::string client_id;
};
// The stored messages with any of these (sender, client_id) pairs, in no particular order.
std::vector<domain::Message> find_by_client_ids(pqxx::transaction_base& tx, const std::vector<ClientKey>& keys);
// Which chat a message belongs to (no data), for authorization before anything is read.
std::optional<std::string> chat_of(pqxx::transaction_base& tx, const std::string& id);

enum class Direction { newest_first, oldest_first };
// seq < before (newest first) or seq > after (oldest first), or the newest page.
std::vector<domain::Message> page(pqxx::transaction_base& tx, const std::string& chat_id,
                                  std::optional<std::int64_t> before_seq, std::optional<std::int64_t> after_seq,
                                  int limit, const std::string& viewer);
std::vector<domain::Message> changed_since(pqxx::transaction_base& tx, const std::string& chat_id,
                                           std::int64_t version, int limit, const std::string& viewer);

// Takes the chat's next version (for a change to an existing message).
std::int64_t next_version(pqxx::transaction_base& tx, const std::string& chat_id);
void edit(pqxx::transaction_base& tx, const std::string& id, const std::string& content, std::int64_t version);
void tombstone(pqxx::transaction_base& tx, const std::string& id, std::int64_t version);
// media becomes null (the media row itself is store::media::remove's).
void detach_media(pqxx::transaction_base& tx, const std::string& id, std::int64_t version);
void set_version(pqxx::transaction_base& tx, const std::string& id, std::int64_t version);

bool add_reaction(pqxx::transaction_base& tx, const std::string& id, const std::string& user_id, const std::string& emoji);
bool remove_reaction(pqxx::transaction_base& tx, const std::string& id, const std::string& user_id,
                     const std::string& emoji);
int distinct_emoji(pqxx::transaction_base& tx, const std::string& id);

}  // namespace confab::store::messages
