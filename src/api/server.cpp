#include "confab/api/json.hpp"
#include "confab/api/routes.hpp"
#include "confab/domain/auth_service.hpp"
#include "confab/domain/host_accounts.hpp"
#include "confab/model/error.hpp"

namespace confab::api {
// Every route here is the host backend's own: its key, never a user's token.
void require_server_key(Services& services, const http::Context& context) {
    const auto key = bearer_token(context.request);
    if (!key) throw model::unauthorized("missing bearer token");
    services.auth.check_server_key(*key, context.request.remote_address);
}

namespace {

using boost::asio::awaitable;

Json host_account_json(const domain::HostAccount& account) {
    return Json{{"external_id", account.external_id},
                {"user", to_json(account.user)},
                {"deactivated_at",
                 account.deactivated_at ? Json(format_timestamp(*account.deactivated_at)) : Json(nullptr)}};
}

domain::HostUserChange host_user_change(const Json& body) {
    reject_unknown_fields(body, {"username", "display_name", "bio", "is_bot"});
    domain::HostUserChange change;
    change.username = optional_string(body, "username");
    change.profile.display_name = optional_string(body, "display_name");
    if (body.contains("bio")) change.profile.bio = nullable_string(body, "bio");
    change.profile.is_bot = optional_bool(body, "is_bot");
    return change;
}

awaitable<http::Response> put_user(Services& services, http::Context& context) {
    require_server_key(services, context);
    auto change = host_user_change(parse_object(context.request.body));
    const auto result = co_await services.host_accounts.put(context.path_params.at("external_id"), std::move(change));
    co_return http::json_response(result.created ? 201 : 200, dump(host_account_json(result.account)));
}

awaitable<http::Response> get_user(Services& services, http::Context& context) {
    require_server_key(services, context);
    co_return http::json_response(200, dump(host_account_json(co_await services.host_accounts.get(
                                           context.path_params.at("external_id")))));
}

awaitable<http::Response> set_active(Services& services, http::Context& context, bool active) {
    require_server_key(services, context);
    const auto account = co_await services.host_accounts.set_active(context.path_params.at("external_id"), active);
    co_return http::json_response(200, dump(host_account_json(account)));
}

}  // namespace

void add_server_routes(http::Router& router, Services& services) {
    using http::Method;
    const std::string user = "/api/v1/server/users/{external_id}";
    router.add(Method::put, user, [&services](http::Context& c) { return put_user(services, c); });
    router.add(Method::get, user, [&services](http::Context& c) { return get_user(services, c); });
    router.add(Method::post, user + "/deactivate",
               [&services](http::Context& c) { return set_active(services, c, false); });
    router.add(Method::post, user + "/reactivate",
               [&services](http::Context& c) { return set_active(services, c, true); });
}

}  // namespace confab::api
