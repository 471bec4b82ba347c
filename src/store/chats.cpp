#include "confab/store/chats.hpp"
#include "confab/store/sql.hpp"

#include "confab/store/messages.hpp"
#include "confab/store/roles.hpp"
#include "confab/store/rows.hpp"

#include <unordered_map>
#include <unordered_set>

namespace confab::store::chats {
namespace {

// The member's (chat_members aliased `cm`) mentions past their read mark: one range of the
// message_mentions_unread index.
#define CONFAB_UNREAD_MENTIONS                                                                  \
    "(SELECT count(*) FROM message_mentions mm WHERE mm.user_id = cm.user_id AND mm.chat_id = " \
    "cm.chat_id AND mm.seq > cm.last_read_seq)"

// Joins the chat (by its id column) unless it is a channel or a large group: a channel's
// subscribers do not see each other, and a large group's members are too many to be each
// other's contacts (a presence change would go to 100,000 users), so sharing either makes no
// contacts (presence, consent to be added).
#define CONFAB_SHARED_SMALL_CHAT(chat_id) \
    "JOIN chats shared ON shared.id = " chat_id " AND shared.type <> 'channel' AND NOT shared.large "

// Who shares a small chat with the user ($1), each once, as `other.user_id`. The small chats
// are picked first and each one's members read by an index scan of its own
// (CONFAB_LOOKUP_PER_ROW). Left to itself, the planner read every member of a large group
// the user is in and dropped them after (100,000 rows per WebSocket connect), as one large
// group skews its estimate of a chat's size.
#define CONFAB_SMALL_CHAT_PARTNERS \
    "WITH small AS MATERIALIZED (SELECT mine.chat_id FROM chat_members mine " CONFAB_SHARED_SMALL_CHAT(         \
        "mine.chat_id") "WHERE mine.user_id = $1::uuid) "                                                        \
                        "SELECT DISTINCT other.user_id::text FROM small CROSS JOIN LATERAL (SELECT o.user_id " \
                        "FROM chat_members o WHERE o.chat_id = small.chat_id " CONFAB_LOOKUP_PER_ROW ") other "

// Chat columns, the member count, and the viewer's membership (cm). A channel's or large group's
// member count is its counter (subscriber_count): no count of 100,000 rows per read.
const std::string view_columns =
    "c.id::text, c.type, c.title, c.avatar_url, c.only_admins_can_post, c.only_admins_can_edit_info, "
    "c.only_admins_can_add_members, c.only_admins_can_pin, c.only_admins_can_mention_all, c.slow_mode_seconds, "
    "c.metadata::text, "
    CONFAB_MEMBER_COUNT("c") ", c.last_seq, c.version, "
    "c.activity, " CONFAB_TIME("c.created_at") ", " CONFAB_TIME(
        "c.updated_at") ", cm.role, cm.last_read_seq, cm.is_muted, " CONFAB_UNREAD_MENTIONS
                        ", c.handle, c.is_public, " CONFAB_CUSTOM_ROLE("cm") ", c.large";

// A channel as anyone finds it (model::Channel); `viewer`: the statement's parameter naming
// the viewer, who may have joined it.
std::string channel_columns(const std::string& viewer) {
    return "c.id::text, c.handle, c.title, c.avatar_url, c.is_public, c.subscriber_count, " CONFAB_TIME(
               "c.created_at") ", EXISTS (SELECT 1 FROM chat_members j WHERE j.chat_id = c.id AND j.user_id = " +
           viewer + "::uuid)";
}

model::Channel channel_from(const pqxx::row& row) {
    return {row[0].as<std::string>(), optional_text(row[1]),     optional_text(row[2]), optional_text(row[3]),
            row[4].as<bool>(),        row[5].as<std::int64_t>(), row[7].as<bool>(),     timestamp(row[6])};
}

model::ChatView view_from(const pqxx::row& row) {
    model::ChatView view;
    auto& chat = view.chat;
    chat.id = row[0].as<std::string>();
    chat.type = chat_type(row[1]);
    chat.title = optional_text(row[2]);
    chat.avatar_url = optional_text(row[3]);
    chat.settings = chat_settings(row, 4);
    chat.metadata.text = row[10].as<std::string>();
    chat.member_count = row[11].as<std::int64_t>();
    chat.last_seq = row[12].as<std::int64_t>();
    chat.version = row[13].as<std::int64_t>();
    chat.activity = row[14].as<std::int64_t>();
    chat.created_at = timestamp(row[15]);
    chat.updated_at = timestamp(row[16]);
    view.me.role = model::role_from(row[17].c_str()).value_or(model::Role::member);
    view.me.last_read_seq = row[18].as<std::int64_t>();
    view.me.is_muted = row[19].as<bool>();
    view.me.unread_mention_count = row[20].as<std::int64_t>();
    chat.handle = optional_text(row[21]);
    chat.is_public = row[22].as<bool>();
    if (chat.type == model::ChatType::channel) chat.subscriber_count = chat.member_count;
    view.me.custom_role = roles::custom_role_from(row[23]);
    chat.large = row[24].as<bool>();
    return view;
}

// Each chat's newest message, one query for the whole page.
void attach_last_messages(Tx& tx, std::vector<model::ChatView>& views, const std::string& viewer) {
    std::vector<std::string> ids;
    for (const auto& view : views)
        if (view.chat.last_seq > 0) ids.push_back(view.chat.id);
    if (ids.empty()) return;
    std::vector<model::Message> messages;
    for (const auto& row : tx.exec_prepared("chats_last_messages", uuid_array(ids), hiding_viewer(viewer)))
        messages.push_back(message_from(row));
    store::messages::attach_live(tx, messages, {}, viewer);
    std::unordered_map<std::string, model::Message*> by_chat;
    for (auto& message : messages) by_chat.emplace(message.chat_id, &message);
    for (auto& view : views)
        if (auto found = by_chat.find(view.chat.id); found != by_chat.end())
            view.last_message = std::move(*found->second);
}

std::vector<model::ChatView> views_from(Tx& tx, const pqxx::result& result, const std::string& viewer) {
    std::vector<model::ChatView> views;
    views.reserve(result.size());
    for (const auto& row : result) views.push_back(view_from(row));
    attach_last_messages(tx, views, viewer);
    return views;
}

}  // namespace

void prepare(Tx& tx) {
    tx.prepare(
        "chats_insert",
        "INSERT INTO chats (type, title, avatar_url, only_admins_can_post, only_admins_can_edit_info, "
        "only_admins_can_add_members, only_admins_can_pin, only_admins_can_mention_all, slow_mode_seconds, metadata, "
        "created_by, direct_key, handle, is_public) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $11, $12, $8::jsonb, $9::uuid, $10, $13, $14) "
        // A taken direct_key (the pair has a chat) or handle (chats_handle): no row.
        "ON CONFLICT DO NOTHING RETURNING id::text");
    tx.prepare("chats_lock", "SELECT access_version, last_seq FROM chats WHERE id = $1::uuid FOR UPDATE");
    tx.prepare("chats_access_version", "SELECT access_version FROM chats WHERE id = $1::uuid");
    tx.prepare("chats_find_direct", "SELECT id::text FROM chats WHERE direct_key = $1");
    tx.prepare("chats_access",
               "SELECT type, only_admins_can_post, only_admins_can_edit_info, only_admins_can_add_members, "
               "only_admins_can_pin, only_admins_can_mention_all, slow_mode_seconds, access_version, large FROM chats "
               "WHERE id = $1::uuid");
    // A direct chat's members who block the other one.
    tx.prepare("chats_access_blockers",
               "SELECT b.blocker_id::text FROM user_blocks b "
               "JOIN chat_members mine ON mine.user_id = b.blocker_id AND mine.chat_id = $1::uuid "
               "JOIN chat_members other ON other.user_id = b.blocked_id AND other.chat_id = $1::uuid");
    tx.prepare("chats_access_members",
               "SELECT cm.user_id::text, cm.role, " CONFAB_TIME("cm.muted_until") ", " CONFAB_CUSTOM_ROLE(
                   "cm") " FROM chat_members cm WHERE cm.chat_id = $1::uuid");
    tx.prepare("chats_view", "SELECT " + view_columns +
                                 " FROM chat_members cm JOIN chats c ON c.id = cm.chat_id "
                                 "WHERE cm.user_id = $1::uuid AND c.id = $2::uuid");
    tx.prepare("chats_list",
               "SELECT " + view_columns +
                   " FROM chat_members cm JOIN chats c ON c.id = cm.chat_id "
                   "WHERE cm.user_id = $1::uuid AND NOT cm.is_hidden AND ($2::bigint IS NULL OR c.activity < $2) "
                   "ORDER BY c.activity DESC LIMIT $3");
    // The newest message of the main timeline (no thread reply) the viewer has not hidden for themself.
    tx.prepare("chats_last_messages",
               std::string("SELECT ") + message_columns +
                   " FROM unnest($1::uuid[]) AS c(id) JOIN LATERAL (SELECT * FROM messages x WHERE x.chat_id = c.id "
                   "AND x.thread_root_id IS NULL AND" CONFAB_NOT_HIDDEN(
                       "x", "$2") "ORDER BY x.seq DESC LIMIT 1) m ON true" CONFAB_MEDIA_OF_MESSAGE);
    tx.prepare("chats_update",
               "UPDATE chats SET title = coalesce($2, title), "
               "avatar_url = CASE WHEN $3 THEN $4 ELSE avatar_url END, "
               "only_admins_can_post = $5, only_admins_can_edit_info = $6, only_admins_can_add_members = $7, "
               "only_admins_can_pin = $8, only_admins_can_mention_all = $10, slow_mode_seconds = $11, "
               "metadata = coalesce($9::jsonb, metadata), "
               "access_version = access_version + 1, updated_at = now() "
               "WHERE id = $1::uuid AND (title, avatar_url, only_admins_can_post, only_admins_can_edit_info, "
               "only_admins_can_add_members, only_admins_can_pin, only_admins_can_mention_all, slow_mode_seconds, "
               "metadata) IS DISTINCT FROM (coalesce($2, title), CASE WHEN $3 THEN $4 ELSE avatar_url END, $5, $6, "
               "$7, $8, $10, $11, coalesce($9::jsonb, metadata))");
    // The media rows go with the chat (ON DELETE CASCADE); their keys are read in the same
    // snapshot so the caller can release bytes no other row uses.
    tx.prepare("chats_delete", "WITH gone AS (DELETE FROM chats WHERE id = $1::uuid) " CONFAB_STORAGE_KEYS_OF(
                                   "(SELECT * FROM media WHERE chat_id = $1::uuid) AS chat_media"));
    tx.prepare("chats_kind", "SELECT type, large FROM chats WHERE id = $1::uuid");
    tx.prepare("chats_member_count", "SELECT " CONFAB_MEMBER_COUNT("c") " FROM chats c WHERE id = $1::uuid");
    // The counter starts from the group's count, under the chat's row lock (0035_large_groups.sql).
    tx.prepare("chats_make_large",
               "UPDATE chats c SET large = true, "
               "subscriber_count = (SELECT count(*) FROM chat_members x WHERE x.chat_id = c.id), "
               "access_version = access_version + 1, updated_at = now() "
               "WHERE id = $1::uuid AND type = 'group' AND NOT large");
    tx.prepare("chats_handle_taken",
               "SELECT EXISTS (SELECT 1 FROM chats WHERE lower(handle) = lower($1) AND id <> $2::uuid)");
    tx.prepare("chats_set_channel_fields",
               "UPDATE chats SET handle = CASE WHEN $2 THEN $3 ELSE handle END, is_public = coalesce($4, is_public), "
               "updated_at = now() WHERE id = $1::uuid AND (handle, is_public) IS DISTINCT FROM "
               "(CASE WHEN $2 THEN $3 ELSE handle END, coalesce($4, is_public))");
    tx.prepare("chats_search_channels",
               "SELECT " + channel_columns("$4") +
                   " FROM chats c WHERE c.is_public "
                   "AND (lower(c.handle) LIKE lower($1) OR lower(c.title) LIKE lower($1)) "
                   "AND ($2::text IS NULL OR lower(c.handle) > $2) ORDER BY lower(c.handle) LIMIT $3");
    tx.prepare("chats_find_channel", "SELECT " + channel_columns("$2") +
                                         " FROM chats c WHERE lower(c.handle) = lower($1) AND c.type = 'channel'");
    tx.prepare(
        "chats_set_hidden",
        "UPDATE chat_members SET is_hidden = $3 WHERE chat_id = $1::uuid AND user_id = $2::uuid AND is_hidden <> $3");
    tx.prepare("chats_hidden_by", "SELECT user_id::text FROM chat_members WHERE chat_id = $1::uuid AND is_hidden");
}

std::optional<std::string> insert(Tx& tx, const NewChat& chat) {
    const auto result =
        tx.exec_prepared("chats_insert", std::string(to_string(chat.type)), chat.title, chat.avatar_url,
                         chat.settings.only_admins_can_post, chat.settings.only_admins_can_edit_info,
                         chat.settings.only_admins_can_add_members, chat.settings.only_admins_can_pin, chat.metadata,
                         chat.created_by, chat.direct_key, chat.settings.only_admins_can_mention_all,
                         chat.settings.slow_mode_seconds, chat.handle, chat.is_public);
    if (result.empty()) return std::nullopt;
    return result[0][0].as<std::string>();
}

namespace {

std::optional<std::int64_t> version_by(Tx& tx, const char* statement, const std::string& chat_id) {
    const auto result = tx.exec_prepared(statement, chat_id);
    if (result.empty()) return std::nullopt;
    return result[0][0].as<std::int64_t>();
}

}  // namespace

std::optional<Locked> lock(Tx& tx, const std::string& chat_id) {
    const auto result = tx.exec_prepared("chats_lock", chat_id);
    if (result.empty()) return std::nullopt;
    return Locked{result[0][0].as<std::int64_t>(), result[0][1].as<std::int64_t>()};
}

std::optional<std::int64_t> access_version(Tx& tx, const std::string& chat_id) {
    return version_by(tx, "chats_access_version", chat_id);
}

std::optional<std::string> find_direct(Tx& tx, const std::string& direct_key) {
    const auto result = tx.exec_prepared("chats_find_direct", direct_key);
    if (result.empty()) return std::nullopt;
    return result[0][0].as<std::string>();
}

std::optional<ChatAccess> load_access(Tx& tx, const std::string& chat_id) {
    const auto chat = tx.exec_prepared("chats_access", chat_id);
    if (chat.empty()) return std::nullopt;
    ChatAccess access;
    access.type = chat_type(chat[0][0]);
    access.settings = chat_settings(chat[0], 1);
    access.version = chat[0][7].as<std::int64_t>();
    access.large = chat[0][8].as<bool>();
    const auto members = tx.exec_prepared("chats_access_members", chat_id);
    access.members.reserve(members.size());
    for (const auto& row : members) {
        access.members.emplace(row[0].as<std::string>(),
                               model::role_from(row[1].c_str()).value_or(model::Role::member));
        if (!row[2].is_null()) access.muted_until.emplace(row[0].as<std::string>(), timestamp(row[2]));
        if (auto custom = roles::custom_role_from(row[3]))
            access.custom_grants.emplace(row[0].as<std::string>(), std::move(custom->permissions));
    }
    if (access.type == model::ChatType::direct) {
        for (const auto& row : tx.exec_prepared("chats_access_blockers", chat_id))
            access.blockers.push_back(row[0].as<std::string>());
    }
    return access;
}

std::int64_t member_count(Tx& tx, const std::string& chat_id) {
    const auto result = tx.exec_prepared("chats_member_count", chat_id);
    return result.empty() ? 0 : result[0][0].as<std::int64_t>();
}

void make_large(Tx& tx, const std::string& chat_id) { tx.exec_prepared("chats_make_large", chat_id); }

std::optional<ChatKind> kind_of(Tx& tx, const std::string& chat_id) {
    const auto result = tx.exec_prepared("chats_kind", chat_id);
    if (result.empty()) return std::nullopt;
    return ChatKind{chat_type(result[0][0]), result[0][1].as<bool>()};
}

std::optional<model::ChatView> view(Tx& tx, const std::string& chat_id, const std::string& user_id) {
    auto views = views_from(tx, tx.exec_prepared("chats_view", user_id, chat_id), user_id);
    if (views.empty()) return std::nullopt;
    return std::move(views.front());
}

std::vector<model::ChatView> list(Tx& tx, const std::string& user_id, std::optional<std::int64_t> before_activity,
                                  int limit) {
    return views_from(tx, tx.exec_prepared("chats_list", user_id, before_activity, limit), user_id);
}

bool update(Tx& tx, const std::string& chat_id, const ChatChanges& changes) {
    const bool set_avatar = changes.avatar_url.has_value();
    const std::optional<std::string> avatar = set_avatar ? *changes.avatar_url : std::nullopt;
    return tx.exec_prepared("chats_update", chat_id, changes.title, set_avatar, avatar,
                            changes.settings.only_admins_can_post, changes.settings.only_admins_can_edit_info,
                            changes.settings.only_admins_can_add_members, changes.settings.only_admins_can_pin,
                            changes.metadata, changes.settings.only_admins_can_mention_all,
                            changes.settings.slow_mode_seconds)
               .affected_rows() > 0;
}

std::vector<std::string> remove(Tx& tx, const std::string& chat_id) {
    return first_column(tx.exec_prepared("chats_delete", chat_id));
}

bool handle_taken(Tx& tx, const std::string& handle, const std::string& except_chat) {
    return tx.exec_prepared1("chats_handle_taken", handle, except_chat)[0].as<bool>();
}

bool set_channel_fields(Tx& tx, const std::string& chat_id, const ChannelChanges& changes) {
    const bool set_handle = changes.handle.has_value();
    const std::optional<std::string> handle = set_handle ? *changes.handle : std::nullopt;
    return tx.exec_prepared("chats_set_channel_fields", chat_id, set_handle, handle, changes.is_public)
               .affected_rows() > 0;
}

std::vector<model::Channel> search_channels(Tx& tx, const std::string& prefix,
                                            const std::optional<std::string>& after_handle, int limit,
                                            const std::string& viewer) {
    std::vector<model::Channel> found;
    for (const auto& row : tx.exec_prepared("chats_search_channels", like_prefix(prefix), after_handle, limit, viewer))
        found.push_back(channel_from(row));
    return found;
}

std::optional<model::Channel> find_channel(Tx& tx, const std::string& handle, const std::string& viewer) {
    const auto result = tx.exec_prepared("chats_find_channel", handle, viewer);
    if (result.empty()) return std::nullopt;
    return channel_from(result[0]);
}

bool set_hidden(Tx& tx, const std::string& chat_id, const std::string& user_id, bool hidden) {
    return tx.exec_prepared("chats_set_hidden", chat_id, user_id, hidden).affected_rows() > 0;
}

std::vector<std::string> hidden_by(Tx& tx, const std::string& chat_id) {
    return first_column(tx.exec_prepared("chats_hidden_by", chat_id));
}

}  // namespace confab::store::chats

