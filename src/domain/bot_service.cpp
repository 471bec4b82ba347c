#include "confab/domain/bot_service.hpp"

#include "confab/domain/account_service.hpp"
#include "confab/domain/auth_service.hpp"
#include "confab/domain/rules.hpp"
#include "confab/domain/user_service.hpp"
#include "confab/domain/validation.hpp"
#include "confab/domain/webhook_service.hpp"
#include "confab/store/bots.hpp"
#include "confab/store/pool.hpp"

#include <spdlog/spdlog.h>

namespace confab::domain {

boost::asio::awaitable<Bot> managed_bot(ChatWrites& writes, std::string actor, std::string bot_id) {
    std::optional<Bot> bot;
    if (is_uuid(bot_id))
        bot = co_await writes.pool().run([bot_id](store::Tx& tx) { return store::bots::find(tx, bot_id); });
    rules::may_manage_bot(actor, bot ? std::optional(bot->owner_id) : std::nullopt);
    co_return std::move(bot).value();
}

boost::asio::awaitable<OwnedBot> BotService::create(std::string owner_id, NewBot request, std::string client) {
    if (!is_valid_username(request.username))
        throw bad_request("username must be 3-32 characters of a-z, 0-9, _ and .", "username");
    ProfileChange profile{.display_name = request.display_name.value_or(request.username), .bio = request.bio};
    check_profile_change(profile);
    // Checked before the bot exists, so a refused URL leaves no bot behind.
    if (request.webhook_url) co_await webhooks_.check_url(*request.webhook_url, "webhook_url");
    auto bot = co_await writes_.pool().run([owner_id, username = request.username, profile](store::Tx& tx) {
        rules::check_room_for_another(rules::Capped::bots, store::bots::count_locked(tx, owner_id));
        auto made =
            store::bots::insert(tx, owner_id, username, *profile.display_name, profile.bio.value_or(std::nullopt));
        if (!made) throw Error(ErrorCode::conflict, "username is taken", "username");
        return std::move(*made);
    });
    OwnedBot result{.bot = std::move(bot), .token = std::nullopt, .webhook_secret = std::nullopt};
    result.token = co_await auth_.replace_bot_token(result.bot.user.id, std::move(client));
    if (request.webhook_url) {
        const auto webhook = co_await webhooks_.set_bot_webhook(result.bot.user.id, request.webhook_url);
        result.bot.webhook_id = webhook->id;
        result.bot.webhook_url = webhook->url;
        result.webhook_secret = webhook->secret;
    }
    spdlog::info("bot created bot_id={} owner_id={}", result.bot.user.id, owner_id);
    co_return result;
}

boost::asio::awaitable<std::vector<Bot>> BotService::list(std::string owner_id) {
    co_return co_await writes_.pool().run([owner_id](store::Tx& tx) { return store::bots::of_owner(tx, owner_id); });
}

boost::asio::awaitable<Bot> BotService::get(std::string owner_id, std::string bot_id) {
    co_return co_await managed_bot(writes_, owner_id, bot_id);
}

boost::asio::awaitable<OwnedBot> BotService::update(std::string owner_id, std::string bot_id, BotChange change) {
    if (!change.display_name && !change.bio && !change.webhook_url) throw bad_request("nothing to update");
    auto bot = co_await managed_bot(writes_, owner_id, bot_id);
    OwnedBot result{.bot = std::move(bot), .token = std::nullopt, .webhook_secret = std::nullopt};
    if (change.webhook_url && *change.webhook_url) co_await webhooks_.check_url(**change.webhook_url, "webhook_url");
    if (change.display_name || change.bio)
        result.bot.user = co_await users_.update_profile(bot_id, ProfileChange{.display_name = change.display_name,
                                                                               .bio = change.bio,
                                                                               .is_bot = std::nullopt});
    if (change.webhook_url) {
        const auto webhook = co_await webhooks_.set_bot_webhook(bot_id, *change.webhook_url);
        result.bot.webhook_id = webhook ? std::optional(webhook->id) : std::nullopt;
        result.bot.webhook_url = webhook ? std::optional(webhook->url) : std::nullopt;
        if (webhook) result.webhook_secret = webhook->secret;
    }
    co_return result;
}

boost::asio::awaitable<std::string> BotService::rotate_token(std::string owner_id, std::string bot_id,
                                                             std::string client) {
    co_await managed_bot(writes_, owner_id, bot_id);
    auto token = co_await auth_.replace_bot_token(bot_id, std::move(client));
    spdlog::info("bot token rotated bot_id={} owner_id={}", bot_id, owner_id);
    co_return token;
}

boost::asio::awaitable<bool> BotService::is_bot(std::string user_id) {
    co_return co_await writes_.pool().run(
        [user_id](store::Tx& tx) { return !store::bots::owners(tx, {user_id}).empty(); });
}

boost::asio::awaitable<void> BotService::remove(std::string owner_id, std::string bot_id) {
    co_await managed_bot(writes_, owner_id, bot_id);
    co_await accounts_.delete_bot(bot_id);
    spdlog::info("bot deleted bot_id={} owner_id={}", bot_id, owner_id);
}

}  // namespace confab::domain
