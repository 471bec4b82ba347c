#include "confab/api/json.hpp"
#include "confab/api/pagination.hpp"
#include "confab/api/query.hpp"
#include "confab/api/routes.hpp"
#include "confab/api/webhook_bodies.hpp"
#include "confab/domain/bot_service.hpp"
#include "confab/domain/webhook_service.hpp"

namespace confab::api {

std::string JsonWebhookBodies::body(const domain::Event& event, const domain::DeliveryIds& ids) const {
    auto frame = event_frame(event);
    frame["delivery_id"] = ids.delivery_id;
    frame["webhook_id"] = ids.subscription_id;
    frame["chat_id"] = ids.chat_id;
    return dump(frame);
}

namespace {

using boost::asio::awaitable;

constexpr char failure_kind = 'f';  // cursor kind (pagination.hpp)

Json webhook_json(const model::WebhookSubscription& webhook) {
    return Json{{"id", webhook.id},
                {"chat_id", webhook.chat_id ? Json(*webhook.chat_id) : Json(nullptr)},
                {"url", webhook.url},
                {"events", webhook.events},
                {"created_by", webhook.created_by ? Json(*webhook.created_by) : Json(nullptr)},
                {"created_at", format_timestamp(webhook.created_at)}};
}

Json failure_json(const model::WebhookFailure& failure) {
    auto payload = Json::parse(failure.body, nullptr, false);
    return Json{{"id", failure.id},
                {"webhook_id", failure.subscription_id},
                {"chat_id", failure.chat_id},
                {"delivery_id", failure.delivery_id},
                {"event", failure.event},
                {"payload", payload.is_discarded() ? Json::object() : payload},
                {"attempts", failure.attempts},
                {"last_error", failure.last_error},
                {"failed_at", format_timestamp(failure.failed_at)}};
}

// Where a webhook route is: under a chat (its admins, with their token), under the server (the
// operator, with the server API key) or under a bot (its owner, with a person's token).
enum class Scope { chat, server, bot };

awaitable<domain::WebhookOwner> owner_of(Services& services, http::Context& context, Scope scope) {
    if (scope == Scope::server) {
        require_server_key(services, context);
        co_return domain::WebhookOwner{};
    }
    if (scope == Scope::bot) {
        const auto principal = co_await authenticate_person(services, context);
        co_return domain::WebhookOwner{.actor = principal.user_id, .bot_id = context.path_params.at("bot_id")};
    }
    const auto principal = co_await authenticate(services, context);
    co_return domain::WebhookOwner{.actor = principal.user_id, .chat_id = context.path_params.at("id")};
}

// The webhook a route names: a chat's or the server's by its id, a bot's one webhook by the bot
// (a bot without one has none to name).
awaitable<std::string> webhook_id_of(Services& services, http::Context& context, const domain::WebhookOwner& owner) {
    if (!owner.bot_id) co_return context.path_params.at("webhook_id");
    const auto bot = co_await services.bots.get(*owner.actor, *owner.bot_id);
    if (!bot.webhook_id) throw model::not_found("webhook");
    co_return *bot.webhook_id;
}

awaitable<http::Response> create_webhook(Services& services, http::Context& context, Scope scope) {
    auto owner = co_await owner_of(services, context, scope);
    const auto body = parse_object(context.request.body);
    reject_unknown_fields(body, {"url", "events"});
    domain::NewWebhook request{required_string(body, "url"),
                               optional_string_array(body, "events").value_or(std::vector<std::string>{})};
    const auto created = co_await services.webhooks.create(std::move(owner), std::move(request));
    auto json = webhook_json(created);
    json["secret"] = created.secret;
    co_return http::json_response(201, dump(json));
}

awaitable<http::Response> list_webhooks(Services& services, http::Context& context, Scope scope) {
    auto owner = co_await owner_of(services, context, scope);
    Json webhooks = Json::array();
    for (const auto& webhook : co_await services.webhooks.list(std::move(owner)))
        webhooks.push_back(webhook_json(webhook));
    co_return http::json_response(200, dump(Json{{"webhooks", std::move(webhooks)}}));
}

awaitable<http::Response> remove_webhook(Services& services, http::Context& context, Scope scope) {
    auto owner = co_await owner_of(services, context, scope);
    co_await services.webhooks.remove(std::move(owner), context.path_params.at("webhook_id"));
    co_return http::no_content();
}

awaitable<http::Response> list_failures(Services& services, http::Context& context, Scope scope) {
    auto owner = co_await owner_of(services, context, scope);
    const auto query = Query::parse(context.request.query);
    auto after = place_cursor(query, failure_kind);
    auto webhook_id = co_await webhook_id_of(services, context, owner);
    const auto page = co_await services.webhooks.failures(std::move(owner), std::move(webhook_id), std::move(after),
                                                          page_limit(query));
    co_return http::json_response(200, dump(place_page_json("failures", failure_kind, page,
                                                            [](const model::WebhookFailure& failure) {
                                                                return failure_json(failure);
                                                            })));
}

awaitable<http::Response> replay_failure(Services& services, http::Context& context, Scope scope) {
    auto owner = co_await owner_of(services, context, scope);
    auto webhook_id = co_await webhook_id_of(services, context, owner);
    const auto [delivered, error] = co_await services.webhooks.replay(std::move(owner), std::move(webhook_id),
                                                                      context.path_params.at("failure_id"));
    co_return http::json_response(200, dump(Json{{"delivered", delivered},
                                                 {"error", error ? Json(*error) : Json(nullptr)}}));
}

}  // namespace

void add_webhook_routes(http::Router& router, Services& services) {
    using http::Method;
    using Handler = awaitable<http::Response> (*)(Services&, http::Context&, Scope);
    const auto add_at = [&](Method method, const std::string& path, Scope scope, Handler handler) {
        router.add(method, path, [&services, scope, handler](http::Context& c) { return handler(services, c, scope); });
    };
    const auto add = [&](Method method, const std::string& path, Handler handler) {
        add_at(method, "/api/v1/chats/{id}/webhooks" + path, Scope::chat, handler);
        add_at(method, "/api/v1/server/webhooks" + path, Scope::server, handler);
    };
    add(Method::post, "", create_webhook);
    add(Method::get, "", list_webhooks);
    add(Method::del, "/{webhook_id}", remove_webhook);
    add(Method::get, "/{webhook_id}/failures", list_failures);
    add(Method::post, "/{webhook_id}/failures/{failure_id}/replay", replay_failure);
    // A bot has one webhook, set on the bot (api/bots.cpp); its owner sees and replays its parked
    // deliveries here, as a chat's admins do theirs.
    add_at(Method::get, "/api/v1/bots/{bot_id}/webhook/failures", Scope::bot, list_failures);
    add_at(Method::post, "/api/v1/bots/{bot_id}/webhook/failures/{failure_id}/replay", Scope::bot, replay_failure);
}

}  // namespace confab::api
