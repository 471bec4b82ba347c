#include "confab/store/users.hpp"
#include "confab/store/sql.hpp"

#include "confab/store/rows.hpp"

namespace confab::store {

const char* const user_columns = "u.id::text, u.username, u.display_name, u.avatar_url, " CONFAB_MS("u.created_at");

model::User user_from(const pqxx::row& row, int first) {
    return model::User{
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

std::optional<model::User> single_user(const pqxx::result& result) {
    if (result.empty()) return std::nullopt;
    return user_from(result[0]);
}

}  // namespace

void prepare(Tx& connection) {
    const std::string columns = user_columns;
    connection.prepare("users_insert",
                       "INSERT INTO users AS u (username, display_name, password_hash) VALUES ($1, $2, $3) "
                       "ON CONFLICT (username) DO NOTHING RETURNING " +
                           columns);
    connection.prepare("users_credentials",
                       "SELECT " + columns + ", u.password_hash FROM users u WHERE u.username = $1");
    connection.prepare("users_credentials_of",
                       "SELECT " + columns + ", u.password_hash FROM users u WHERE u.id = $1::uuid");
    connection.prepare("users_set_password",
                       "UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1::uuid");
    connection.prepare("users_existing", "SELECT id::text FROM users WHERE id = ANY($1::uuid[])");
    connection.prepare("users_add_policies", "SELECT id::text, who_can_add_me FROM users WHERE id = ANY($1::uuid[])");
    connection.prepare("users_set_add_policy",
                       "UPDATE users SET who_can_add_me = $2, updated_at = now() "
                       "WHERE id = $1::uuid");
    connection.prepare("users_last_seen", "SELECT " CONFAB_MS("last_seen_at") " FROM users WHERE id = $1::uuid");
    connection.prepare("users_touch_last_seen", "UPDATE users SET last_seen_at = now() WHERE id = $1::uuid");
    connection.prepare("users_find", "SELECT " + columns + " FROM users u WHERE u.id = $1::uuid");
    // $1 is a LIKE pattern (escaped prefix + '%'), folded here so that non-ASCII letters
    // fold the same way on both sides; $2 is the last username of the previous page.
    connection.prepare("users_search", "SELECT " + columns +
                                           " FROM users u "
                                           "WHERE (u.username LIKE lower($1) OR lower(u.display_name) LIKE lower($1)) "
                                           "AND ($2::text IS NULL OR u.username > $2) ORDER BY u.username LIMIT $3");
}

std::optional<model::User> insert(Tx& tx, const std::string& username, const std::string& display_name,
                                  const std::string& password_hash) {
    return single_user(tx.exec_prepared("users_insert", username, display_name, password_hash));
}

namespace {

std::optional<Credentials> credentials_from(const pqxx::result& result) {
    if (result.empty()) return std::nullopt;
    return Credentials{user_from(result[0]), result[0][5].as<std::string>()};
}

}  // namespace

std::optional<Credentials> find_credentials(Tx& tx, const std::string& username) {
    return credentials_from(tx.exec_prepared("users_credentials", username));
}

std::optional<Credentials> credentials_of(Tx& tx, const std::string& id) {
    return credentials_from(tx.exec_prepared("users_credentials_of", id));
}

void set_password_hash(Tx& tx, const std::string& id, const std::string& password_hash) {
    tx.exec_prepared("users_set_password", id, password_hash);
}

std::optional<model::User> find(Tx& tx, const std::string& id) {
    return single_user(tx.exec_prepared("users_find", id));
}

std::vector<std::string> existing(Tx& tx, const std::vector<std::string>& ids) {
    std::vector<std::string> found;
    for (const auto& row : tx.exec_prepared("users_existing", uuid_array(ids)))
        found.push_back(row[0].as<std::string>());
    return found;
}

std::unordered_map<std::string, model::AddPolicy> add_policies(Tx& tx, const std::vector<std::string>& ids) {
    std::unordered_map<std::string, model::AddPolicy> policies;
    for (const auto& row : tx.exec_prepared("users_add_policies", uuid_array(ids)))
        policies.emplace(row[0].as<std::string>(),
                         model::add_policy_from(row[1].c_str()).value_or(model::AddPolicy::everyone));
    return policies;
}

void set_add_policy(Tx& tx, const std::string& id, model::AddPolicy policy) {
    tx.exec_prepared("users_set_add_policy", id, std::string(to_string(policy)));
}

std::optional<model::Timestamp> last_seen_at(Tx& tx, const std::string& id) {
    const auto result = tx.exec_prepared("users_last_seen", id);
    if (result.empty() || result[0][0].is_null()) return std::nullopt;
    return timestamp(result[0][0]);
}

void touch_last_seen(Tx& tx, const std::string& id) { tx.exec_prepared("users_touch_last_seen", id); }

std::vector<model::User> search(Tx& tx, const std::string& prefix, const std::optional<std::string>& after_username,
                                int limit) {
    const auto result = tx.exec_prepared("users_search", like_prefix(prefix), after_username, limit);
    std::vector<model::User> found;
    found.reserve(result.size());
    for (const auto& row : result) found.push_back(user_from(row));
    return found;
}

}  // namespace confab::store::users

namespace confab::store::tokens {

void prepare(Tx& connection) {
    connection.prepare("tokens_insert",
                       "INSERT INTO auth_tokens (token_hash, user_id, expires_at) "
                       "VALUES ($1, $2::uuid, now() + make_interval(hours => $3))");
    connection.prepare("tokens_owner",
                       "SELECT user_id::text, " CONFAB_MS("expires_at") " FROM auth_tokens "
                       "WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now()");
    connection.prepare("tokens_revoke",
                       "UPDATE auth_tokens SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL");
    connection.prepare("tokens_revoke_all",
                       "UPDATE auth_tokens SET revoked_at = now() "
                       "WHERE user_id = $1::uuid AND token_hash <> $2 AND revoked_at IS NULL AND expires_at > now()");
}

void insert(Tx& tx, const std::string& token_hash, const std::string& user_id, std::chrono::hours ttl) {
    tx.exec_prepared("tokens_insert", token_hash, user_id, static_cast<int>(ttl.count()));
}

std::optional<Owner> owner_of(Tx& tx, const std::string& token_hash) {
    const auto result = tx.exec_prepared("tokens_owner", token_hash);
    if (result.empty()) return std::nullopt;
    return Owner{result[0][0].as<std::string>(), timestamp(result[0][1])};
}

void revoke(Tx& tx, const std::string& token_hash) { tx.exec_prepared("tokens_revoke", token_hash); }

void revoke_all(Tx& tx, const std::string& user_id, const std::string& keep) {
    tx.exec_prepared("tokens_revoke_all", user_id, keep);
}

}  // namespace confab::store::tokens
