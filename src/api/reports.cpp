#include "confab/api/json.hpp"
#include "confab/api/pagination.hpp"
#include "confab/api/routes.hpp"
#include "confab/domain/report_service.hpp"

namespace confab::api {
namespace {

using boost::asio::awaitable;

// {"reports": [ReportModel], "next_cursor"}: a page of open reports.
http::Response page_response(const domain::ReportPage& page) {
    Json reports = Json::array();
    for (const auto& report : page.reports) reports.push_back(to_json(report));
    const Json next =
        page.next_after_position ? Json(encode_integer_cursor('r', *page.next_after_position)) : Json(nullptr);
    return http::json_response(200, dump(Json{{"reports", std::move(reports)}, {"next_cursor", next}}));
}

awaitable<http::Response> create_report(Services& services, http::Context& context) {
    const auto principal = co_await authenticate(services, context);
    const auto body = parse_object(context.request.body);
    reject_unknown_fields(body, {"reason", "comment"});
    const auto reason = model::report_reason_from(required_string(body, "reason"));
    if (!reason) throw model::bad_request("reason must be spam, abuse, illegal or other", "reason");
    const auto report = co_await services.reports.report(principal.user_id, context.path_params.at("id"),
                                                         context.path_params.at("message_id"), *reason,
                                                         nullable_string(body, "comment"));
    co_return http::json_response(201, dump(to_json(report)));
}

// {"action"}: a chat's handler through the chat's route, an operator through /admin (any
// chat's report); the body and the answer are the same.
awaitable<http::Response> resolve_report(Services& services, http::Context& context) {
    const auto principal = co_await authenticate(services, context);
    const auto body = parse_object(context.request.body);
    reject_unknown_fields(body, {"action"});
    const auto action = model::report_action_from(required_string(body, "action"));
    if (!action)
        throw model::bad_request("action must be none, message_deleted, member_muted, member_removed or member_banned",
                                 "action");
    const auto report =
        context.path_params.contains("id")
            ? co_await services.reports.resolve(principal.user_id, context.path_params.at("id"),
                                                context.path_params.at("report_id"), *action)
            : co_await services.reports.resolve_any(principal.user_id, context.path_params.at("report_id"), *action);
    co_return http::json_response(200, dump(to_json(report)));
}

}  // namespace

void add_report_routes(http::Router& router, Services& services) {
    using http::Method;
    router.add(Method::post, "/api/v1/chats/{id}/messages/{message_id}/reports",
               [&services](http::Context& c) { return create_report(services, c); });
    router.add(Method::get, "/api/v1/chats/{id}/reports", [&services](http::Context& c) -> awaitable<http::Response> {
        const auto principal = co_await authenticate(services, c);
        const auto query = Query::parse(c.request.query);
        co_return page_response(co_await services.reports.open_in_chat(principal.user_id, c.path_params.at("id"),
                                                                       integer_cursor(query, 'r'), page_limit(query)));
    });
    router.add(Method::post, "/api/v1/chats/{id}/reports/{report_id}/resolve",
               [&services](http::Context& c) { return resolve_report(services, c); });
    router.add(Method::get, "/api/v1/admin/reports", [&services](http::Context& c) -> awaitable<http::Response> {
        const auto principal = co_await authenticate(services, c);
        const auto query = Query::parse(c.request.query);
        co_return page_response(co_await services.reports.open_everywhere(principal.user_id, integer_cursor(query, 'r'),
                                                                          page_limit(query)));
    });
    router.add(Method::post, "/api/v1/admin/reports/{report_id}/resolve",
               [&services](http::Context& c) { return resolve_report(services, c); });
}

}  // namespace confab::api