namespace confab::store::members {
namespace {

const std::string member_columns = std::string("cm.chat_id::text, ") + user_columns +
                                   ", cm.role, cm.last_read_seq, cm.is_muted, " CONFAB_TIME("cm.joined_at") ", " +
                                   "cm.position, " CONFAB_TIME("u.last_seen_at") ", u.who_can_see_presence, " +
                                   "u.send_read_receipts, " CONFAB_TIME("cm.muted_until") ", " +
                                   CONFAB_ONLINE("cm.user_id") ", " + CONFAB_CUSTOM_ROLE("cm");

// Everything the row holds: what the member keeps from others is left to the domain's rules.
std::pair<model::Member, std::int64_t> member_from(const pqxx::row& row) {
    constexpr int after_user = 1 + user_column_count;
    model::Member member;
    member.chat_id = row[0].as<std::string>();
    member.user = user_from(row, 1);
    member.role = model::role_from(row[after_user].c_str()).value_or(model::Role::member);
    member.last_read_seq = row[after_user + 1].as<std::int64_t>();
    member.is_muted = row[after_user + 2].as<bool>();
    member.joined_at = timestamp(row[after_user + 3]);
    model::Presence presence;
    presence.online = row[after_user + 9].as<bool>();
    if (!row[after_user + 5].is_null()) presence.last_seen_at = timestamp(row[after_user + 5]);
    member.presence = presence;
    member.privacy.who_can_see_presence =
        model::circle_from(row[after_user + 6].c_str()).value_or(model::Circle::contacts);
    member.privacy.send_read_receipts = row[after_user + 7].as<bool>();
    if (!row[after_user + 8].is_null()) member.muted_until = timestamp(row[after_user + 8]);
    member.custom_role = roles::custom_role_from(row[after_user + 10]);
    return {std::move(member), row[after_user + 4].as<std::int64_t>()};
}

}  // namespace

void prepare(Tx& tx) {
    tx.prepare("members_insert",
               "INSERT INTO chat_members (chat_id, user_id, role) VALUES ($1::uuid, $2::uuid, $3) "
               "ON CONFLICT DO NOTHING");
    tx.prepare("members_insert_all",
               "INSERT INTO chat_members (chat_id, user_id, role) SELECT $1::uuid, t.user_id, $3 "
               "FROM unnest($2::uuid[]) WITH ORDINALITY AS t(user_id, n) ORDER BY t.n "
               "ON CONFLICT DO NOTHING RETURNING user_id::text");
    tx.prepare("members_find_all", "SELECT " + member_columns +
                                       " FROM chat_members cm JOIN users u ON u.id = cm.user_id "
                                       "WHERE cm.chat_id = $1::uuid AND cm.user_id = ANY($2::uuid[]) "
                                       "ORDER BY cm.position");
    tx.prepare("members_find", "SELECT " + member_columns +
                                   " FROM chat_members cm JOIN users u ON u.id = cm.user_id "
                                   "WHERE cm.chat_id = $1::uuid AND cm.user_id = $2::uuid");
    tx.prepare(
        "members_standing",
        "SELECT c.type, c.only_admins_can_post, c.only_admins_can_edit_info, c.only_admins_can_add_members, "
        "c.only_admins_can_pin, c.only_admins_can_mention_all, c.slow_mode_seconds, cm.role, "
        "coalesce(cm.muted_until > now(), false), "
        "c.type = 'direct' AND EXISTS (SELECT 1 FROM user_blocks b JOIN chat_members o ON o.user_id = b.blocked_id "
        "WHERE o.chat_id = c.id AND b.blocker_id = cm.user_id AND o.user_id <> cm.user_id), "
        "c.type = 'direct' AND EXISTS (SELECT 1 FROM user_blocks b JOIN chat_members o ON o.user_id = b.blocker_id "
        "WHERE o.chat_id = c.id AND b.blocked_id = cm.user_id AND o.user_id <> cm.user_id), " CONFAB_CUSTOM_ROLE(
            "cm") ", c.large FROM chat_members cm JOIN chats c ON c.id = cm.chat_id "
                  "WHERE cm.chat_id = $1::uuid AND cm.user_id = $2::uuid");
    // The page is found first from (chat_id, position, user_id) and the users alone, then its
    // rows are read: a search walking a large group's members reads no member row it does not
    // return (0035_large_groups.sql). $4: a LIKE pattern (escaped prefix + '%') or null, folded
    // as users_search folds it, and a constant in each custom plan, so that the users' prefix
    // indexes can serve a rare prefix.
    tx.prepare("members_list",
               "WITH page AS (SELECT p.user_id FROM chat_members p JOIN users pu ON pu.id = p.user_id "
               "WHERE p.chat_id = $1::uuid AND ($2::bigint IS NULL OR p.position > $2) "
               "AND ($4::text IS NULL OR pu.username LIKE lower($4) OR lower(pu.display_name) LIKE lower($4)) "
               "ORDER BY p.position LIMIT $3) "
               "SELECT " +
                   member_columns +
                   " FROM page JOIN chat_members cm ON cm.chat_id = $1::uuid AND cm.user_id = page.user_id "
                   "JOIN users u ON u.id = cm.user_id ORDER BY cm.position");
    tx.prepare("members_user_ids", "SELECT user_id::text FROM chat_members WHERE chat_id = $1::uuid");
    tx.prepare("members_standings",
               "SELECT cm.user_id::text, cm.role, cm.last_read_seq, cm.is_muted, " CONFAB_UNREAD_MENTIONS
               ", " CONFAB_CUSTOM_ROLE("cm") " FROM chat_members cm WHERE cm.chat_id = $1::uuid");
    tx.prepare("members_last_posts",
               "SELECT p.chat_id::text, p.user_id::text, " CONFAB_TIME("cm.last_posted_at") ", " CONFAB_TIME("now()") " "
               "FROM unnest($1::uuid[], $2::uuid[]) AS p(chat_id, user_id) "
               "LEFT JOIN chat_members cm ON cm.chat_id = p.chat_id AND cm.user_id = p.user_id");
    tx.prepare("members_set_posted",
               "UPDATE chat_members cm SET last_posted_at = now() FROM unnest($1::uuid[], $2::uuid[]) AS p(chat_id, "
               "user_id) WHERE cm.chat_id = p.chat_id AND cm.user_id = p.user_id");
    // A built-in role replaces a custom one.
    tx.prepare("members_set_role",
               "UPDATE chat_members SET role = $3, custom_role_id = NULL "
               "WHERE chat_id = $1::uuid AND user_id = $2::uuid");
    tx.prepare("members_set_muted",
               "UPDATE chat_members SET is_muted = $3 WHERE chat_id = $1::uuid AND user_id = $2::uuid");
    tx.prepare("members_set_muted_until",
               "UPDATE chat_members SET muted_until = to_timestamp($3::bigint / 1000.0) "
               "WHERE chat_id = $1::uuid AND user_id = $2::uuid");
    tx.prepare("members_remove", "DELETE FROM chat_members WHERE chat_id = $1::uuid AND user_id = $2::uuid");
    tx.prepare("members_successor",
               "SELECT user_id::text FROM chat_members WHERE chat_id = $1::uuid AND user_id <> $2::uuid "
               // Admins first, then moderators, members, restricted members: a restricted member
               // inherits the group last.
               "ORDER BY CASE role WHEN 'admin' THEN 0 WHEN 'moderator' THEN 1 WHEN 'member' THEN 2 ELSE 3 END, "
               "position LIMIT 1");
    tx.prepare("members_advance_read",
               "UPDATE chat_members cm SET last_read_seq = LEAST($3, c.last_seq) FROM chats c "
               "WHERE c.id = cm.chat_id AND cm.chat_id = $1::uuid AND cm.user_id = $2::uuid "
               "AND LEAST($3, c.last_seq) > cm.last_read_seq "
               "RETURNING cm.last_read_seq, (SELECT send_read_receipts FROM users WHERE id = cm.user_id)");
    tx.prepare("members_contacts", CONFAB_SMALL_CHAT_PARTNERS "WHERE other.user_id <> $1::uuid");
    tx.prepare("members_contacts_among", CONFAB_SMALL_CHAT_PARTNERS "WHERE other.user_id = ANY($2::uuid[])");
}

bool insert(Tx& tx, const std::string& chat_id, const std::string& user_id, model::Role role) {
    return tx.exec_prepared("members_insert", chat_id, user_id, std::string(to_string(role))).affected_rows() == 1;
}

std::unordered_set<std::string> insert_all(Tx& tx, const std::string& chat_id, const std::vector<std::string>& user_ids,
                                           model::Role role) {
    std::unordered_set<std::string> added;
    if (user_ids.empty()) return added;
    for (const auto& row :
         tx.exec_prepared("members_insert_all", chat_id, uuid_array(user_ids), std::string(to_string(role))))
        added.insert(row[0].as<std::string>());
    return added;
}

std::vector<model::Member> find_all(Tx& tx, const std::string& chat_id, const std::vector<std::string>& user_ids) {
    std::vector<model::Member> found;
    if (user_ids.empty()) return found;
    for (const auto& row : tx.exec_prepared("members_find_all", chat_id, uuid_array(user_ids)))
        found.push_back(member_from(row).first);
    return found;
}

std::optional<model::Member> find(Tx& tx, const std::string& chat_id, const std::string& user_id) {
    const auto result = tx.exec_prepared("members_find", chat_id, user_id);
    if (result.empty()) return std::nullopt;
    return member_from(result[0]).first;
}

std::optional<model::Standing> standing(Tx& tx, const std::string& chat_id, const std::string& user_id) {
    const auto result = tx.exec_prepared("members_standing", chat_id, user_id);
    if (result.empty()) return std::nullopt;
    const auto& row = result[0];
    model::Standing standing{chat_type(row[0]), chat_settings(row, 1),
                             model::role_from(row[7].c_str()).value_or(model::Role::member), row[8].as<bool>(),
                             model::direct_block(row[9].as<bool>(), row[10].as<bool>())};
    if (auto custom = roles::custom_role_from(row[11])) standing.custom_grants = std::move(custom->permissions);
    standing.large = row[12].as<bool>();
    return standing;
}

std::vector<std::pair<model::Member, std::int64_t>> list(Tx& tx, const std::string& chat_id,
                                                         std::optional<std::int64_t> after_position, int limit,
                                                         const std::optional<std::string>& prefix) {
    std::vector<std::pair<model::Member, std::int64_t>> out;
    const auto pattern = prefix ? std::optional<std::string>(like_prefix(*prefix)) : std::nullopt;
    for (const auto& row : tx.exec_prepared("members_list", chat_id, after_position, limit, pattern))
        out.push_back(member_from(row));
    return out;
}

std::vector<std::string> user_ids(Tx& tx, const std::string& chat_id) {
    return first_column(tx.exec_prepared("members_user_ids", chat_id));
}

std::vector<std::pair<std::string, model::Membership>> standings(Tx& tx, const std::string& chat_id) {
    std::vector<std::pair<std::string, model::Membership>> out;
    for (const auto& row : tx.exec_prepared("members_standings", chat_id)) {
        out.emplace_back(row[0].as<std::string>(),
                         model::Membership{model::role_from(row[1].c_str()).value_or(model::Role::member),
                                           row[2].as<std::int64_t>(), row[3].as<bool>(), row[4].as<std::int64_t>(),
                                           roles::custom_role_from(row[5])});
    }
    return out;
}

void set_role(Tx& tx, const std::string& chat_id, const std::string& user_id, model::Role role) {
    tx.exec_prepared("members_set_role", chat_id, user_id, std::string(to_string(role)));
}

void set_muted(Tx& tx, const std::string& chat_id, const std::string& user_id, bool muted) {
    tx.exec_prepared("members_set_muted", chat_id, user_id, muted);
}

void set_muted_until(Tx& tx, const std::string& chat_id, const std::string& user_id,
                     std::optional<model::Timestamp> until) {
    tx.exec_prepared("members_set_muted_until", chat_id, user_id, epoch_ms(until));
}

void remove(Tx& tx, const std::string& chat_id, const std::string& user_id) {
    tx.exec_prepared("members_remove", chat_id, user_id);
}

std::optional<std::string> successor(Tx& tx, const std::string& chat_id, const std::string& except) {
    const auto result = tx.exec_prepared("members_successor", chat_id, except);
    if (result.empty()) return std::nullopt;
    return result[0][0].as<std::string>();
}

std::optional<ReadMark> advance_read(Tx& tx, const std::string& chat_id, const std::string& user_id, std::int64_t seq) {
    const auto result = tx.exec_prepared("members_advance_read", chat_id, user_id, seq);
    if (result.empty()) return std::nullopt;
    return ReadMark{result[0][0].as<std::int64_t>(), result[0][1].as<bool>()};
}

std::vector<std::string> contacts(Tx& tx, const std::string& user_id) {
    return first_column(tx.exec_prepared("members_contacts", user_id));
}

}  // namespace confab::store::members

