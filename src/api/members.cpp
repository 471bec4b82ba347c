#include "confab/api/json.hpp"
#include "confab/api/pagination.hpp"
#include "confab/api/routes.hpp"
#include "confab/domain/member_service.hpp"
#include "confab/domain/rules.hpp"
#include "confab/model/error.hpp"

namespace confab::api {
namespace {

// Cursor kinds (pagination.hpp).
constexpr char invitation_kind = 'i';
constexpr char ban_kind = 'x';

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
                                                        integer_cursor(query, 'p'), page_limit(query), query.get("q"));
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
    reject_unknown_fields(body, {"role", "custom_role_id", "is_muted", "muted_until"});
    domain::MemberUpdate update;
    update.custom_role_id = optional_string(body, "custom_role_id");
    if (update.custom_role_id && body.contains("role"))
        throw model::bad_request("give either role or custom_role_id", "custom_role_id");
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

model::Role rank_from(const std::string& text) {
    const auto rank = model::role_from(text);
    if (!rank) throw model::bad_request("rank must be admin, moderator, member or restricted", "rank");
    return *rank;
}

// A custom role's fields as given (unknown names refused, so a typo grants nothing silently).
domain::CustomRoleDefinition role_definition(const Json& body) {
    reject_unknown_fields(body, {"name", "rank", "permissions"});
    domain::CustomRoleDefinition definition;
    definition.name = optional_string(body, "name");
    if (const auto rank = optional_string(body, "rank")) definition.rank = rank_from(*rank);
    if (const auto names = optional_string_array(body, "permissions")) {
        definition.permissions.emplace();
        for (const auto& name : *names) {
            const auto permission = model::permission_from(name);
            if (!permission) throw model::bad_request("unknown permission " + name, "permissions");
            definition.permissions->push_back(*permission);
        }
    }
    return definition;
}

// GET /chats/{id}/roles: the built-in roles with their grants, then the group's custom roles.
awaitable<http::Response> list_roles(Services& services, http::Context& context) {
    const auto principal = co_await authenticate(services, context);
    const auto custom = co_await services.members.custom_roles(principal.user_id, context.path_params.at("id"));
    Json built_in = Json::array();
    for (const auto role : {model::Role::owner, model::Role::admin, model::Role::moderator, model::Role::member,
                            model::Role::restricted}) {
        Json permissions = Json::array();
        for (const auto permission : domain::rules::granted(role)) permissions.push_back(model::to_string(permission));
        built_in.push_back(Json{{"role", model::to_string(role)}, {"permissions", std::move(permissions)}});
    }
    Json roles = Json::array();
    for (const auto& role : custom) roles.push_back(to_json(role));
    co_return http::json_response(200, dump(Json{{"built_in", std::move(built_in)}, {"custom", std::move(roles)}}));
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
    router.add(Method::get, "/api/v1/chats/{id}/roles",
               [&services](http::Context& c) { return list_roles(services, c); });
    router.add(Method::post, "/api/v1/chats/{id}/roles", [&services](http::Context& c) -> awaitable<http::Response> {
        const auto principal = co_await authenticate(services, c);
        const auto role = co_await services.members.define_role(principal.user_id, c.path_params.at("id"),
                                                                role_definition(parse_object(c.request.body)));
        co_return http::json_response(201, dump(to_json(role)));
    });
    router.add(Method::patch, "/api/v1/chats/{id}/roles/{role_id}",
               [&services](http::Context& c) -> awaitable<http::Response> {
                   const auto principal = co_await authenticate(services, c);
                   const auto role =
                       co_await services.members.change_role(principal.user_id, c.path_params.at("id"),
                                                             c.path_params.at("role_id"),
                                                             role_definition(parse_object(c.request.body)));
                   co_return http::json_response(200, dump(to_json(role)));
               });
    router.add(Method::del, "/api/v1/chats/{id}/roles/{role_id}",
               [&services](http::Context& c) -> awaitable<http::Response> {
                   const auto principal = co_await authenticate(services, c);
                   co_await services.members.delete_role(principal.user_id, c.path_params.at("id"),
                                                         c.path_params.at("role_id"));
                   co_return http::no_content();
               });
    router.add(Method::get, "/api/v1/chats/{id}/bans", [&services](http::Context& c) -> awaitable<http::Response> {
        const auto principal = co_await authenticate(services, c);
        const auto query = Query::parse(c.request.query);
        const auto page =
            co_await services.members.bans(principal.user_id, c.path_params.at("id"), place_cursor(query, ban_kind),
                                           page_limit(query, formerly_unpaged_limit));
        co_return http::json_response(200, dump(place_page_json("bans", ban_kind, page, ban_json)));
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
        const auto query = Query::parse(c.request.query);
        const auto page = co_await services.members.invitations(principal.user_id, place_cursor(query, invitation_kind),
                                                                page_limit(query, formerly_unpaged_limit));
        const auto json = place_page_json("invitations", invitation_kind, page,
                                          [](const model::Invitation& invitation) { return to_json(invitation); });
        co_return http::json_response(200, dump(json));
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
