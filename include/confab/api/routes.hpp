#pragma once

#include "confab/api/services.hpp"
#include "confab/http/router.hpp"

#include <optional>

namespace confab::api {

// Every REST route of the server; one add_*_routes per resource file.
http::Router make_router(Services& services);

void add_health_routes(http::Router& router, Services& services);

// docs/openapi.yaml, compiled in.
std::string_view openapi_document();
void add_auth_routes(http::Router& router, Services& services);
void add_user_routes(http::Router& router, Services& services);
void add_chat_routes(http::Router& router, Services& services);
void add_member_routes(http::Router& router, Services& services);
// A group's invite links (its admins), and previewing and joining by one (any user).
void add_invite_link_routes(http::Router& router, Services& services);
// The users one blocks (docs/api.md, Blocking).
void add_user_block_routes(http::Router& router, Services& services);
void add_broadcast_list_routes(http::Router& router, Services& services);
void add_report_routes(http::Router& router, Services& services);
void add_message_routes(http::Router& router, Services& services);
void add_media_routes(http::Router& router, Services& services);
// The upload route's check on the header alone (bearer token, upload budget), made before
// the body is received: nullopt when the body may come, else the refusal to answer with.
boost::asio::awaitable<std::optional<http::Response>> admit_upload(Services& services, const http::Request& head);
void add_template_routes(http::Router& router, Services& services);
void add_scheduled_routes(http::Router& router, Services& services);
void add_poll_routes(http::Router& router, Services& services);
void add_translation_routes(http::Router& router, Services& services);
void add_export_routes(http::Router& router, Services& services);
void add_admin_routes(http::Router& router, Services& services);
// Push devices and per-chat notification settings.
void add_push_routes(http::Router& router, Services& services);
// The host backend's server API, under /api/v1/server/.
void add_server_routes(http::Router& router, Services& services);
// The ICE servers (and TURN credentials) for calls; their signalling is over the WebSocket.
void add_call_routes(http::Router& router, Services& services);
// Webhooks of a chat (its admins) and server-wide ones (the server API key).
void add_webhook_routes(http::Router& router, Services& services);
// A user's bots (docs/api.md, Bots).
void add_bot_routes(http::Router& router, Services& services);

}  // namespace confab::api
