#include "confab/domain/scheduled_service.hpp"

#include "confab/domain/rich_text.hpp"
#include "confab/domain/rules.hpp"
#include "confab/domain/send_writer.hpp"
#include "confab/domain/template_service.hpp"
#include "confab/domain/validation.hpp"
#include "confab/obs/metrics.hpp"
#include "confab/store/scheduled.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

namespace confab::domain {
namespace {

// A wall-clock time on the clock the loop's gate keeps; none is never.
PollGate::Clock::time_point steady_time_of(const std::optional<Timestamp>& at) {
    if (!at) return PollGate::Clock::time_point::max();
    return PollGate::Clock::now() + (*at - std::chrono::system_clock::now());
}

ScheduledMessage own_scheduled(store::Tx& tx, const std::string& id, const std::string& actor) {
    auto found = store::scheduled::find(tx, id);
    if (!found || found->sender_id != actor) throw not_found("scheduled message");
    return std::move(*found);
}

// Also while a claim holds it: the post carries what it read when it claimed it, so an edit or a
// cancellation then would be one the post does not keep.
Error not_pending() { return conflict("the scheduled message is being sent, or was already sent or cancelled"); }

void require_pending(const ScheduledMessage& scheduled) {
    if (scheduled.status != ScheduledStatus::pending) throw not_pending();
}

// A change that found the message no longer pending by the time it held its row: cancelled
// meanwhile by a racing request of its author is gone (404, as a cancel is to anyone after
// it), otherwise it is being or was posted (409).
[[noreturn]] void refuse_changed_meanwhile(store::Tx& tx, const std::string& id) {
    if (!store::scheduled::find(tx, id)) throw not_found("scheduled message");
    throw not_pending();
}

bool is_media(MessageType type) { return type != MessageType::text && type != MessageType::location; }

// Refusals that say nothing about the message itself: it stays pending and is tried again
// once its claim lapses.
bool is_transient(const Error& error) {
    return error.code() == ErrorCode::unavailable || error.code() == ErrorCode::internal ||
           error.code() == ErrorCode::rate_limited;
}

// Mentions are checked as a send's are when the message is scheduled or edited (each names a
// member; @all only from who may mention everyone): mentioned_members, whose list the post
// itself makes again when it is due.
void check_mentions(const ChatAccess& access, const std::string& author, const std::vector<TextEntity>& entities) {
    static_cast<void>(mentioned_members(access, author, entities));
}

}  // namespace

std::string posted_client_id(const std::string& scheduled_id) {
    return std::string(scheduled_client_id_prefix) + scheduled_id;
}

ScheduledService::ScheduledService(ChatWrites& writes, MessageService& messages, Workers& workers,
                                   const config::Limits& limits)
    : writes_(writes),
      messages_(messages),
      content_chars_(limits.content_chars),
      schedules_("messages", limits.message_burst, limits.message_rate),
      strand_(boost::asio::make_strand(workers.pool().get_executor())),
      timer_(strand_) {}

void ScheduledService::check_send_at(Timestamp send_at) const {
    const auto now = model::now();
    if (send_at <= now) throw bad_request("send_at must be in the future", "send_at");
    if (send_at > now + max_ahead) throw bad_request("send_at must be at most a year ahead", "send_at");
}

boost::asio::awaitable<std::pair<ScheduledMessage, bool>> ScheduledService::schedule(ScheduleMessage request) {
    auto& m = request.message;
    if (m.type == MessageType::poll) throw bad_request("polls cannot be scheduled", "type");
    messages_.check_send(m);
    // Its root could be deleted before it is due; a thread reply is sent when it is written.
    if (m.thread_root_id) throw bad_request("a scheduled message cannot be a thread reply", "thread_root_id");
    check_send_at(request.send_at);
    schedules_.require(m.sender_id, "messages");
    const auto access = co_await writes_.access(m.chat_id);
    // With a client_id only a non-member is refused before the transaction: a repeat is
    // answered before the rules of posting are asked, as a send's is.
    const auto sender = standing_in(access.get(), m.sender_id);
    if (!m.client_id) {
        rules::may_post(sender, m.type);
        check_mentions(*access, m.sender_id, m.entities);
    }
    auto stored = co_await writes_.pool().run([m, send_at = request.send_at, limit = content_chars_,
                                               access](store::Tx& tx) -> std::pair<ScheduledMessage, bool> {
        const auto repeat = [&m](ScheduledMessage found) -> std::pair<ScheduledMessage, bool> {
            if (found.chat_id != m.chat_id) throw conflict("client_id was used in another chat");
            return {std::move(found), false};
        };
        if (m.client_id) {
            if (auto found = store::scheduled::find_by_client_id(tx, m.sender_id, *m.client_id))
                return repeat(std::move(*found));
        }
        rules::may_post(lock_standing(tx, m.chat_id, m.sender_id), m.type);
        if (m.client_id) check_mentions(*access, m.sender_id, m.entities);
        // Under the chat's row lock: the sender's schedules in it are counted one at a time.
        rules::check_room_for_another(rules::Capped::pending_scheduled,
                                      store::scheduled::pending_in_chat(tx, m.sender_id, m.chat_id));
        std::unordered_set<std::string> claimed;
        check_references(tx, m, claimed);
        ScheduledMessage row{.id = {},
                             .chat_id = m.chat_id,
                             .sender_id = m.sender_id,
                             .send_at = send_at,
                             .type = m.type,
                             .content = m.content,
                             .media_id = m.media_id,
                             .reply_to_id = m.reply_to_id,
                             .metadata = m.metadata,
                             .client_id = m.client_id,
                             .entities = m.entities};
        if (m.from_template) row.content = filled_template(tx, m, limit);
        if (auto inserted = store::scheduled::insert(tx, row)) return {std::move(*inserted), true};
        // The same client_id scheduled at this moment by another request.
        return repeat(std::move(*store::scheduled::find_by_client_id(tx, m.sender_id, *m.client_id)));
    });
    if (stored.second) announce(stored.first);
    co_return stored;
}

boost::asio::awaitable<model::ListPage<ScheduledMessage>> ScheduledService::list(std::string actor,
                                                                                 ScheduledQuery query) {
    if (query.chat_id) require_uuid(*query.chat_id, "chat_id");
    if (query.after) require_uuid(query.after->id, "cursor");
    auto rows = co_await writes_.pool().run([actor, query](store::Tx& tx) {
        return store::scheduled::of_sender(tx, actor, query.status, query.chat_id, query.after, query.limit + 1);
    });
    co_return model::list_page(std::move(rows), query.limit);
}

boost::asio::awaitable<ScheduledMessage> ScheduledService::get(std::string actor, std::string id) {
    require_uuid(id, "scheduled_id");
    co_return co_await writes_.pool().run([actor, id](store::Tx& tx) { return own_scheduled(tx, id, actor); });
}

boost::asio::awaitable<ScheduledMessage> ScheduledService::update(std::string actor, std::string id,
                                                                  ScheduledChange change) {
    require_uuid(id, "scheduled_id");
    if (!change.send_at && !change.content && !change.entities) throw bad_request("nothing to update");
    if (change.send_at) check_send_at(*change.send_at);
    auto updated = co_await writes_.pool().run(
        [actor, id, change, limit = content_chars_, &cache = writes_.cache()](store::Tx& tx) {
            const auto scheduled = own_scheduled(tx, id, actor);
            require_pending(scheduled);
            if (change.content) check_content(*change.content, needs_content(scheduled.type), limit);
            std::optional<std::vector<TextEntity>> entities;
            if (change.content || change.entities) {
                entities = change.entities.value_or(std::vector<TextEntity>{});
                rich_text::validate(change.content.value_or(scheduled.content), *entities);
                if (const auto access = cache.find_or_load(tx, scheduled.chat_id))
                    check_mentions(*access, actor, *entities);
            }
            auto stored = store::scheduled::update(tx, id, {change.send_at, change.content, std::nullopt, entities});
            if (!stored) refuse_changed_meanwhile(tx, id);
            return std::move(*stored);
        });
    announce(updated);
    co_return updated;
}

boost::asio::awaitable<void> ScheduledService::cancel(std::string actor, std::string id) {
    require_uuid(id, "scheduled_id");
    const auto chat_id = co_await writes_.pool().run([actor, id](store::Tx& tx) {
        const auto scheduled = own_scheduled(tx, id, actor);
        if (!store::scheduled::remove(tx, id)) refuse_changed_meanwhile(tx, id);
        return scheduled.chat_id;
    });
    writes_.publish(Occasion::scheduled_changed, ScheduledDeleted{id, chat_id}, {.subject = actor});
}

void ScheduledService::announce(const ScheduledMessage& scheduled) {
    ++changes_;  // the loop looks again: it may be due before the next one it knew of
    writes_.publish(Occasion::scheduled_changed, ScheduledUpdated{scheduled}, {.subject = scheduled.sender_id});
}

void ScheduledService::start() { boost::asio::co_spawn(strand_, loop(), boost::asio::detached); }

void ScheduledService::stop() {
    boost::asio::post(strand_, [this] { timer_.cancel(); });
}

boost::asio::awaitable<void> ScheduledService::loop() {
    for (;;) {
        timer_.expires_after(tick);
        auto [ec] = co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
        if (ec) co_return;  // stopped
        try {
            co_await renew_claims();
        } catch (const std::exception& e) {
            spdlog::warn("scheduled messages: renewing the claims of posts under way failed: {}", e.what());
        }
        const auto changes = changes_.load();
        if (!gate_.due(changes, PollGate::Clock::now())) continue;
        try {
            const auto [work_left, next_send_at] = co_await post_due();
            gate_.looked(changes, PollGate::Clock::now(), work_left, steady_time_of(next_send_at));
        } catch (const std::exception& e) {
            spdlog::warn("scheduled messages: claiming the due ones failed: {}", e.what());
        }
    }
}

// On the strand, as every post: claimed_ is the strand's.
boost::asio::awaitable<std::pair<bool, std::optional<Timestamp>>> ScheduledService::post_due() {
    const int room = claim_limit - static_cast<int>(claimed_.size());
    if (room <= 0) co_return std::pair{true, std::nullopt};
    const auto claimed_at = std::chrono::steady_clock::now();  // no later than the claim's own now()
    auto [due, backlog] = co_await writes_.pool().run([room](store::Tx& tx) {
        auto claimed = store::scheduled::claim_due(tx, room, lease);
        return std::pair{std::move(claimed), store::scheduled::backlog(tx)};
    });
    obs::metrics().scheduled_backlog.only().set(backlog.due);
    // Spawned in send_at order on the strand: each is queued in its chat's lane before the
    // next starts (MessageService::post awaits nothing first), so they post in that order.
    for (auto& scheduled : due) {
        claimed_.emplace(scheduled.id, claimed_at);
        boost::asio::co_spawn(strand_, post(std::move(scheduled)), boost::asio::detached);
    }
    co_return std::pair{backlog.due > 0 || !claimed_.empty(), backlog.next_send_at};
}

boost::asio::awaitable<void> ScheduledService::renew_claims() {
    const auto now = std::chrono::steady_clock::now();
    std::vector<std::string> held_long;
    for (const auto& [id, claimed_at] : claimed_)
        if (now - claimed_at >= renew_after) held_long.push_back(id);
    if (held_long.empty()) co_return;
    co_await writes_.pool().run([held_long](store::Tx& tx) {
        store::scheduled::renew_claims(tx, held_long, lease);
        return true;
    });
    for (const auto& id : held_long)
        if (const auto found = claimed_.find(id); found != claimed_.end()) found->second = now;
}

boost::asio::awaitable<void> ScheduledService::post(ScheduledMessage scheduled) {
    const auto id = scheduled.id;
    std::optional<std::string> message_id;
    std::optional<Error> refusal;
    std::optional<std::chrono::milliseconds> retry_after;
    try {
        if (is_media(scheduled.type) && !scheduled.media_id)
            throw bad_request("the scheduled message's upload was removed", "media_id");
        auto sent = co_await messages_.post(SendMessage{.chat_id = scheduled.chat_id,
                                                        .sender_id = scheduled.sender_id,
                                                        .type = scheduled.type,
                                                        .content = scheduled.content,
                                                        .media_id = scheduled.media_id,
                                                        .reply_to_id = scheduled.reply_to_id,
                                                        .metadata = scheduled.metadata,
                                                        .location = std::nullopt,
                                                        .client_id = posted_client_id(scheduled.id),
                                                        .from_template = std::nullopt,
                                                        .poll = std::nullopt,
                                                        .entities = scheduled.entities,
                                                        .by_host_backend = false,
                                                        .mentions_checked_before = true});
        message_id = sent.message.id;
    } catch (const Error& error) {
        if (!is_transient(error)) refusal = error;
        else if (error.retry_after_ms) retry_after = std::chrono::milliseconds(*error.retry_after_ms);
    } catch (const std::exception& e) {
        spdlog::warn("scheduled message {}: posting failed, will retry: {}", id, e.what());
    }
    try {
        if (message_id || refusal) co_await finish(std::move(scheduled), message_id, refusal);
        // Tried again once the wait it was given is over, not when its whole claim lapses.
        else if (retry_after)
            co_await writes_.pool().run([id, wait = *retry_after](store::Tx& tx) {
                store::scheduled::retry_after(tx, id, wait);
                return true;
            });
    } catch (const std::exception& e) {
        spdlog::warn("scheduled message {}: recording its outcome failed, will retry: {}", id, e.what());
    }
    claimed_.erase(id);
}

boost::asio::awaitable<void> ScheduledService::finish(ScheduledMessage scheduled, std::optional<std::string> message_id,
                                                      std::optional<Error> refusal) {
    const auto id = scheduled.id;
    auto finished = co_await writes_.pool().run([id, message_id, refusal](store::Tx& tx) {
        if (message_id) return store::scheduled::mark_sent(tx, id, *message_id);
        return store::scheduled::mark_cancelled(tx, id, std::string(to_string(refusal->code())), refusal->what());
    });
    if (!finished) co_return;  // another claim finished it first
    obs::metrics().scheduled_done.with({message_id ? "sent" : "cancelled"}).inc();
    announce(*finished);
}

}  // namespace confab::domain
