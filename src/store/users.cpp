#include "confab/store/users.hpp"

#include "confab/store/rows.hpp"

namespace confab::store {

const char* const user_columns =
    "u.id::text, u.username, u.display_name, u.avatar_url, " CONFAB_MS("u.created_at");

domain::User user_from(const pqxx::row& row, int first) {
    return domain::User{
        .id = row[first].as<std::string>(),
        .username = row[first + 1].as<std::string>(),
        .display_name = row[first + 2].as<std::string>(),
        .avatar_url = optional_text(row[first + 3]),
        .created_at = timestamp(row[first + 4]),
    };
}

}  // namespace confab::store

namespace confab::store::users {
namespace {

std::optional<domain::User> single_user(const pqxx::result& result) {
    if (result.empty()) return std::nullopt;
    return user_from(result[0]);
}

}  // namespace

void prepare(pqxx::connection& connection) {
    const std::string columns = user_columns;
    connection.prepare("users_insert",
                       "INSERT INTO users AS u (username, display_name, password_hash) VALUES ($1, $2, $3) "
                       "ON CONFLICT (username) DO NOTHING RETURNING " + columns);
    connection.prepare("users_credentials",
                       "SELECT " + columns + ", u.password_hash FROM users u WHERE u.username = $1");
    connection.prepare("users_existing", "SELECT id::text FROM users WHERE id = ANY($1::uuid[])");
    connection.prepare("users_last_seen", "SELECT " CONFAB_MS("last_seen_at") " FROM users WHERE id = $1::uuid");
    connection.prepare("users_touch_last_seen", "UPDATE users SET last_seen_at = now() WHERE id = $1::uuid");
    connection.prepare("users_find", "SELECT " + columns + " FROM users u WHERE u.id = $1::uuid");
    // $1 is a LIKE pattern (escaped prefix + '%'), folded here so that non-ASCII letters
    // fold the same way on both sides; $2 is the last username of the previous page.
    connection.prepare("users_search",
                       "SELECT " + columns + " FROM users u "
                       "WHERE (u.username LIKE lower($1) OR lower(u.display_name) LIKE lower($1)) "
                       "AND ($2::text IS NULL OR u.username > $2) ORDER BY u.username LIMIT $3");
}

std::optional<domain::User> insert(pqxx::transaction_base& tx, const std::string& username,
                                   const std::string& display_name, const std::string& password_hash) {
    return single_user(tx.exec_prepared("users_insert", username, display_name, password_hash));
}

std::optional<Credentials> find_credentials(pqxx::transaction_base& tx, const std::string& username) {
    const auto result = tx.exec_prepared("users_credentials", username);
    if (result.empty()) return std::nullopt;
    return Credentials{user_from(result[0]), result[0][5].as<std::string>()};
}

std::optional<domain::User> find(pqxx::transaction_base& tx, const std::string& id) {
    return single_user(tx.exec_prepared("users_find", id));
}

std::vector<std::string> existing(pqxx::transaction_base& tx, const std::vector<std::string>& ids) {
    std::vector<std::string> found;
    for (const auto& row : tx.exec_prepared("users_existing", uuid_array(ids))) found.push_back(row[0].as<std::string>());
    return found;
}

std::optional<domain::Timestamp> last_seen_at(pqxx::transaction_base& tx, const std::string& id) {
    const auto result = tx.exec_prepared("users_last_seen", id);
    if (result.empty() || result[0][0].is_null()) return std::nullopt;
    return timestamp(result[0][0]);
}

void touch_last_seen(pqxx::transaction_base& tx, const std::string& id) {
    tx.exec_prepared("users_touch_last_seen", id);
}

std::vector<domain::User> search(pqxx::transaction_base& tx, const std::string& prefix,
                                 const std::optional<std::string>& after_username, int limit) {
    const auto result = tx.exec_prepared("users_search", like_prefix(prefix), after_username, limit);
    std::vector<domain::User> found;
    found.reserve(result.size());
    for (const auto& row : result) found.push_back(user_from(row));
    return found;
}

}  // namespace confab::store::users

namespace confab::store::tokens {

void prepare(pqxx::connection& connection) {
    connection.prepare("tokens_insert",
                       "INSERT INTO auth_tokens (token_hash, user_id, expires_at) "
                       "VALUES ($1, $2::uuid, now() + make_interval(hours => $3))");
    connection.prepare("tokens_user",
                       "SELECT user_id::text, floor(extract(epoch FROM expires_at - now()) * 1000)::bigint "
                       "FROM auth_tokens WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now()");
    connection.prepare("tokens_revoke",
                       "UPDATE auth_tokens SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL");
}

void insert(pqxx::transaction_base& tx, const std::string& token_hash, const std::string& user_id,
            std::chrono::hours ttl) {
    tx.exec_prepared("tokens_insert", token_hash, user_id, static_cast<int>(ttl.count()));
}

std::optional<TokenOwner> user_of(pqxx::transaction_base& tx, const std::string& token_hash) {
    const auto result = tx.exec_prepared("tokens_user", token_hash);
    if (result.empty()) return std::nullopt;
    return TokenOwner{result[0][0].as<std::string>(), std::chrono::milliseconds(result[0][1].as<std::int64_t>())};
}

void revoke(pqxx::transaction_base& tx, const std::string& token_hash) {
    tx.exec_prepared("tokens_revoke", token_hash);
}

}  // namespace confab::store::tokens
