#include "confab/store/invite_links.hpp"
#include "confab/store/sql.hpp"

#include "confab/store/rows.hpp"

namespace confab::store::invite_links {
namespace {

model::InviteLink link_from(const pqxx::row& row) {
    model::InviteLink link{row[0].as<std::string>(),
                           row[1].as<std::string>(),
                           optional_text(row[2]),
                           optional_timestamp(row[3]),
                           std::nullopt,
                           row[5].as<std::int64_t>(),
                           row[6].as<bool>(),
                           timestamp(row[7])};
    if (!row[4].is_null()) link.max_uses = row[4].as<std::int64_t>();
    return link;
}

}  // namespace

void prepare(Tx& tx) {
    const std::string columns = "code, chat_id::text, created_by::text, " CONFAB_TIME(
        "expires_at") ", max_uses, uses, revoked_at IS NOT NULL, " CONFAB_TIME("created_at");
    tx.prepare("invite_links_insert",
               "INSERT INTO chat_invite_links (code, chat_id, created_by, expires_at, max_uses) "
               "VALUES ($1, $2::uuid, $3::uuid, to_timestamp($4::bigint / 1000.0), $5) RETURNING " +
                   columns);
    tx.prepare("invite_links_find", "SELECT " + columns + " FROM chat_invite_links WHERE code = $1");
    // Keyset over chat_invite_links_chat (migrations/0023_invite_links.sql), which orders by
    // created_at; the rare rows of one time are sorted by code, byte by byte whatever the
    // database's collation (docs/api.md, Invite links).
    tx.prepare("invite_links_of_chat",
               "SELECT " + columns + ", " CONFAB_MICROS("created_at") ", code FROM chat_invite_links "
               "WHERE chat_id = $1::uuid AND revoked_at IS NULL AND" +
                   CONFAB_OLDER_THAN_PLACE("created_at", "code COLLATE \"C\"", "$2", "$3::text") +
                   "ORDER BY created_at DESC, code COLLATE \"C\" DESC LIMIT $4");
    tx.prepare("invite_links_revoke",
               "UPDATE chat_invite_links SET revoked_at = now() "
               "WHERE chat_id = $1::uuid AND code = $2 AND revoked_at IS NULL");
    tx.prepare("invite_links_count_use", "UPDATE chat_invite_links SET uses = uses + 1 WHERE code = $1");
    tx.prepare("invite_links_preview",
               "SELECT l.code, c.id::text, c.title, c.avatar_url, " CONFAB_MEMBER_COUNT("c") ", " CONFAB_TIME(
                   "l.expires_at") " FROM chat_invite_links l JOIN chats c ON c.id = l.chat_id WHERE l.code = $1");
}

model::InviteLink insert(Tx& tx, const std::string& code, const std::string& chat_id, const std::string& created_by,
                         std::optional<model::Timestamp> expires_at, std::optional<std::int64_t> max_uses) {
    return link_from(
        tx.exec_prepared("invite_links_insert", code, chat_id, created_by, epoch_ms(expires_at), max_uses)[0]);
}

std::optional<model::InviteLink> find(Tx& tx, const std::string& code) {
    const auto result = tx.exec_prepared("invite_links_find", code);
    if (result.empty()) return std::nullopt;
    return link_from(result[0]);
}

std::vector<std::pair<model::InviteLink, model::ListPlace>> of_chat(Tx& tx, const std::string& chat_id,
                                                                    const std::optional<model::ListPlace>& after,
                                                                    int limit) {
    return placed_rows(tx.exec_prepared("invite_links_of_chat", chat_id, place_time(after), place_id(after), limit),
                       link_from);
}

bool revoke(Tx& tx, const std::string& chat_id, const std::string& code) {
    return tx.exec_prepared("invite_links_revoke", chat_id, code).affected_rows() > 0;
}

std::size_t live_in_chat(Tx& tx, const std::string& chat_id) {
    return tx
        .exec_params(
            "SELECT count(*) FROM chat_invite_links WHERE chat_id = $1::uuid AND revoked_at IS NULL "
            "AND (expires_at IS NULL OR expires_at > now()) AND (max_uses IS NULL OR uses < max_uses)",
            chat_id)[0][0]
        .as<std::size_t>();
}

void count_use(Tx& tx, const std::string& code) { tx.exec_prepared("invite_links_count_use", code); }

std::optional<model::InvitePreview> preview(Tx& tx, const std::string& code) {
    const auto result = tx.exec_prepared("invite_links_preview", code);
    if (result.empty()) return std::nullopt;
    const auto& row = result[0];
    return model::InvitePreview{row[0].as<std::string>(), row[1].as<std::string>(),  optional_text(row[2]),
                                optional_text(row[3]),    row[4].as<std::int64_t>(), optional_timestamp(row[5])};
}

}  // namespace confab::store::invite_links
