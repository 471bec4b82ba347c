#include "confab/domain/account_service.hpp"

#include "confab/domain/auth_service.hpp"
#include "confab/domain/export_service.hpp"
#include "confab/domain/group_writes.hpp"
#include "confab/domain/media_service.hpp"
#include "confab/domain/member_service.hpp"
#include "confab/store/accounts.hpp"
#include "confab/store/bots.hpp"
#include "confab/store/chats.hpp"
#include "confab/store/media.hpp"
#include "confab/store/messages.hpp"
#include "confab/store/users.hpp"
#include "confab/store/webhooks.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <spdlog/spdlog.h>

#include <set>

namespace confab::domain {

boost::asio::awaitable<void> AccountService::delete_account(Principal principal, std::optional<std::string> password,
                                                            std::string client) {
    co_await auth_.confirm_deletion(principal, std::move(password), std::move(client));
    // Of deletions racing (several tokens of the account), the one that marks it deleted carries
    // the steps out and tells the contacts; the others come from an account deleted by then.
    if (!co_await mark_deleted(principal.user_id)) throw unauthorized();
    co_await erase(principal.user_id);
}

boost::asio::awaitable<void> AccountService::delete_bot(std::string bot_id) {
    if (!co_await mark_deleted(bot_id)) throw not_found("bot");
    co_await erase(bot_id);
}

void AccountService::resume_deletions(const boost::asio::any_io_executor& executor) {
    boost::asio::co_spawn(executor, resume(), boost::asio::detached);
}

boost::asio::awaitable<void> AccountService::resume() {
    std::vector<std::string> unfinished;
    try {
        unfinished =
            co_await writes_.pool().run([](store::Tx& tx) { return store::accounts::unfinished_deletions(tx); });
    } catch (const std::exception& e) {
        spdlog::error("interrupted account deletions not looked for: {}", e.what());
    }
    for (const auto& user_id : unfinished) {
        spdlog::warn("resuming the deletion of user_id={} left unfinished by the last run", user_id);
        try {
            co_await erase(user_id);
        } catch (const std::exception& e) {
            spdlog::error("deletion of user_id={} not resumed: {}", user_id, e.what());
        }
    }
}

// Deleted at once, its sessions ended, before any of the steps of erase: nothing racing them
// signs the account in again, acts as it or puts it back where a step took it out.
boost::asio::awaitable<bool> AccountService::mark_deleted(const std::string& user_id) {
    const bool marked =
        co_await writes_.pool().run([user_id](store::Tx& tx) { return store::accounts::begin_deletion(tx, user_id); });
    auth_.signed_out(user_id);
    co_return marked;
}

boost::asio::awaitable<void> AccountService::erase(const std::string& user_id) {
    // A user's bots go with them (docs/api.md, Bots); one a DELETE /bots/{id} is deleting
    // already is left to it.
    const auto bots =
        co_await writes_.pool().run([user_id](store::Tx& tx) { return store::bots::of_owner(tx, user_id); });
    for (const auto& bot : bots)
        if (co_await mark_deleted(bot.user.id)) co_await erase(bot.user.id);
    // Everyone who shares a chat with them now learns of the tombstone, groups included.
    auto contacts =
        co_await writes_.pool().run([user_id](store::Tx& tx) { return store::members::contacts(tx, user_id); });
    co_await leave_shared_chats(user_id);
    if (remove_messages_) co_await remove_messages(user_id);
    co_await forget_in_messages(user_id);
    auto unreferenced = co_await writes_.pool().run([user_id](store::Tx& tx) {
        store::webhooks::remove_of_bot(tx, user_id);
        return store::accounts::remove_user(tx, user_id);
    });
    co_await exports_.remove_all(user_id);
    co_await release_bytes(writes_.pool(), storage_, std::move(unreferenced));
    auto tombstone = co_await writes_.pool().run([user_id](store::Tx& tx) { return store::users::find(tx, user_id); });
    if (tombstone)
        writes_.publish(Occasion::profile_updated, UserUpdated{std::move(*tombstone)},
                        {.subject = user_id, .contacts = std::move(contacts)});
    spdlog::info("account deleted user_id={} messages={}", user_id, remove_messages_ ? "removed" : "kept");
}

boost::asio::awaitable<void> AccountService::leave_shared_chats(const std::string& user_id) {
    const auto chats =
        co_await writes_.pool().run([user_id](store::Tx& tx) { return store::accounts::shared_chats_of(tx, user_id); });
    for (const auto& chat_id : chats) {
        try {
            co_await members_.remove_member(user_id, chat_id, user_id);
        } catch (const Error& error) {
            // Left meanwhile (or the group is gone): nothing to leave.
            if (error.code() != ErrorCode::not_found) throw;
        }
    }
}

boost::asio::awaitable<void> AccountService::remove_messages(const std::string& user_id) {
    const auto chats = co_await writes_.pool().run(
        [user_id](store::Tx& tx) { return store::accounts::chats_with_messages(tx, user_id); });
    for (const auto& chat_id : chats) {
        auto orphaned = co_await writes_.commit(
            chat_id,
            [chat_id, user_id](store::Tx& tx) {
                Outcome<std::vector<std::string>> outcome;
                const auto version = store::messages::next_version(tx, chat_id);
                std::set<std::string> threads;
                for (const auto& removed : store::accounts::remove_messages(tx, chat_id, user_id, version)) {
                    if (removed.media_id)
                        for (auto& key : store::media::remove(tx, *removed.media_id))
                            outcome.value.push_back(std::move(key));
                    if (removed.thread_root_id) threads.insert(*removed.thread_root_id);
                    outcome.effects.in_chat(Occasion::message_deleted, MessageDeleted{removed.id, chat_id, version},
                                            chat_id);
                }
                // Deleted replies leave their threads: each root's summary no longer counts them.
                for (const auto& root_id : threads) {
                    store::messages::recount_thread(tx, root_id, store::messages::next_version(tx, chat_id));
                    outcome.effects.in_chat(Occasion::message_updated, MessageUpdated{message_of(tx, root_id, "")},
                                            chat_id);
                }
                return outcome;
            },
            store::Weight::heavy);  // all their messages in the chat, however many
        co_await release_bytes(writes_.pool(), storage_, std::move(orphaned));
    }
}

boost::asio::awaitable<void> AccountService::forget_in_messages(const std::string& user_id) {
    const auto by_chat =
        co_await writes_.pool().run([user_id](store::Tx& tx) { return store::accounts::messages_naming(tx, user_id); });
    for (const auto& named : by_chat) {
        const auto& chat_id = named.first;
        co_await writes_.commit(
            chat_id,
            [chat_id, message_ids = named.second, user_id](store::Tx& tx) {
                Outcome<std::size_t> outcome{0, {}};
                const auto version = store::messages::next_version(tx, chat_id);
                for (const auto& id : store::accounts::forget_in_messages(tx, message_ids, user_id, version)) {
                    outcome.effects.in_chat(Occasion::message_updated, MessageUpdated{message_of(tx, id, "")}, chat_id);
                    ++outcome.value;
                }
                return outcome;
            },
            weight_for(named.second.size()));
    }
}

}  // namespace confab::domain
