#include "confab/store/messages.hpp"
#include "confab/store/sql.hpp"

#include "confab/store/polls.hpp"
#include "confab/store/rows.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <unordered_map>

namespace confab::store {

const char* const message_columns =
    "m.id, m.chat_id, m.sender_id, m.seq, m.version, m.type, m.content, "
    "m.reply_to_id, m.is_edited, m.is_deleted, m.metadata, m.client_id, " CONFAB_TIME(
        "m.created_at") ", " CONFAB_TIME("m.updated_at") ", " CONFAB_TIME("m.pinned_at") ", m.pinned_by, "
                        "m.forwarded_from_message_id, m.forwarded_from_chat_id, "
                        "m.forwarded_from_sender_id, " CONFAB_TIME("m.forwarded_from_sent_at") ", " CONFAB_MEDIA_COLUMNS
                        ", m.thread_root_id, m.thread_reply_count, " CONFAB_TIME(
                            "m.thread_last_reply_at") ", array_to_string(m.thread_participant_ids, ','), m.entities, "
                                                      "m.has_reactions";

namespace {

// A smallint[] read as text, "{1,2,3}"; NULL is empty.
std::vector<int> integer_list(const pqxx::field& field) {
    std::vector<int> values;
    if (field.is_null()) return values;
    const std::string_view text = field.c_str();
    for (std::size_t start = 1; start + 1 < text.size();) {
        const auto end = std::min(text.find(',', start), text.size() - 1);
        values.push_back(std::stoi(std::string(text.substr(start, end - start))));
        start = end + 1;
    }
    return values;
}

}  // namespace

// The entities column holds them as the API shows them (docs/api.md, Rich text).
std::vector<model::TextEntity> entities_from(const pqxx::field& field) {
    std::vector<model::TextEntity> entities;
    const std::string_view text = field.c_str();
    if (text == "[]") return entities;
    const auto parsed = nlohmann::json::parse(text, nullptr, false);
    if (!parsed.is_array()) return entities;
    const auto text_of = [](const nlohmann::json& e, const char* name) -> std::optional<std::string> {
        const auto found = e.find(name);
        if (found == e.end() || !found->is_string()) return std::nullopt;
        return found->get<std::string>();
    };
    for (const auto& e : parsed) {
        const auto type = model::entity_type_from(e.value("type", ""));
        if (!type) continue;
        entities.push_back({*type, e.value("offset", std::int64_t{0}), e.value("length", std::int64_t{0}),
                            text_of(e, "url"), text_of(e, "language"), text_of(e, "user_id")});
    }
    return entities;
}

std::string entities_text(const std::vector<model::TextEntity>& entities) {
    if (entities.empty()) return "[]";
    auto array = nlohmann::json::array();
    for (const auto& e : entities) {
        nlohmann::json entity{{"type", model::to_string(e.type)}, {"offset", e.offset}, {"length", e.length}};
        if (e.url) entity["url"] = *e.url;
        if (e.language) entity["language"] = *e.language;
        if (e.user_id) entity["user_id"] = *e.user_id;
        array.push_back(std::move(entity));
    }
    return array.dump();
}

std::optional<model::Media> media_from(const pqxx::row& row, int first) {
    if (row[first].is_null()) return std::nullopt;
    auto optional_integer = [&](int index) -> std::optional<std::int64_t> {
        if (row[index].is_null()) return std::nullopt;
        return row[index].as<std::int64_t>();
    };
    model::Media media;
    media.id = row[first].as<std::string>();
    media.chat_id = row[first + 1].as<std::string>(std::string{});  // empty: an avatar's
    media.uploader_id = row[first + 2].as<std::string>();
    media.kind = model::media_kind_from(row[first + 3].c_str()).value_or(model::MediaKind::file);
    media.mime_type = row[first + 4].as<std::string>();
    media.size_bytes = row[first + 5].as<std::int64_t>();
    media.sha256 = row[first + 6].as<std::string>();
    media.file_name = optional_text(row[first + 7]);
    media.storage_key = row[first + 8].as<std::string>();
    media.width = optional_integer(first + 9);
    media.height = optional_integer(first + 10);
    media.duration_ms = optional_integer(first + 11);
    media.attached = row[first + 12].as<bool>();
    media.waveform = integer_list(row[first + 13]);
    media.animated = row[first + 14].as<bool>();
    media.poster = row[first + 15].as<bool>();
    if (!row[first + 16].is_null())
        media.live_video = model::LiveVideo{row[first + 18].as<std::string>(),   row[first + 19].as<std::int64_t>(),
                                            row[first + 17].as<std::string>(),   row[first + 16].as<std::string>(),
                                            row[first + 20].as<std::int64_t>(0), row[first + 21].as<std::int64_t>(0),
                                            row[first + 22].as<std::int64_t>(0)};
    return media;
}

namespace {

// Where the columns after the media's begin, in a row read with message_columns from `first`.
int media_end(int first) { return first + 20 + media_column_count; }

}  // namespace

model::Message message_from(const pqxx::row& row, int first) {
    model::Message m;
    m.id = row[first].as<std::string>();
    m.chat_id = row[first + 1].as<std::string>();
    m.sender_id = optional_text(row[first + 2]);
    m.seq = row[first + 3].as<std::int64_t>();
    m.version = row[first + 4].as<std::int64_t>();
    m.type = model::message_type_from(row[first + 5].c_str()).value_or(model::MessageType::text);
    m.content = row[first + 6].as<std::string>();
    m.reply_to_id = optional_text(row[first + 7]);
    m.is_edited = row[first + 8].as<bool>();
    m.is_deleted = row[first + 9].as<bool>();
    m.metadata.text = row[first + 10].as<std::string>();
    m.client_id = optional_text(row[first + 11]);
    m.created_at = timestamp(row[first + 12]);
    m.updated_at = timestamp(row[first + 13]);
    if (!row[first + 14].is_null()) m.pinned_at = timestamp(row[first + 14]);
    m.pinned_by = optional_text(row[first + 15]);
    if (!row[first + 16].is_null())
        m.forwarded_from = model::ForwardOrigin{row[first + 16].as<std::string>(), row[first + 17].as<std::string>(),
                                                optional_text(row[first + 18]), timestamp(row[first + 19])};
    m.media = media_from(row, first + 20);
    const int after_media = media_end(first);
    m.thread_root_id = optional_text(row[after_media]);
    if (const auto replies = row[after_media + 1].as<std::int64_t>(); replies > 0)
        m.thread = model::ThreadSummary{replies, timestamp(row[after_media + 2]),
                                        comma_separated(row[after_media + 3].c_str())};
    m.entities = entities_from(row[after_media + 4]);
    return m;
}

bool has_reactions(const pqxx::row& row, int first) { return row[media_end(first) + 5].as<bool>(); }

std::string uuid_array(const std::vector<std::string>& ids) {
    return "{" + pqxx::separated_list(",", ids.begin(), ids.end()) + "}";
}

std::string text_array(const std::vector<std::optional<std::string>>& elements) {
    std::string literal = "{";
    for (const auto& element : elements) {
        if (literal.size() > 1) literal += ',';
        if (!element) {
            literal += "NULL";
            continue;
        }
        literal += '"';
        for (const char c : *element) {
            if (c == '"' || c == '\\') literal += '\\';
            literal += c;
        }
        literal += '"';
    }
    return literal + "}";
}

std::string text_array(const std::vector<std::string>& elements) {
    return text_array(std::vector<std::optional<std::string>>(elements.begin(), elements.end()));
}

namespace {

// Whether attach_reactions looks up the reactions of messages[i] (`reacted` as it takes it).
bool has_reactions_to_read(const std::vector<model::Message>& messages, const std::vector<bool>& reacted,
                           std::size_t i) {
    return !messages[i].is_deleted && (reacted.empty() || reacted[i]);
}

}  // namespace

void attach_reactions(Tx& tx, std::vector<model::Message>& messages, const std::string& viewer,
                      const std::vector<bool>& reacted) {
    std::vector<std::string> ids;
    std::unordered_map<std::string, model::Message*> by_id;
    for (std::size_t i = 0; i < messages.size(); ++i) {
        if (!has_reactions_to_read(messages, reacted, i)) continue;
        auto& message = messages[i];
        ids.push_back(message.id);
        by_id.emplace(message.id, &message);
    }
    if (ids.empty()) return;
    // Rows in reaction order, so each emoji's first row fixes its place and users keep theirs.
    const auto rows = tx.exec_prepared("reactions_of", uuid_array(ids), reaction_users_named,
                                       viewer.empty() ? std::nullopt : std::optional<std::string>(viewer));
    for (const auto& row : rows) {
        auto& reactions = by_id.at(row[0].as<std::string>())->reactions;
        const auto emoji = row[1].as<std::string>();
        auto entry = std::find_if(reactions.begin(), reactions.end(), [&](const auto& r) { return r.emoji == emoji; });
        if (entry == reactions.end())
            entry = reactions.insert(reactions.end(), model::Reaction{emoji, row[3].as<std::int64_t>(), {}});
        if (!row[2].is_null()) entry->user_ids.push_back(row[2].as<std::string>());
    }
}

}  // namespace confab::store