namespace confab::store::members {

namespace {

std::pair<std::string, std::string> poster_arrays(const std::vector<Poster>& posters) {
    std::vector<std::string> chats;
    std::vector<std::string> users;
    for (const auto& poster : posters) {
        chats.push_back(poster.chat_id);
        users.push_back(poster.user_id);
    }
    return {uuid_array(chats), uuid_array(users)};
}

}  // namespace

LastPosts last_posts(Tx& tx, const std::vector<Poster>& posters) {
    const auto [chats, users] = poster_arrays(posters);
    LastPosts last{{}, model::now()};
    for (const auto& row : tx.exec_prepared("members_last_posts", chats, users)) {
        last.now = timestamp(row[3]);
        if (!row[2].is_null())
            last.at.emplace(std::pair{row[0].as<std::string>(), row[1].as<std::string>()}, timestamp(row[2]));
    }
    return last;
}

void set_posted(Tx& tx, const std::vector<Poster>& posters) {
    if (posters.empty()) return;
    const auto [chats, users] = poster_arrays(posters);
    tx.exec_prepared("members_set_posted", chats, users);
}

std::unordered_set<std::string> contacts_among(Tx& tx, const std::string& user_id,
                                               const std::vector<std::string>& ids) {
    std::unordered_set<std::string> contacts;
    if (ids.empty()) return contacts;
    for (const auto& row : tx.exec_prepared("members_contacts_among", user_id, uuid_array(ids)))
        contacts.insert(row[0].as<std::string>());
    return contacts;
}

}  // namespace confab::store::members

