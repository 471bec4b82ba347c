#include "confab/store/users.hpp"
#include "confab/store/sql.hpp"

#include "confab/store/rows.hpp"

namespace confab::store {

const char* const user_columns = "u.id::text, u.username, u.display_name, u.avatar_url, " CONFAB_TIME(
    "u.created_at") ", u.bio, u.is_bot, u.deleted_at IS NOT NULL";

model::User user_from(const pqxx::row& row, int first) {
    return model::User{
        .id = row[first].as<std::string>(),
        .username = row[first + 1].as<std::string>(),
        .display_name = row[first + 2].as<std::string>(),
        .avatar_url = optional_text(row[first + 3]),
        .bio = optional_text(row[first + 5]),
        .created_at = timestamp(row[first + 4]),
        .is_bot = row[first + 6].as<bool>(),
        .deleted = row[first + 7].as<bool>(),
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

void prepare(Tx& tx) {
    const std::string columns = user_columns;
    tx.prepare("users_insert",
               "INSERT INTO users AS u (username, display_name, password_hash) VALUES ($1, $2, $3) "
               "ON CONFLICT (username) DO NOTHING RETURNING " +
                   columns);
    tx.prepare("users_remove", "DELETE FROM users WHERE id = $1::uuid");
    tx.prepare("users_credentials", "SELECT " + columns + ", u.password_hash FROM users u WHERE u.username = $1");
    tx.prepare("users_credentials_of", "SELECT " + columns + ", u.password_hash FROM users u WHERE u.id = $1::uuid");
    tx.prepare("users_set_password", "UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1::uuid");
    tx.prepare("users_existing", "SELECT id::text FROM users WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL");
    tx.prepare("users_add_policies",
               "SELECT id::text, who_can_add_me FROM users WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL");
    const std::string privacy_columns = "who_can_add_me, who_can_see_presence, send_read_receipts";
    tx.prepare("users_privacy", "SELECT " + privacy_columns + " FROM users WHERE id = $1::uuid");
    tx.prepare("users_update_privacy",
               "UPDATE users SET who_can_add_me = coalesce($2, who_can_add_me), "
               "who_can_see_presence = coalesce($3, who_can_see_presence), "
               "send_read_receipts = coalesce($4::boolean, send_read_receipts), updated_at = now() "
               "WHERE id = $1::uuid RETURNING " +
                   privacy_columns);
    tx.prepare("users_update_profile",
               "UPDATE users u SET display_name = coalesce($2, display_name), "
               "bio = CASE WHEN $3 THEN $4 ELSE bio END, is_bot = coalesce($5::boolean, is_bot), updated_at = now() "
               "WHERE u.id = $1::uuid AND (display_name IS DISTINCT FROM coalesce($2, display_name) "
               "OR ($3 AND bio IS DISTINCT FROM $4) OR is_bot IS DISTINCT FROM coalesce($5::boolean, is_bot)) "
               "RETURNING " +
                   columns);
    tx.prepare("users_lock_avatar", "SELECT avatar_media_id::text FROM users WHERE id = $1::uuid FOR UPDATE");
    tx.prepare("users_set_avatar",
               "UPDATE users u SET avatar_media_id = $2::uuid, avatar_url = $3, updated_at = now() "
               "WHERE u.id = $1::uuid RETURNING " +
                   columns);
    tx.prepare("users_deactivated_at",
               "SELECT " CONFAB_TIME("deactivated_at") " FROM users WHERE id = $1::uuid AND deleted_at IS NULL");
    tx.prepare("users_set_deactivated",
               "UPDATE users SET deactivated_at = CASE WHEN $2 THEN coalesce(deactivated_at, now()) END, "
               "updated_at = now() WHERE id = $1::uuid RETURNING " CONFAB_TIME("deactivated_at"));
    tx.prepare("users_presence_of", "SELECT id::text, " + privacy_columns +
                                        ", " CONFAB_TIME("last_seen_at") ", " CONFAB_ONLINE(
                                            "users.id") "FROM users WHERE id = ANY($1::uuid[])");
    tx.prepare("users_touch_last_seen",
               "UPDATE users SET last_seen_at = now() WHERE id = $1::uuid RETURNING " CONFAB_TIME("last_seen_at"));
    tx.prepare("users_find", "SELECT " + columns + " FROM users u WHERE u.id = $1::uuid");
    // $1 is a LIKE pattern (escaped prefix + '%'), folded here so that non-ASCII letters
    // fold the same way on both sides; $2 is the last username of the previous page.
    tx.prepare("users_search",
               "SELECT " + columns +
                   " FROM users u "
                   "WHERE (u.username LIKE lower($1) OR lower(u.display_name) LIKE lower($1)) AND u.deleted_at IS NULL "
                   "AND ($2::text IS NULL OR u.username > $2) ORDER BY u.username LIMIT $3");
}

std::optional<model::User> insert(Tx& tx, const std::string& username, const std::string& display_name,
                                  const std::optional<std::string>& password_hash) {
    return single_user(tx.exec_prepared("users_insert", username, display_name, password_hash));
}

void remove(Tx& tx, const std::string& id) { tx.exec_prepared("users_remove", id); }

namespace {

std::optional<Credentials> credentials_from(const pqxx::result& result) {
    if (result.empty()) return std::nullopt;
    return Credentials{user_from(result[0]), optional_text(result[0][user_column_count])};
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
    return first_column(tx.exec_prepared("users_existing", uuid_array(ids)));
}

std::unordered_map<std::string, model::Circle> add_policies(Tx& tx, const std::vector<std::string>& ids) {
    std::unordered_map<std::string, model::Circle> policies;
    for (const auto& row : tx.exec_prepared("users_add_policies", uuid_array(ids)))
        policies.emplace(row[0].as<std::string>(),
                         model::circle_from(row[1].c_str()).value_or(model::Circle::everyone));
    return policies;
}

namespace {

// The privacy columns from `first` on.
model::Privacy privacy_of(const pqxx::row& row, int first) {
    model::Privacy privacy;
    privacy.who_can_add_me = model::circle_from(row[first].c_str()).value_or(privacy.who_can_add_me);
    privacy.who_can_see_presence = model::circle_from(row[first + 1].c_str()).value_or(privacy.who_can_see_presence);
    privacy.send_read_receipts = row[first + 2].as<bool>();
    return privacy;
}

std::optional<model::Privacy> privacy_from(const pqxx::result& result) {
    if (result.empty()) return std::nullopt;
    return privacy_of(result[0], 0);
}

std::optional<std::string> text_of(const std::optional<model::Circle>& circle) {
    if (!circle) return std::nullopt;
    return std::string(to_string(*circle));
}

}  // namespace

std::optional<model::Privacy> privacy(Tx& tx, const std::string& id) {
    return privacy_from(tx.exec_prepared("users_privacy", id));
}

std::unordered_map<std::string, PresenceOf> presence_of(Tx& tx, const std::vector<std::string>& ids) {
    std::unordered_map<std::string, PresenceOf> found;
    if (ids.empty()) return found;
    for (const auto& row : tx.exec_prepared("users_presence_of", uuid_array(ids))) {
        PresenceOf& user = found[row[0].as<std::string>()];
        user.privacy = privacy_of(row, 1);
        if (!row[4].is_null()) user.presence.last_seen_at = timestamp(row[4]);
        user.presence.online = row[5].as<bool>();
    }
    return found;
}

std::optional<model::Privacy> update_privacy(Tx& tx, const std::string& id, const model::PrivacyChange& change) {
    std::optional<std::string> receipts;
    if (change.send_read_receipts) receipts = *change.send_read_receipts ? "true" : "false";
    return privacy_from(tx.exec_prepared("users_update_privacy", id, text_of(change.who_can_add_me),
                                         text_of(change.who_can_see_presence), receipts));
}

std::optional<std::string> lock_avatar(Tx& tx, const std::string& id) {
    const auto result = tx.exec_prepared("users_lock_avatar", id);
    if (result.empty()) return std::nullopt;
    return optional_text(result[0][0]);
}

std::optional<model::User> set_avatar(Tx& tx, const std::string& id, const std::optional<std::string>& media_id,
                                      const std::optional<std::string>& url) {
    return single_user(tx.exec_prepared("users_set_avatar", id, media_id, url));
}

std::optional<ProfileUpdate> update_profile(Tx& tx, const std::string& id, const model::ProfileChange& change) {
    const bool set_bio = change.bio.has_value();
    const std::optional<std::string> bio = set_bio ? *change.bio : std::nullopt;
    std::optional<std::string> is_bot;
    if (change.is_bot) is_bot = *change.is_bot ? "true" : "false";
    if (auto changed =
            single_user(tx.exec_prepared("users_update_profile", id, change.display_name, set_bio, bio, is_bot)))
        return ProfileUpdate{std::move(*changed), true};
    if (auto unchanged = find(tx, id)) return ProfileUpdate{std::move(*unchanged), false};
    return std::nullopt;
}

namespace {

std::optional<Standing> standing_from(const pqxx::result& result) {
    if (result.empty()) return std::nullopt;
    Standing standing;
    if (!result[0][0].is_null()) standing.deactivated_at = timestamp(result[0][0]);
    return standing;
}

}  // namespace

std::optional<Standing> standing(Tx& tx, const std::string& id) {
    return standing_from(tx.exec_prepared("users_deactivated_at", id));
}

std::optional<Standing> set_deactivated(Tx& tx, const std::string& id, bool deactivated) {
    return standing_from(tx.exec_prepared("users_set_deactivated", id, deactivated));
}

std::optional<model::Timestamp> touch_last_seen(Tx& tx, const std::string& id) {
    const auto result = tx.exec_prepared("users_touch_last_seen", id);
    if (result.empty()) return std::nullopt;
    return timestamp(result[0][0]);
}

std::vector<model::User> search(Tx& tx, const std::string& prefix, const std::optional<std::string>& after_username,
                                int limit) {
    const auto result = tx.exec_prepared("users_search", like_prefix(prefix), after_username, limit);
    std::vector<model::User> found;
    found.reserve(result.size());
    for (const auto& row : result) found.push_back(user_from(row));
    return found;
}

}  // namespace confab::store::users

namespace confab::store::identities {

void prepare(Tx& tx) {
    tx.prepare("identities_user", "SELECT " + std::string(user_columns) + ", " CONFAB_TIME("u.deactivated_at") +
                                      " FROM external_identities e JOIN users u ON u.id = e.user_id "
                                      "WHERE e.issuer = $1 AND e.subject = $2");
    tx.prepare("identities_link",
               "INSERT INTO external_identities (issuer, subject, user_id) VALUES ($1, $2, $3::uuid) "
               "ON CONFLICT DO NOTHING RETURNING user_id");
}

std::optional<Account> find(Tx& tx, const std::string& issuer, const std::string& subject) {
    const auto result = tx.exec_prepared("identities_user", issuer, subject);
    if (result.empty()) return std::nullopt;
    Account account{user_from(result[0]), {}};
    if (const auto& deactivated = result[0][user_column_count]; !deactivated.is_null())
        account.standing.deactivated_at = timestamp(deactivated);
    return account;
}

bool link(Tx& tx, const std::string& issuer, const std::string& subject, const std::string& user_id) {
    return !tx.exec_prepared("identities_link", issuer, subject, user_id).empty();
}

}  // namespace confab::store::identities

namespace confab::store::tokens {

void prepare(Tx& tx) {
    // The user's row locked FOR SHARE: a revocation updates it first (tokens_lock_owner, a
    // deactivation, a password change, a deletion), so either this commits first and the
    // revocation then sees the new token, or this waits and reads the row as it left it.
    tx.prepare("tokens_insert",
               "WITH owner AS (SELECT id, deactivated_at IS NOT NULL AS deactivated, "
               "  deleted_at IS NULL AND ($6::text IS NULL OR password_hash = $6) AS current "
               "  FROM users WHERE id = $2::uuid FOR SHARE), "
               "issued AS (INSERT INTO auth_tokens (token_hash, user_id, expires_at, device_name, address) "
               "  SELECT $1, id, now() + make_interval(hours => $3), $4, $5 FROM owner "
               "  WHERE NOT deactivated AND current RETURNING user_id) "
               "SELECT deactivated, current FROM owner");
    tx.prepare("tokens_lock_owner", "SELECT 1 FROM users WHERE id = $1::uuid FOR NO KEY UPDATE");
    tx.prepare("tokens_owner",
                       "SELECT user_id::text, " CONFAB_TIME("expires_at") " FROM auth_tokens "
                       "WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now()");
    // Renews only a token last renewed more than $4 seconds ago, so that a busy client costs
    // one write per interval, not one per lookup.
    tx.prepare("tokens_use",
               "WITH live AS (SELECT user_id, expires_at, last_used_at FROM auth_tokens "
               "  WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now()), "
               "renewed AS (UPDATE auth_tokens t SET last_used_at = now(), address = $3, "
               "  expires_at = now() + make_interval(hours => $2) FROM live "
               "  WHERE t.token_hash = $1 AND live.last_used_at < now() - make_interval(secs => $4) "
               "  RETURNING t.expires_at) "
               "SELECT live.user_id::text, " CONFAB_TIME("COALESCE((SELECT expires_at FROM renewed), "
                                                         "live.expires_at)") " FROM live");
    tx.prepare("tokens_revoke",
               "UPDATE auth_tokens SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL");
    tx.prepare("tokens_revoke_all",
               "UPDATE auth_tokens SET revoked_at = now() "
               "WHERE user_id = $1::uuid AND token_hash <> $2 AND revoked_at IS NULL AND expires_at > now()");
    tx.prepare("tokens_revoke_session",
               "UPDATE auth_tokens SET revoked_at = now() "
               "WHERE id = $2::uuid AND user_id = $1::uuid AND revoked_at IS NULL AND expires_at > now() "
               "RETURNING token_hash");
    // Keyset over auth_tokens_user_live (migrations/0041_list_pages.sql). The order names the
    // table's columns (t.): a bare id there would be the text selected, sorted apart.
    tx.prepare("tokens_sessions",
               "SELECT id::text, device_name, " CONFAB_TIME("created_at") ", " CONFAB_TIME("last_used_at") ", "
               "address, token_hash = $2, " CONFAB_MICROS("t.last_used_at") ", t.id::text FROM auth_tokens t "
               "WHERE t.user_id = $1::uuid AND t.revoked_at IS NULL AND t.expires_at > now() AND" +
                   std::string(CONFAB_OLDER_THAN_PLACE("t.last_used_at", "t.id", "$3", "$4::uuid")) +
                   "ORDER BY t.last_used_at DESC, t.id DESC LIMIT $5");
}

Issue insert(Tx& tx, const NewToken& token) {
    const auto owner =
        tx.exec_prepared("tokens_insert", token.token_hash, token.user_id, static_cast<int>(token.ttl.count()),
                         token.device_name, token.address, token.password_hash);
    if (owner.empty() || !owner[0][1].as<bool>()) return Issue::stale;
    return owner[0][0].as<bool>() ? Issue::deactivated : Issue::issued;
}

namespace {

std::optional<Owner> owner_from(const pqxx::result& result) {
    if (result.empty()) return std::nullopt;
    return Owner{result[0][0].as<std::string>(), timestamp(result[0][1])};
}

}  // namespace

std::optional<Owner> owner_of(Tx& tx, const std::string& token_hash) {
    return owner_from(tx.exec_prepared("tokens_owner", token_hash));
}

std::optional<Owner> use(Tx& tx, const std::string& token_hash, const Renewal& renewal) {
    return owner_from(tx.exec_prepared("tokens_use", token_hash, static_cast<int>(renewal.ttl.count()), renewal.address,
                                       static_cast<double>(renewal.interval.count())));
}

void revoke(Tx& tx, const std::string& token_hash) { tx.exec_prepared("tokens_revoke", token_hash); }

void revoke_all(Tx& tx, const std::string& user_id, const std::string& keep) {
    tx.exec_prepared("tokens_lock_owner", user_id);
    tx.exec_prepared("tokens_revoke_all", user_id, keep);
}

std::optional<std::string> revoke_session(Tx& tx, const std::string& user_id, const std::string& session_id) {
    const auto result = tx.exec_prepared("tokens_revoke_session", user_id, session_id);
    if (result.empty()) return std::nullopt;
    return result[0][0].as<std::string>();
}

std::vector<std::pair<model::Session, model::ListPlace>> sessions(Tx& tx, const std::string& user_id,
                                                                  const std::string& current_hash,
                                                                  const std::optional<model::ListPlace>& after,
                                                                  int limit) {
    const auto rows =
        tx.exec_prepared("tokens_sessions", user_id, current_hash, place_time(after), place_id(after), limit);
    return placed_rows(rows, [](const pqxx::row& row) {
        return model::Session{
            .id = row[0].as<std::string>(),
            .device_name = optional_text(row[1]),
            .created_at = timestamp(row[2]),
            .last_used_at = timestamp(row[3]),
            .address = optional_text(row[4]),
            .current = row[5].as<bool>(),
        };
    });
}

}  // namespace confab::store::tokens
