#pragma once

#include "confab/domain/commit.hpp"
#include "confab/domain/model.hpp"
#include "confab/model/bot.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace confab::domain {

class AccountService;
class AuthService;
class UserService;
class WebhookService;

struct NewBot {
    std::string username;
    std::optional<std::string> display_name;  // the username when not given
    std::optional<std::string> bio;
    std::optional<std::string> webhook_url;
};

// What is empty stays; a nullopt inside clears the bio or removes the webhook.
struct BotChange {
    std::optional<std::string> display_name;
    std::optional<std::optional<std::string>> bio;
    std::optional<std::optional<std::string>> webhook_url;
};

// A bot as its owner sees it, with what is shown only once: the token of a new bot, and the
// secret of a webhook set by the request.
struct OwnedBot {
    Bot bot;
    std::optional<std::string> token;
    std::optional<std::string> webhook_secret;
};

// The actor's bot `bot_id` (rules::may_manage_bot): anyone else's bot, and an unknown, deleted
// or malformed one, are not found.
boost::asio::awaitable<Bot> managed_bot(ChatWrites& writes, std::string actor, std::string bot_id);

// Bot accounts (docs/api.md, Bots): made and managed by their owner, who alone sees them here
// (anyone else's bot is not found). A bot is a user marked is_bot: its token works as a
// session's, and it is in chats as any member is.
class BotService {
public:
    BotService(ChatWrites& writes, AuthService& auth, UserService& users, AccountService& accounts,
               WebhookService& webhooks)
        : writes_(writes), auth_(auth), users_(users), accounts_(accounts), webhooks_(webhooks) {}

    // `client` is the owner's address, recorded as the token's first.
    boost::asio::awaitable<OwnedBot> create(std::string owner_id, NewBot request, std::string client);
    boost::asio::awaitable<std::vector<Bot>> list(std::string owner_id);
    boost::asio::awaitable<Bot> get(std::string owner_id, std::string bot_id);
    boost::asio::awaitable<OwnedBot> update(std::string owner_id, std::string bot_id, BotChange change);
    // A new token; the old one stops working at once and its sockets close.
    boost::asio::awaitable<std::string> rotate_token(std::string owner_id, std::string bot_id, std::string client);
    // Whether the user is a bot made here (not one the host backend marked is_bot): the routes
    // that are a person's refuse it.
    boost::asio::awaitable<bool> is_bot(std::string user_id);
    // The bot leaves its groups, its token and webhook go, and it becomes a deleted user.
    boost::asio::awaitable<void> remove(std::string owner_id, std::string bot_id);

private:
    ChatWrites& writes_;
    AuthService& auth_;
    UserService& users_;
    AccountService& accounts_;
    WebhookService& webhooks_;
};

}  // namespace confab::domain
