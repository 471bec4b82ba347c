#include "confab/domain/stats_service.hpp"

#include "confab/domain/model.hpp"
#include "confab/store/pool.hpp"
#include "confab/store/stats.hpp"

#include <regex>

namespace confab::domain {
namespace {

constexpr auto hour_bucket_span = std::chrono::days(31);
constexpr auto day_bucket_span = std::chrono::days(366);

std::string checked_timestamp(const std::string& text, const char* field) {
    static const std::regex rfc3339(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$)");
    if (!std::regex_match(text, rfc3339))
        throw bad_request(std::string(field) + " must be an RFC 3339 timestamp", field);
    return text;
}

}  // namespace

boost::asio::awaitable<Stats> StatsService::stats(std::string actor, StatsQuery query) {
    if (query.bucket != "hour" && query.bucket != "day") throw bad_request("bucket must be hour or day", "bucket");
    const auto to = query.to ? checked_timestamp(*query.to, "to") : std::string("now");
    const auto from = query.from ? checked_timestamp(*query.from, "from") : std::string();
    const auto longest = query.bucket == "hour" ? std::chrono::milliseconds(hour_bucket_span)
                                                : std::chrono::milliseconds(day_bucket_span);
    auto stats = co_await pool_.run([&](store::Tx& tx) -> std::optional<Stats> {
        store::stats::one_snapshot(tx);
        if (!store::stats::is_admin(tx, actor)) return std::nullopt;
        try {
            // An absent `from` is seven days before `to`; PostgreSQL parses and does the calendar.
            const auto window = store::stats::window(tx, from, to);
            if (window.second <= window.first) throw bad_request("from must be before to", "from");
            if (window.second - window.first > longest)
                throw bad_request("the window is too long for that bucket (31 days of hours, 366 of days)", "from");
            return store::stats::compute(tx, window, query.bucket);
        } catch (const store::InvalidValue&) {  // the shape was right, the date not (month 13)
            throw bad_request("from and to must be valid dates");
        }
    });
    if (!stats) throw Error(ErrorCode::forbidden, "server admins only");
    co_return std::move(*stats);
}

}  // namespace confab::domain
