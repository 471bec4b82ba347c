#include "confab/store/accounts.hpp"
#include "confab/store/sql.hpp"

#include "confab/store/rows.hpp"

namespace confab::store::accounts {

void prepare(Tx& tx) {
    // A username can hold no '-' (migration 0016) but the tombstone's: it marks the last step done.
    tx.prepare("accounts_unfinished_deletions",
               "SELECT id::text FROM users WHERE deleted_at IS NOT NULL AND username NOT LIKE 'deleted-%' "
               "ORDER BY deleted_at");
    tx.prepare("accounts_shared_chats",
               "SELECT cm.chat_id::text FROM chat_members cm JOIN chats c ON c.id = cm.chat_id "
               "WHERE cm.user_id = $1::uuid AND c.type IN ('group', 'channel') ORDER BY cm.position");
    tx.prepare("accounts_chats_with_messages",
               "SELECT DISTINCT chat_id::text FROM messages "
               "WHERE sender_id = $1::uuid AND NOT is_deleted AND type <> 'system'");
    // Every CTE sees the rows as they were: `old` keeps the media and thread they had.
    tx.prepare("accounts_remove_messages",
               "WITH mine AS (SELECT id, media_id, thread_root_id FROM messages "
               "  WHERE chat_id = $1::uuid AND sender_id = $2::uuid AND NOT is_deleted AND type <> "
               "'system'), " CONFAB_TOMBSTONE_SIDE_ROWS(
                   "SELECT id FROM mine") "UPDATE messages m SET " CONFAB_TOMBSTONE_COLUMNS
                                          ", version = $3, updated_at = now() "
                                          "FROM mine WHERE m.id = mine.id "
                                          "RETURNING m.id::text, mine.media_id::text, mine.thread_root_id::text");
    // The row update conflicts with the FOR SHARE lock of every token issue and of every row
    // that would name the user (migrations/0044_deleted_account_guard.sql): those that got the
    // lock first commit before this does, those after it see deleted_at and are refused.
    tx.prepare("accounts_begin_deletion",
               "UPDATE users SET deleted_at = now(), updated_at = now() WHERE id = $1::uuid AND deleted_at IS NULL");
    tx.prepare("accounts_tombstone",
               "UPDATE users SET username = 'deleted-' || id::text, display_name = 'Deleted user', avatar_url = NULL, "
               "avatar_media_id = NULL, bio = NULL, password_hash = NULL, is_admin = false, last_seen_at = NULL, "
               "deleted_at = coalesce(deleted_at, now()), updated_at = now() WHERE id = $1::uuid");
    tx.prepare("accounts_remove_tokens", "DELETE FROM auth_tokens WHERE user_id = $1::uuid");
    tx.prepare("accounts_remove_identities", "DELETE FROM external_identities WHERE user_id = $1::uuid");
    // The tombstone row keeps the foreign keys' ON DELETE rules from firing: what they would do
    // is done here, a statement per table, each finding its rows by an index (migrations 0022,
    // 0023, 0026, 0042). Where a table both loses the user's rows and names the user in others,
    // the two sets are disjoint, so the CTE and the UPDATE never touch one row twice.
    tx.prepare("accounts_remove_invitations",
               "WITH gone AS (DELETE FROM invitations WHERE user_id = $1::uuid) "
               "UPDATE invitations SET inviter_id = NULL WHERE inviter_id = $1::uuid AND user_id <> $1::uuid");
    tx.prepare("accounts_remove_scheduled", "DELETE FROM scheduled_messages WHERE sender_id = $1::uuid");
    tx.prepare("accounts_remove_templates",
               "WITH gone AS (DELETE FROM message_templates WHERE owner_id = $1::uuid) "
               "UPDATE message_templates SET created_by = NULL WHERE created_by = $1::uuid AND chat_id IS NOT NULL");
    // The reporter's reports go with them; the resolutions and evidence naming them stay.
    tx.prepare("accounts_remove_reports",
               "WITH gone AS (DELETE FROM message_reports WHERE reporter_id = $1::uuid) "
               "UPDATE message_reports SET resolved_by = nullif(resolved_by, $1::uuid), "
               "reported_sender_id = nullif(reported_sender_id, $1::uuid) "
               "WHERE (resolved_by = $1::uuid OR reported_sender_id = $1::uuid) AND reporter_id <> $1::uuid");
    tx.prepare("accounts_remove_bans",
               "WITH gone AS (DELETE FROM chat_bans WHERE user_id = $1::uuid) "
               "UPDATE chat_bans SET banned_by = NULL WHERE banned_by = $1::uuid AND user_id <> $1::uuid");
    tx.prepare("accounts_forget_invite_links",
               "UPDATE chat_invite_links SET created_by = NULL WHERE created_by = $1::uuid");
    tx.prepare("accounts_forget_webhooks",
               "UPDATE webhook_subscriptions SET created_by = NULL WHERE created_by = $1::uuid");
    tx.prepare("accounts_forget_chats", "UPDATE chats SET created_by = NULL WHERE created_by = $1::uuid");
    // The user's own blocks go; those of others on the user stay, listed as the tombstone
    // (docs/api.md, Blocking). The table's trigger moves each pair's direct chat's access on.
    tx.prepare("accounts_remove_blocks", "DELETE FROM user_blocks WHERE blocker_id = $1::uuid");
    tx.prepare("accounts_remove_mentions", "DELETE FROM message_mentions WHERE user_id = $1::uuid");
    tx.prepare("accounts_remove_hidings", "DELETE FROM hidden_messages WHERE user_id = $1::uuid");
    // Found by the user's id, changed by the messages' (a chat's own index would walk all of a
    // big chat's messages); one naming the user no more meanwhile is left alone.
    tx.prepare("accounts_messages_naming",
               "SELECT chat_id::text, id::text FROM messages "
               "WHERE pinned_by = $1::uuid OR forwarded_from_sender_id = $1::uuid ORDER BY chat_id, id");
    tx.prepare("accounts_forget_in_messages",
               "UPDATE messages SET pinned_by = nullif(pinned_by, $2::uuid), "
               "forwarded_from_sender_id = nullif(forwarded_from_sender_id, $2::uuid), version = $3, "
               "updated_at = now() "
               "WHERE id = ANY($1::uuid[]) AND (pinned_by = $2::uuid OR forwarded_from_sender_id = $2::uuid) "
               "RETURNING id::text");
    // A deleted account keeps no broadcast lists and is on nobody's (docs/api.md, Broadcast lists).
    tx.prepare("accounts_remove_broadcast_lists", "DELETE FROM broadcast_lists WHERE owner_id = $1::uuid");
    tx.prepare("accounts_remove_from_broadcast_lists",
               "DELETE FROM broadcast_list_recipients WHERE user_id = $1::uuid");
    tx.prepare(
        "accounts_remove_unreferenced_media",
        "WITH gone AS (DELETE FROM media md WHERE md.uploader_id = $1::uuid "
        "AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.media_id = md.id) RETURNING md.*) " CONFAB_STORAGE_KEYS_OF(
            "gone"));
}

bool begin_deletion(Tx& tx, const std::string& user_id) {
    const bool marked = tx.exec_prepared("accounts_begin_deletion", user_id).affected_rows() == 1;
    tx.exec_prepared("accounts_remove_tokens", user_id);
    return marked;
}

std::vector<std::string> unfinished_deletions(Tx& tx) {
    return first_column(tx.exec_prepared("accounts_unfinished_deletions"));
}

std::vector<std::string> shared_chats_of(Tx& tx, const std::string& user_id) {
    return first_column(tx.exec_prepared("accounts_shared_chats", user_id));
}

std::vector<std::string> chats_with_messages(Tx& tx, const std::string& user_id) {
    return first_column(tx.exec_prepared("accounts_chats_with_messages", user_id));
}

std::vector<RemovedMessage> remove_messages(Tx& tx, const std::string& chat_id, const std::string& user_id,
                                            std::int64_t version) {
    std::vector<RemovedMessage> removed;
    for (const auto& row : tx.exec_prepared("accounts_remove_messages", chat_id, user_id, version))
        removed.push_back({row[0].as<std::string>(), optional_text(row[1]), optional_text(row[2])});
    return removed;
}

std::map<std::string, std::vector<std::string>> messages_naming(Tx& tx, const std::string& user_id) {
    std::map<std::string, std::vector<std::string>> by_chat;
    for (const auto& row : tx.exec_prepared("accounts_messages_naming", user_id))
        by_chat[row[0].as<std::string>()].push_back(row[1].as<std::string>());
    return by_chat;
}

std::vector<std::string> forget_in_messages(Tx& tx, const std::vector<std::string>& message_ids,
                                            const std::string& user_id, std::int64_t version) {
    return first_column(tx.exec_prepared("accounts_forget_in_messages", uuid_array(message_ids), user_id, version));
}

std::vector<std::string> remove_user(Tx& tx, const std::string& user_id) {
    for (const char* statement :
         {"accounts_tombstone", "accounts_remove_tokens", "accounts_remove_identities", "accounts_remove_invitations",
          "accounts_remove_scheduled", "accounts_remove_templates", "accounts_remove_broadcast_lists",
          "accounts_remove_from_broadcast_lists", "accounts_remove_reports", "accounts_remove_bans",
          "accounts_forget_invite_links", "accounts_forget_webhooks", "accounts_forget_chats", "accounts_remove_blocks",
          "accounts_remove_mentions", "accounts_remove_hidings"})
        tx.exec_prepared(statement, user_id);
    return first_column(tx.exec_prepared("accounts_remove_unreferenced_media", user_id));
}

}  // namespace confab::store::accounts

