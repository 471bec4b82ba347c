#include "confab/store/media.hpp"
#include "confab/store/sql.hpp"

#include "confab/store/rows.hpp"

#include <algorithm>

// The columns of a live photo's motion part, in the order live_video_values() gives them.
#define CONFAB_LIVE_VIDEO_COLUMNS                                                              \
    "live_video_storage_key, live_video_sha256, live_video_mime_type, live_video_size_bytes, " \
    "live_video_duration_ms, live_video_width, live_video_height"

namespace confab::store::media {

void prepare(Tx& tx) {
    // ON CONFLICT DO UPDATE (a no-op write) so RETURNING yields the existing row too;
    // xmax = 0 only for a row this statement inserted.
    tx.prepare("media_insert",
               "INSERT INTO media AS md (chat_id, uploader_id, kind, mime_type, size_bytes, sha256, file_name, "
               "storage_key, width, height, duration_ms, waveform, animated, poster, " CONFAB_LIVE_VIDEO_COLUMNS
               ") "
               "VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::smallint[], $13, $14, "
               "$15, $16, $17, $18, $19, $20, $21) "
               "ON CONFLICT (chat_id, uploader_id, sha256, kind, coalesce(live_video_sha256, '')) "
               "WHERE attached_at IS NULL "
               "DO UPDATE SET sha256 = EXCLUDED.sha256 "
               "RETURNING " CONFAB_MEDIA_COLUMNS ", (xmax = 0)");
    tx.prepare("media_insert_avatar",
               "INSERT INTO media AS md (chat_id, uploader_id, kind, mime_type, size_bytes, sha256, file_name, "
               "storage_key, width, height, duration_ms, waveform, animated, poster) "
               "VALUES (NULL, $1::uuid, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::smallint[], $12, $13) "
               "ON CONFLICT (uploader_id, sha256, kind) WHERE attached_at IS NULL AND chat_id IS NULL "
               "DO UPDATE SET sha256 = EXCLUDED.sha256 "
               "RETURNING " CONFAB_MEDIA_COLUMNS ", (xmax = 0)");
    tx.prepare("media_insert_attached",
               "INSERT INTO media AS md (chat_id, uploader_id, kind, mime_type, size_bytes, sha256, file_name, "
               "storage_key, width, height, duration_ms, waveform, animated, poster, " CONFAB_LIVE_VIDEO_COLUMNS
               ", attached_at) "
               "VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::smallint[], $13, $14, "
               "$15, $16, $17, $18, $19, $20, $21, now()) "
               "RETURNING " CONFAB_MEDIA_COLUMNS);
    tx.prepare("media_find", "SELECT " CONFAB_MEDIA_COLUMNS " FROM media md WHERE md.id = $1::uuid");
    tx.prepare("media_attach", "UPDATE media SET attached_at = now() WHERE id = $1::uuid");
    tx.prepare("media_remove",
               "WITH gone AS (DELETE FROM media WHERE id = $1::uuid RETURNING *) " CONFAB_STORAGE_KEYS_OF("gone"));
    tx.prepare("media_remove_unattached",
               "WITH gone AS (DELETE FROM media WHERE id = $1::uuid AND attached_at IS NULL RETURNING "
               "*) " CONFAB_STORAGE_KEYS_OF("gone"));
    tx.prepare("media_lock_bytes", "SELECT pg_advisory_xact_lock(hashtext('confab.media:' || $1))");
    tx.prepare("media_lock_quota", "SELECT pg_advisory_xact_lock(hashtext('confab.quota:' || $1))");
    tx.prepare("media_usage",
               "SELECT COALESCE(sum(size_bytes + COALESCE(live_video_size_bytes, 0)), 0)::bigint, "
               "COALESCE(bool_or(attached_at IS NULL AND chat_id IS NOT DISTINCT FROM $2::uuid AND sha256 = $3 AND "
               "kind = $4 AND live_video_sha256 IS NOT DISTINCT FROM $5), false) "
               "FROM media WHERE uploader_id = $1::uuid");
    tx.prepare("media_avatar", "SELECT " CONFAB_MEDIA_COLUMNS
                               " FROM users u JOIN media md ON md.id = u.avatar_media_id "
                               "WHERE u.id = $1::uuid");
    tx.prepare("media_unused_keys",
               "SELECT k FROM unnest($1::text[]) AS k WHERE NOT EXISTS (SELECT 1 FROM media WHERE storage_key = k) "
               "AND NOT EXISTS (SELECT 1 FROM media WHERE live_video_storage_key = k)");
    tx.prepare("media_gallery",
               std::string("SELECT ") + message_columns +
                   " FROM messages m JOIN media md ON md.id = m.media_id "
                   "WHERE m.chat_id = $1::uuid AND NOT m.is_deleted AND ($2::text IS NULL OR md.kind = $2) "
                   "AND ($3::bigint IS NULL OR m.seq < $3) AND" CONFAB_NOT_HIDDEN_IN_CHAT(
                       "m", "$1", "$5") "ORDER BY m.seq DESC LIMIT $4");
    tx.prepare("media_stale",
               "SELECT id::text FROM media WHERE attached_at IS NULL "
               "AND created_at < now() - make_interval(hours => $1) AND NOT EXISTS (SELECT 1 FROM scheduled_messages s "
               "WHERE s.media_id = media.id AND s.status = 'pending') ORDER BY created_at LIMIT $2");
}

namespace {

std::optional<std::string> chat_of(const model::Media& m) {
    if (m.chat_id.empty()) return std::nullopt;  // an avatar
    return m.chat_id;
}

// A waveform as a smallint[] parameter; none is NULL.
std::optional<std::string> waveform_array(const std::vector<int>& waveform) {
    if (waveform.empty()) return std::nullopt;
    std::string literal = "{";
    for (const int peak : waveform) literal += (literal.size() > 1 ? "," : "") + std::to_string(peak);
    return literal + "}";
}

// media_insert and media_insert_attached, which take the same parameters.
pqxx::row insert_row(Tx& tx, const std::string& statement, const model::Media& m) {
    const auto part = [&live = m.live_video](auto model::LiveVideo::*field) {
        return live ? std::optional((*live).*field) : std::nullopt;
    };
    return tx.exec_prepared1(statement, m.chat_id, m.uploader_id, std::string(to_string(m.kind)), m.mime_type,
                             m.size_bytes, m.sha256, m.file_name, m.storage_key, m.width, m.height, m.duration_ms,
                             waveform_array(m.waveform), m.animated, m.poster, part(&model::LiveVideo::storage_key),
                             part(&model::LiveVideo::sha256), part(&model::LiveVideo::mime_type),
                             part(&model::LiveVideo::size_bytes), part(&model::LiveVideo::duration_ms),
                             part(&model::LiveVideo::width), part(&model::LiveVideo::height));
}

}  // namespace

std::pair<model::Media, bool> insert(Tx& tx, const model::Media& m) {
    if (!m.chat_id.empty()) {
        const auto row = insert_row(tx, "media_insert", m);
        return {*media_from(row, 0), row[media_column_count].as<bool>()};
    }
    const auto row = tx.exec_prepared1("media_insert_avatar", m.uploader_id, std::string(to_string(m.kind)),
                                       m.mime_type, m.size_bytes, m.sha256, m.file_name, m.storage_key, m.width,
                                       m.height, m.duration_ms, waveform_array(m.waveform), m.animated, m.poster);
    return {*media_from(row, 0), row[media_column_count].as<bool>()};
}

model::Media insert_attached(Tx& tx, const model::Media& m) {
    return *media_from(insert_row(tx, "media_insert_attached", m), 0);
}

std::optional<model::Media> find(Tx& tx, const std::string& id) {
    const auto result = tx.exec_prepared("media_find", id);
    if (result.empty()) return std::nullopt;
    return media_from(result[0], 0);
}

void mark_attached(Tx& tx, const std::string& id) { tx.exec_prepared("media_attach", id); }

std::vector<std::string> remove(Tx& tx, const std::string& id) {
    return first_column(tx.exec_prepared("media_remove", id));
}

std::vector<std::string> remove_unattached(Tx& tx, const std::string& id) {
    return first_column(tx.exec_prepared("media_remove_unattached", id));
}

void lock_bytes(Tx& tx, const std::string& storage_key) { tx.exec_prepared("media_lock_bytes", storage_key); }

void lock_bytes_of(Tx& tx, const model::Media& media) {
    if (!media.live_video || media.live_video->storage_key == media.storage_key) {
        lock_bytes(tx, media.storage_key);
        return;
    }
    // In key order, as release_bytes takes them, so that the two never wait on each other.
    const auto& [first, second] = std::minmax(media.storage_key, media.live_video->storage_key);
    lock_bytes(tx, first);
    lock_bytes(tx, second);
}

void lock_quota(Tx& tx, const std::string& uploader_id) { tx.exec_prepared("media_lock_quota", uploader_id); }

Usage usage(Tx& tx, const model::Media& upload) {
    const auto live_sha256 = upload.live_video ? std::optional(upload.live_video->sha256) : std::nullopt;
    const auto row = tx.exec_prepared1("media_usage", upload.uploader_id, chat_of(upload), upload.sha256,
                                       std::string(to_string(upload.kind)), live_sha256);
    return {row[0].as<std::int64_t>(), row[1].as<bool>()};
}

bool bytes_in_use(Tx& tx, const std::string& storage_key) { return unused_keys(tx, {storage_key}).empty(); }

std::vector<std::string> unused_keys(Tx& tx, const std::vector<std::string>& storage_keys) {
    return first_column(tx.exec_prepared("media_unused_keys", text_array(storage_keys)));
}

std::vector<model::Message> gallery(Tx& tx, const std::string& chat_id, std::optional<model::MediaKind> kind,
                                    std::optional<std::int64_t> before_seq, int limit, const std::string& viewer) {
    const std::optional<std::string> kind_name =
        kind ? std::optional<std::string>(std::string(to_string(*kind))) : std::nullopt;
    std::vector<model::Message> out;
    for (const auto& row :
         tx.exec_prepared("media_gallery", chat_id, kind_name, before_seq, limit, hiding_viewer(viewer)))
        out.push_back(message_from(row));
    attach_reactions(tx, out, viewer);
    return out;
}

std::optional<model::Media> avatar_of(Tx& tx, const std::string& user_id) {
    const auto result = tx.exec_prepared("media_avatar", user_id);
    if (result.empty()) return std::nullopt;
    return media_from(result[0], 0);
}

std::vector<std::string> stale_unattached(Tx& tx, int older_than_hours, int limit) {
    return first_column(tx.exec_prepared("media_stale", older_than_hours, limit));
}

}  // namespace confab::store::media
