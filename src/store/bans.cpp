#include "confab/store/bans.hpp"
#include "confab/store/sql.hpp"

#include "confab/store/rows.hpp"

namespace confab::store::bans {
namespace {

model::Ban ban_from(const pqxx::row& row) {
    model::Ban ban{row[0].as<std::string>(), row[1].as<std::string>(), optional_text(row[2]), std::nullopt,
                   timestamp(row[4])};
    if (!row[3].is_null()) ban.until = timestamp(row[3]);
    return ban;
}

}  // namespace

void prepare(Tx& tx) {
    const std::string columns =
        "chat_id::text, user_id::text, banned_by::text, " CONFAB_TIME("until") ", " CONFAB_TIME("created_at");
    const std::string in_force_now = "(until IS NULL OR until > now())";
    tx.prepare("bans_put",
               "INSERT INTO chat_bans (chat_id, user_id, banned_by, until) "
               "VALUES ($1::uuid, $2::uuid, $3::uuid, to_timestamp($4::bigint / 1000.0)) "
               "ON CONFLICT (chat_id, user_id) DO UPDATE SET banned_by = EXCLUDED.banned_by, until = EXCLUDED.until, "
               "created_at = now() RETURNING " +
                   columns);
    // A lapsed ban goes too, but is not one to lift: it is listed nowhere.
    tx.prepare("bans_remove",
               "DELETE FROM chat_bans WHERE chat_id = $1::uuid AND user_id = $2::uuid RETURNING " + in_force_now);
    tx.prepare("bans_banned_among",
               "SELECT user_id::text FROM chat_bans WHERE chat_id = $1::uuid AND user_id = ANY($2::uuid[]) AND " +
                   in_force_now);
    // Keyset over chat_bans_chat_created (migrations/0041_list_pages.sql). The order names the
    // table's columns (b.): a bare user_id there would be the text selected, sorted apart.
    tx.prepare("bans_in_force",
               "SELECT " + columns + ", " CONFAB_MICROS("b.created_at") ", b.user_id::text FROM chat_bans b "
               "WHERE b.chat_id = $1::uuid AND " + in_force_now + " AND" +
                   CONFAB_OLDER_THAN_PLACE("b.created_at", "b.user_id", "$2", "$3::uuid") +
                   "ORDER BY b.created_at DESC, b.user_id DESC LIMIT $4");
}

model::Ban put(Tx& tx, const std::string& chat_id, const std::string& user_id, const std::string& banned_by,
               std::optional<model::Timestamp> until) {
    return ban_from(tx.exec_prepared("bans_put", chat_id, user_id, banned_by, epoch_ms(until))[0]);
}

bool remove(Tx& tx, const std::string& chat_id, const std::string& user_id) {
    const auto removed = tx.exec_prepared("bans_remove", chat_id, user_id);
    return !removed.empty() && removed[0][0].as<bool>();
}

std::vector<std::string> banned_among(Tx& tx, const std::string& chat_id, const std::vector<std::string>& ids) {
    if (ids.empty()) return {};
    return first_column(tx.exec_prepared("bans_banned_among", chat_id, uuid_array(ids)));
}

std::vector<std::pair<model::Ban, model::ListPlace>> in_force(Tx& tx, const std::string& chat_id,
                                                              const std::optional<model::ListPlace>& after, int limit) {
    return placed_rows(tx.exec_prepared("bans_in_force", chat_id, place_time(after), place_id(after), limit), ban_from);
}

}  // namespace confab::store::bans
