#include "confab/api/json.hpp"
#include "confab/api/message_input.hpp"
#include "confab/api/pagination.hpp"
#include "confab/api/query.hpp"
#include "confab/api/routes.hpp"
#include "confab/domain/scheduled_service.hpp"
#include "confab/model/error.hpp"

namespace confab::api {
namespace {

using boost::asio::awaitable;

constexpr char scheduled_kind = 'q';  // cursor kind (pagination.hpp)

http::Response scheduled_response(int status, const model::ScheduledMessage& scheduled) {
    return http::json_response(status, dump(to_json(scheduled)));
}

awaitable<http::Response> schedule(Services& services, http::Context& context) {
    const auto principal = co_await authenticate(services, context);
    const auto body = parse_object(context.request.body);
    domain::ScheduleMessage request{parse_send(body, context.path_params.at("id"), principal.user_id),
                                    required_timestamp(body, "send_at")};
    const auto [scheduled, created] = co_await services.scheduled.schedule(std::move(request));
    co_return scheduled_response(created ? 201 : 200, scheduled);
}

awaitable<http::Response> list_scheduled(Services& services, http::Context& context) {
    const auto principal = co_await authenticate(services, context);
    const auto query = Query::parse(context.request.query);
    domain::ScheduledQuery q;
    q.limit = page_limit(query);
    q.chat_id = query.get("chat_id");
    if (const auto status = query.get("status")) {
        const auto parsed = model::scheduled_status_from(*status);
        if (!parsed) throw model::bad_request("status must be pending, sent or cancelled", "status");
        q.status = *parsed;
    }
    q.after = place_cursor(query, scheduled_kind);
    const auto page = co_await services.scheduled.list(principal.user_id, std::move(q));
    co_return http::json_response(200,
                                  dump(place_page_json("scheduled_messages", scheduled_kind, page,
                                                       [](const model::ScheduledMessage& s) { return to_json(s); })));
}

awaitable<http::Response> update_scheduled(Services& services, http::Context& context) {
    const auto principal = co_await authenticate(services, context);
    const auto body = parse_object(context.request.body);
    reject_unknown_fields(body, {"send_at", "content", "entities"});
    domain::ScheduledChange change;
    if (body.contains("send_at")) change.send_at = required_timestamp(body, "send_at");
    change.content = optional_string(body, "content");
    if (body.contains("entities")) change.entities = parse_entities(body);
    co_return scheduled_response(200,
                                 co_await services.scheduled.update(principal.user_id, context.path_params.at("id"),
                                                                    std::move(change)));
}

}  // namespace

void add_scheduled_routes(http::Router& router, Services& services) {
    using http::Method;
    router.add(Method::post, "/api/v1/chats/{id}/scheduled-messages",
               [&services](http::Context& c) { return schedule(services, c); });
    router.add(Method::get, "/api/v1/scheduled-messages",
               [&services](http::Context& c) { return list_scheduled(services, c); });
    router.add(Method::get, "/api/v1/scheduled-messages/{id}",
               [&services](http::Context& c) -> awaitable<http::Response> {
                   const auto principal = co_await authenticate(services, c);
                   co_return scheduled_response(200, co_await services.scheduled.get(principal.user_id,
                                                                                     c.path_params.at("id")));
               });
    router.add(Method::patch, "/api/v1/scheduled-messages/{id}",
               [&services](http::Context& c) { return update_scheduled(services, c); });
    router.add(Method::del, "/api/v1/scheduled-messages/{id}",
               [&services](http::Context& c) -> awaitable<http::Response> {
                   const auto principal = co_await authenticate(services, c);
                   co_await services.scheduled.cancel(principal.user_id, c.path_params.at("id"));
                   co_return http::no_content();
               });
}

}  // namespace confab::api
