#include "confab/store/mentions.hpp"
#include "confab/store/sql.hpp"

#include "confab/store/rows.hpp"

namespace confab::store::mentions {

void prepare(Tx& tx) {
    tx.prepare("mentions_add",
               "INSERT INTO message_mentions (message_id, user_id, chat_id, seq) "
               "SELECT $1::uuid, u, $2::uuid, $3 FROM unnest($4::uuid[]) AS u "
               "ON CONFLICT DO NOTHING RETURNING user_id::text");
    tx.prepare("mentions_keep_only",
               "DELETE FROM message_mentions WHERE message_id = $1::uuid AND NOT (user_id = ANY($2::uuid[]))");
    // Only the chats the user is still in; deleted messages have no mentions left (tombstone)
    // and hidden ones lose the hider's (messages::hide).
    tx.prepare("mentions_of_user", std::string("SELECT mm.position, ") + message_columns +
                                       " FROM message_mentions mm "
                                       "JOIN chat_members cm ON cm.chat_id = mm.chat_id AND cm.user_id = mm.user_id "
                                       "JOIN " CONFAB_WITH_MEDIA("messages m ON m.id = mm.message_id") " "
                                       "WHERE mm.user_id = $1::uuid AND ($2::bigint IS NULL OR mm.position < $2) "
                                       "ORDER BY mm.position DESC LIMIT $3");
}

std::vector<std::string> add(Tx& tx, const model::Message& message, const std::vector<std::string>& user_ids) {
    std::vector<std::string> added;
    for (const auto& row :
         tx.exec_prepared("mentions_add", message.id, message.chat_id, message.seq, uuid_array(user_ids)))
        added.push_back(row[0].as<std::string>());
    return added;
}

void keep_only(Tx& tx, const std::string& message_id, const std::vector<std::string>& user_ids) {
    tx.exec_prepared("mentions_keep_only", message_id, uuid_array(user_ids));
}

Page of_user(Tx& tx, const std::string& user_id, std::optional<std::int64_t> before, int limit) {
    Page page;
    for (const auto& row : tx.exec_prepared("mentions_of_user", user_id, before, limit)) {
        page.positions.push_back(row[0].as<std::int64_t>());
        page.messages.push_back(message_from(row, 1));
    }
    attach_reactions(tx, page.messages, user_id);
    return page;
}

}  // namespace confab::store::mentions