namespace confab::store::messages {

const char* const page_stamp_sql =
    "SELECT c.version, array_to_string(ARRAY(SELECT h.message_id FROM hidden_messages h "
    "WHERE h.chat_id = c.id AND h.user_id = $2::uuid), ',') FROM chats c WHERE c.id = $1::uuid";

namespace {

StoredPage stored_from(const pqxx::result& result) {
    StoredPage page;
    page.messages.reserve(result.size());
    for (const auto& row : result) {
        page.messages.push_back(message_from(row));
        page.reacted.push_back(has_reactions(row));
    }
    return page;
}

std::vector<model::Message> messages_from(Tx& tx, const pqxx::result& result, const std::string& viewer) {
    auto page = stored_from(result);
    attach_live(tx, page.messages, page.reacted, viewer);
    return std::move(page.messages);
}

std::optional<model::Message> single(Tx& tx, const pqxx::result& result, const std::string& viewer) {
    auto found = messages_from(tx, result, viewer);
    if (found.empty()) return std::nullopt;
    return std::move(found.front());
}

// The pages of the messages in `scope`, a condition on `m` over $1 and $2 that names the chat
// ($1 or $2): `name`_newest, `name`_before ($5, newest first) and `name`_after ($5, oldest
// first); $3 is the limit and $4 the viewer.
void prepare_pages(Tx& tx, const std::string& name, const std::string& scope, const std::string& not_hidden) {
    const auto from = std::string("SELECT ") + message_columns + " FROM " CONFAB_WITH_MEDIA("messages m") " WHERE " +
                      scope + " AND" + not_hidden;
    tx.prepare(name + "_newest", from + "ORDER BY m.seq DESC LIMIT $3");
    tx.prepare(name + "_before", from + "AND m.seq < $5 ORDER BY m.seq DESC LIMIT $3");
    tx.prepare(name + "_after", from + "AND m.seq > $5 ORDER BY m.seq ASC LIMIT $3");
}

template <class Scope>
std::vector<model::Message> page_of(Tx& tx, const std::string& name, const std::string& key, const Scope& scope,
                                    const PageQuery& q, const std::string& viewer) {
    const auto hider = hiding_viewer(viewer);
    if (q.before_seq)
        return messages_from(tx, tx.exec_prepared(name + "_before", key, scope, q.limit, hider, *q.before_seq), viewer);
    if (q.after_seq)
        return messages_from(tx, tx.exec_prepared(name + "_after", key, scope, q.limit, hider, *q.after_seq), viewer);
    return messages_from(tx, tx.exec_prepared(name + "_newest", key, scope, q.limit, hider), viewer);
}

}  // namespace

void prepare(Tx& tx) {
    const std::string columns = message_columns;
    // In a channel the reader alone is named (domain::rules::names_reactors); each emoji's
    // first row still comes, nameless, to carry its count.
    tx.prepare("reactions_of",
               "SELECT message_id::text, emoji, CASE WHEN named THEN user_id::text END, total FROM ("
               " SELECT *, (rank <= $2 AND NOT in_channel) OR user_id = $3::uuid AS named FROM ("
               "  SELECT x.message_id, x.emoji, x.user_id, x.created_at, c.type = 'channel' AS in_channel,"
               "   row_number() OVER (PARTITION BY x.message_id, x.emoji ORDER BY x.created_at, x.user_id) AS rank,"
               "   count(*) OVER (PARTITION BY x.message_id, x.emoji) AS total"
               "  FROM reactions x JOIN messages m ON m.id = x.message_id JOIN chats c ON c.id = m.chat_id"
               "  WHERE x.message_id = ANY($1::uuid[])) ranked) r "
               "WHERE named OR rank = 1 ORDER BY created_at, emoji, user_id");
    // One statement for a batch of messages (unnest's ordinality keeps their order): number
    // each chat's messages in order, store them, advance each sender's read mark, and bring
    // the chats back into lists that hid them; only main-timeline messages move a chat up its
    // members' lists, as only they become its last_message. A message whose sender is not a member is
    // left out, unless it is a system message. Callers hold the chats' locks (lock_for_sends),
    // so the membership seen here is the latest committed. Batched writes run a generic
    // plan (lock_for_sends), which guesses 10 rows for unnest and is kept until the next
    // ANALYZE: the membership lookup stays one index probe per row (CONFAB_LOOKUP_PER_ROW)
    // instead of a hash join over all of chat_members, which that guess makes look cheaper
    // while the table is small. `c.id = ANY($1)` lets chats be found by index; a plan made
    // while chats was small may scan it, until the ANALYZE that its per-message updates soon
    // bring.
    tx.prepare("messages_insert",
              "WITH input AS (SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::uuid[], "
              "  $6::jsonb[], $7::text[], $8::uuid[], $9::boolean[], $10::uuid[], $11::jsonb[]) WITH ORDINALITY "
              "  AS i(chat_id, sender_id, type, content, reply_to_id, metadata, client_id, media_id, is_system, "
              "  thread_root_id, entities, ord)), "
              "accepted AS (SELECT i.* FROM input i LEFT JOIN LATERAL (SELECT true AS member FROM chat_members cm "
              "  WHERE cm.chat_id = i.chat_id AND cm.user_id = i.sender_id " CONFAB_LOOKUP_PER_ROW ") s ON true "
              "  WHERE i.is_system OR s.member), "
              "per_chat AS (SELECT chat_id, count(*) AS n, bool_or(thread_root_id IS NULL) AS in_timeline "
              "  FROM accepted GROUP BY chat_id), "
              "numbered AS (UPDATE chats c SET last_seq = c.last_seq + p.n, version = c.version + p.n, "
              "  activity = CASE WHEN p.in_timeline THEN nextval('chat_activity') ELSE c.activity END, "
              "  updated_at = now() FROM per_chat p "
              "  WHERE c.id = ANY($1::uuid[]) AND c.id = p.chat_id "
              "  RETURNING c.id, c.last_seq - p.n AS seq0, c.version - p.n AS version0), "
              "ordered AS (SELECT a.*, n.seq0 + row_number() OVER w AS seq, n.version0 + row_number() OVER w AS version "
              "  FROM accepted a JOIN numbered n ON n.id = a.chat_id WINDOW w AS (PARTITION BY a.chat_id ORDER BY a.ord)), "
              "readers AS (UPDATE chat_members cm SET is_hidden = false, last_read_seq = coalesce((SELECT max(o.seq) "
              "  FROM ordered o WHERE o.chat_id = cm.chat_id AND o.sender_id = cm.user_id), cm.last_read_seq) "
              "  WHERE cm.chat_id IN (SELECT id FROM numbered) "
              "  AND (cm.is_hidden OR (cm.chat_id, cm.user_id) IN (SELECT chat_id, sender_id FROM ordered))), "
              "m AS (INSERT INTO messages (chat_id, sender_id, seq, version, type, content, reply_to_id, metadata, "
              "  client_id, media_id, thread_root_id, entities) SELECT chat_id, sender_id, seq, version, type, "
              "  content, reply_to_id, metadata, client_id, media_id, thread_root_id, entities FROM ordered "
              "  ORDER BY ord RETURNING *) "
              "SELECT o.ord, " + columns + " FROM " CONFAB_WITH_MEDIA("m") " JOIN ordered o ON o.chat_id = m.chat_id "
              "AND o.seq = m.seq ORDER BY o.ord");
    tx.prepare("messages_find", "SELECT " + columns + " FROM " CONFAB_WITH_MEDIA("messages m") " WHERE m.id = $1::uuid "
                                                                                               "AND" CONFAB_NOT_HIDDEN("m", "$2"));
    // Each key one index lookup, whatever the generic plan guesses of unnest (CONFAB_LOOKUP_PER_ROW).
    tx.prepare("messages_by_client_ids", "SELECT " + columns +
                                             " FROM unnest($1::uuid[], $2::text[]) AS k(sender_id, client_id) "
                                             "JOIN LATERAL (SELECT * FROM messages x WHERE x.sender_id = k.sender_id "
                                             "AND x.client_id = k.client_id " CONFAB_LOOKUP_PER_ROW
                                             ") m ON true" CONFAB_MEDIA_OF_MESSAGE);
    tx.prepare("messages_lock_for_sends",
               "WITH generic AS (SELECT set_config('plan_cache_mode', 'force_generic_plan', true)), "
               "repeated AS (SELECT EXISTS (SELECT 1 FROM unnest($2::uuid[], $3::text[]) AS k(sender_id, client_id) "
               "  JOIN LATERAL (SELECT 1 FROM messages m WHERE m.sender_id = k.sender_id "
               "  AND m.client_id = k.client_id " CONFAB_LOOKUP_PER_ROW
               ") m ON true) AS found) "
               "SELECT c.id::text, c.access_version, r.found FROM generic, repeated r, chats c "
               "WHERE c.id = ANY($1::uuid[]) ORDER BY c.id FOR UPDATE OF c");
    tx.prepare("messages_chat_of", "SELECT chat_id::text FROM messages WHERE id = $1::uuid");
    tx.prepare("messages_quoted",
               "SELECT m.chat_id::text, m.thread_root_id::text FROM messages m WHERE m.id = $1::uuid AND NOT EXISTS "
               "(SELECT 1 FROM hidden_messages h WHERE h.message_id = m.id AND h.user_id = $2::uuid)");
    tx.prepare("messages_settled_seq",
               "SELECT coalesce(max(seq), 0) FROM messages WHERE chat_id = $1::uuid AND seq < $2 "
               "AND created_at <= greatest(now() - $3 * interval '1 millisecond', to_timestamp($4 / 1000.0))");
    // A chat's history leaves thread replies out unless $2 asks for them (docs/api.md, Threads).
    prepare_pages(tx, "messages", "m.chat_id = $1::uuid AND ($2::boolean OR m.thread_root_id IS NULL)",
                  CONFAB_NOT_HIDDEN_IN_CHAT("m", "$1", "$4"));
    prepare_pages(tx, "thread", "m.thread_root_id = $1::uuid AND m.chat_id = $2::uuid",
                  CONFAB_NOT_HIDDEN_IN_CHAT("m", "$2", "$4"));
    tx.prepare("messages_page_stamp", page_stamp_sql);
    tx.prepare("messages_since",
              "SELECT " + columns + " FROM " CONFAB_WITH_MEDIA("messages m") " WHERE m.chat_id = $1::uuid AND m.version > $2 "
              "AND" CONFAB_NOT_HIDDEN_IN_CHAT("m", "$1", "$4") "ORDER BY m.version ASC LIMIT $3");
    tx.prepare("messages_hidden_since",
               "SELECT message_id::text, version FROM hidden_messages "
               "WHERE chat_id = $1::uuid AND user_id = $2::uuid AND version > $3 ORDER BY version LIMIT $4");
    tx.prepare("messages_is_hidden",
               "SELECT EXISTS (SELECT 1 FROM hidden_messages WHERE message_id = $1::uuid AND user_id = $2::uuid)");
    tx.prepare("messages_hidden_by", "SELECT user_id::text FROM hidden_messages WHERE message_id = $1::uuid");
    // A message hidden is no mention of the hider's any more.
    tx.prepare("messages_hide",
               "WITH unmentioned AS (DELETE FROM message_mentions WHERE message_id = $1::uuid AND user_id = $2::uuid) "
               "INSERT INTO hidden_messages (message_id, user_id, chat_id, version) "
               "VALUES ($1::uuid, $2::uuid, $3::uuid, $4) ON CONFLICT DO NOTHING");
    tx.prepare("messages_pins", "SELECT m.pinned_version, " + columns +
                                   " FROM " CONFAB_WITH_MEDIA("messages m") " WHERE m.chat_id = $1::uuid "
                                   "AND m.pinned_version IS NOT NULL AND ($2::bigint IS NULL OR m.pinned_version < $2) "
                                   "AND" CONFAB_NOT_HIDDEN_IN_CHAT("m", "$1", "$4") "ORDER BY m.pinned_version DESC LIMIT $3");
    tx.prepare("messages_pin",
               "UPDATE messages SET pinned_at = now(), pinned_by = $2::uuid, pinned_version = $3, version = $3, "
               "updated_at = now() WHERE id = $1::uuid");
    tx.prepare("messages_unpin",
               "UPDATE messages SET pinned_at = NULL, pinned_by = NULL, pinned_version = NULL, version = $2, "
               "updated_at = now() WHERE id = $1::uuid");
    // A deleted account's message keeps its tombstone as sender; a forward of it names nobody.
    tx.prepare("messages_set_forwarded_from",
               "UPDATE messages SET forwarded_from_message_id = $2::uuid, forwarded_from_chat_id = $3::uuid, "
               "forwarded_from_sender_id = (SELECT id FROM users WHERE id = $4::uuid AND deleted_at IS NULL), "
               "forwarded_from_sent_at = 'epoch'::timestamptz + $5::bigint * "
               "interval '1 millisecond' "
               "WHERE id = $1::uuid");
    tx.prepare("chats_next_version",
               "UPDATE chats SET version = version + 1, updated_at = now() WHERE id = $1::uuid RETURNING version");
    // A translation renders the content it was made from (store/translations.hpp): it goes with it.
    tx.prepare("messages_edit",
               "WITH untranslated AS (DELETE FROM message_translations WHERE message_id = $1::uuid) "
               "UPDATE messages SET content = $2, entities = $4::jsonb, is_edited = true, version = $3, "
               "updated_at = now() WHERE id = $1::uuid");
    tx.prepare("messages_tombstone",
               "WITH " CONFAB_TOMBSTONE_SIDE_ROWS("$1::uuid") "UPDATE messages SET " CONFAB_TOMBSTONE_COLUMNS
                                                              ", version = $2, updated_at = now() WHERE id = $1::uuid");
    tx.prepare("messages_detach_media",
               "UPDATE messages SET media_id = NULL, version = $2, updated_at = now() WHERE id = $1::uuid");
    tx.prepare("messages_set_version", "UPDATE messages SET version = $2, updated_at = now() WHERE id = $1::uuid");
    // A reply is the thread's newest: its time is the transaction's, as the reply's created_at.
    tx.prepare("messages_thread_add_reply",
               "UPDATE messages SET thread_reply_count = thread_reply_count + 1, thread_last_reply_at = now(), "
               "thread_participant_ids = (ARRAY[$2::uuid] || array_remove(thread_participant_ids, $2::uuid))[1:5], "
               "version = $3, updated_at = now() WHERE id = $1::uuid");
    tx.prepare(
        "messages_thread_recount",
        "UPDATE messages r SET thread_reply_count = s.replies, thread_last_reply_at = s.last_reply_at, "
        "thread_participant_ids = s.participants, version = $2, updated_at = now() "
        "FROM (SELECT count(*) AS replies, max(t.created_at) AS last_reply_at, "
        "  coalesce((SELECT array_agg(p.sender_id ORDER BY p.last_seq DESC) FROM (SELECT sender_id, "
        "  max(seq) AS last_seq FROM messages WHERE thread_root_id = $1::uuid AND NOT is_deleted "
        "  AND sender_id IS NOT NULL GROUP BY sender_id ORDER BY last_seq DESC LIMIT 5) p), '{}') AS participants "
        "  FROM messages t WHERE t.thread_root_id = $1::uuid AND NOT t.is_deleted) s "
        "WHERE r.id = $1::uuid");
    tx.prepare("reactions_add",
               "INSERT INTO reactions (message_id, user_id, emoji) VALUES ($1::uuid, $2::uuid, $3) "
               "ON CONFLICT DO NOTHING");
    tx.prepare("reactions_remove",
               "DELETE FROM reactions WHERE message_id = $1::uuid AND user_id = $2::uuid AND emoji = $3");
    tx.prepare("reactions_distinct", "SELECT count(DISTINCT emoji) FROM reactions WHERE message_id = $1::uuid");
}

std::vector<std::optional<model::Message>> insert(Tx& tx, const std::vector<NewMessage>& batch) {
    std::vector<std::optional<std::string>> chats, senders, types, contents, replies, metadata, client_ids, media,
        system, thread_roots, entities;
    for (const auto& m : batch) {
        chats.emplace_back(m.chat_id);
        senders.emplace_back(m.sender_id);
        types.emplace_back(to_string(m.type));
        contents.emplace_back(m.content);
        replies.push_back(m.reply_to_id);
        metadata.emplace_back(m.metadata);
        client_ids.push_back(m.client_id);
        media.push_back(m.media_id);
        system.emplace_back(m.type == model::MessageType::system ? "true" : "false");
        thread_roots.push_back(m.thread_root_id);
        entities.emplace_back(entities_text(m.entities));
    }
    const auto result =
        tx.exec_prepared("messages_insert", text_array(chats), text_array(senders), text_array(types),
                         text_array(contents), text_array(replies), text_array(metadata), text_array(client_ids),
                         text_array(media), text_array(system), text_array(thread_roots), text_array(entities));
    std::vector<std::optional<model::Message>> stored(batch.size());
    // New messages have no reactions to look up.
    for (const auto& row : result) stored.at(row[0].as<std::size_t>() - 1) = message_from(row, 1);
    return stored;
}

std::optional<model::Message> insert(Tx& tx, const NewMessage& message) {
    return std::move(insert(tx, std::vector<NewMessage>{message}).front());
}

std::optional<model::Message> find(Tx& tx, const std::string& id, const std::string& viewer) {
    return single(tx, tx.exec_prepared("messages_find", id, hiding_viewer(viewer)), viewer);
}

std::vector<model::Message> find_by_client_ids(Tx& tx, const std::vector<ClientKey>& keys) {
    std::vector<std::optional<std::string>> senders, client_ids;
    for (const auto& key : keys) {
        senders.emplace_back(key.sender_id);
        client_ids.emplace_back(key.client_id);
    }
    return messages_from(tx, tx.exec_prepared("messages_by_client_ids", text_array(senders), text_array(client_ids)),
                         "");
}

SendLocks lock_for_sends(Tx& tx, const std::vector<std::string>& chat_ids, const std::vector<ClientKey>& keys) {
    std::vector<std::optional<std::string>> senders, client_ids;
    for (const auto& key : keys) {
        senders.emplace_back(key.sender_id);
        client_ids.emplace_back(key.client_id);
    }
    SendLocks locks;
    for (const auto& row : tx.exec_prepared("messages_lock_for_sends", uuid_array(chat_ids), text_array(senders),
                                            text_array(client_ids))) {
        locks.chats.emplace(row[0].as<std::string>(), row[1].as<std::int64_t>());
        locks.repeated = row[2].as<bool>();
    }
    return locks;
}

std::optional<std::string> chat_of(Tx& tx, const std::string& id) {
    const auto result = tx.exec_prepared("messages_chat_of", id);
    if (result.empty()) return std::nullopt;
    return result[0][0].as<std::string>();
}

std::optional<Quoted> quoted(Tx& tx, const std::string& id, const std::string& viewer) {
    const auto result = tx.exec_prepared("messages_quoted", id, viewer);
    if (result.empty()) return std::nullopt;
    return Quoted{result[0][0].as<std::string>(), optional_text(result[0][1])};
}

std::int64_t settled_seq(Tx& tx, const std::string& chat_id, std::int64_t below, std::chrono::milliseconds age,
                         std::chrono::system_clock::time_point stored_before) {
    const auto before = epoch_ms(std::chrono::time_point_cast<std::chrono::milliseconds>(stored_before));
    return tx.exec_prepared("messages_settled_seq", chat_id, below, age.count(), before)[0][0].as<std::int64_t>();
}

std::vector<model::Message> page(Tx& tx, const std::string& chat_id, const PageQuery& query,
                                 bool include_thread_replies, const std::string& viewer) {
    return page_of(tx, "messages", chat_id, include_thread_replies, query, viewer);
}

StoredPage newest_stored(Tx& tx, const std::string& chat_id, bool include_thread_replies, int limit) {
    return stored_from(tx.exec_prepared("messages_newest", chat_id, include_thread_replies, limit, hiding_viewer("")));
}

std::optional<PageStamp> page_stamp(Tx& tx, const std::string& chat_id, const std::string& viewer) {
    const auto result = tx.exec_prepared("messages_page_stamp", chat_id, hiding_viewer(viewer));
    if (result.empty()) return std::nullopt;
    return PageStamp{result[0][0].as<std::int64_t>(), comma_separated(result[0][1].c_str())};
}

void attach_live(Tx& tx, std::vector<model::Message>& messages, const std::vector<bool>& reacted,
                 const std::string& viewer) {
    attach_reactions(tx, messages, viewer, reacted);
    attach_polls(tx, messages, viewer);
}

std::size_t first_with_live_parts(const StoredPage& page) {
    for (std::size_t i = 0; i < page.messages.size(); ++i)
        if (has_reactions_to_read(page.messages, page.reacted, i) || has_poll_to_read(page.messages[i])) return i;
    return page.messages.size();
}

std::vector<model::Message> thread_page(Tx& tx, const std::string& root_id, const std::string& chat_id,
                                        const PageQuery& query, const std::string& viewer) {
    return page_of(tx, "thread", root_id, chat_id, query, viewer);
}

std::vector<model::Message> changed_since(Tx& tx, const std::string& chat_id, std::int64_t version, int limit,
                                          const std::string& viewer) {
    return messages_from(tx, tx.exec_prepared("messages_since", chat_id, version, limit, hiding_viewer(viewer)),
                         viewer);
}

std::vector<Hidden> hidden_since(Tx& tx, const std::string& chat_id, const std::string& user_id, std::int64_t version,
                                 int limit) {
    std::vector<Hidden> hidden;
    for (const auto& row : tx.exec_prepared("messages_hidden_since", chat_id, user_id, version, limit))
        hidden.push_back({row[0].as<std::string>(), row[1].as<std::int64_t>()});
    return hidden;
}

bool is_hidden(Tx& tx, const std::string& id, const std::string& user_id) {
    return tx.exec_prepared1("messages_is_hidden", id, user_id)[0].as<bool>();
}

std::vector<std::string> hidden_by(Tx& tx, const std::string& id) {
    return first_column(tx.exec_prepared("messages_hidden_by", id));
}

void hide(Tx& tx, const std::string& id, const std::string& user_id, const std::string& chat_id, std::int64_t version) {
    tx.exec_prepared("messages_hide", id, user_id, chat_id, version);
}

Pins pins(Tx& tx, const std::string& chat_id, std::optional<std::int64_t> before_pin, int limit,
          const std::string& viewer) {
    Pins pins;
    for (const auto& row : tx.exec_prepared("messages_pins", chat_id, before_pin, limit, hiding_viewer(viewer))) {
        pins.orders.push_back(row[0].as<std::int64_t>());
        pins.messages.push_back(message_from(row, 1));
    }
    attach_live(tx, pins.messages, {}, viewer);
    return pins;
}

void pin(Tx& tx, const std::string& id, const std::string& user_id, std::int64_t version) {
    tx.exec_prepared("messages_pin", id, user_id, version);
}

void unpin(Tx& tx, const std::string& id, std::int64_t version) { tx.exec_prepared("messages_unpin", id, version); }

void set_forwarded_from(Tx& tx, const std::string& id, const model::ForwardOrigin& origin) {
    tx.exec_prepared("messages_set_forwarded_from", id, origin.message_id, origin.chat_id, origin.sender_id,
                     epoch_ms(origin.sent_at));
}

std::int64_t next_version(Tx& tx, const std::string& chat_id) {
    return tx.exec_prepared1("chats_next_version", chat_id)[0].as<std::int64_t>();
}

void edit(Tx& tx, const std::string& id, const std::string& content, const std::vector<model::TextEntity>& entities,
          std::int64_t version) {
    tx.exec_prepared("messages_edit", id, content, version, entities_text(entities));
}

void tombstone(Tx& tx, const std::string& id, std::int64_t version) {
    tx.exec_prepared("messages_tombstone", id, version);
}

void detach_media(Tx& tx, const std::string& id, std::int64_t version) {
    tx.exec_prepared("messages_detach_media", id, version);
}

void set_version(Tx& tx, const std::string& id, std::int64_t version) {
    tx.exec_prepared("messages_set_version", id, version);
}

void add_thread_reply(Tx& tx, const std::string& root_id, const std::string& sender_id, std::int64_t version) {
    tx.exec_prepared("messages_thread_add_reply", root_id, sender_id, version);
}

void recount_thread(Tx& tx, const std::string& root_id, std::int64_t version) {
    tx.exec_prepared("messages_thread_recount", root_id, version);
}

bool add_reaction(Tx& tx, const std::string& id, const std::string& user_id, const std::string& emoji) {
    return tx.exec_prepared("reactions_add", id, user_id, emoji).affected_rows() == 1;
}

bool remove_reaction(Tx& tx, const std::string& id, const std::string& user_id, const std::string& emoji) {
    return tx.exec_prepared("reactions_remove", id, user_id, emoji).affected_rows() == 1;
}

int distinct_emoji(Tx& tx, const std::string& id) { return tx.exec_prepared1("reactions_distinct", id)[0].as<int>(); }

}  // namespace confab::store::messages
