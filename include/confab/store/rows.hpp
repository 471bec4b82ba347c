#pragma once

#include "confab/model/chat.hpp"
#include "confab/model/list_page.hpp"
#include "confab/model/user.hpp"
#include "confab/store/sql.hpp"

#include <pqxx/field>
#include <pqxx/result>
#include <pqxx/transaction_base>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

// Conversions shared by the repositories.
namespace confab::store {

inline std::optional<std::string> optional_text(const pqxx::field& field) {
    if (field.is_null()) return std::nullopt;
    return field.as<std::string>();
}

// A timestamp as PostgreSQL prints one without a time zone in the ISO date style
// ("2026-12-05 04:36:50.123456", the fraction optional and trimmed), read as UTC and cut to the
// millisecond; std::invalid_argument for anything else (infinity, BC, another date style).
model::Timestamp utc_timestamp(std::string_view text);

// A time as the statements take it: milliseconds since the epoch (to_timestamp($n / 1000.0)).
inline long long epoch_ms(model::Timestamp at) { return at.time_since_epoch().count(); }

inline std::optional<long long> epoch_ms(const std::optional<model::Timestamp>& at) {
    if (!at) return std::nullopt;
    return epoch_ms(*at);
}

// Columns selected as CONFAB_TIME(column).
inline model::Timestamp timestamp(const pqxx::field& field) { return utc_timestamp({field.c_str(), field.size()}); }

inline std::optional<model::Timestamp> optional_timestamp(const pqxx::field& field) {
    if (field.is_null()) return std::nullopt;
    return timestamp(field);
}

// The first column of each row, as text.
inline std::vector<std::string> first_column(const pqxx::result& result) {
    std::vector<std::string> ids;
    for (const auto& row : result) ids.push_back(row[0].as<std::string>());
    return ids;
}

// A column selected as string_agg(id::text, ','): its ids, none for NULL.
inline std::vector<std::string> split_ids(const pqxx::field& field) {
    std::vector<std::string> ids;
    if (field.is_null()) return ids;
    std::istringstream list(field.as<std::string>());
    for (std::string id; std::getline(list, id, ',');) ids.push_back(id);
    return ids;
}

inline model::ChatType chat_type(const pqxx::field& field) {
    return model::chat_type_from(field.c_str()).value_or(model::ChatType::group);
}

// Six columns from `first`: only_admins_can_post, only_admins_can_edit_info,
// only_admins_can_add_members, only_admins_can_pin, only_admins_can_mention_all, slow_mode_seconds.
inline model::ChatSettings chat_settings(const pqxx::row& row, int first) {
    return {row[first].as<bool>(),     row[first + 1].as<bool>(), row[first + 2].as<bool>(),
            row[first + 3].as<bool>(), row[first + 4].as<bool>(), row[first + 5].as<std::int64_t>()};
}

// Whether the user (a column or parameter) is online: some process, on any node, holds a
// connection of theirs (migrations/0027_presence.sql).
#define CONFAB_ONLINE(user_id) " EXISTS (SELECT 1 FROM presence_connections pc WHERE pc.user_id = " user_id ") "

// A condition leaving out the messages (table alias `message`) that the viewer (the statement
// parameter named, a uuid or NULL for none) hid for themself.
#define CONFAB_NOT_HIDDEN(message, viewer)                                                                     \
    " NOT EXISTS (SELECT 1 FROM hidden_messages h WHERE h.message_id = " message ".id AND h.user_id = " viewer \
    "::uuid) "

// The same for a listing of one chat's messages (the chat is the statement parameter named):
// the viewer's hidden messages in the chat are read once (one index scan) rather than looked
// up once per message. CONFAB_NOT_HIDDEN stays for a message or two.
#define CONFAB_NOT_HIDDEN_IN_CHAT(message, chat, viewer)                                               \
    " " message ".id <> ALL (ARRAY(SELECT h.message_id FROM hidden_messages h WHERE h.chat_id = " chat \
    "::uuid AND h.user_id = " viewer "::uuid)) "

// The parameter for CONFAB_NOT_HIDDEN and CONFAB_NOT_HIDDEN_IN_CHAT: "" (no viewer) is NULL,
// which hides nothing.
inline std::optional<std::string> hiding_viewer(const std::string& viewer) {
    return viewer.empty() ? std::nullopt : std::optional<std::string>(viewer);
}

// The ids of a uuid[] read as array_to_string(..., ','); empty text is none.
inline std::vector<std::string> comma_separated(std::string_view text) {
    std::vector<std::string> ids;
    for (std::size_t start = 0; start < text.size();) {
        const auto end = std::min(text.find(',', start), text.size());
        ids.emplace_back(text.substr(start, end - start));
        start = end + 1;
    }
    return ids;
}

// A LIKE pattern matching strings that start with `prefix` literally.
inline std::string like_prefix(const std::string& prefix) {
    std::string pattern;
    pattern.reserve(prefix.size() + 1);
    for (char c : prefix) {
        if (c == '%' || c == '_' || c == '\\') pattern.push_back('\\');
        pattern.push_back(c);
    }
    pattern.push_back('%');
    return pattern;
}

// Ends a LATERAL subquery that must stay one index lookup per row of its outer side. Without
// it PostgreSQL pulls a simple subquery up into an ordinary join, and a generic plan made
// while the table was small (a new database: no statistics until the first ANALYZE, up to a
// minute later) hashes the keys and scans the whole table for every batch; that cost 1.3 ms
// of PostgreSQL's CPU per message until autovacuum's ANALYZE replaced the plan.
#define CONFAB_LOOKUP_PER_ROW "OFFSET 0"

// What deleting a message blanks (PROTOCOL.md: content "", media null; and what else it
// carried: formatting, metadata such as a location, its pin)...
#define CONFAB_TOMBSTONE_COLUMNS                                                                             \
    "content = '', entities = '[]', metadata = '{}', is_deleted = true, media_id = NULL, pinned_at = NULL, " \
    "pinned_by = NULL, pinned_version = NULL"
// ...and the rows of their own it had, deleted beside it (CTEs of the tombstoning statement):
// reactions, poll, mentions and translations of the messages `ids` (a subquery or a value).
#define CONFAB_TOMBSTONE_SIDE_ROWS(ids)                                      \
    "gone AS (DELETE FROM reactions WHERE message_id IN (" ids               \
    ")), "                                                                   \
    "poll_gone AS (DELETE FROM polls WHERE message_id IN (" ids              \
    ")), "                                                                   \
    "unmentioned AS (DELETE FROM message_mentions WHERE message_id IN (" ids \
    ")), "                                                                   \
    "untranslated AS (DELETE FROM message_translations WHERE message_id IN (" ids ")) "

// A timestamptz column in the form timestamp() reads: its UTC time as text. PostgreSQL prints
// that for a fraction of what the epoch arithmetic costs it (numeric: a fifth of a history
// page's statement; docs/performance.md, Reads). The pool's sessions use the ISO date style.
#define CONFAB_TIME(column) "(" column " AT TIME ZONE 'UTC')"

// Lists paged by place (model::ListPlace), ordered by a time column, then an id column. A
// statement selects each row's place last, as CONFAB_MICROS(time), then the id as text
// (placed_rows reads them); extract is exact (numeric), so a place names one time. Its ORDER
// BY names the columns with their table's alias: a bare name there means a column selected
// under that name first (`id` of `id::text`: text, sorted apart from the index).
#define CONFAB_MICROS(column) "(extract(epoch FROM " column ") * 1000000)::bigint"
// The rows past a place, for a list newest first (OLDER) or oldest first (NEWER): `micros` and
// `id` are the statement's parameters for the place's time (bigint) and id (cast to the id
// column's type), both NULL on the first page (place_time, place_id), when the time alone
// decides. One row comparison and no OR, so that an index on (..., time, id) seeks to the place.
#define CONFAB_PLACE_TIME(micros) "(timestamptz 'epoch' + " micros "::bigint * interval '1 microsecond')"
#define CONFAB_OLDER_THAN_PLACE(time, id, micros, id_param) \
    " (" time ", " id ") < (coalesce(" CONFAB_PLACE_TIME(micros) ", 'infinity'), " id_param ") "
#define CONFAB_NEWER_THAN_PLACE(time, id, micros, id_param) \
    " (" time ", " id ") > (coalesce(" CONFAB_PLACE_TIME(micros) ", '-infinity'), " id_param ") "

inline std::optional<std::int64_t> place_time(const std::optional<model::ListPlace>& after) {
    if (!after) return std::nullopt;
    return after->time_us;
}

inline std::optional<std::string> place_id(const std::optional<model::ListPlace>& after) {
    if (!after) return std::nullopt;
    return after->id;
}

// The rows of a statement listing by place, each as `item(row)` with its place (the last two
// columns).
template <class Item>
auto placed_rows(const pqxx::result& rows, Item item) {
    std::vector<std::pair<std::invoke_result_t<Item&, const pqxx::row&>, model::ListPlace>> out;
    out.reserve(rows.size());
    for (const auto& row : rows) {
        const auto place = static_cast<int>(row.size()) - 2;
        out.emplace_back(item(row), model::ListPlace{row[place].as<std::int64_t>(), row[place + 1].as<std::string>()});
    }
    return out;
}

// The member count of the chat `chat` (a chats row's alias): a channel or large group keeps it
// as a counter (chats.subscriber_count, migrations 0032 and 0035), which spares counting its
// hundred thousand rows for every view, preview or invitation of it.
#define CONFAB_MEMBER_COUNT(chat)                                      \
    "CASE WHEN " chat ".type = 'channel' OR " chat ".large THEN " chat \
    ".subscriber_count ELSE "                                          \
    "(SELECT count(*) FROM chat_members x WHERE x.chat_id = " chat ".id) END"

// The user columns user_from() reads, for a users table aliased `u`.
extern const char* const user_columns;
constexpr int user_column_count = 8;
model::User user_from(const pqxx::row& row, int first = 0);

// The message columns message_from() reads, for a messages table aliased `m` joined to
// its media as `md` (see with_media), and last whether the message has any reaction
// (has_reactions()). A uuid, jsonb or array column is selected as it is: its text form is
// what a ::text cast would give, without an expression per value for the executor to build
// and run (docs/performance.md, Reads).
extern const char* const message_columns;
#define CONFAB_WITH_MEDIA(messages) messages CONFAB_MEDIA_OF_MESSAGE
// The media of the message `m` as `md` (NULLs for a message without): looked up only for a
// message that has media. A plain LEFT JOIN lets a planner that believes the media table
// empty (a database without uploads, once vacuumed) rescan it for every message, and every
// rescan asks the kernel for the file's size: that doubled a history page's cost
// (docs/performance.md, Reads).
#define CONFAB_MEDIA_OF_MESSAGE                                                          \
    " LEFT JOIN LATERAL (SELECT * FROM media x WHERE m.media_id IS NOT NULL AND x.id = " \
    "m.media_id " CONFAB_LOOKUP_PER_ROW ") md ON true"
// The media columns media_from() reads, for a media table aliased `md`.
#define CONFAB_MEDIA_COLUMNS                                                         \
    "md.id, md.chat_id, md.uploader_id, md.kind, md.mime_type, md.size_bytes, "      \
    "md.sha256, md.file_name, md.storage_key, md.width, md.height, md.duration_ms, " \
    "md.attached_at IS NOT NULL, md.waveform, md.animated, md.poster, "              \
    "md.live_video_storage_key, md.live_video_sha256, md.live_video_mime_type, "     \
    "md.live_video_size_bytes, md.live_video_duration_ms, md.live_video_width, md.live_video_height"
constexpr int media_column_count = 23;
std::optional<model::Media> media_from(const pqxx::row& row, int first);
// The storage keys of media rows `rows` (a CTE or table with storage_key and
// live_video_storage_key), one per row and part, each once: what a removal may release.
#define CONFAB_STORAGE_KEYS_OF(rows)                                          \
    "SELECT DISTINCT stored FROM " rows                                       \
    " CROSS JOIN LATERAL unnest(ARRAY[storage_key, live_video_storage_key]) " \
    "AS stored WHERE stored IS NOT NULL"
model::Message message_from(const pqxx::row& row, int first = 0);
bool has_reactions(const pqxx::row& row, int first = 0);
// An entities column (jsonb, as the API shows them: docs/api.md, Rich text) and back.
std::vector<model::TextEntity> entities_from(const pqxx::field& field);
std::string entities_text(const std::vector<model::TextEntity>& entities);
// How many users each reaction names: a message's reactions go to every member in every
// event and page, and a thousand names per emoji made one reaction change cost the chat
// megabytes. `count` always has the total.
constexpr int reaction_users_named = 10;
// Fills in the reactions of each message, one query for all of them: each emoji's count and
// its first reaction_users_named users, plus `viewer` (whose own reactions a client must be
// able to show; empty for none) when they reacted too. With `reacted` (per message, whether
// it has any reaction: has_reactions() of its row), the others are not looked up, and no
// query runs when none has one.
void attach_reactions(Tx& tx, std::vector<model::Message>& messages, const std::string& viewer,
                      const std::vector<bool>& reacted = {});
// A PostgreSQL array literal of UUIDs (validated ids only).
std::string uuid_array(const std::vector<std::string>& ids);
// A PostgreSQL array literal of any text, each element quoted (nullopt is NULL): a text[]
// parameter, or any array type whose elements read from text (uuid[], jsonb[], boolean[]).
std::string text_array(const std::vector<std::optional<std::string>>& elements);
// text_array of strings none of which is NULL.
std::string text_array(const std::vector<std::string>& elements);
// A map's ids (UUIDs) and counts as two array literals in one order, for a statement's
// unnest($n::uuid[], $m::int[]) to read back as rows.
inline std::pair<std::string, std::string> counts_by_id(const std::map<std::string, int>& counts) {
    std::vector<std::string> ids;
    std::vector<std::optional<std::string>> numbers;
    for (const auto& [id, count] : counts) {
        ids.push_back(id);
        numbers.emplace_back(std::to_string(count));
    }
    return {uuid_array(ids), text_array(numbers)};
}

}  // namespace confab::store