namespace confab::store::exports {
namespace {

const std::string export_columns = "id::text, user_id::text, status, items_done, items_total, size_bytes, " CONFAB_TIME(
    "created_at") ", " CONFAB_TIME("finished_at");

std::optional<model::DataExport> export_from(const pqxx::result& result) {
    if (result.empty()) return std::nullopt;
    const auto& row = result[0];
    model::DataExport found;
    found.id = row[0].as<std::string>();
    found.user_id = row[1].as<std::string>();
    found.status = model::export_status_from(row[2].c_str()).value_or(model::ExportStatus::failed);
    found.items_done = row[3].as<int>();
    found.items_total = row[4].as<int>();
    if (!row[5].is_null()) found.size_bytes = row[5].as<std::int64_t>();
    found.created_at = timestamp(row[6]);
    if (!row[7].is_null()) found.finished_at = timestamp(row[7]);
    return found;
}

}  // namespace

void prepare(Tx& tx) {
    tx.prepare("exports_insert",
               "INSERT INTO data_exports (user_id) VALUES ($1::uuid) ON CONFLICT DO NOTHING RETURNING " +
                   export_columns);
    tx.prepare("exports_find",
               "SELECT " + export_columns + " FROM data_exports WHERE id = $1::uuid AND user_id = $2::uuid");
    tx.prepare("exports_start", "UPDATE data_exports SET status = 'running', items_total = $2 WHERE id = $1::uuid");
    tx.prepare("exports_progress", "UPDATE data_exports SET items_done = $2 WHERE id = $1::uuid");
    tx.prepare("exports_finish",
               "UPDATE data_exports SET status = 'ready', items_done = items_total, size_bytes = $2, "
               "finished_at = now() WHERE id = $1::uuid AND status = 'running'");
    tx.prepare("exports_fail", "UPDATE data_exports SET status = 'failed', finished_at = now() WHERE id = $1::uuid");
    tx.prepare("exports_fail_unfinished",
               "UPDATE data_exports SET status = 'failed', finished_at = now() "
               "WHERE status IN ('pending', 'running') "
               "AND created_at < 'epoch'::timestamptz + $1::bigint * interval '1 millisecond' RETURNING id::text");
    tx.prepare("exports_remove_finished",
               "DELETE FROM data_exports WHERE user_id = $1::uuid AND id::text <> $2 "
               "AND status IN ('ready', 'failed') RETURNING id::text");
    tx.prepare("exports_remove_all", "DELETE FROM data_exports WHERE user_id = $1::uuid RETURNING id::text");
    tx.prepare("exports_profile",
               "SELECT json_build_object('id', u.id, 'username', u.username, 'display_name', u.display_name, "
               "'avatar_url', u.avatar_url, 'bio', u.bio, 'created_at', u.created_at, "
               "'privacy', json_build_object('who_can_add_me', u.who_can_add_me, "
               "'who_can_see_presence', u.who_can_see_presence, 'send_read_receipts', u.send_read_receipts))::text "
               "FROM users u WHERE u.id = $1::uuid");
    tx.prepare("exports_chats",
               "SELECT coalesce(json_agg(json_build_object('id', c.id, 'type', c.type, 'title', c.title, "
               "'created_at', c.created_at, 'role', cm.role, 'joined_at', cm.joined_at, 'members', "
               "(SELECT json_agg(json_build_object('user_id', o.user_id, 'username', ou.username, "
               "'display_name', ou.display_name, 'role', o.role) ORDER BY o.position) "
               "FROM chat_members o JOIN users ou ON ou.id = o.user_id WHERE o.chat_id = c.id "
               "AND (c.type <> 'channel' OR cm.role = ANY($2::text[]) OR o.user_id = cm.user_id))) "
               "ORDER BY cm.position), '[]')::text "
               "FROM chat_members cm JOIN chats c ON c.id = cm.chat_id WHERE cm.user_id = $1::uuid");
    tx.prepare("exports_chat_ids", "SELECT chat_id::text FROM chat_members WHERE user_id = $1::uuid ORDER BY position");
    tx.prepare("exports_media",
               "SELECT coalesce(json_agg(json_build_object('id', md.id, 'chat_id', md.chat_id, 'kind', md.kind, "
               "'mime_type', md.mime_type, 'size_bytes', md.size_bytes, 'sha256', md.sha256, "
               "'file_name', md.file_name, 'created_at', md.created_at, 'path', 'media/' || md.id, "
               "'live_video', CASE WHEN md.live_video_storage_key IS NOT NULL THEN json_build_object("
               "'mime_type', md.live_video_mime_type, 'size_bytes', md.live_video_size_bytes, "
               "'sha256', md.live_video_sha256, 'duration_ms', md.live_video_duration_ms, "
               "'path', 'media/' || md.id || '.live_video') END) "
               "ORDER BY md.created_at, md.id), '[]')::text FROM media md WHERE md.uploader_id = $1::uuid");
    // media.json with the paths given as null (bytes not in the archive), entries in order.
    tx.prepare("exports_media_without_paths",
               "WITH listed AS (SELECT e, n FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS l(e, n)), "
               "main AS (SELECT n, CASE WHEN e->>'path' = ANY($2::text[]) "
               "  THEN jsonb_set(e, '{path}', 'null') ELSE e END AS e FROM listed) "
               "SELECT coalesce(jsonb_agg(CASE WHEN e->'live_video'->>'path' = ANY($2::text[]) "
               "  THEN jsonb_set(e, '{live_video,path}', 'null') ELSE e END ORDER BY n), '[]')::text FROM main");
    tx.prepare("exports_media_files",
               "SELECT id::text, storage_key, live_video_storage_key FROM media WHERE uploader_id = $1::uuid "
               "ORDER BY created_at, id");
    tx.prepare("exports_broadcast_lists",
               "SELECT coalesce(json_agg(json_build_object('id', l.id, 'name', l.name, 'created_at', l.created_at, "
               "'recipients', (SELECT coalesce(json_agg(json_build_object('user_id', r.user_id, 'username', "
               "u.username, 'display_name', u.display_name) ORDER BY r.position), '[]') "
               "FROM broadcast_list_recipients r JOIN users u ON u.id = r.user_id WHERE r.list_id = l.id)) "
               "ORDER BY l.position), '[]')::text FROM broadcast_lists l WHERE l.owner_id = $1::uuid");
    tx.prepare("exports_blocked_users",
               "SELECT coalesce(json_agg(json_build_object('user_id', b.blocked_id, 'username', u.username, "
               "'blocked_at', b.created_at) ORDER BY b.position), '[]')::text "
               "FROM user_blocks b JOIN users u ON u.id = b.blocked_id WHERE b.blocker_id = $1::uuid");
    tx.prepare("exports_templates",
               "SELECT coalesce(json_agg(json_build_object('id', t.id, 'name', t.name, 'content', t.content, "
               "'created_at', t.created_at, 'updated_at', t.updated_at) ORDER BY t.created_at, t.id), '[]')::text "
               "FROM message_templates t WHERE t.owner_id = $1::uuid");
    tx.prepare("exports_scheduled_messages",
               "SELECT coalesce(json_agg(json_build_object('id', s.id, 'chat_id', s.chat_id, 'send_at', s.send_at, "
               "'type', s.type, 'content', s.content, 'media_id', s.media_id, 'status', s.status, "
               "'message_id', s.message_id, 'created_at', s.created_at) ORDER BY s.send_at, s.id), '[]')::text "
               "FROM scheduled_messages s WHERE s.sender_id = $1::uuid");
    tx.prepare("exports_messages",
               "SELECT coalesce(json_agg(json_build_object('id', m.id, 'seq', m.seq, 'type', m.type, "
               "'content', m.content, 'media_id', m.media_id, 'reply_to_id', m.reply_to_id, "
               "'thread_root_id', m.thread_root_id, 'is_edited', m.is_edited, 'created_at', m.created_at) "
               "ORDER BY m.seq), '[]')::text FROM messages m "
               "WHERE m.chat_id = $2::uuid AND m.sender_id = $1::uuid AND NOT m.is_deleted AND m.type <> 'system'");
}

std::optional<model::DataExport> insert(Tx& tx, const std::string& user_id) {
    return export_from(tx.exec_prepared("exports_insert", user_id));
}

std::optional<model::DataExport> find(Tx& tx, const std::string& id, const std::string& user_id) {
    return export_from(tx.exec_prepared("exports_find", id, user_id));
}

void start(Tx& tx, const std::string& id, int items_total) { tx.exec_prepared("exports_start", id, items_total); }

void progress(Tx& tx, const std::string& id, int items_done) { tx.exec_prepared("exports_progress", id, items_done); }

bool finish(Tx& tx, const std::string& id, std::int64_t size_bytes) {
    return tx.exec_prepared("exports_finish", id, size_bytes).affected_rows() > 0;
}

void fail(Tx& tx, const std::string& id) { tx.exec_prepared("exports_fail", id); }

std::vector<std::string> fail_unfinished(Tx& tx, model::Timestamp before) {
    return first_column(tx.exec_prepared("exports_fail_unfinished", epoch_ms(before)));
}

std::vector<std::string> remove_finished(Tx& tx, const std::string& user_id, const std::string& keep) {
    return first_column(tx.exec_prepared("exports_remove_finished", user_id, keep));
}

std::vector<std::string> remove_all(Tx& tx, const std::string& user_id) {
    return first_column(tx.exec_prepared("exports_remove_all", user_id));
}

Contents contents(Tx& tx, const std::string& user_id, const std::vector<std::string>& channel_member_viewers) {
    Contents contents;
    const auto profile = tx.exec_prepared("exports_profile", user_id);
    contents.documents.emplace_back("profile.json", profile.empty() ? "{}" : profile[0][0].as<std::string>());
    contents.documents.emplace_back(
        "chats.json",
        tx.exec_prepared("exports_chats", user_id, text_array(channel_member_viewers))[0][0].as<std::string>());
    for (const auto* document : {"media", "broadcast_lists", "blocked_users", "templates", "scheduled_messages"}) {
        contents.documents.emplace_back(
            std::string(document) + ".json",
            tx.exec_prepared("exports_" + std::string(document), user_id)[0][0].as<std::string>());
    }
    contents.chat_ids = first_column(tx.exec_prepared("exports_chat_ids", user_id));
    for (const auto& row : tx.exec_prepared("exports_media_files", user_id))
        contents.media.push_back({row[0].as<std::string>(), row[1].as<std::string>(), optional_text(row[2])});
    return contents;
}

std::string media_without_paths(Tx& tx, const std::string& media_json, const std::vector<std::string>& paths) {
    return tx.exec_prepared("exports_media_without_paths", media_json, text_array(paths))[0][0].as<std::string>();
}

std::string messages_json(Tx& tx, const std::string& user_id, const std::string& chat_id) {
    return tx.exec_prepared("exports_messages", user_id, chat_id)[0][0].as<std::string>();
}

}  // namespace confab::store::exports
