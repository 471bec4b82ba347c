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
class ExportService;
class AccountService;
}  // namespace confab::domain
namespace confab::store {
class Pool;
}

namespace confab::api {

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
    domain::ExportService& exports;
    domain::AccountService& accounts;
};

// The token of "Authorization: Bearer <token>", if the header has that form.
std::optional<std::string_view> bearer_token(const http::Request& request);

// Authenticates the request's bearer token and records the user on the context.
boost::asio::awaitable<model::Principal> authenticate(Services& services, http::Context& context);

}  // namespace confab::api
