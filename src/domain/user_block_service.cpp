#include "confab/domain/user_block_service.hpp"

#include "confab/domain/rules.hpp"
#include "confab/domain/validation.hpp"
#include "confab/store/chats.hpp"
#include "confab/store/user_blocks.hpp"
#include "confab/store/users.hpp"

#include <algorithm>

namespace confab::domain {
namespace {

// The pair's direct chat, if they have one, caches who of them blocks the other: the change
// applied to a node's cache here, and the access version the table's trigger bumps, keep it
// true on this node and on the others.
void change_blockers(AccessCache& cache, const std::string& chat_id, const std::string& blocker, bool blocked) {
    cache.update(chat_id, [&blocker, blocked](ChatAccess& access) {
        std::erase(access.blockers, blocker);
        if (blocked) access.blockers.push_back(blocker);
    });
}

}  // namespace

boost::asio::awaitable<void> UserBlockService::block(std::string actor, std::string user_id) {
    co_await change(std::move(actor), std::move(user_id), true);
}

boost::asio::awaitable<void> UserBlockService::unblock(std::string actor, std::string user_id) {
    co_await change(std::move(actor), std::move(user_id), false);
}

boost::asio::awaitable<void> UserBlockService::change(std::string actor, std::string user_id, bool blocked) {
    require_uuid(user_id, "user_id");
    rules::may_block(actor == user_id);
    const auto key = std::min(actor, user_id) + ":" + std::max(actor, user_id);
    const auto direct_chat =
        co_await writes_.pool().run([key](store::Tx& tx) { return store::chats::find_direct(tx, key); });
    // Ordered with the direct chat's writes, so a send queued before the block is judged
    // before it and one queued after it is refused; without a chat, with its creation.
    co_await writes_.commit(direct_chat.value_or(key), [actor, user_id, blocked, direct_chat](store::Tx& tx) {
        if (store::users::existing(tx, {user_id}).empty()) throw not_found("user");
        const bool changed =
            blocked ? store::user_blocks::insert(tx, actor, user_id) : store::user_blocks::remove(tx, actor, user_id);
        Outcome<bool> outcome{changed, {}};
        if (!changed) return outcome;
        if (direct_chat) {
            outcome.effects.cache_change = [chat_id = *direct_chat, actor, blocked](AccessCache& cache) {
                change_blockers(cache, chat_id, actor, blocked);
            };
        }
        outcome.effects.deliver(Occasion::block_changed, BlockChanged{user_id, blocked}, {.subject = actor});
        return outcome;
    });
}

boost::asio::awaitable<BlockedPage> UserBlockService::blocked(std::string actor,
                                                              std::optional<std::int64_t> before_position, int limit) {
    auto rows = co_await writes_.pool().run([actor, before_position, limit](store::Tx& tx) {
        return store::user_blocks::list(tx, actor, before_position, limit + 1);
    });
    BlockedPage page;
    const bool more = rows.size() > static_cast<std::size_t>(limit);
    if (more) rows.pop_back();
    for (auto& [user, position] : rows) page.users.push_back(std::move(user));
    if (more) page.next_before_position = rows.back().second;
    co_return page;
}

}  // namespace confab::domain
