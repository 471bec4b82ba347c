#include "confab/store/analytics.hpp"
#include "confab/store/sql.hpp"

#include "confab/store/rows.hpp"

#include <pqxx/transaction>

namespace confab::store {
namespace {

template <class Each>
std::string array_of(const std::vector<model::AnalyticsMinute>& minutes, Each each) {
    std::vector<std::optional<std::string>> items;
    items.reserve(minutes.size());
    for (const auto& minute : minutes) items.push_back(each(minute));
    return text_array(items);
}

}  // namespace

struct AnalyticsWriter::Connection {
    explicit Connection(const std::string& url) : pq(url) {}
    pqxx::connection pq;
};

AnalyticsWriter::AnalyticsWriter(std::string database_url) : database_url_(std::move(database_url)) {}

AnalyticsWriter::~AnalyticsWriter() = default;

void AnalyticsWriter::add(const std::vector<model::AnalyticsMinute>& minutes) {
    using Minute = model::AnalyticsMinute;
    try {
        if (!connection_ || !connection_->pq.is_open()) connection_ = std::make_unique<Connection>(database_url_);
        pqxx::work tx(connection_->pq);
        tx.exec_params(
            "INSERT INTO analytics_minutes (minute, name, user_id, chat_id, detail, events, bytes) "
            "SELECT to_timestamp(m / 1000.0), n, u, c, d, e, b FROM unnest($1::bigint[], $2::text[], $3::uuid[], "
            "$4::uuid[], $5::text[], $6::bigint[], $7::bigint[]) AS t(m, n, u, c, d, e, b) "
            "ON CONFLICT ON CONSTRAINT analytics_minutes_key DO UPDATE SET "
            "events = analytics_minutes.events + EXCLUDED.events, bytes = analytics_minutes.bytes + EXCLUDED.bytes",
            array_of(minutes, [](const Minute& m) { return std::to_string(epoch_ms(m.minute)); }),
            array_of(minutes, [](const Minute& m) { return m.name; }),
            array_of(minutes, [](const Minute& m) { return m.user_id; }),
            array_of(minutes, [](const Minute& m) { return m.chat_id; }),
            array_of(minutes, [](const Minute& m) { return m.detail; }),
            array_of(minutes, [](const Minute& m) { return std::to_string(m.events); }),
            array_of(minutes, [](const Minute& m) { return std::to_string(m.bytes); }));
        tx.commit();
    } catch (...) {
        connection_.reset();
        throw;
    }
}

}  // namespace confab::store
