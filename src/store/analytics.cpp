#include "confab/store/analytics.hpp"

#include <pqxx/connection>
#include <pqxx/transaction>

namespace confab::store {
namespace {

std::string quoted_or_null(pqxx::transaction_base& tx, const std::optional<std::string>& value) {
    return value ? tx.quote(*value) + "::uuid" : std::string("NULL");
}

}  // namespace

struct AnalyticsWriter::Connection {
    explicit Connection(const std::string& url) : pq(url) {}
    pqxx::connection pq;
};

AnalyticsWriter::AnalyticsWriter(std::string database_url) : database_url_(std::move(database_url)) {}

AnalyticsWriter::~AnalyticsWriter() = default;

void AnalyticsWriter::insert(const std::vector<model::AnalyticsEvent>& batch) {
    try {
        if (!connection_ || !connection_->pq.is_open()) connection_ = std::make_unique<Connection>(database_url_);
        pqxx::work tx(connection_->pq);
        std::string sql = "INSERT INTO analytics_events (occurred_at, name, user_id, chat_id, properties) VALUES ";
        for (std::size_t i = 0; i < batch.size(); ++i) {
            const auto& e = batch[i];
            if (i > 0) sql += ',';
            sql += "(to_timestamp(" + std::to_string(e.occurred_at.time_since_epoch().count()) + " / 1000.0), " +
                   tx.quote(e.name) + ", " + quoted_or_null(tx, e.user_id) + ", " + quoted_or_null(tx, e.chat_id) +
                   ", " + tx.quote(e.properties) + "::jsonb)";
        }
        tx.exec(sql);
        tx.commit();
    } catch (...) {
        connection_.reset();
        throw;
    }
}

}  // namespace confab::store
