#include "confab/store/stats.hpp"
#include "confab/store/sql.hpp"

#include "confab/store/rows.hpp"

namespace confab::store::stats {
namespace {

// $1 from, $2 to (epoch milliseconds), $3 bucket ('hour' | 'day').
#define CONFAB_FROM "to_timestamp($1::bigint / 1000.0)"
#define CONFAB_TO "to_timestamp($2::bigint / 1000.0)"
#define CONFAB_TO_1 "to_timestamp($1::bigint / 1000.0)"
// Events are counted per minute: a window takes the minutes its ends fall in whole.
constexpr const char* in_window = "e.minute >= date_trunc('minute', " CONFAB_FROM ") AND e.minute < " CONFAB_TO;

}  // namespace

void prepare(Tx& tx) {
    const std::string window = in_window;
    tx.prepare("stats_is_admin", "SELECT is_admin FROM users WHERE id = $1::uuid");
    tx.prepare("stats_set_admin", "UPDATE users SET is_admin = $2 WHERE username = $1 RETURNING id");
    tx.prepare("stats_buckets",
              "WITH buckets AS (SELECT generate_series(date_trunc($3, " CONFAB_FROM "), " CONFAB_TO " - "
              "interval '1 microsecond', ('1 ' || $3)::interval) AS start) "
              "SELECT " CONFAB_TIME("b.start") ", "
              "coalesce(sum(e.events) FILTER (WHERE e.name = 'message.sent'), 0)::bigint, "
              "count(DISTINCT e.chat_id) FILTER (WHERE e.name = 'message.sent'), "
              "count(DISTINCT e.user_id) "
              "FROM buckets b LEFT JOIN analytics_minutes e ON e.minute >= b.start "
              "AND e.minute < b.start + ('1 ' || $3)::interval AND " + window +
                  " GROUP BY b.start ORDER BY b.start");
    tx.prepare("stats_totals",
               "SELECT coalesce(sum(events) FILTER (WHERE name = 'message.sent'), 0)::bigint, "
               "count(DISTINCT chat_id) FILTER (WHERE name = 'message.sent') FROM analytics_minutes e WHERE " +
                   window);
    tx.prepare("stats_media",
               "SELECT nullif(detail, ''), sum(events)::bigint, sum(bytes)::bigint "
               "FROM analytics_minutes e WHERE name = 'media.shared' AND " +
                   window + " GROUP BY 1 ORDER BY 1");
    // Response time: from a message to the next one in the same chat when that one is by
    // another member (a turn in the conversation), over messages sent in the window.
    tx.prepare("stats_response",
               "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms), "
               "percentile_cont(0.95) WITHIN GROUP (ORDER BY ms), count(ms) FROM ("
               "  SELECT extract(epoch FROM m.created_at - lag(m.created_at) OVER w) * 1000 AS ms, "
               "         m.sender_id IS DISTINCT FROM lag(m.sender_id) OVER w AS turn "
               "  FROM messages m WHERE m.type <> 'system' AND m.created_at >= " CONFAB_FROM
               "  AND m.created_at < " CONFAB_TO
               " WINDOW w AS (PARTITION BY m.chat_id ORDER BY m.seq)) t "
               "WHERE turn AND ms IS NOT NULL");
    tx.prepare("stats_active_users", "SELECT count(DISTINCT user_id) FILTER (WHERE minute >= " CONFAB_TO_1
                                     " - interval '1 day'), "
                                     "count(DISTINCT user_id) FILTER (WHERE minute >= " CONFAB_TO_1
                                     " - interval '7 days'), "
                                     "count(DISTINCT user_id) FROM analytics_minutes "
                                     "WHERE minute >= " CONFAB_TO_1 " - interval '30 days' AND minute < " CONFAB_TO_1);
    tx.prepare("stats_window",
               "SELECT " CONFAB_TIME("coalesce(nullif($1, '')::timestamptz, $2::timestamptz - interval '7 "
                                     "days')") ", " CONFAB_TIME("$2::timestamptz"));
}

bool is_admin(Tx& tx, const std::string& user_id) {
    const auto result = tx.exec_prepared("stats_is_admin", user_id);
    return !result.empty() && result[0][0].as<bool>();
}

bool set_admin(Tx& tx, const std::string& username, bool admin) {
    return !tx.exec_prepared("stats_set_admin", username, admin).empty();
}

Window window(Tx& tx, const std::string& from, const std::string& to) {
    const auto row = tx.exec_prepared1("stats_window", from, to);
    return {timestamp(row[0]), timestamp(row[1])};
}

void one_snapshot(Tx& tx) { tx.exec0("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"); }

model::Stats compute(Tx& tx, const Window& window, const std::string& bucket) {
    model::Stats stats;
    stats.from = window.first;
    stats.to = window.second;
    stats.bucket = bucket;
    // The window travels as epoch milliseconds, exactly as reported back.
    const auto from = std::to_string(epoch_ms(window.first));
    const auto to = std::to_string(epoch_ms(window.second));
    for (const auto& row : tx.exec_prepared("stats_buckets", from, to, bucket))
        stats.buckets.push_back(
            {timestamp(row[0]), row[1].as<std::int64_t>(), row[2].as<std::int64_t>(), row[3].as<std::int64_t>()});
    const auto totals = tx.exec_prepared1("stats_totals", from, to);
    stats.messages = totals[0].as<std::int64_t>();
    stats.active_chats = totals[1].as<std::int64_t>();
    for (const auto& row : tx.exec_prepared("stats_media", from, to))
        stats.media[row[0].is_null() ? "unknown" : row[0].as<std::string>()] = {row[1].as<std::int64_t>(),
                                                                                row[2].as<std::int64_t>()};
    const auto response = tx.exec_prepared1("stats_response", from, to);
    if (!response[0].is_null()) stats.response_median_ms = response[0].as<double>();
    if (!response[1].is_null()) stats.response_p95_ms = response[1].as<double>();
    stats.response_samples = response[2].as<std::int64_t>();
    const auto active = tx.exec_prepared1("stats_active_users", to);  // windows ending at `to`
    stats.daily_active = active[0].as<std::int64_t>();
    stats.weekly_active = active[1].as<std::int64_t>();
    stats.monthly_active = active[2].as<std::int64_t>();
    return stats;
}

}  // namespace confab::store::stats
