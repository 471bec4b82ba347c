#include "confab/api/json.hpp"
#include "confab/api/routes.hpp"
#include "confab/domain/bot_service.hpp"
#include "confab/model/error.hpp"

namespace confab::api {
namespace {

using boost::asio::awaitable;

Json bot_json(const model::Bot& bot) {
    auto json = to_json(bot.user);
    json["owner_id"] = bot.owner_id;
    json["webhook_id"] = bot.webhook_id ? Json(*bot.webhook_id) : Json(nullptr);
    json["webhook_url"] = bot.webhook_url ? Json(*bot.webhook_url) : Json(nullptr);
    return json;
}

Json owned_bot_json(const domain::OwnedBot& owned) {
    Json json{{"bot", bot_json(owned.bot)}};
    if (owned.token) json["token"] = *owned.token;
    if (owned.webhook_secret) json["webhook_secret"] = *owned.webhook_secret;
    return json;
}

domain::NewBot new_bot(const Json& body) {
    reject_unknown_fields(body, {"username", "display_name", "bio", "webhook_url"});
    return {.username = required_string(body, "username"),
            .display_name = optional_string(body, "display_name"),
            .bio = optional_string(body, "bio"),
            .webhook_url = optional_string(body, "webhook_url")};
}

domain::BotChange bot_change(const Json& body) {
    reject_unknown_fields(body, {"display_name", "bio", "webhook_url"});
    domain::BotChange change;
    change.display_name = optional_string(body, "display_name");
    if (body.contains("bio")) change.bio = nullable_string(body, "bio");
    if (body.contains("webhook_url")) change.webhook_url = nullable_string(body, "webhook_url");
    return change;
}

awaitable<http::Response> create_bot(Services& services, http::Context& context) {
    const auto principal = co_await authenticate_person(services, context);
    auto request = new_bot(parse_object(context.request.body));
    const auto created =
        co_await services.bots.create(principal.user_id, std::move(request), context.request.remote_address);
    co_return http::json_response(201, dump(owned_bot_json(created)));
}

awaitable<http::Response> list_bots(Services& services, http::Context& context) {
    const auto principal = co_await authenticate_person(services, context);
    Json bots = Json::array();
    for (const auto& bot : co_await services.bots.list(principal.user_id)) bots.push_back(bot_json(bot));
    co_return http::json_response(200, dump(Json{{"bots", std::move(bots)}}));
}

awaitable<http::Response> get(Services& services, http::Context& context) {
    const auto principal = co_await authenticate_person(services, context);
    const auto bot = co_await services.bots.get(principal.user_id, context.path_params.at("bot_id"));
    co_return http::json_response(200, dump(bot_json(bot)));
}

awaitable<http::Response> update_bot(Services& services, http::Context& context) {
    const auto principal = co_await authenticate_person(services, context);
    auto change = bot_change(parse_object(context.request.body));
    const auto changed =
        co_await services.bots.update(principal.user_id, context.path_params.at("bot_id"), std::move(change));
    co_return http::json_response(200, dump(owned_bot_json(changed)));
}

awaitable<http::Response> remove_bot(Services& services, http::Context& context) {
    const auto principal = co_await authenticate_person(services, context);
    co_await services.bots.remove(principal.user_id, context.path_params.at("bot_id"));
    co_return http::no_content();
}

awaitable<http::Response> rotate_token(Services& services, http::Context& context) {
    const auto principal = co_await authenticate_person(services, context);
    const auto token = co_await services.bots.rotate_token(principal.user_id, context.path_params.at("bot_id"),
                                                           context.request.remote_address);
    co_return http::json_response(200, dump(Json{{"token", token}}));
}

}  // namespace

void add_bot_routes(http::Router& router, Services& services) {
    using http::Method;
    const std::string bot = "/api/v1/bots/{bot_id}";
    router.add(Method::post, "/api/v1/bots", [&services](http::Context& c) { return create_bot(services, c); });
    router.add(Method::get, "/api/v1/bots", [&services](http::Context& c) { return list_bots(services, c); });
    router.add(Method::get, bot, [&services](http::Context& c) { return get(services, c); });
    router.add(Method::patch, bot, [&services](http::Context& c) { return update_bot(services, c); });
    router.add(Method::del, bot, [&services](http::Context& c) { return remove_bot(services, c); });
    router.add(Method::post, bot + "/token", [&services](http::Context& c) { return rotate_token(services, c); });
}

}  // namespace confab::api
