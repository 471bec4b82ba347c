#include "confab/store/bots.hpp"
#include "confab/store/sql.hpp"

#include "confab/store/rows.hpp"

namespace confab::store::bots {
namespace {

// The bots among users `u`, with their webhooks.
std::string bots_where(const std::string& condition) {
    return "SELECT " + std::string(user_columns) +
           ", u.bot_owner_id::text, w.id::text, w.url FROM users u "
           "LEFT JOIN webhook_subscriptions w ON w.bot_id = u.id "
           "WHERE u.bot_owner_id IS NOT NULL AND u.deleted_at IS NULL AND " +
           condition;
}

model::Bot bot_from(const pqxx::row& row) {
    return {.user = user_from(row),
            .owner_id = row[user_column_count].as<std::string>(),
            .webhook_id = optional_text(row[user_column_count + 1]),
            .webhook_url = optional_text(row[user_column_count + 2])};
}

}  // namespace

std::optional<model::Bot> insert(Tx& tx, const std::string& owner_id, const std::string& username,
                                 const std::string& display_name, const std::optional<std::string>& bio) {
    const auto inserted = tx.exec_params(
        "INSERT INTO users (username, display_name, bio, is_bot, bot_owner_id) "
        "VALUES ($1, $2, $3, true, $4::uuid) ON CONFLICT (username) DO NOTHING RETURNING id::text",
        username, display_name, bio, owner_id);
    if (inserted.empty()) return std::nullopt;
    return find(tx, inserted[0][0].as<std::string>());
}

std::size_t count_locked(Tx& tx, const std::string& owner_id) {
    tx.exec_params("SELECT 1 FROM users WHERE id = $1::uuid FOR UPDATE", owner_id);
    return tx
        .exec_params("SELECT count(*) FROM users WHERE bot_owner_id = $1::uuid AND deleted_at IS NULL", owner_id)[0][0]
        .as<std::size_t>();
}

std::vector<model::Bot> of_owner(Tx& tx, const std::string& owner_id) {
    std::vector<model::Bot> found;
    for (const auto& row :
         tx.exec_params(bots_where("u.bot_owner_id = $1::uuid ORDER BY u.created_at, u.id"), owner_id))
        found.push_back(bot_from(row));
    return found;
}

std::optional<model::Bot> find(Tx& tx, const std::string& bot_id) {
    const auto found = tx.exec_params(bots_where("u.id = $1::uuid"), bot_id);
    if (found.empty()) return std::nullopt;
    return bot_from(found[0]);
}

std::unordered_map<std::string, std::string> owners(Tx& tx, const std::vector<std::string>& ids) {
    std::unordered_map<std::string, std::string> found;
    for (const auto& row : tx.exec_params("SELECT id::text, bot_owner_id::text FROM users "
                                          "WHERE id = ANY($1::uuid[]) AND bot_owner_id IS NOT NULL",
                                          text_array(ids)))
        found.emplace(row[0].as<std::string>(), row[1].as<std::string>());
    return found;
}

}  // namespace confab::store::bots
