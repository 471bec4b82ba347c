#include "confab/store/user_blocks.hpp"
#include "confab/store/sql.hpp"

#include "confab/store/rows.hpp"

namespace confab::store::user_blocks {

void prepare(Tx& tx) {
    tx.prepare("user_blocks_insert",
               "INSERT INTO user_blocks (blocker_id, blocked_id) VALUES ($1::uuid, $2::uuid) ON CONFLICT DO NOTHING");
    tx.prepare("user_blocks_remove", "DELETE FROM user_blocks WHERE blocker_id = $1::uuid AND blocked_id = $2::uuid");
    tx.prepare("user_blocks_list", std::string("SELECT ") + user_columns + ", " CONFAB_TIME("b.created_at") ", b.position "
                                       "FROM user_blocks b JOIN users u ON u.id = b.blocked_id "
                                       "WHERE b.blocker_id = $1::uuid AND ($2::bigint IS NULL OR b.position < $2) "
                                       "ORDER BY b.position DESC LIMIT $3");
    tx.prepare("user_blocks_between",
               "SELECT EXISTS (SELECT 1 FROM user_blocks WHERE blocker_id = $1::uuid AND blocked_id = $2::uuid), "
               "EXISTS (SELECT 1 FROM user_blocks WHERE blocker_id = $2::uuid AND blocked_id = $1::uuid)");
    tx.prepare("user_blocks_related",
               "SELECT blocked_id::text FROM user_blocks WHERE blocker_id = $1::uuid "
               "UNION SELECT blocker_id::text FROM user_blocks WHERE blocked_id = $1::uuid");
}

bool insert(Tx& tx, const std::string& blocker_id, const std::string& blocked_id) {
    return tx.exec_prepared("user_blocks_insert", blocker_id, blocked_id).affected_rows() > 0;
}

bool remove(Tx& tx, const std::string& blocker_id, const std::string& blocked_id) {
    return tx.exec_prepared("user_blocks_remove", blocker_id, blocked_id).affected_rows() > 0;
}

std::vector<std::pair<model::BlockedUser, std::int64_t>> list(Tx& tx, const std::string& blocker_id,
                                                              std::optional<std::int64_t> before_position, int limit) {
    std::vector<std::pair<model::BlockedUser, std::int64_t>> out;
    for (const auto& row : tx.exec_prepared("user_blocks_list", blocker_id, before_position, limit))
        out.emplace_back(model::BlockedUser{user_from(row), timestamp(row[user_column_count])},
                         row[user_column_count + 1].as<std::int64_t>());
    return out;
}

model::DirectBlock between(Tx& tx, const std::string& user_id, const std::string& other_id) {
    const auto row = tx.exec_prepared1("user_blocks_between", user_id, other_id);
    return model::direct_block(row[0].as<bool>(), row[1].as<bool>());
}

std::vector<std::string> related(Tx& tx, const std::string& user_id) {
    return first_column(tx.exec_prepared("user_blocks_related", user_id));
}

}  // namespace confab::store::user_blocks
