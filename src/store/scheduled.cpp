#include "confab/store/scheduled.hpp"
#include "confab/store/sql.hpp"

#include "confab/store/rows.hpp"

namespace confab::store::scheduled {
namespace {

const std::string columns =
    "s.id::text, s.chat_id::text, s.sender_id::text, " CONFAB_TIME("s.send_at") ", s.type, s.content, "
    "s.media_id::text, s.reply_to_id::text, s.metadata::text, s.client_id, s.status, s.message_id::text, "
    "s.cancel_code, s.cancel_reason, " CONFAB_TIME("s.created_at") ", " CONFAB_TIME("s.updated_at") ", s.entities::text";

model::ScheduledMessage scheduled_from(const pqxx::row& row) {
    model::ScheduledMessage m;
    m.id = row[0].as<std::string>();
    m.chat_id = row[1].as<std::string>();
    m.sender_id = row[2].as<std::string>();
    m.send_at = timestamp(row[3]);
    m.type = model::message_type_from(row[4].as<std::string>()).value_or(model::MessageType::text);
    m.content = row[5].as<std::string>();
    m.media_id = optional_text(row[6]);
    m.reply_to_id = optional_text(row[7]);
    m.metadata.text = row[8].as<std::string>();
    m.client_id = optional_text(row[9]);
    m.status = model::scheduled_status_from(row[10].as<std::string>()).value_or(model::ScheduledStatus::pending);
    m.message_id = optional_text(row[11]);
    if (!row[12].is_null())
        m.cancelled = model::ScheduledMessage::Cancellation{row[12].as<std::string>(), row[13].as<std::string>()};
    m.created_at = timestamp(row[14]);
    m.updated_at = timestamp(row[15]);
    m.entities = entities_from(row[16]);
    return m;
}

std::optional<model::ScheduledMessage> single(const pqxx::result& result) {
    if (result.empty()) return std::nullopt;
    return scheduled_from(result[0]);
}

std::vector<model::ScheduledMessage> all(const pqxx::result& result) {
    std::vector<model::ScheduledMessage> found;
    found.reserve(result.size());
    for (const auto& row : result) found.push_back(scheduled_from(row));
    return found;
}

// Not held by a node posting it: a claim whose lease lapsed (its node died) holds nothing.
const std::string unclaimed = "(s.claimed_until IS NULL OR s.claimed_until < now())";

}  // namespace

void prepare(Tx& tx) {
    tx.prepare(
        "scheduled_insert",
        "INSERT INTO scheduled_messages AS s (chat_id, sender_id, send_at, type, content, media_id, reply_to_id, "
        "metadata, client_id, entities) VALUES ($1::uuid, $2::uuid, to_timestamp($3::bigint / 1000.0), $4, $5, "
        "$6::uuid, $7::uuid, $8::jsonb, $9, $10::jsonb) ON CONFLICT (sender_id, client_id) WHERE client_id IS NOT NULL "
        "DO NOTHING "
        "RETURNING " +
            columns);
    tx.prepare("scheduled_find", "SELECT " + columns + " FROM scheduled_messages s WHERE s.id = $1::uuid");
    tx.prepare("scheduled_find_by_client_id",
               "SELECT " + columns + " FROM scheduled_messages s WHERE s.sender_id = $1::uuid AND s.client_id = $2");
    // Keyset over scheduled_messages_sender (sender_id, send_at, id), from a place the cursor
    // carries: the row it was taken from may be cancelled (deleted) or rescheduled since.
    tx.prepare("scheduled_of_sender",
               "SELECT " + columns + ", " CONFAB_MICROS("s.send_at") ", s.id::text "
               "FROM scheduled_messages s WHERE s.sender_id = $1::uuid AND s.status = $2 "
               "AND ($3::uuid IS NULL OR s.chat_id = $3::uuid) AND" CONFAB_NEWER_THAN_PLACE(
                   "s.send_at", "s.id", "$4", "$5::uuid") "ORDER BY s.send_at, s.id LIMIT $6");
    tx.prepare(
        "scheduled_update",
        "UPDATE scheduled_messages AS s SET "
        "send_at = coalesce(to_timestamp($2::bigint / 1000.0), send_at), content = coalesce($3, content), "
        "metadata = coalesce($4::jsonb, metadata), entities = coalesce($5::jsonb, entities), updated_at = now(), "
        // A new send_at is a new due time: a wait put on the old one is over.
        "retry_at = CASE WHEN $2::bigint IS NULL THEN retry_at END "
        "WHERE s.id = $1::uuid AND s.status = 'pending' AND " +
            unclaimed + " RETURNING " + columns);
    tx.prepare("scheduled_remove",
               "DELETE FROM scheduled_messages AS s WHERE s.id = $1::uuid AND s.status = 'pending' AND " + unclaimed);
    // RETURNING keeps no order: the claimed are sorted after, in the order they are posted.
    tx.prepare("scheduled_claim_due",
               "WITH claimed AS (UPDATE scheduled_messages AS s SET claimed_until = now() + make_interval(secs => $2) "
               "WHERE s.id IN (SELECT s.id FROM scheduled_messages s WHERE s.status = 'pending' "
               "AND s.send_at <= now() AND " +
                   unclaimed +
                   " AND (s.retry_at IS NULL OR s.retry_at <= now()) ORDER BY s.send_at, s.id LIMIT $1 "
                   "FOR UPDATE SKIP LOCKED) RETURNING " +
                   columns +
                   ", s.send_at AS claimed_send_at, s.id AS claimed_id) "
                   "SELECT * FROM claimed ORDER BY claimed_send_at, claimed_id");
    tx.prepare("scheduled_renew_claims",
               "UPDATE scheduled_messages SET claimed_until = now() + make_interval(secs => $2) "
               "WHERE id = ANY($1::uuid[]) AND status = 'pending' AND claimed_until IS NOT NULL");
    tx.prepare("scheduled_retry_after",
               "UPDATE scheduled_messages SET claimed_until = NULL, retry_at = now() + $2 * interval '1 millisecond' "
               "WHERE id = $1::uuid AND status = 'pending'");
    tx.prepare("scheduled_backlog",
               "SELECT (SELECT count(*) FROM scheduled_messages WHERE status = 'pending' AND send_at <= now()), "
               "(SELECT " CONFAB_TIME("min(send_at)") " FROM scheduled_messages WHERE status = 'pending' "
               "AND send_at > now())");
    tx.prepare("scheduled_mark_sent",
               "UPDATE scheduled_messages AS s SET status = 'sent', message_id = $2::uuid, claimed_until = NULL, "
               "retry_at = NULL, "
               "updated_at = now() WHERE s.id = $1::uuid AND s.status = 'pending' RETURNING " +
                   columns);
    tx.prepare(
        "scheduled_mark_cancelled",
        "UPDATE scheduled_messages AS s SET status = 'cancelled', cancel_code = $2, cancel_reason = $3, "
        "claimed_until = NULL, retry_at = NULL, updated_at = now() WHERE s.id = $1::uuid AND s.status = 'pending' "
        "RETURNING " +
            columns);
}

std::optional<model::ScheduledMessage> insert(Tx& tx, const model::ScheduledMessage& m) {
    return single(tx.exec_prepared("scheduled_insert", m.chat_id, m.sender_id, epoch_ms(m.send_at),
                                   std::string(model::to_string(m.type)), m.content, m.media_id, m.reply_to_id,
                                   m.metadata.text, m.client_id, entities_text(m.entities)));
}

std::optional<model::ScheduledMessage> find(Tx& tx, const std::string& id) {
    return single(tx.exec_prepared("scheduled_find", id));
}

std::optional<model::ScheduledMessage> find_by_client_id(Tx& tx, const std::string& sender_id,
                                                         const std::string& client_id) {
    return single(tx.exec_prepared("scheduled_find_by_client_id", sender_id, client_id));
}

std::vector<std::pair<model::ScheduledMessage, model::ListPlace>> of_sender(
    Tx& tx, const std::string& sender_id, model::ScheduledStatus status, const std::optional<std::string>& chat_id,
    const std::optional<model::ListPlace>& after, int limit) {
    return placed_rows(tx.exec_prepared("scheduled_of_sender", sender_id, std::string(model::to_string(status)),
                                        chat_id, place_time(after), place_id(after), limit),
                       scheduled_from);
}

std::optional<model::ScheduledMessage> update(Tx& tx, const std::string& id, const Change& change) {
    std::optional<std::string> entities;
    if (change.entities) entities = entities_text(*change.entities);
    return single(
        tx.exec_prepared("scheduled_update", id, epoch_ms(change.send_at), change.content, change.metadata, entities));
}

std::size_t pending_in_chat(Tx& tx, const std::string& sender_id, const std::string& chat_id) {
    return tx
        .exec_params(
            "SELECT count(*) FROM scheduled_messages WHERE sender_id = $1::uuid AND chat_id = $2::uuid "
            "AND status = 'pending'",
            sender_id, chat_id)[0][0]
        .as<std::size_t>();
}

bool remove(Tx& tx, const std::string& id) { return tx.exec_prepared("scheduled_remove", id).affected_rows() > 0; }

std::vector<model::ScheduledMessage> claim_due(Tx& tx, int limit, std::chrono::seconds lease) {
    return all(tx.exec_prepared("scheduled_claim_due", limit, static_cast<double>(lease.count())));
}

void renew_claims(Tx& tx, const std::vector<std::string>& ids, std::chrono::seconds lease) {
    tx.exec_prepared("scheduled_renew_claims", uuid_array(ids), static_cast<double>(lease.count()));
}

void retry_after(Tx& tx, const std::string& id, std::chrono::milliseconds wait) {
    tx.exec_prepared("scheduled_retry_after", id, wait.count());
}

Backlog backlog(Tx& tx) {
    const auto row = tx.exec_prepared1("scheduled_backlog");
    return {row[0].as<std::int64_t>(), optional_timestamp(row[1])};
}

std::optional<model::ScheduledMessage> mark_sent(Tx& tx, const std::string& id, const std::string& message_id) {
    return single(tx.exec_prepared("scheduled_mark_sent", id, message_id));
}

std::optional<model::ScheduledMessage> mark_cancelled(Tx& tx, const std::string& id, const std::string& code,
                                                      const std::string& reason) {
    return single(tx.exec_prepared("scheduled_mark_cancelled", id, code, reason));
}

}  // namespace confab::store::scheduled
