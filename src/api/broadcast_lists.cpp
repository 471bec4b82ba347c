#include "confab/api/json.hpp"
#include "confab/api/message_input.hpp"
#include "confab/api/pagination.hpp"
#include "confab/api/routes.hpp"
#include "confab/domain/broadcast_service.hpp"
#include "confab/http/errors.hpp"

namespace confab::api {
namespace {

using boost::asio::awaitable;

// BroadcastListModel (docs/openapi.yaml).
Json list_json(const model::BroadcastList& list) {
    return Json{{"id", list.id},
                {"name", list.name},
                {"recipient_ids", list.recipient_ids},
                {"created_at", format_timestamp(list.created_at)},
                {"updated_at", format_timestamp(list.updated_at)}};
}

http::Response list_response(int status, const model::BroadcastList& list) {
    return http::json_response(status, dump(list_json(list)));
}

// BroadcastCopyModel: `status` sent (a new copy), already_sent (the copy of an earlier
// broadcast with this client_id) or refused (`error` says why).
Json copy_json(const domain::BroadcastCopy& copy) {
    const Json chat_id = copy.chat_id ? Json(*copy.chat_id) : Json(nullptr);
    if (copy.refusal)
        return Json{{"recipient_id", copy.recipient_id},
                    {"status", "refused"},
                    {"chat_id", chat_id},
                    {"message", nullptr},
                    {"error", http::error_object(http::describe(*copy.refusal))}};
    return Json{{"recipient_id", copy.recipient_id},
                {"status", copy.sent->created ? "sent" : "already_sent"},
                {"chat_id", chat_id},
                {"message", to_json(copy.sent->message)},
                {"error", nullptr}};
}

awaitable<http::Response> create_list(Services& services, http::Context& context) {
    const auto principal = co_await authenticate(services, context);
    const auto body = parse_object(context.request.body);
    reject_unknown_fields(body, {"name", "recipient_ids"});
    auto recipients = optional_string_array(body, "recipient_ids").value_or(std::vector<std::string>{});
    co_return list_response(201, co_await services.broadcasts.create(principal.user_id, required_string(body, "name"),
                                                                     std::move(recipients)));
}

awaitable<http::Response> list_lists(Services& services, http::Context& context) {
    const auto principal = co_await authenticate(services, context);
    const auto query = Query::parse(context.request.query);
    const auto page =
        co_await services.broadcasts.list(principal.user_id, integer_cursor(query, 'l'), page_limit(query));
    Json lists = Json::array();
    for (const auto& list : page.lists) lists.push_back(list_json(list));
    const Json next =
        page.next_before_position ? Json(encode_integer_cursor('l', *page.next_before_position)) : Json(nullptr);
    co_return http::json_response(200, dump(Json{{"broadcast_lists", std::move(lists)}, {"next_cursor", next}}));
}

awaitable<http::Response> rename_list(Services& services, http::Context& context) {
    const auto principal = co_await authenticate(services, context);
    const auto body = parse_object(context.request.body);
    reject_unknown_fields(body, {"name"});
    co_return list_response(200,
                            co_await services.broadcasts.rename(principal.user_id, context.path_params.at("list_id"),
                                                                required_string(body, "name")));
}

awaitable<http::Response> send_to_list(Services& services, http::Context& context) {
    const auto principal = co_await authenticate(services, context);
    auto message = parse_send(parse_object(context.request.body), "", principal.user_id);
    message.by_host_backend = principal.on_behalf;
    const auto copies = co_await services.broadcasts.send(context.path_params.at("list_id"), std::move(message));
    Json results = Json::array();
    for (const auto& copy : copies) results.push_back(copy_json(copy));
    co_return http::json_response(200, dump(Json{{"results", std::move(results)}}));
}

}  // namespace

void add_broadcast_list_routes(http::Router& router, Services& services) {
    using http::Method;
    router.add(Method::post, "/api/v1/broadcast-lists",
               [&services](http::Context& c) { return create_list(services, c); });
    router.add(Method::get, "/api/v1/broadcast-lists",
               [&services](http::Context& c) { return list_lists(services, c); });
    router.add(Method::get, "/api/v1/broadcast-lists/{list_id}",
               [&services](http::Context& c) -> awaitable<http::Response> {
                   const auto principal = co_await authenticate(services, c);
                   co_return list_response(200, co_await services.broadcasts.get(principal.user_id,
                                                                                 c.path_params.at("list_id")));
               });
    router.add(Method::patch, "/api/v1/broadcast-lists/{list_id}",
               [&services](http::Context& c) { return rename_list(services, c); });
    router.add(Method::del, "/api/v1/broadcast-lists/{list_id}",
               [&services](http::Context& c) -> awaitable<http::Response> {
                   const auto principal = co_await authenticate(services, c);
                   co_await services.broadcasts.remove(principal.user_id, c.path_params.at("list_id"));
                   co_return http::no_content();
               });
    router.add(Method::put, "/api/v1/broadcast-lists/{list_id}/recipients/{user_id}",
               [&services](http::Context& c) -> awaitable<http::Response> {
                   const auto principal = co_await authenticate(services, c);
                   co_return list_response(200,
                                           co_await services.broadcasts.add_recipient(principal.user_id,
                                                                                      c.path_params.at("list_id"),
                                                                                      c.path_params.at("user_id")));
               });
    router.add(Method::del, "/api/v1/broadcast-lists/{list_id}/recipients/{user_id}",
               [&services](http::Context& c) -> awaitable<http::Response> {
                   const auto principal = co_await authenticate(services, c);
                   co_return list_response(200,
                                           co_await services.broadcasts.remove_recipient(principal.user_id,
                                                                                         c.path_params.at("list_id"),
                                                                                         c.path_params.at("user_id")));
               });
    router.add(Method::post, "/api/v1/broadcast-lists/{list_id}/messages",
               [&services](http::Context& c) { return send_to_list(services, c); });
}

}  // namespace confab::api
