#include "confab/api/json.hpp"
#include "confab/api/query.hpp"
#include "confab/api/routes.hpp"
#include "confab/model/error.hpp"
#include "confab/domain/account_service.hpp"
#include "confab/domain/user_service.hpp"
#include "confab/domain/validation.hpp"

namespace confab::api {
namespace {

// UserModel, with the presence fields where the caller may see them.
Json seen_user_json(const domain::UserProfile& profile) {
    return profile.presence ? to_json(profile.user, *profile.presence) : to_json(profile.user);
}

http::Response privacy_response(const model::Privacy& privacy) {
    return http::json_response(200, dump(Json{{"who_can_add_me", model::to_string(privacy.who_can_add_me)},
                                              {"who_can_see_presence", model::to_string(privacy.who_can_see_presence)},
                                              {"send_read_receipts", privacy.send_read_receipts}}));
}

std::optional<model::Circle> optional_circle(const Json& body, const char* field) {
    const auto text = optional_string(body, field);
    if (!text) return std::nullopt;
    const auto circle = model::circle_from(*text);
    if (!circle) throw model::bad_request(std::string(field) + " must be everyone, contacts or nobody", field);
    return circle;
}

model::PrivacyChange privacy_change(const Json& body) {
    reject_unknown_fields(body, {"who_can_add_me", "who_can_see_presence", "send_read_receipts"});
    // An empty body changes nothing: more likely a client's mistake than a request.
    if (body.empty()) throw model::bad_request("name at least one privacy setting");
    return {optional_circle(body, "who_can_add_me"), optional_circle(body, "who_can_see_presence"),
            optional_bool(body, "send_read_receipts")};
}

model::ProfileChange profile_change(const Json& body) {
    reject_unknown_fields(body, {"display_name", "bio"});
    model::ProfileChange change;
    change.display_name = optional_string(body, "display_name");
    if (body.contains("bio")) change.bio = nullable_string(body, "bio");
    return change;
}

// {"password": ...} confirms a password account's deletion; a host account sends no body.
std::optional<std::string> deletion_password(const std::string& body) {
    if (body.empty()) return std::nullopt;
    const auto object = parse_object(body);
    reject_unknown_fields(object, {"password"});
    return optional_string(object, "password");
}

}  // namespace

void add_user_routes(http::Router& router, Services& services) {
    router.add(http::Method::get, "/api/v1/users/me",
               [&services](http::Context& context) -> boost::asio::awaitable<http::Response> {
                   const auto principal = co_await authenticate(services, context);
                   co_return http::json_response(200, dump(to_json(co_await services.users.get(principal.user_id))));
               });
    router.add(http::Method::patch, "/api/v1/users/me",
               [&services](http::Context& context) -> boost::asio::awaitable<http::Response> {
                   const auto principal = co_await authenticate(services, context);
                   const auto change = profile_change(parse_object(context.request.body));
                   co_return http::json_response(
                       200, dump(to_json(co_await services.users.update_profile(principal.user_id, change))));
               });
    router.add(http::Method::del, "/api/v1/users/me",
               [&services](http::Context& context) -> boost::asio::awaitable<http::Response> {
                   const auto principal = co_await authenticate_person(services, context);
                   auto password = deletion_password(context.request.body);
                   co_await services.accounts.delete_account(principal, std::move(password),
                                                             context.request.remote_address);
                   co_return http::no_content();
               });
    router.add(http::Method::get, "/api/v1/users/me/privacy",
               [&services](http::Context& context) -> boost::asio::awaitable<http::Response> {
                   const auto principal = co_await authenticate(services, context);
                   co_return privacy_response(co_await services.users.privacy(principal.user_id));
               });
    router.add(http::Method::put, "/api/v1/users/me/privacy",
               [&services](http::Context& context) -> boost::asio::awaitable<http::Response> {
                   const auto principal = co_await authenticate(services, context);
                   const auto change = privacy_change(parse_object(context.request.body));
                   co_return privacy_response(co_await services.users.update_privacy(principal.user_id, change));
               });
    router.add(http::Method::get, "/api/v1/users/{id}",
               [&services](http::Context& context) -> boost::asio::awaitable<http::Response> {
                   const auto principal = co_await authenticate(services, context);
                   const auto profile =
                       co_await services.users.profile(principal.user_id, context.path_params.at("id"));
                   co_return http::json_response(200, dump(seen_user_json(profile)));
               });
    router.add(http::Method::get, "/api/v1/users",
               [&services](http::Context& context) -> boost::asio::awaitable<http::Response> {
                   const auto principal = co_await authenticate(services, context);
                   const auto query = Query::parse(context.request.query);
                   const int limit = page_limit(query);
                   std::optional<std::string> after;
                   if (const auto cursor = query.get("cursor"); cursor && !cursor->empty()) {
                       // "u:<last username of the previous page>", like the other lists' typed cursors.
                       const auto key = decode_cursor(*cursor);
                       if (!key || !key->starts_with("u:") || !domain::is_valid_username(key->substr(2)))
                           throw model::bad_request("invalid cursor", "cursor");
                       after = key->substr(2);
                   }
                   const auto page =
                       co_await services.users.search(principal.user_id, query.get("query").value_or(""), after, limit);
                   Json users = Json::array();
                   for (const auto& profile : page.users) users.push_back(seen_user_json(profile));
                   Json next =
                       page.has_more ? Json(encode_cursor("u:" + page.users.back().user.username)) : Json(nullptr);
                   co_return http::json_response(200, dump(Json{{"users", std::move(users)},
                                                                {"next_cursor", std::move(next)}}));
               });
}

}  // namespace confab::api
