#include "confab/store/push.hpp"
#include "confab/store/sql.hpp"

#include "confab/store/rows.hpp"

#include <sstream>

namespace confab::store::push {
namespace {

const std::string device_columns =
    "d.id::text, d.provider, d.token, d.p256dh, d.auth, d.session_id::text, " CONFAB_TIME("d.created_at");

model::PushDevice device_from(const pqxx::row& row, int first = 0) {
    return model::PushDevice{
        .id = row[first].as<std::string>(),
        .provider = *model::push_provider_named(row[first + 1].as<std::string>()),
        .token = row[first + 2].as<std::string>(),
        .p256dh = optional_text(row[first + 3]),
        .auth = optional_text(row[first + 4]),
        .session_id = row[first + 5].as<std::string>(),
        .created_at = timestamp(row[first + 6]),
    };
}

template <class T, class Each>
std::string array_of(const std::vector<T>& items, Each each) {
    std::ostringstream literal;
    literal << '{';
    for (std::size_t i = 0; i < items.size(); ++i) literal << (i ? "," : "") << each(items[i]);
    literal << '}';
    return literal.str();
}

// Devices of sessions that are still alive: an expired session's devices are never told.
#define CONFAB_LIVE_DEVICE(device)                              \
    " EXISTS (SELECT 1 FROM auth_tokens t WHERE t.id = " device \
    ".session_id AND t.revoked_at IS NULL AND t.expires_at > now()) "

}  // namespace

// A member's push level in a chat (push_settings s, chats c): their own, else the chat's
// default: `all`, or `mentions` in a large group (docs/api.md, Large groups).
#define CONFAB_PUSH_LEVEL "coalesce(s.level, CASE WHEN c.large THEN 'mentions' ELSE 'all' END)"

void prepare(Tx& tx) {
    tx.prepare("push_register",
               "INSERT INTO push_devices AS d (user_id, session_id, provider, token, p256dh, auth) "
               "SELECT $1::uuid, t.id, $3, $4, $5, $6 FROM auth_tokens t "
               "WHERE t.token_hash = $2 AND t.user_id = $1::uuid AND t.revoked_at IS NULL "
               "ON CONFLICT (provider, token) DO UPDATE SET user_id = EXCLUDED.user_id, "
               "session_id = EXCLUDED.session_id, p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth "
               "RETURNING " +
                   device_columns);
    tx.prepare("push_lock_devices", "SELECT pg_advisory_xact_lock(hashtext('confab.push_devices:' || $1))");
    tx.prepare("push_keep_newest",
               "DELETE FROM push_devices WHERE user_id = $1::uuid AND id <> $2::uuid AND id NOT IN "
               "(SELECT id FROM push_devices WHERE user_id = $1::uuid AND id <> $2::uuid "
               "ORDER BY created_at DESC, id DESC LIMIT $3::int - 1) RETURNING id::text");
    // A user's devices are few (PushService::max_devices_per_user): push_devices_user finds
    // them, and a page sorts no more than that.
    tx.prepare("push_devices_of",
               "SELECT " + device_columns + ", " CONFAB_MICROS("d.created_at") ", d.id::text FROM push_devices d "
               "WHERE d.user_id = $1::uuid AND" CONFAB_LIVE_DEVICE("d") "AND" CONFAB_NEWER_THAN_PLACE(
                   "d.created_at", "d.id", "$2", "$3::uuid") "ORDER BY d.created_at, d.id LIMIT $4");
    tx.prepare("push_remove_own", "DELETE FROM push_devices WHERE id = $2::uuid AND user_id = $1::uuid");
    tx.prepare("push_remove", "DELETE FROM push_devices WHERE id = $1::uuid");
    tx.prepare("push_settings",
               "SELECT " CONFAB_PUSH_LEVEL ", " CONFAB_TIME("s.muted_until") ", cm.is_muted FROM chat_members cm "
               "JOIN chats c ON c.id = cm.chat_id "
               "LEFT JOIN push_settings s ON s.chat_id = cm.chat_id AND s.user_id = cm.user_id "
               "WHERE cm.chat_id = $1::uuid AND cm.user_id = $2::uuid");
    tx.prepare(
        "push_set_settings",
        "INSERT INTO push_settings (chat_id, user_id, level, muted_until) "
        "VALUES ($1::uuid, $2::uuid, $3, 'epoch'::timestamptz + $4::bigint * interval '1 millisecond') "
        "ON CONFLICT (chat_id, user_id) DO UPDATE SET level = EXCLUDED.level, muted_until = EXCLUDED.muted_until");
    tx.prepare("push_lead", "SELECT pg_try_advisory_xact_lock(hashtext('confab.push_derivation'))");
    // Every chat is looked at: a seq taken by a transaction that commits late is found then.
    tx.prepare("push_chats_behind",
               "SELECT c.id::text, coalesce(p.seq, 0), c.last_seq FROM chats c "
               "LEFT JOIN push_cursors p ON p.chat_id = c.id WHERE c.last_seq > coalesce(p.seq, 0) LIMIT $1");
    tx.prepare("push_chats_behind_among",
               "SELECT c.id::text, coalesce(p.seq, 0), c.last_seq FROM chats c "
               "LEFT JOIN push_cursors p ON p.chat_id = c.id WHERE c.id = ANY($2::uuid[]) "
               "AND c.last_seq > coalesce(p.seq, 0) LIMIT $1");
    tx.prepare("push_messages_after",
               "SELECT b.chat_id::text, m.id::text, m.seq, m.sender_id::text, " CONFAB_TIME("m.created_at") ", "
               "m.type <> 'system' AND NOT m.is_deleted, "
               "(SELECT string_agg(mm.user_id::text, ',') FROM message_mentions mm WHERE mm.message_id = m.id) "
               "FROM unnest($1::uuid[], $2::bigint[], $4::bigint[]) AS b(chat_id, seq, last_seq) CROSS JOIN LATERAL "
               "(SELECT * FROM messages WHERE chat_id = b.chat_id AND seq > b.seq AND seq <= b.last_seq ORDER BY seq "
               "LIMIT $3) m ORDER BY b.chat_id, m.seq");
    // Every member of an ordinary chat; of a large group only those who may be pushed at all,
    // found without a scan of its members: those who asked for every message (push_settings),
    // and those its messages past the cursor mention (docs/api.md, Large groups).
    tx.prepare("push_reachable",
               "WITH picked AS (SELECT cm.chat_id, cm.user_id FROM chat_members cm JOIN chats c ON c.id = cm.chat_id "
               "WHERE cm.chat_id = ANY($1::uuid[]) AND NOT c.large "
               "UNION SELECT s.chat_id, s.user_id FROM chats c JOIN push_settings s ON s.chat_id = c.id "
               "AND s.level = 'all' WHERE c.id = ANY($1::uuid[]) AND c.large "
               "UNION SELECT m.chat_id, mm.user_id FROM chats c LEFT JOIN push_cursors p ON p.chat_id = c.id "
               "JOIN messages m ON m.chat_id = c.id AND m.seq > coalesce(p.seq, 0) "
               "JOIN message_mentions mm ON mm.message_id = m.id WHERE c.id = ANY($1::uuid[]) AND c.large) "
               "SELECT cm.chat_id::text, cm.user_id::text, " CONFAB_PUSH_LEVEL ", " CONFAB_TIME(
                   "s.muted_until") ", cm.is_muted "
               "FROM picked JOIN chat_members cm ON cm.chat_id = picked.chat_id AND cm.user_id = picked.user_id "
               "JOIN chats c ON c.id = cm.chat_id "
               "LEFT JOIN push_settings s ON s.chat_id = cm.chat_id AND s.user_id = cm.user_id "
               "WHERE EXISTS (SELECT 1 FROM push_devices d WHERE d.user_id = cm.user_id)");
    tx.prepare("push_collect",
               "INSERT INTO push_jobs (device_id, chat_id, message_id, message_count, first_message_at, due_at) "
               "SELECT d.id, $1::uuid, n.message_id, n.count, n.first_at, n.first_at + $6::bigint * interval "
               "'1 millisecond' FROM (SELECT user_id, message_id, count, 'epoch'::timestamptz + first_ms * "
               "interval '1 millisecond' AS first_at FROM unnest($2::uuid[], $3::uuid[], $4::int[], $5::bigint[]) "
               "AS u(user_id, message_id, count, first_ms)) n "
               "JOIN push_devices d ON d.user_id = n.user_id WHERE" CONFAB_LIVE_DEVICE("d")
               "ON CONFLICT (device_id, chat_id) WHERE status = 'pending' DO UPDATE SET "
               "message_id = EXCLUDED.message_id, message_count = push_jobs.message_count + EXCLUDED.message_count");
    tx.prepare("push_set_cursors",
               "INSERT INTO push_cursors (chat_id, seq) SELECT * FROM unnest($1::uuid[], $2::bigint[]) "
               "ON CONFLICT (chat_id) DO UPDATE SET seq = greatest(push_cursors.seq, EXCLUDED.seq)");
    tx.prepare("push_claim",
               // `place`: the job's turn among its user's due jobs, the longest due first.
               "WITH ranked AS (SELECT j.id, row_number() OVER (PARTITION BY d.user_id ORDER BY j.due_at, j.id) "
               "+ coalesce(busy.sending, 0) AS place FROM push_jobs j JOIN push_devices d ON d.id = j.device_id "
               "LEFT JOIN unnest($3::uuid[], $4::int[]) AS busy(user_id, sending) ON busy.user_id = d.user_id "
               "WHERE j.due_at <= now()), "
               "claimed AS (UPDATE push_jobs j SET status = 'sending', attempts = attempts + 1, "
               "due_at = now() + $2::bigint * interval '1 millisecond' WHERE j.id IN (SELECT id FROM push_jobs "
               "WHERE due_at <= now() AND id IN (SELECT id FROM ranked WHERE place <= $5) "
               "ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED) RETURNING j.*) "
               "SELECT c.id::text, c.chat_id::text, c.message_id::text, c.message_count, c.attempts, " CONFAB_TIME(
                   "c.first_message_at") ", " +
                   device_columns +
                   ", m.sender_id::text, u.display_name, ch.title, m.type, "
                   "CASE WHEN m.is_deleted OR EXISTS (SELECT 1 FROM hidden_messages h WHERE h.message_id = m.id "
                   "AND h.user_id = d.user_id) THEN NULL ELSE m.content END, d.user_id::text "
                   "FROM claimed c JOIN push_devices d ON d.id = c.device_id JOIN chats ch ON ch.id = c.chat_id "
                   "LEFT JOIN messages m ON m.id = c.message_id LEFT JOIN users u ON u.id = m.sender_id");
    tx.prepare("push_finish", "DELETE FROM push_jobs WHERE id = $1::uuid");
    tx.prepare("push_retry_after",
               "UPDATE push_jobs SET due_at = now() + $2::bigint * interval '1 millisecond' WHERE id = $1::uuid");
    tx.prepare("push_queue_state",
               "SELECT count(*), coalesce(extract(epoch FROM now() - min(first_message_at)), 0)::float8 "
               "FROM push_jobs");
}

std::optional<model::PushDevice> register_device(Tx& tx, const std::string& user_id, const std::string& token_hash,
                                                 const model::PushDevice& device) {
    const auto result =
        tx.exec_prepared("push_register", user_id, token_hash, std::string(model::name_of(device.provider)),
                         device.token, device.p256dh, device.auth);
    if (result.empty()) return std::nullopt;
    return device_from(result[0]);
}

void lock_devices(Tx& tx, const std::string& user_id) { tx.exec_prepared("push_lock_devices", user_id); }

std::vector<std::string> keep_newest_devices(Tx& tx, const std::string& user_id, const std::string& kept, int keep) {
    return first_column(tx.exec_prepared("push_keep_newest", user_id, kept, keep));
}

std::vector<std::pair<model::PushDevice, model::ListPlace>> devices_of(Tx& tx, const std::string& user_id,
                                                                       const std::optional<model::ListPlace>& after,
                                                                       int limit) {
    return placed_rows(tx.exec_prepared("push_devices_of", user_id, place_time(after), place_id(after), limit),
                       [](const pqxx::row& row) { return device_from(row); });
}

bool remove_device(Tx& tx, const std::string& user_id, const std::string& device_id) {
    return tx.exec_prepared("push_remove_own", user_id, device_id).affected_rows() > 0;
}

void remove_device(Tx& tx, const std::string& device_id) { tx.exec_prepared("push_remove", device_id); }

namespace {
model::NotificationSettings settings_from(const pqxx::row& row, int first) {
    return model::NotificationSettings{
        .level = *model::notify_level_named(row[first].as<std::string>()),
        .muted_until = optional_timestamp(row[first + 1]),
        .is_muted = row[first + 2].as<bool>(),
    };
}
}  // namespace

std::optional<model::NotificationSettings> settings(Tx& tx, const std::string& chat_id, const std::string& user_id) {
    const auto result = tx.exec_prepared("push_settings", chat_id, user_id);
    if (result.empty()) return std::nullopt;
    return settings_from(result[0], 0);
}

void set_settings(Tx& tx, const std::string& chat_id, const std::string& user_id, model::NotifyLevel level,
                  std::optional<model::Timestamp> muted_until) {
    tx.exec_prepared("push_set_settings", chat_id, user_id, std::string(model::name_of(level)), epoch_ms(muted_until));
}

bool lead_derivation(Tx& tx) { return tx.exec_prepared1("push_lead")[0].as<bool>(); }

std::vector<ChatBehind> chats_behind(Tx& tx, int limit, const std::optional<std::vector<std::string>>& among) {
    std::vector<ChatBehind> chats;
    const auto rows = among ? tx.exec_prepared("push_chats_behind_among", limit, uuid_array(*among))
                            : tx.exec_prepared("push_chats_behind", limit);
    for (const auto& row : rows)
        chats.push_back({row[0].as<std::string>(), row[1].as<std::int64_t>(), row[2].as<std::int64_t>()});
    return chats;
}

NewMessages messages_after(Tx& tx, const std::vector<ChatBehind>& chats, int limit) {
    NewMessages messages;
    if (chats.empty()) return messages;
    const auto rows =
        tx.exec_prepared("push_messages_after", array_of(chats, [](const ChatBehind& c) { return c.chat_id; }),
                         array_of(chats, [](const ChatBehind& c) { return c.cursor; }), limit,
                         array_of(chats, [](const ChatBehind& c) { return c.last_seq; }));
    for (const auto& row : rows)
        messages[row[0].as<std::string>()].push_back(NewMessage{
            .id = row[1].as<std::string>(),
            .seq = row[2].as<std::int64_t>(),
            .sender_id = optional_text(row[3]),
            .created_at = timestamp(row[4]),
            .pushable = row[5].as<bool>(),
            .mentioned = split_ids(row[6]),
        });
    return messages;
}

ReachableMembers reachable_members(Tx& tx, const std::vector<std::string>& chat_ids) {
    ReachableMembers members;
    if (chat_ids.empty()) return members;
    for (const auto& row : tx.exec_prepared("push_reachable", uuid_array(chat_ids)))
        members[row[0].as<std::string>()].push_back({row[1].as<std::string>(), settings_from(row, 2)});
    return members;
}

void collect(Tx& tx, const std::string& chat_id, const std::vector<Notice>& notices,
             std::chrono::milliseconds collapse) {
    if (notices.empty()) return;
    tx.exec_prepared("push_collect", chat_id, array_of(notices, [](const Notice& n) { return n.user_id; }),
                     array_of(notices, [](const Notice& n) { return n.message_id; }),
                     array_of(notices, [](const Notice& n) { return n.count; }),
                     array_of(notices, [](const Notice& n) { return epoch_ms(n.first_at); }),
                     static_cast<long long>(collapse.count()));
}

void set_cursors(Tx& tx, const std::vector<Cursor>& cursors) {
    if (cursors.empty()) return;
    tx.exec_prepared("push_set_cursors", array_of(cursors, [](const Cursor& c) { return c.chat_id; }),
                     array_of(cursors, [](const Cursor& c) { return c.seq; }));
}

std::vector<Job> claim_due(Tx& tx, int limit, std::chrono::milliseconds lease, int share,
                           const std::map<std::string, int>& in_flight_by_user) {
    const auto [busy_users, busy_counts] = counts_by_id(in_flight_by_user);
    std::vector<Job> jobs;
    for (const auto& row :
         tx.exec_prepared("push_claim", limit, static_cast<long long>(lease.count()), busy_users, busy_counts, share))
        jobs.push_back(Job{
            .id = row[0].as<std::string>(),
            .chat_id = row[1].as<std::string>(),
            .message_id = row[2].as<std::string>(),
            .count = row[3].as<int>(),
            .attempts = row[4].as<int>(),
            .first_at = timestamp(row[5]),
            .device = device_from(row, 6),
            .user_id = row[18].as<std::string>(),
            .sender_id = optional_text(row[13]),
            .sender_name = optional_text(row[14]),
            .chat_title = optional_text(row[15]),
            .message_type = optional_text(row[16]),
            .content = optional_text(row[17]),
        });
    return jobs;
}

void finish(Tx& tx, const std::string& job_id) { tx.exec_prepared("push_finish", job_id); }

void retry_after(Tx& tx, const std::string& job_id, std::chrono::milliseconds wait) {
    tx.exec_prepared("push_retry_after", job_id, static_cast<long long>(wait.count()));
}

QueueState queue_state(Tx& tx) {
    const auto row = tx.exec_prepared1("push_queue_state");
    return {row[0].as<std::int64_t>(), row[1].as<double>()};
}

}  // namespace confab::store::push
