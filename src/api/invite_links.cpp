#include "confab/api/json.hpp"
#include "confab/api/pagination.hpp"
#include "confab/api/routes.hpp"
#include "confab/domain/invite_link_service.hpp"

namespace confab::api {
namespace {

using boost::asio::awaitable;

constexpr char link_kind = 'c';  // cursor kind (pagination.hpp)

Json optional_time(const std::optional<model::Timestamp>& at) {
    return at ? Json(format_timestamp(*at)) : Json(nullptr);
}

// InviteLinkModel (docs/openapi.yaml).
Json link_json(const model::InviteLink& link) {
    return Json{{"code", link.code},
                {"chat_id", link.chat_id},
                {"created_by", link.created_by ? Json(*link.created_by) : Json(nullptr)},
                {"expires_at", optional_time(link.expires_at)},
                {"max_uses", link.max_uses ? Json(*link.max_uses) : Json(nullptr)},
                {"uses", link.uses},
                {"created_at", format_timestamp(link.created_at)}};
}

// InviteLinkPreviewModel (docs/openapi.yaml).
Json preview_json(const model::InvitePreview& preview) {
    return Json{{"code", preview.code},
                {"chat_id", preview.chat_id},
                {"title", preview.title ? Json(*preview.title) : Json(nullptr)},
                {"avatar_url", preview.avatar_url ? Json(*preview.avatar_url) : Json(nullptr)},
                {"member_count", preview.member_count},
                {"expires_at", optional_time(preview.expires_at)}};
}

awaitable<http::Response> create_link(Services& services, http::Context& context) {
    const auto principal = co_await authenticate(services, context);
    const auto body = context.request.body.empty() ? Json::object() : parse_object(context.request.body);
    reject_unknown_fields(body, {"expires_at", "max_uses"});
    const auto max_uses =
        body.contains("max_uses") && body.at("max_uses").is_null() ? std::nullopt : optional_integer(body, "max_uses");
    const auto link = co_await services.invite_links.create(principal.user_id, context.path_params.at("id"),
                                                            optional_timestamp(body, "expires_at"), max_uses);
    co_return http::json_response(201, dump(link_json(link)));
}

}  // namespace

void add_invite_link_routes(http::Router& router, Services& services) {
    using http::Method;
    router.add(Method::post, "/api/v1/chats/{id}/invite-links",
               [&services](http::Context& c) { return create_link(services, c); });
    router.add(Method::get, "/api/v1/chats/{id}/invite-links",
               [&services](http::Context& c) -> awaitable<http::Response> {
                   const auto principal = co_await authenticate(services, c);
                   const auto query = Query::parse(c.request.query);
                   const auto page = co_await services.invite_links.links(principal.user_id, c.path_params.at("id"),
                                                                          place_cursor(query, link_kind),
                                                                          page_limit(query, formerly_unpaged_limit));
                   co_return http::json_response(200,
                                                 dump(place_page_json("invite_links", link_kind, page, link_json)));
               });
    router.add(Method::del, "/api/v1/chats/{id}/invite-links/{code}",
               [&services](http::Context& c) -> awaitable<http::Response> {
                   const auto principal = co_await authenticate(services, c);
                   co_await services.invite_links.revoke(principal.user_id, c.path_params.at("id"),
                                                         c.path_params.at("code"));
                   co_return http::no_content();
               });
    router.add(Method::get, "/api/v1/invite-links/{code}", [&services](http::Context& c) -> awaitable<http::Response> {
        co_await authenticate(services, c);
        const auto preview = co_await services.invite_links.preview(c.path_params.at("code"));
        co_return http::json_response(200, dump(preview_json(preview)));
    });
    router.add(Method::post, "/api/v1/invite-links/{code}/join",
               [&services](http::Context& c) -> awaitable<http::Response> {
                   const auto principal = co_await authenticate(services, c);
                   const auto view = co_await services.invite_links.join(principal.user_id, c.path_params.at("code"));
                   co_return http::json_response(200, dump(to_json(view)));
               });
}

}  // namespace confab::api
