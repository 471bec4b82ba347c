#include "confab/store/webhooks.hpp"
#include "confab/store/sql.hpp"

#include "confab/store/rows.hpp"

namespace confab::store::webhooks {
namespace {

const std::string subscription_columns =
    "s.id::text, s.chat_id::text, s.url, s.secret, array_to_string(s.events, ','), s.created_by::text, " CONFAB_TIME(
        "s.created_at") ", s.bot_id::text";
constexpr int subscription_column_count = 8;

// The chats a subscription `s` covers, as `c`: its chat, every chat (server-wide), or the
// chats its bot is a member of (those with a cursor: migration 0031 keeps them so).
const std::string covered_chats =
    "JOIN chats c ON (s.bot_id IS NULL AND (c.id = s.chat_id OR s.chat_id IS NULL)) "
    "OR (s.bot_id IS NOT NULL AND c.id IN (SELECT b.chat_id FROM webhook_cursors b WHERE b.subscription_id = s.id)) ";

const std::string failure_columns =
    "f.id::text, f.subscription_id::text, f.chat_id::text, f.delivery_id, f.event, "
    "f.body, f.attempts, f.last_error, " CONFAB_TIME("f.failed_at");

// Every subscription and chat pair, as `p`, with its cursor's columns (null without one): one
// branch per kind of subscription, so that a server-wide one reads every chat and its cursors
// in one pass (a hash join), rather than probing the cursors chat by chat (covered_chats'
// OR: minutes for 100,000 chats whose cursors had no statistics yet).
const std::string pair_columns = "SELECT c.id, c.version, k.version, k.next_attempt_at, k.leased_by, k.leased_until ";
const std::string its_cursor = "LEFT JOIN webhook_cursors k ON k.subscription_id = s.id AND k.chat_id = c.id ";
const std::string every_pair = "(" + pair_columns + "FROM webhook_subscriptions s JOIN chats c ON c.id = s.chat_id " +
                               its_cursor + "WHERE s.bot_id IS NULL UNION ALL " + pair_columns +
                               "FROM webhook_subscriptions s CROSS JOIN chats c " + its_cursor +
                               "WHERE s.chat_id IS NULL AND s.bot_id IS NULL UNION ALL " + pair_columns +
                               "FROM webhook_subscriptions s JOIN webhook_cursors k ON k.subscription_id = s.id "
                               "JOIN chats c ON c.id = k.chat_id WHERE s.bot_id IS NOT NULL) "
                               "AS p(chat_id, version, delivered, next_attempt_at, leased_by, leased_until) ";

// A pair's cursor (row `of`) that no node but this one ($1) holds.
std::string free_of_others(const std::string& of) {
    return "(" + of + ".leased_by IS NULL OR " + of + ".leased_by = $1::uuid OR " + of + ".leased_until < now())";
}

std::vector<std::string> split_events(const std::string& joined) {
    std::vector<std::string> events;
    std::size_t start = 0;
    while (start < joined.size()) {
        auto end = joined.find(',', start);
        if (end == std::string::npos) end = joined.size();
        events.push_back(joined.substr(start, end - start));
        start = end + 1;
    }
    return events;
}

model::WebhookSubscription subscription_from(const pqxx::row& row) {
    return {.id = row[0].as<std::string>(),
            .chat_id = optional_text(row[1]),
            .url = row[2].as<std::string>(),
            .secret = row[3].as<std::string>(),
            .events = split_events(row[4].as<std::string>()),
            .created_by = optional_text(row[5]),
            .created_at = timestamp(row[6]),
            .bot_id = optional_text(row[7])};
}

model::WebhookFailure failure_from(const pqxx::row& row) {
    return {.id = row[0].as<std::string>(),
            .subscription_id = row[1].as<std::string>(),
            .chat_id = row[2].as<std::string>(),
            .delivery_id = row[3].as<std::string>(),
            .event = row[4].as<std::string>(),
            .body = row[5].as<std::string>(),
            .attempts = row[6].as<std::int64_t>(),
            .last_error = row[7].as<std::string>(),
            .failed_at = timestamp(row[8])};
}

}  // namespace

model::WebhookSubscription create(Tx& tx, const model::WebhookSubscription& subscription) {
    auto stored = subscription_from(
        tx.exec_params("INSERT INTO webhook_subscriptions AS s (chat_id, url, secret, events, created_by, bot_id) "
                       "VALUES ($1::uuid, $2, $3, $4::text[], $5::uuid, $6::uuid) RETURNING " +
                           subscription_columns,
                       subscription.chat_id, subscription.url, subscription.secret, text_array(subscription.events),
                       subscription.created_by, subscription.bot_id)[0]);
    tx.exec_params(
        "INSERT INTO webhook_cursors (subscription_id, chat_id, version, seq) "
        "SELECT $1::uuid, c.id, c.version, c.last_seq FROM chats c WHERE CASE WHEN $3::uuid IS NULL "
        "THEN $2::uuid IS NULL OR c.id = $2::uuid "
        "ELSE EXISTS (SELECT 1 FROM chat_members m WHERE m.chat_id = c.id AND m.user_id = $3::uuid) END",
        stored.id, stored.chat_id, stored.bot_id);
    return stored;
}

std::optional<model::WebhookSubscription> find(Tx& tx, const std::string& id) {
    const auto found =
        tx.exec_params("SELECT " + subscription_columns + " FROM webhook_subscriptions s WHERE s.id = $1::uuid", id);
    if (found.empty()) return std::nullopt;
    return subscription_from(found[0]);
}

std::vector<model::WebhookSubscription> of_chat(Tx& tx, const std::optional<std::string>& chat_id) {
    std::vector<model::WebhookSubscription> found;
    for (const auto& row :
         tx.exec_params("SELECT " + subscription_columns +
                            " FROM webhook_subscriptions s WHERE s.chat_id IS NOT DISTINCT FROM $1::uuid "
                            "AND s.bot_id IS NULL ORDER BY s.created_at, s.id",
                        chat_id))
        found.push_back(subscription_from(row));
    return found;
}

void lock_server_wide(Tx& tx) { tx.exec("SELECT pg_advisory_xact_lock(hashtext('confab.server_webhooks'))"); }

// FOR NO KEY UPDATE, not FOR UPDATE: adding the bot to a chat holds the chat's row and then
// takes a key share of the bot's (the membership's foreign key), while a replacement holds the
// bot's row and takes a key share of its chats' (the new cursors'): each would wait for the other.
void lock_bot(Tx& tx, const std::string& bot_id) {
    tx.exec_params("SELECT 1 FROM users WHERE id = $1::uuid FOR NO KEY UPDATE", bot_id);
}

void remove_of_bot(Tx& tx, const std::string& bot_id) {
    tx.exec_params("DELETE FROM webhook_subscriptions WHERE bot_id = $1::uuid", bot_id);
}

bool remove(Tx& tx, const std::string& id) {
    return tx.exec_params("DELETE FROM webhook_subscriptions WHERE id = $1::uuid", id).affected_rows() > 0;
}

std::vector<std::string> behind(Tx& tx, const std::string& node, const std::optional<std::vector<std::string>>& among) {
    const auto rows = tx.exec_params(
        "SELECT p.chat_id::text FROM " + every_pair +
            "WHERE ($2::uuid[] IS NULL OR p.chat_id = ANY($2::uuid[])) AND p.version > coalesce(p.delivered, 0) "
            "AND coalesce(p.next_attempt_at, '-infinity') <= now() AND " +
            free_of_others("p") +
            " UNION SELECT k.chat_id::text FROM webhook_cursors k WHERE k.next_attempt_at <= now() AND " +
            free_of_others("k"),
        node, among ? std::optional{uuid_array(*among)} : std::nullopt);
    std::vector<std::string> chats;
    chats.reserve(rows.size());
    for (const auto& row : rows) chats.push_back(row[0].as<std::string>());
    return chats;
}

std::vector<Due> due(Tx& tx, const std::string& node, int limit, int share, const InFlight& in_flight,
                     const std::vector<std::string>& among) {
    std::vector<std::string> delivering_subscriptions;
    std::vector<std::string> delivering_chats;
    for (const auto& [subscription_id, chat_id] : in_flight.pairs) {
        delivering_subscriptions.push_back(subscription_id);
        delivering_chats.push_back(chat_id);
    }
    const auto [busy_owners, busy_counts] = counts_by_id(in_flight.by_owner);
    // `place`: the pair's turn among its owner's waiting pairs, the longest waiting first.
    const auto rows = tx.exec_params(
        "WITH waiting AS (SELECT s.id AS subscription_id, c.id AS chat_id, o.owner, "
        "coalesce(k.next_attempt_at, '-infinity') AS due_at, c.updated_at AS changed_at, row_number() OVER "
        "(PARTITION BY o.owner ORDER BY coalesce(k.next_attempt_at, '-infinity'), c.updated_at) AS place "
        "FROM webhook_subscriptions s " +
            covered_chats +
            "LEFT JOIN webhook_cursors k ON k.subscription_id = s.id AND k.chat_id = c.id "
            "LEFT JOIN users bot ON bot.id = s.bot_id "
            "CROSS JOIN LATERAL (SELECT CASE WHEN s.bot_id IS NOT NULL THEN coalesce(bot.bot_owner_id, s.bot_id) "
            "WHEN s.chat_id IS NOT NULL THEN coalesce(s.created_by, s.id) END AS owner) o "
            "WHERE c.id = ANY($8::uuid[]) AND c.version > coalesce(k.version, 0) "
            "AND coalesce(k.next_attempt_at, '-infinity') <= now() "
            "AND " +
            free_of_others("k") +
            " AND (s.id, c.id) NOT IN (SELECT * FROM unnest($3::uuid[], $4::uuid[]))) "
            "SELECT " +
            subscription_columns +
            ", w.chat_id::text, w.owner::text FROM waiting w JOIN webhook_subscriptions s ON s.id = w.subscription_id "
            "LEFT JOIN unnest($5::uuid[], $6::int[]) AS busy(owner, in_flight) ON busy.owner = w.owner "
            "WHERE w.owner IS NULL OR w.place + coalesce(busy.in_flight, 0) <= $7 "
            "ORDER BY w.due_at, w.changed_at LIMIT $2",
        node, limit, uuid_array(delivering_subscriptions), uuid_array(delivering_chats), busy_owners, busy_counts,
        share, uuid_array(among));
    std::vector<Due> found;
    for (const auto& row : rows)
        found.push_back({subscription_from(row), row[subscription_column_count].as<std::string>(),
                         optional_text(row[subscription_column_count + 1])});
    return found;
}

std::optional<Cursor> claim(Tx& tx, const std::string& subscription_id, const std::string& chat_id,
                            const std::string& node, std::chrono::milliseconds lease) {
    tx.exec_params(
        "INSERT INTO webhook_cursors (subscription_id, chat_id) SELECT $1::uuid, $2::uuid "
        "WHERE EXISTS (SELECT 1 FROM chats WHERE id = $2::uuid) "
        "AND EXISTS (SELECT 1 FROM webhook_subscriptions WHERE id = $1::uuid AND bot_id IS NULL) "
        "ON CONFLICT DO NOTHING",
        subscription_id, chat_id);
    const auto found = tx.exec_params(
        "UPDATE webhook_cursors SET leased_by = $3::uuid, leased_until = now() + $4::bigint * interval '1 millisecond' "
        "WHERE subscription_id = $1::uuid AND chat_id = $2::uuid "
        "AND (leased_by IS NULL OR leased_by = $3::uuid OR leased_until < now()) "
        "RETURNING version, seq, part, attempts, " CONFAB_TIME("failing_since"),
        subscription_id, chat_id, node, static_cast<long long>(lease.count()));
    if (found.empty()) return std::nullopt;
    const auto& row = found[0];
    return Cursor{row[0].as<std::int64_t>(), row[1].as<std::int64_t>(), row[2].as<int>(), row[3].as<int>(),
                  optional_timestamp(row[4])};
}

std::optional<std::int64_t> chat_version(Tx& tx, const std::string& chat_id) {
    const auto found = tx.exec_params("SELECT version FROM chats WHERE id = $1::uuid", chat_id);
    if (found.empty()) return std::nullopt;
    return found[0][0].as<std::int64_t>();
}

void advance(Tx& tx, const std::string& subscription_id, const std::string& chat_id, const std::string& node,
             const Cursor& cursor) {
    tx.exec_params(
        "UPDATE webhook_cursors SET version = $4, seq = $5, part = $6, attempts = 0, failing_since = NULL, "
        "next_attempt_at = NULL, last_error = NULL "
        "WHERE subscription_id = $1::uuid AND chat_id = $2::uuid AND leased_by = $3::uuid",
        subscription_id, chat_id, node, cursor.version, cursor.seq, cursor.part);
}

void record_attempt(Tx& tx, const std::string& subscription_id, const std::string& chat_id, const std::string& node,
                    const Cursor& cursor, model::Timestamp next_attempt_at, const std::string& error) {
    tx.exec_params(
        "UPDATE webhook_cursors SET attempts = $4, failing_since = to_timestamp($5::bigint / 1000.0), "
        "next_attempt_at = to_timestamp($6::bigint / 1000.0), last_error = $7 "
        "WHERE subscription_id = $1::uuid AND chat_id = $2::uuid AND leased_by = $3::uuid",
        subscription_id, chat_id, node, cursor.attempts, epoch_ms(cursor.failing_since), epoch_ms(next_attempt_at),
        error);
}

std::optional<MemberChange> member_change(Tx& tx, const std::string& message_id) {
    const auto found = tx.exec_params(
        "SELECT metadata->>'event', metadata->>'user_id' FROM messages WHERE id = $1::uuid "
        "AND metadata->>'event' LIKE 'member.%' AND metadata ? 'user_id'",
        message_id);
    if (found.empty()) return std::nullopt;
    return MemberChange{found[0][0].as<std::string>(), found[0][1].as<std::string>()};
}

Backlog backlog(Tx& tx) {
    const auto row =
        tx.exec1("SELECT count(*), coalesce(extract(epoch FROM now() - min(oldest.at)), 0)::float8 FROM " + every_pair +
                 "LEFT JOIN LATERAL (SELECT m.updated_at AS at FROM messages m WHERE m.chat_id = p.chat_id "
                 "  AND m.version > coalesce(p.delivered, 0) ORDER BY m.version LIMIT 1) oldest ON true "
                 "WHERE p.version > coalesce(p.delivered, 0)");
    return {row[0].as<std::int64_t>(), row[1].as<double>()};
}

void park(Tx& tx, const model::WebhookFailure& failure, const std::string& node) {
    tx.exec_params(
        "INSERT INTO webhook_failures (subscription_id, chat_id, delivery_id, event, body, attempts, last_error) "
        "SELECT $1::uuid, $2::uuid, $3, $4, $5, $6, $7 "
        "WHERE EXISTS (SELECT 1 FROM webhook_cursors WHERE subscription_id = $1::uuid AND chat_id = $2::uuid "
        "AND leased_by = $8::uuid)",
        failure.subscription_id, failure.chat_id, failure.delivery_id, failure.event, failure.body, failure.attempts,
        failure.last_error, node);
}

std::vector<std::pair<model::WebhookFailure, model::ListPlace>> failures(Tx& tx, const std::string& subscription_id,
                                                                         const std::optional<model::ListPlace>& after,
                                                                         int limit) {
    // Keyset over webhook_failures_subscription (subscription_id, failed_at, id).
    return placed_rows(tx.exec_params("SELECT " + failure_columns +
                                          ", " CONFAB_MICROS(
                                              "f.failed_at") ", f.id::text "
                                                             "FROM webhook_failures f WHERE f.subscription_id = "
                                                             "$1::uuid AND" CONFAB_NEWER_THAN_PLACE(
                                                                 "f.failed_at", "f.id", "$2",
                                                                 "$3::uuid") "ORDER BY f.failed_at, f.id LIMIT $4",
                                      subscription_id, place_time(after), place_id(after), limit),
                       failure_from);
}

std::optional<model::WebhookFailure> find_failure(Tx& tx, const std::string& subscription_id,
                                                  const std::string& failure_id) {
    const auto found =
        tx.exec_params("SELECT " + failure_columns +
                           " FROM webhook_failures f WHERE f.id = $1::uuid AND f.subscription_id = $2::uuid",
                       failure_id, subscription_id);
    if (found.empty()) return std::nullopt;
    return failure_from(found[0]);
}

void remove_failure(Tx& tx, const std::string& failure_id) {
    tx.exec_params("DELETE FROM webhook_failures WHERE id = $1::uuid", failure_id);
}

void note_replay_failed(Tx& tx, const std::string& failure_id, const std::string& error) {
    tx.exec_params("UPDATE webhook_failures SET attempts = attempts + 1, last_error = $2 WHERE id = $1::uuid",
                   failure_id, error);
}

}  // namespace confab::store::webhooks
