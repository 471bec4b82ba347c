#include "confab/store/reports.hpp"
#include "confab/store/sql.hpp"

#include "confab/store/rows.hpp"

namespace confab::store::reports {
namespace {

model::Report report_from(const pqxx::row& row) {
    model::Report report;
    report.id = row[0].as<std::string>();
    report.chat_id = row[1].as<std::string>();
    report.message_id = row[2].as<std::string>();
    report.reporter_id = row[3].as<std::string>();
    report.reason = model::report_reason_from(row[4].c_str()).value_or(model::ReportReason::other);
    report.comment = optional_text(row[5]);
    if (!row[6].is_null()) report.action = model::report_action_from(row[6].c_str());
    report.resolved_by = optional_text(row[7]);
    if (!row[8].is_null()) report.resolved_at = timestamp(row[8]);
    report.created_at = timestamp(row[9]);
    report.position = row[10].as<std::int64_t>();
    if (!row[11].is_null())
        report.reported_message = model::ReportedMessage{row[11].as<std::string>(), row[12].as<std::string>(),
                                                         optional_text(row[13]), timestamp(row[14])};
    return report;
}

std::optional<model::Report> first(const pqxx::result& result) {
    if (result.empty()) return std::nullopt;
    return report_from(result[0]);
}

}  // namespace

void prepare(Tx& tx) {
    const std::string columns =
        "id::text, chat_id::text, message_id::text, reporter_id::text, reason, comment, action, "
        "resolved_by::text, " CONFAB_TIME("resolved_at") ", " CONFAB_TIME("created_at") ", position, "
        "reported_type, reported_content, reported_sender_id::text, " CONFAB_TIME("reported_created_at");
    // A deleted account's message keeps its tombstone as sender; the evidence names nobody. The
    // author's row is locked: a deletion commits its tombstone and its clearing of evidence
    // together, and a report that read the author before that commit would keep an id the
    // clearing never saw. Locked, the report waits for the tombstone and reads it.
    tx.prepare("reports_insert",
               "INSERT INTO message_reports (chat_id, message_id, reporter_id, reason, comment, reported_type, "
               "reported_content, reported_sender_id, reported_created_at) "
               "SELECT $1::uuid, $2::uuid, $3::uuid, $4, $5, m.type, m.content, "
               "(SELECT u.id FROM users u WHERE u.id = m.sender_id AND u.deleted_at IS NULL FOR SHARE), m.created_at "
               "FROM messages m WHERE m.id = $2::uuid "
               "ON CONFLICT (message_id, reporter_id) WHERE resolved_at IS NULL DO NOTHING RETURNING " +
                   columns);
    tx.prepare("reports_find", "SELECT " + columns + " FROM message_reports WHERE id = $1::uuid");
    tx.prepare("reports_open", "SELECT " + columns +
                                   " FROM message_reports WHERE resolved_at IS NULL "
                                   "AND ($1::uuid IS NULL OR chat_id = $1::uuid) "
                                   "AND ($2::bigint IS NULL OR position > $2) "
                                   "AND ($4::uuid IS NULL OR reported_sender_id IS DISTINCT FROM $4::uuid) "
                                   "ORDER BY position LIMIT $3");
    tx.prepare("reports_resolve",
               "UPDATE message_reports SET resolved_at = now(), resolved_by = $2::uuid, action = $3 "
               "WHERE id = $1::uuid AND resolved_at IS NULL RETURNING " +
                   columns);
}

std::optional<model::Report> insert(Tx& tx, const NewReport& report) {
    return first(tx.exec_prepared("reports_insert", report.chat_id, report.message_id, report.reporter_id,
                                  std::string(model::to_string(report.reason)), report.comment));
}

std::optional<model::Report> find(Tx& tx, const std::string& id) { return first(tx.exec_prepared("reports_find", id)); }

std::vector<model::Report> open(Tx& tx, const std::optional<std::string>& chat_id,
                                std::optional<std::int64_t> after_position, int limit,
                                const std::optional<std::string>& not_of_sender) {
    std::vector<model::Report> out;
    for (const auto& row : tx.exec_prepared("reports_open", chat_id, after_position, limit, not_of_sender))
        out.push_back(report_from(row));
    return out;
}

std::optional<model::Report> resolve(Tx& tx, const std::string& id, const std::string& resolver,
                                     model::ReportAction action) {
    return first(tx.exec_prepared("reports_resolve", id, resolver, std::string(model::to_string(action))));
}

}  // namespace confab::store::reports
