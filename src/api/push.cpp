#include "confab/api/json.hpp"
#include "confab/api/pagination.hpp"
#include "confab/api/routes.hpp"
#include "confab/domain/push_service.hpp"
#include "confab/model/error.hpp"

namespace confab::api {
namespace {

using boost::asio::awaitable;

constexpr char device_kind = 'd';  // cursor kind (pagination.hpp)

Json device_json(const model::PushDevice& device) {
    return Json{
        {"id", device.id},
        {"provider", model::name_of(device.provider)},
        {"token", device.token},
        {"session_id", device.session_id},
        {"created_at", format_timestamp(device.created_at)},
    };
}

Json notification_settings_json(const model::NotificationSettings& settings) {
    return Json{
        {"level", model::name_of(settings.level)},
        {"muted_until", settings.muted_until ? Json(format_timestamp(*settings.muted_until)) : Json(nullptr)},
        {"is_muted", settings.is_muted},
    };
}

// A device belongs to the session that registered it: the host backend acting for a user
// has none.
awaitable<model::Principal> authenticate_in_person(Services& services, http::Context& context) {
    auto principal = co_await authenticate_person(services, context);
    if (principal.on_behalf)
        throw model::with_reason(model::ErrorCode::forbidden, "devices are registered by the user's own session",
                                 "on_behalf_not_allowed");
    co_return principal;
}

domain::DeviceRegistration registration_from(const Json& body) {
    reject_unknown_fields(body, {"provider", "token", "p256dh", "auth"});
    const auto provider = model::push_provider_named(required_string(body, "provider"));
    if (!provider) throw model::bad_request("provider must be one of fcm, apns, webpush, gateway", "provider");
    return domain::DeviceRegistration{.provider = *provider,
                                      .token = required_string(body, "token"),
                                      .p256dh = optional_string(body, "p256dh"),
                                      .auth = optional_string(body, "auth")};
}

awaitable<http::Response> register_device(Services& services, http::Context& context) {
    const auto principal = co_await authenticate_in_person(services, context);
    auto registration = registration_from(parse_object(context.request.body));
    const auto device = co_await services.push.register_device(principal, std::move(registration));
    co_return http::json_response(201, dump(device_json(device)));
}

awaitable<http::Response> change_settings(Services& services, http::Context& context) {
    const auto principal = co_await authenticate(services, context);
    const auto body = parse_object(context.request.body);
    reject_unknown_fields(body, {"level", "muted_until"});
    const auto level = model::notify_level_named(required_string(body, "level"));
    if (!level) throw model::bad_request("level must be one of all, mentions, none", "level");
    std::optional<model::Timestamp> muted_until;
    if (const auto text = nullable_string(body, "muted_until")) {
        muted_until = parse_timestamp(*text);
        if (!muted_until) throw model::bad_request("muted_until must be an RFC 3339 date-time or null", "muted_until");
    }
    const auto changed =
        co_await services.push.change_settings(principal.user_id, context.path_params.at("id"), *level, muted_until);
    co_return http::json_response(200, dump(notification_settings_json(changed)));
}

}  // namespace

void add_push_routes(http::Router& router, Services& services) {
    using http::Method;
    router.add(Method::post, "/api/v1/devices", [&services](http::Context& c) { return register_device(services, c); });
    router.add(Method::get, "/api/v1/devices", [&services](http::Context& c) -> awaitable<http::Response> {
        const auto principal = co_await authenticate_in_person(services, c);
        const auto query = Query::parse(c.request.query);
        const auto page = co_await services.push.devices(principal.user_id, place_cursor(query, device_kind),
                                                         page_limit(query, formerly_unpaged_limit));
        const auto json = place_page_json("devices", device_kind, page,
                                          [](const model::PushDevice& device) { return device_json(device); });
        co_return http::json_response(200, dump(json));
    });
    router.add(Method::del, "/api/v1/devices/{id}", [&services](http::Context& c) -> awaitable<http::Response> {
        const auto principal = co_await authenticate_in_person(services, c);
        co_await services.push.remove_device(principal.user_id, c.path_params.at("id"));
        co_return http::no_content();
    });
    router.add(Method::get, "/api/v1/chats/{id}/notifications",
               [&services](http::Context& c) -> awaitable<http::Response> {
                   const auto principal = co_await authenticate(services, c);
                   const auto settings = co_await services.push.settings(principal.user_id, c.path_params.at("id"));
                   co_return http::json_response(200, dump(notification_settings_json(settings)));
               });
    router.add(Method::put, "/api/v1/chats/{id}/notifications",
               [&services](http::Context& c) { return change_settings(services, c); });
}

}  // namespace confab::api
