#include "confab/api/json.hpp"
#include "confab/api/pagination.hpp"
#include "confab/api/routes.hpp"
#include "confab/domain/auth_service.hpp"
#include "confab/domain/user_service.hpp"
#include "confab/model/error.hpp"

namespace confab::api {
namespace {

constexpr char session_kind = 't';  // cursor kind (pagination.hpp)

http::Response signed_in(int status, const domain::SignedIn& result) {
    return http::json_response(status, dump(Json{{"user", to_json(result.user)}, {"token", result.token}}));
}

Json session_json(const model::Session& session) {
    return Json{
        {"id", session.id},
        {"device_name", session.device_name ? Json(*session.device_name) : Json(nullptr)},
        {"created_at", format_timestamp(session.created_at)},
        {"last_used_at", format_timestamp(session.last_used_at)},
        {"address", session.address ? Json(*session.address) : Json(nullptr)},
        {"current", session.current},
    };
}

// A user's sessions are theirs alone: the host backend acting for them may not list, end or
// re-key them (it deactivates the user instead).
boost::asio::awaitable<model::Principal> authenticate_in_person(Services& services, http::Context& context) {
    auto principal = co_await authenticate_person(services, context);
    if (principal.on_behalf)
        throw model::with_reason(model::ErrorCode::forbidden,
                                 "sessions and passwords are not managed on a user's behalf", "on_behalf_not_allowed");
    co_return principal;
}

}  // namespace

void add_auth_routes(http::Router& router, Services& services) {
    router.add(http::Method::post, "/api/v1/auth/register",
               [&services](http::Context& context) -> boost::asio::awaitable<http::Response> {
                   const auto body = parse_object(context.request.body);
                   domain::Registration registration{
                       .username = required_string(body, "username"),
                       .password = required_string(body, "password"),
                       .display_name = nullable_string(body, "display_name"),
                       .device_name = nullable_string(body, "device_name"),
                   };
                   auto result =
                       co_await services.auth.register_user(std::move(registration), context.request.remote_address);
                   context.user_id = result.user.id;
                   co_return signed_in(201, result);
               });
    router.add(http::Method::post, "/api/v1/auth/login",
               [&services](http::Context& context) -> boost::asio::awaitable<http::Response> {
                   const auto body = parse_object(context.request.body);
                   auto result = co_await services.auth.login(required_string(body, "username"),
                                                              required_string(body, "password"),
                                                              nullable_string(body, "device_name"),
                                                              context.request.remote_address);
                   context.user_id = result.user.id;
                   co_return signed_in(200, result);
               });
    router.add(http::Method::post, "/api/v1/auth/token-exchange",
               [&services](http::Context& context) -> boost::asio::awaitable<http::Response> {
                   const auto body = parse_object(context.request.body);
                   auto result = co_await services.auth.sign_in_with_host_token(required_string(body, "token"),
                                                                                nullable_string(body, "device_name"),
                                                                                context.request.remote_address);
                   context.user_id = result.user.id;
                   if (result.renamed) co_await services.users.announce(result.user);
                   co_return signed_in(200, result);
               });
    router.add(http::Method::post, "/api/v1/auth/logout",
               [&services](http::Context& context) -> boost::asio::awaitable<http::Response> {
                   const auto principal = co_await authenticate_in_person(services, context);
                   co_await services.auth.logout(principal);
                   co_return http::no_content();
               });
    router.add(http::Method::post, "/api/v1/auth/logout-all",
               [&services](http::Context& context) -> boost::asio::awaitable<http::Response> {
                   const auto principal = co_await authenticate_in_person(services, context);
                   co_await services.auth.sign_out_everywhere(principal.user_id);
                   co_return http::no_content();
               });
    router.add(http::Method::get, "/api/v1/sessions",
               [&services](http::Context& context) -> boost::asio::awaitable<http::Response> {
                   const auto principal = co_await authenticate_in_person(services, context);
                   const auto query = Query::parse(context.request.query);
                   const auto page = co_await services.auth.sessions(principal, place_cursor(query, session_kind),
                                                                     page_limit(query, formerly_unpaged_limit));
                   const auto json = place_page_json("sessions", session_kind, page, [](const model::Session& session) {
                       return session_json(session);
                   });
                   co_return http::json_response(200, dump(json));
               });
    router.add(http::Method::del, "/api/v1/sessions",
               [&services](http::Context& context) -> boost::asio::awaitable<http::Response> {
                   const auto principal = co_await authenticate_in_person(services, context);
                   co_await services.auth.revoke_other_sessions(principal);
                   co_return http::no_content();
               });
    router.add(http::Method::del, "/api/v1/sessions/{id}",
               [&services](http::Context& context) -> boost::asio::awaitable<http::Response> {
                   const auto principal = co_await authenticate_in_person(services, context);
                   co_await services.auth.revoke_session(principal, context.path_params.at("id"));
                   co_return http::no_content();
               });
    router.add(http::Method::put, "/api/v1/users/me/password",
               [&services](http::Context& context) -> boost::asio::awaitable<http::Response> {
                   const auto principal = co_await authenticate_in_person(services, context);
                   const auto body = parse_object(context.request.body);
                   reject_unknown_fields(body, {"current_password", "new_password"});
                   co_await services.auth.change_password(principal, required_string(body, "current_password"),
                                                          required_string(body, "new_password"),
                                                          context.request.remote_address);
                   co_return http::no_content();
               });
}

}  // namespace confab::api
