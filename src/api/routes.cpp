#include "confab/api/routes.hpp"

#include "confab/domain/auth_service.hpp"
#include "confab/domain/bot_service.hpp"
#include "confab/model/error.hpp"

namespace confab::api {

std::optional<std::string_view> bearer_token(const http::Request& request) {
    const auto* header = request.header("authorization");
    if (!header) return std::nullopt;
    std::string_view value = *header;
    constexpr std::string_view scheme = "Bearer ";
    if (value.size() <= scheme.size()) return std::nullopt;
    for (std::size_t i = 0; i < scheme.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(value[i])) != std::tolower(static_cast<unsigned char>(scheme[i])))
            return std::nullopt;
    return value.substr(scheme.size());
}

boost::asio::awaitable<model::Principal> principal_of(Services& services, const http::Request& request) {
    const auto token = bearer_token(request);
    if (!token) throw model::unauthorized("missing bearer token");
    if (const auto* user_id = request.header("x-on-behalf-of"))
        co_return co_await services.auth.on_behalf(*token, std::string(*user_id), request.remote_address);
    co_return co_await services.auth.authenticate(*token, request.remote_address);
}

boost::asio::awaitable<model::Principal> authenticate(Services& services, http::Context& context) {
    auto principal = co_await principal_of(services, context.request);
    context.user_id = principal.user_id;
    services.auth.admit(principal.user_id);
    co_return principal;
}

boost::asio::awaitable<model::Principal> authenticate_person(Services& services, http::Context& context) {
    auto principal = co_await authenticate(services, context);
    if (co_await services.bots.is_bot(principal.user_id))
        throw model::with_reason(model::ErrorCode::forbidden, "bots cannot use this route", "bot");
    co_return principal;
}

http::Router make_router(Services& services) {
    http::Router router;
    add_health_routes(router, services);
    add_auth_routes(router, services);
    add_user_routes(router, services);
    add_chat_routes(router, services);
    add_member_routes(router, services);
    add_invite_link_routes(router, services);
    add_user_block_routes(router, services);
    add_broadcast_list_routes(router, services);
    add_report_routes(router, services);
    add_message_routes(router, services);
    add_media_routes(router, services);
    add_template_routes(router, services);
    add_scheduled_routes(router, services);
    add_poll_routes(router, services);
    add_translation_routes(router, services);
    add_export_routes(router, services);
    add_admin_routes(router, services);
    add_push_routes(router, services);
    add_server_routes(router, services);
    add_webhook_routes(router, services);
    add_call_routes(router, services);
    add_bot_routes(router, services);
    return router;
}

}  // namespace confab::api
