#include "confab/store/broadcast_lists.hpp"
#include "confab/store/sql.hpp"

#include "confab/store/rows.hpp"

#include <unordered_map>

namespace confab::store::broadcast_lists {
namespace {

const std::string columns =
    "id::text, owner_id::text, name, " CONFAB_TIME("created_at") ", " CONFAB_TIME("updated_at") ", position";

model::BroadcastList list_from(const pqxx::row& row) {
    return model::BroadcastList{
        .id = row[0].as<std::string>(),
        .owner_id = row[1].as<std::string>(),
        .name = row[2].as<std::string>(),
        .recipient_ids = {},
        .created_at = timestamp(row[3]),
        .updated_at = timestamp(row[4]),
    };
}

// Fills in each list's recipients, one query for all of them.
void attach_recipients(Tx& tx, const std::vector<model::BroadcastList*>& lists) {
    if (lists.empty()) return;
    std::vector<std::string> ids;
    ids.reserve(lists.size());
    std::unordered_map<std::string, model::BroadcastList*> by_id;
    for (auto* list : lists) {
        ids.push_back(list->id);
        by_id.emplace(list->id, list);
    }
    for (const auto& row : tx.exec_prepared("broadcast_lists_recipients", uuid_array(ids)))
        by_id.at(row[0].as<std::string>())->recipient_ids.push_back(row[1].as<std::string>());
}

}  // namespace

void prepare(Tx& tx) {
    tx.prepare("broadcast_lists_insert",
               "INSERT INTO broadcast_lists (owner_id, name) VALUES ($1::uuid, $2) RETURNING " + columns);
    tx.prepare("broadcast_lists_find", "SELECT " + columns + " FROM broadcast_lists WHERE id = $1::uuid");
    tx.prepare("broadcast_lists_lock", "SELECT owner_id::text FROM broadcast_lists WHERE id = $1::uuid FOR UPDATE");
    tx.prepare("broadcast_lists_list", "SELECT " + columns +
                                           " FROM broadcast_lists WHERE owner_id = $1::uuid "
                                           "AND ($2::bigint IS NULL OR position < $2) ORDER BY position DESC LIMIT $3");
    tx.prepare("broadcast_lists_recipients",
               "SELECT list_id::text, user_id::text FROM broadcast_list_recipients WHERE list_id = ANY($1::uuid[]) "
               "ORDER BY position");
    tx.prepare("broadcast_lists_rename",
               "UPDATE broadcast_lists SET name = $2, updated_at = now() WHERE id = $1::uuid");
    tx.prepare("broadcast_lists_remove", "DELETE FROM broadcast_lists WHERE id = $1::uuid");
    tx.prepare("broadcast_lists_add_recipients",
               "INSERT INTO broadcast_list_recipients (list_id, user_id) "
               "SELECT $1::uuid, u FROM unnest($2::uuid[]) WITH ORDINALITY AS added (u, n) ORDER BY n "
               "ON CONFLICT DO NOTHING");
    tx.prepare("broadcast_lists_remove_recipient",
               "DELETE FROM broadcast_list_recipients WHERE list_id = $1::uuid AND user_id = $2::uuid");
    tx.prepare("broadcast_lists_touch", "UPDATE broadcast_lists SET updated_at = now() WHERE id = $1::uuid");
}

model::BroadcastList insert(Tx& tx, const std::string& owner_id, const std::string& name) {
    return list_from(tx.exec_prepared1("broadcast_lists_insert", owner_id, name));
}

std::optional<model::BroadcastList> find(Tx& tx, const std::string& list_id) {
    const auto result = tx.exec_prepared("broadcast_lists_find", list_id);
    if (result.empty()) return std::nullopt;
    auto found = list_from(result[0]);
    attach_recipients(tx, {&found});
    return found;
}

std::optional<std::string> lock(Tx& tx, const std::string& list_id) {
    const auto result = tx.exec_prepared("broadcast_lists_lock", list_id);
    if (result.empty()) return std::nullopt;
    return result[0][0].as<std::string>();
}

std::size_t count_locked(Tx& tx, const std::string& owner_id) {
    // Not FOR UPDATE: that would also hold the owner's sends, whose rows' keys refer to it.
    tx.exec_params("SELECT 1 FROM users WHERE id = $1::uuid FOR NO KEY UPDATE", owner_id);
    return tx.exec_params("SELECT count(*) FROM broadcast_lists WHERE owner_id = $1::uuid", owner_id)[0][0]
        .as<std::size_t>();
}

std::vector<std::pair<model::BroadcastList, std::int64_t>> list(Tx& tx, const std::string& owner_id,
                                                                std::optional<std::int64_t> before_position,
                                                                int limit) {
    std::vector<std::pair<model::BroadcastList, std::int64_t>> out;
    for (const auto& row : tx.exec_prepared("broadcast_lists_list", owner_id, before_position, limit))
        out.emplace_back(list_from(row), row[5].as<std::int64_t>());
    std::vector<model::BroadcastList*> lists;
    lists.reserve(out.size());
    for (auto& [found, position] : out) lists.push_back(&found);
    attach_recipients(tx, lists);
    return out;
}

void rename(Tx& tx, const std::string& list_id, const std::string& name) {
    tx.exec_prepared("broadcast_lists_rename", list_id, name);
}

void remove(Tx& tx, const std::string& list_id) { tx.exec_prepared("broadcast_lists_remove", list_id); }

void add_recipients(Tx& tx, const std::string& list_id, const std::vector<std::string>& user_ids) {
    if (tx.exec_prepared("broadcast_lists_add_recipients", list_id, uuid_array(user_ids)).affected_rows() > 0)
        tx.exec_prepared("broadcast_lists_touch", list_id);
}

bool remove_recipient(Tx& tx, const std::string& list_id, const std::string& user_id) {
    if (tx.exec_prepared("broadcast_lists_remove_recipient", list_id, user_id).affected_rows() == 0) return false;
    tx.exec_prepared("broadcast_lists_touch", list_id);
    return true;
}

}  // namespace confab::store::broadcast_lists
