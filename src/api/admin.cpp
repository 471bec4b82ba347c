#include "confab/api/json.hpp"
#include "confab/api/query.hpp"
#include "confab/api/routes.hpp"
#include "confab/domain/stats_service.hpp"

namespace confab::api {
namespace {

Json optional_number(const std::optional<double>& value) { return value ? Json(*value) : Json(nullptr); }

Json stats_json(const model::Stats& stats) {
    Json buckets = Json::array();
    for (const auto& b : stats.buckets)
        buckets.push_back({{"start", format_timestamp(b.start)},
                           {"messages", b.messages},
                           {"active_chats", b.active_chats},
                           {"active_users", b.active_users}});
    Json media = Json::object();
    for (const auto& [kind, usage] : stats.media) media[kind] = {{"count", usage.count}, {"bytes", usage.bytes}};
    return Json{{"from", format_timestamp(stats.from)},
                {"to", format_timestamp(stats.to)},
                {"bucket", stats.bucket},
                {"buckets", std::move(buckets)},
                {"messages", stats.messages},
                {"active_chats", stats.active_chats},
                {"media", std::move(media)},
                {"response_time_ms",
                 {{"median", optional_number(stats.response_median_ms)},
                  {"p95", optional_number(stats.response_p95_ms)},
                  {"samples", stats.response_samples}}},
                {"active_users",
                 {{"dau", stats.daily_active}, {"wau", stats.weekly_active}, {"mau", stats.monthly_active}}}};
}

}  // namespace

void add_admin_routes(http::Router& router, Services& services) {
    router.add(
        http::Method::get, "/api/v1/admin/stats",
        [&services](http::Context& context) -> boost::asio::awaitable<http::Response> {
            const auto principal = co_await authenticate(services, context);
            const auto query = Query::parse(context.request.query);
            domain::StatsQuery stats_query{query.get("from"), query.get("to"), query.get("bucket").value_or("day")};
            const auto stats = co_await services.stats.stats(principal.user_id, std::move(stats_query));
            co_return http::json_response(200, dump(stats_json(stats)));
        });
}

}  // namespace confab::api
