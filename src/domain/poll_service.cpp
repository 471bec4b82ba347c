#include "confab/domain/poll_service.hpp"

#include "confab/domain/group_writes.hpp"

#include "confab/domain/polls.hpp"
#include "confab/domain/rules.hpp"
#include "confab/store/messages.hpp"
#include "confab/store/polls.hpp"

namespace confab::domain {
namespace {

// The change's version for the chat and the message, and poll.updated to the members.
Outcome<Message> published(store::Tx& tx, const std::string& chat_id, const std::string& message_id,
                           const std::string& actor, const Standing& standing, std::optional<std::string> voter) {
    const auto version = store::messages::next_version(tx, chat_id);
    store::messages::set_version(tx, message_id, version);
    Outcome<Message> outcome{message_of(tx, message_id, actor), {}};
    auto poll = *outcome.value.poll;
    // Where voters are not named to others (a channel), the actor's read names the actor alone.
    if (!rules::names_reactors(standing.type))
        for (auto& option : poll.options) option.voter_ids.clear();
    outcome.effects.in_chat(Occasion::poll_updated,
                            PollUpdated{chat_id, message_id, version, std::move(poll), std::move(voter)}, chat_id);
    return outcome;
}

}  // namespace

boost::asio::awaitable<Message> PollService::vote(std::string actor, std::string message_id,
                                                  std::vector<std::int64_t> options) {
    changes_.require(actor, "votes");
    const auto [message, standing] = co_await writes_.visible_message(actor, message_id);
    rules::may_react(standing);
    rules::may_vote(message);
    const auto chosen = polls::choice(*message.poll, options);
    const auto chat_id = message.chat_id;
    co_return co_await writes_.commit(chat_id, [actor, chat_id, message_id, chosen](store::Tx& tx) {
        // Judged again under the chat lock: a voter who left, a delete or a close since wins.
        const auto now = lock_standing(tx, chat_id, actor, "message");
        rules::may_react(now);
        auto current = message_of(tx, message_id, actor);
        rules::may_vote(current);
        if (store::polls::votes_of(tx, message_id, actor) == chosen) return Outcome<Message>{std::move(current), {}};
        store::polls::set_votes(tx, message_id, actor, chosen);
        return published(tx, chat_id, message_id, actor, now, actor);
    });
}

boost::asio::awaitable<Message> PollService::close(std::string actor, std::string message_id) {
    changes_.require(actor, "votes");
    const auto [message, standing] = co_await writes_.visible_message(actor, message_id);
    rules::may_close_poll(standing, actor, message);
    const auto chat_id = message.chat_id;
    co_return co_await writes_.commit(chat_id, [actor, chat_id, message_id](store::Tx& tx) {
        const auto now = lock_standing(tx, chat_id, actor, "message");
        auto current = message_of(tx, message_id, actor);
        rules::may_close_poll(now, actor, current);
        if (current.poll->closed_at) return Outcome<Message>{std::move(current), {}};
        store::polls::close(tx, message_id);
        return published(tx, chat_id, message_id, actor, now, std::nullopt);
    });
}

}  // namespace confab::domain
