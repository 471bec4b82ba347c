#pragma once

#include "confab/config/config.hpp"
#include "confab/model/user.hpp"
#include "confab/http/message.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string_view>

namespace confab::domain {
class AuthService;
class UserService;
class ChatService;
class MemberService;
class MessageService;
class PresenceService;
class MediaService;
class StatsService;
class TemplateService;
class ScheduledService;
class PollService;
class HostAccounts;
class TranslationService;
class ExportService;
class AccountService;
class WebhookService;
class PushService;
class InviteLinkService;
class CallService;
class UserBlockService;
class ReportService;
class BroadcastService;
class BotService;
}  // namespace confab::domain
namespace confab::store {
class Pool;
}
namespace confab::realtime {
class Hub;
}

namespace confab::api {

class CallRouter;

// What the handlers work with; owned by main, outlives every request.
struct Services {
    const config::Config& config;
    store::Pool& pool;
    domain::AuthService& auth;
    domain::UserService& users;
    domain::ChatService& chats;
    domain::MemberService& members;
    domain::MessageService& messages;
    domain::PresenceService& presence;
    domain::MediaService& media;
    domain::StatsService& stats;
    domain::TemplateService& templates;
    domain::ScheduledService& scheduled;
    domain::PollService& polls;
    domain::HostAccounts& host_accounts;
    domain::TranslationService& translations;
    domain::ExportService& exports;
    domain::AccountService& accounts;
    domain::WebhookService& webhooks;
    domain::PushService& push;
    domain::InviteLinkService& invite_links;
    domain::CallService& calls;
    domain::UserBlockService& user_blocks;
    domain::ReportService& reports;
    domain::BroadcastService& broadcasts;
    const realtime::Hub& hub;
    domain::BotService& bots;
    CallRouter& call_router;
};

// The token of "Authorization: Bearer <token>", if the header has that form.
std::optional<std::string_view> bearer_token(const http::Request& request);

// Who the request's bearer token is: a user's token, or the server API key acting on behalf
// of the user named by X-On-Behalf-Of (docs/api.md, Server API).
boost::asio::awaitable<model::Principal> principal_of(Services& services, const http::Request& request);

// Refuses a request that does not bear a server API key (unauthorized).
void require_server_key(Services& services, const http::Context& context);

// principal_of, recorded on the context, the user's request budget spent.
boost::asio::awaitable<model::Principal> authenticate(Services& services, http::Context& context);
// authenticate, refusing a bot's token (forbidden, reason bot): for the routes that are a
// person's only (docs/api.md, Bots).
boost::asio::awaitable<model::Principal> authenticate_person(Services& services, http::Context& context);

}  // namespace confab::api
