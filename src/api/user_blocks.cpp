#include "confab/api/json.hpp"
#include "confab/api/pagination.hpp"
#include "confab/api/routes.hpp"
#include "confab/domain/user_block_service.hpp"

namespace confab::api {
namespace {

using boost::asio::awaitable;

// BlockedUserModel (docs/openapi.yaml).
Json blocked_json(const model::BlockedUser& blocked) {
    return Json{{"user", to_json(blocked.user)}, {"blocked_at", format_timestamp(blocked.blocked_at)}};
}

awaitable<http::Response> list_blocked(Services& services, http::Context& context) {
    const auto principal = co_await authenticate(services, context);
    const auto query = Query::parse(context.request.query);
    const auto page =
        co_await services.user_blocks.blocked(principal.user_id, integer_cursor(query, 'b'), page_limit(query));
    Json users = Json::array();
    for (const auto& blocked : page.users) users.push_back(blocked_json(blocked));
    const Json next =
        page.next_before_position ? Json(encode_integer_cursor('b', *page.next_before_position)) : Json(nullptr);
    co_return http::json_response(200, dump(Json{{"blocked_users", std::move(users)}, {"next_cursor", next}}));
}

}  // namespace

void add_user_block_routes(http::Router& router, Services& services) {
    using http::Method;
    router.add(Method::get, "/api/v1/users/me/blocks",
               [&services](http::Context& c) { return list_blocked(services, c); });
    router.add(Method::put, "/api/v1/users/me/blocks/{user_id}",
               [&services](http::Context& c) -> awaitable<http::Response> {
                   const auto principal = co_await authenticate(services, c);
                   co_await services.user_blocks.block(principal.user_id, c.path_params.at("user_id"));
                   co_return http::no_content();
               });
    router.add(Method::del, "/api/v1/users/me/blocks/{user_id}",
               [&services](http::Context& c) -> awaitable<http::Response> {
                   const auto principal = co_await authenticate(services, c);
                   co_await services.user_blocks.unblock(principal.user_id, c.path_params.at("user_id"));
                   co_return http::no_content();
               });
}

}  // namespace confab::api
