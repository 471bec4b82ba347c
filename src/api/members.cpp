#include "confab/api/json.hpp"
#include "confab/api/pagination.hpp"
#include "confab/api/routes.hpp"
#include "confab/domain/member_service.hpp"
#include "confab/model/error.hpp"

namespace confab::api {
namespace {

using boost::asio::awaitable;

// BanModel (docs/openapi.yaml).
Json ban_json(const model::Ban& ban) {
    return Json{{"chat_id", ban.chat_id},
                {"user_id", ban.user_id},
                {"banned_by", ban.banned_by ? Json(*ban.banned_by) : Json(nullptr)},
                {"until", ban.until ? Json(format_timestamp(*ban.until)) : Json(nullptr)},
                {"created_at", format_timestamp(ban.created_at)}};
}

awaitable<http::Response> ban_user(Services& services, http::Context& context) {
    const auto principal = co_await authenticate(services, context);
    const auto body = parse_object(context.request.body);
    reject_unknown_fields(body, {"user_id", "until"});
    const auto user_id = optional_string(body, "user_id");
    if (!user_id) throw model::bad_request("user_id is required", "user_id");
    const auto ban = co_await services.members.ban(principal.user_id, context.path_params.at("id"), *user_id,
                                                   optional_timestamp(body, "until"));
    co_return http::json_response(201, dump(ban_json(ban)));
}

Json members_json(const std::vector<model::Member>& members) {
    Json list = Json::array();
    for (const auto& member : members) list.push_back(to_json(member));
    return list;
}

awaitable<http::Response> list_members(Services& services, http::Context& context) {
    const auto principal = co_await authenticate(services, context);
    const auto query = Query::parse(context.request.query);
    const auto page = co_await services.members.members(principal.user_id, context.path_params.at("id"),
                                                        integer_cursor(query, 'p'), page_limit(query));
    const Json next =
        page.next_after_position ? Json(encode_integer_cursor('p', *page.next_after_position)) : Json(nullptr);
    co_return http::json_response(200, dump(Json{{"members", members_json(page.members)}, {"next_cursor", next}}));
}

awaitable<http::Response> add_members(Services& services, http::Context& context) {
    const auto principal = co_await authenticate(services, context);
    const auto body = parse_object(context.request.body);
    auto user_ids = optional_string_array(body, "user_ids");
    if (!user_ids) throw model::bad_request("user_ids is required", "user_ids");
    const auto added =
        co_await services.members.add_members(principal.user_id, context.path_params.at("id"), std::move(*user_ids));
    co_return http::json_response(200,
                                  dump(Json{{"members", members_json(added.members)}, {"invited", added.invited}}));
}

awaitable<http::Response> update_member(Services& services, http::Context& context) {
    const auto principal = co_await authenticate(services, context);
    const auto body = parse_object(context.request.body);
    reject_unknown_fields(body, {"role", "is_muted", "muted_until"});
    domain::MemberUpdate update;
    if (const auto role = optional_string(body, "role")) {
        update.role = model::role_from(*role);
        if (!update.role)
            throw model::bad_request("role must be owner, admin, moderator, member or restricted", "role");
    }
    update.is_muted = optional_bool(body, "is_muted");
    if (body.contains("muted_until")) update.muted_until = optional_timestamp(body, "muted_until");
    const auto member = co_await services.members.update_member(principal.user_id, context.path_params.at("id"),
                                                                context.path_params.at("user_id"), update);
    co_return http::json_response(200, dump(to_json(member)));
}

}  // namespace

void add_member_routes(http::Router& router, Services& services) {
    using http::Method;
    router.add(Method::get, "/api/v1/chats/{id}/members",
               [&services](http::Context& c) { return list_members(services, c); });
    router.add(Method::post, "/api/v1/chats/{id}/members",
               [&services](http::Context& c) { return add_members(services, c); });
    router.add(Method::patch, "/api/v1/chats/{id}/members/{user_id}",
               [&services](http::Context& c) { return update_member(services, c); });
    router.add(Method::del, "/api/v1/chats/{id}/members/{user_id}",
               [&services](http::Context& c) -> awaitable<http::Response> {
                   const auto principal = co_await authenticate(services, c);
                   co_await services.members.remove_member(principal.user_id, c.path_params.at("id"),
                                                           c.path_params.at("user_id"));
                   co_return http::no_content();
               });
    router.add(Method::get, "/api/v1/chats/{id}/bans", [&services](http::Context& c) -> awaitable<http::Response> {
        const auto principal = co_await authenticate(services, c);
        Json list = Json::array();
        for (const auto& ban : co_await services.members.bans(principal.user_id, c.path_params.at("id")))
            list.push_back(ban_json(ban));
        co_return http::json_response(200, dump(Json{{"bans", std::move(list)}}));
    });
    router.add(Method::post, "/api/v1/chats/{id}/bans",
               [&services](http::Context& c) { return ban_user(services, c); });
    router.add(Method::del, "/api/v1/chats/{id}/bans/{user_id}",
               [&services](http::Context& c) -> awaitable<http::Response> {
                   const auto principal = co_await authenticate(services, c);
                   co_await services.members.unban(principal.user_id, c.path_params.at("id"),
                                                   c.path_params.at("user_id"));
                   co_return http::no_content();
               });
    router.add(Method::get, "/api/v1/invitations", [&services](http::Context& c) -> awaitable<http::Response> {
        const auto principal = co_await authenticate(services, c);
        Json list = Json::array();
        for (const auto& invitation : co_await services.members.invitations(principal.user_id))
            list.push_back(to_json(invitation));
        co_return http::json_response(200, dump(Json{{"invitations", std::move(list)}}));
    });
    router.add(Method::post, "/api/v1/invitations/{id}/accept",
               [&services](http::Context& c) -> awaitable<http::Response> {
                   const auto principal = co_await authenticate(services, c);
                   const auto view = co_await services.members.accept(principal.user_id, c.path_params.at("id"));
                   co_return http::json_response(200, dump(to_json(view)));
               });
    router.add(Method::del, "/api/v1/invitations/{id}", [&services](http::Context& c) -> awaitable<http::Response> {
        const auto principal = co_await authenticate(services, c);
        co_await services.members.decline(principal.user_id, c.path_params.at("id"));
        co_return http::no_content();
    });
}

}  // namespace confab::api