namespace confab::store::invitations {
namespace {

const std::string invitation_columns =
    std::string("i.id::text, i.chat_id::text, c.title, c.avatar_url, "
                CONFAB_MEMBER_COUNT("c") ", " CONFAB_TIME("i.created_at") ", "
                "i.inviter_id IS NOT NULL, ") +
    user_columns;

model::Invitation invitation_from(const pqxx::row& row) {
    model::Invitation invitation;
    invitation.id = row[0].as<std::string>();
    invitation.chat_id = row[1].as<std::string>();
    invitation.title = optional_text(row[2]);
    invitation.avatar_url = optional_text(row[3]);
    invitation.member_count = row[4].as<std::int64_t>();
    invitation.created_at = timestamp(row[5]);
    if (row[6].as<bool>()) invitation.inviter = user_from(row, 7);
    return invitation;
}

}  // namespace

void prepare(Tx& tx) {
    const std::string from =
        " FROM invitations i JOIN chats c ON c.id = i.chat_id LEFT JOIN users u ON u.id = i.inviter_id ";
    tx.prepare("invitations_insert",
               "INSERT INTO invitations (chat_id, user_id, inviter_id) VALUES ($1::uuid, $2::uuid, $3::uuid) "
               "ON CONFLICT DO NOTHING RETURNING id::text");
    tx.prepare("invitations_of_user",
               "SELECT " + invitation_columns + ", " CONFAB_MICROS("i.created_at") ", i.id::text" + from +
                   "WHERE i.user_id = $1::uuid AND" CONFAB_OLDER_THAN_PLACE(
                       "i.created_at", "i.id", "$2", "$3::uuid") "ORDER BY i.created_at DESC, i.id DESC LIMIT $4");
    tx.prepare("invitations_find",
               "SELECT " + invitation_columns + from + "WHERE i.id = $1::uuid AND i.user_id = $2::uuid");
    tx.prepare("invitations_remove", "DELETE FROM invitations WHERE id = $1::uuid");
    tx.prepare("invitations_remove_for",
               "DELETE FROM invitations WHERE chat_id = $1::uuid AND user_id = ANY($2::uuid[])");
    tx.prepare("invitations_remove_all",
               "DELETE FROM invitations WHERE chat_id = $1::uuid RETURNING id::text, user_id::text");
}

std::optional<std::string> insert(Tx& tx, const std::string& chat_id, const std::string& user_id,
                                  const std::string& inviter_id) {
    const auto result = tx.exec_prepared("invitations_insert", chat_id, user_id, inviter_id);
    if (result.empty()) return std::nullopt;
    return result[0][0].as<std::string>();
}

std::vector<std::pair<model::Invitation, model::ListPlace>> of_user(Tx& tx, const std::string& user_id,
                                                                    const std::optional<model::ListPlace>& after,
                                                                    int limit) {
    return placed_rows(tx.exec_prepared("invitations_of_user", user_id, place_time(after), place_id(after), limit),
                       invitation_from);
}

std::optional<model::Invitation> find(Tx& tx, const std::string& id, const std::string& user_id) {
    const auto result = tx.exec_prepared("invitations_find", id, user_id);
    if (result.empty()) return std::nullopt;
    return invitation_from(result[0]);
}

void remove(Tx& tx, const std::string& id) { tx.exec_prepared("invitations_remove", id); }

void remove_for(Tx& tx, const std::string& chat_id, const std::vector<std::string>& user_ids) {
    if (user_ids.empty()) return;
    tx.exec_prepared("invitations_remove_for", chat_id, uuid_array(user_ids));
}

std::vector<std::pair<std::string, std::string>> remove_all(Tx& tx, const std::string& chat_id) {
    std::vector<std::pair<std::string, std::string>> removed;
    for (const auto& row : tx.exec_prepared("invitations_remove_all", chat_id))
        removed.emplace_back(row[0].as<std::string>(), row[1].as<std::string>());
    return removed;
}

}  // namespace confab::store::invitations
