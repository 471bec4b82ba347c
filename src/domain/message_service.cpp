#include "confab/domain/message_service.hpp"

#include "confab/domain/media_service.hpp"
#include "confab/domain/rules.hpp"
#include "confab/domain/validation.hpp"
#include "confab/store/media.hpp"
#include "confab/store/messages.hpp"
#include "confab/store/search.hpp"

#include "confab/obs/metrics.hpp"

#include <chrono>

namespace confab::domain {
namespace {

constexpr std::size_t max_emoji_bytes = 32;
constexpr int max_distinct_emoji = 20;
constexpr std::size_t max_client_id = 64;
constexpr std::size_t max_search_chars = 256;

// The message as `viewer` reads it (store::attach_reactions).
Message message_of(store::Tx& tx, const std::string& message_id, const std::string& viewer) {
    auto message = store::messages::find(tx, message_id, viewer);
    if (!message) throw not_found("message");
    return std::move(*message);
}

}  // namespace

void MessageService::validate_content(const std::string& content, bool required) const {
    const auto length = code_points(content);
    if (required && length == 0) throw bad_request("content must not be empty", "content");
    if (length > limits_.content_chars)
        throw Error(ErrorCode::payload_too_large,
                    "content is longer than " + std::to_string(limits_.content_chars) + " characters", "content");
}

boost::asio::awaitable<Sent> MessageService::send(SendMessage m) {
    require_uuid(m.chat_id, "chat_id");
    if (m.reply_to_id) require_uuid(*m.reply_to_id, "reply_to_id");
    if (m.client_id && (m.client_id->empty() || m.client_id->size() > max_client_id))
        throw bad_request("client_id must be 1-64 characters", "client_id");
    switch (m.type) {
        case MessageType::text: validate_content(m.content, true); break;
        case MessageType::location:
            if (!m.location) throw bad_request("location messages need metadata.location", "metadata");
            validate_content(m.content, false);
            break;
        case MessageType::system: throw bad_request("system messages are written by the server", "type");
        default:
            validate_content(m.content, false);
            if (!m.media_id) throw bad_request("media messages need a media_id", "media_id");
            require_uuid(*m.media_id, "media_id");
    }
    sends_.require(m.sender_id, "messages");
    // Nothing is awaited before the send is queued in its chat's lane, so a connection's
    // sends keep the order it read them in even when several are in flight (net::WsSession).
    // A cached access refuses a sender early; otherwise the writer checks it.
    if (const auto access = writes_.cache().find(m.chat_id)) rules::may_post(standing_in(access.get(), m.sender_id));
    const auto chat_id = m.chat_id;
    auto sent = co_await writes_.commit_batched(chat_id, std::move(m), send_writer_);
    if (sent.created) track_send(sent.message);
    co_return sent;
}

void MessageService::track_send(const Message& message) {
    const bool reply = message.reply_to_id.has_value();
    writes_.track({"message.sent", message.sender_id, message.chat_id,
                   std::string(R"({"type":")") + std::string(to_string(message.type)) + R"(","reply":)" +
                       (reply ? "true" : "false") + "}"});
    if (message.media)
        writes_.track({"media.shared", message.sender_id, message.chat_id,
                       std::string(R"({"kind":")") + std::string(to_string(message.media->kind)) + R"(","bytes":)" +
                           std::to_string(message.media->size_bytes) + "}"});
}

boost::asio::awaitable<HistoryPage> MessageService::history(std::string actor, std::string chat_id, HistoryQuery q) {
    require_uuid(chat_id, "chat_id");
    co_await writes_.standing(chat_id, actor);
    auto messages = co_await writes_.pool().run([actor, chat_id, q](store::Tx& tx) {
        return store::messages::page(tx, chat_id, q.before_seq, q.after_seq, q.limit + 1, actor);
    });
    HistoryPage page;
    const bool more = static_cast<int>(messages.size()) > q.limit;
    if (more) messages.pop_back();
    // The next cursor continues in the page's direction; newest-first pages go to older seqs.
    if (more && !messages.empty()) page.next_cursor = messages.back().seq;
    page.messages = std::move(messages);
    co_return page;
}

boost::asio::awaitable<SyncPage> MessageService::sync(std::string actor, std::string chat_id,
                                                      std::int64_t since_version, int limit) {
    require_uuid(chat_id, "chat_id");
    co_await writes_.standing(chat_id, actor);
    co_return co_await writes_.pool().run([actor, chat_id, since_version, limit](store::Tx& tx) {
        SyncPage page;
        auto view = store::chats::view(tx, chat_id, actor);
        if (!view) throw not_found("chat");
        page.version = view->chat.version;
        page.messages = store::messages::changed_since(tx, chat_id, since_version, limit + 1, actor);
        page.has_more = static_cast<int>(page.messages.size()) > limit;
        if (page.has_more) page.messages.pop_back();
        return page;
    });
}

boost::asio::awaitable<Message> MessageService::get(std::string actor, std::string message_id) {
    co_return (co_await writes_.visible_message(actor, message_id)).first;
}

boost::asio::awaitable<SearchPage> MessageService::search(std::string actor, SearchQuery q) {
    if (!is_valid_utf8(q.text) || q.text.find('\0') != std::string::npos || code_points(q.text) == 0 ||
        code_points(q.text) > max_search_chars)
        throw bad_request("q must be 1-256 characters of text", "q");
    // A chat the caller may not read is 404 before anything is searched, as for its history;
    // the statement itself keeps to the caller's chats all the same.
    if (q.chat_id) co_await writes_.standing(*q.chat_id, actor);
    const auto started = std::chrono::steady_clock::now();
    auto hits = co_await writes_.pool().run([actor, q](store::Tx& tx) {
        return store::search::messages(tx, {actor, q.text, q.chat_id, q.after, q.limit + 1});
    });
    obs::metrics()
        .search_duration.with({q.chat_id ? "chat" : "all"})
        .observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    SearchPage page;
    const bool more = static_cast<int>(hits.size()) > q.limit;
    if (more) {
        hits.pop_back();
        page.next = hits.back().position;
    }
    page.results.reserve(hits.size());
    for (auto& found : hits) page.results.push_back(std::move(found.hit));
    co_return page;
}

boost::asio::awaitable<Message> MessageService::edit(std::string actor, std::string message_id, std::string content) {
    validate_content(content, true);
    changes_.require(actor, "edits and reactions");
    const auto [message, standing] = co_await writes_.visible_message(actor, message_id);
    rules::may_edit_message(actor, message);
    const auto chat_id = message.chat_id;
    writes_.track({"message.edited", actor, chat_id});
    co_return co_await writes_.commit(chat_id, [actor, chat_id, message_id, content](store::Tx& tx) {
        // Judged again under the chat lock: a concurrent delete, or the sender leaving, wins.
        lock_standing(tx, chat_id, actor, "message");
        rules::may_edit_message(actor, message_of(tx, message_id, actor));
        store::messages::edit(tx, message_id, content, store::messages::next_version(tx, chat_id));
        Outcome<Message> outcome{message_of(tx, message_id, actor), {}};
        outcome.effects.to_members(MessageUpdated{outcome.value}, chat_id);
        return outcome;
    });
}

boost::asio::awaitable<void> MessageService::remove(std::string actor, std::string message_id) {
    const auto [message, standing] = co_await writes_.visible_message(actor, message_id);
    rules::may_delete_message(standing, actor, message);
    const auto chat_id = message.chat_id;
    auto orphaned_bytes = co_await writes_.commit(chat_id, [actor, chat_id, message_id](store::Tx& tx) {
        const auto now = lock_standing(tx, chat_id, actor, "message");
        const auto current = message_of(tx, message_id, actor);
        rules::may_delete_message(now, actor, current);
        const auto version = store::messages::next_version(tx, chat_id);
        store::messages::tombstone(tx, message_id, version);
        Outcome<std::optional<std::string>> outcome;
        if (current.media) outcome.value = store::media::remove(tx, current.media->id);
        outcome.effects.to_members(MessageDeleted{message_id, chat_id, version}, chat_id);
        return outcome;
    });
    writes_.track({"message.deleted", actor, chat_id});
    co_await release_bytes(writes_.pool(), storage_, std::move(orphaned_bytes));
}

boost::asio::awaitable<void> MessageService::react(std::string actor, std::string message_id, std::string emoji,
                                                   bool add) {
    if (emoji.empty() || emoji.size() > max_emoji_bytes || !is_valid_utf8(emoji) ||
        emoji.find('\0') != std::string::npos)
        throw bad_request("emoji must be 1-32 bytes of UTF-8", "emoji");
    changes_.require(actor, "edits and reactions");
    const auto [message, standing] = co_await writes_.visible_message(actor, message_id);
    if (message.is_deleted) throw conflict("message is deleted");
    const auto chat_id = message.chat_id;
    const bool changed = co_await writes_.commit(chat_id, [chat_id, message_id, actor, emoji, add](store::Tx& tx) {
        // One reaction change per chat at a time: the 20-emoji cap holds. A reactor who has
        // left since is refused.
        lock_standing(tx, chat_id, actor, "message");
        if (message_of(tx, message_id, actor).is_deleted) throw conflict("message is deleted");
        Outcome<bool> outcome{false, {}};
        const bool changed = add ? store::messages::add_reaction(tx, message_id, actor, emoji)
                                 : store::messages::remove_reaction(tx, message_id, actor, emoji);
        if (!changed) return outcome;  // idempotent: nothing moves, nothing is sent
        if (add && store::messages::distinct_emoji(tx, message_id) > max_distinct_emoji)
            throw conflict("a message has at most 20 distinct reactions");
        store::messages::set_version(tx, message_id, store::messages::next_version(tx, chat_id));
        outcome.effects.to_members(MessageUpdated{message_of(tx, message_id, actor)}, chat_id);
        outcome.value = true;
        return outcome;
    });
    if (changed) writes_.track({add ? "reaction.added" : "reaction.removed", actor, chat_id});
}

boost::asio::awaitable<void> MessageService::mark_read(std::string actor, std::string chat_id, std::int64_t seq) {
    require_uuid(chat_id, "chat_id");
    if (seq < 0) throw bad_request("seq must be a non-negative integer", "seq");
    co_await writes_.standing(chat_id, actor);
    co_await writes_.commit(chat_id, [actor, chat_id, seq](store::Tx& tx) {
        Outcome<bool> outcome{false, {}};
        const auto moved = store::members::advance_read(tx, chat_id, actor, seq);
        if (!moved) return outcome;
        outcome.effects.to_members(ReadUpdated{chat_id, actor, *moved}, chat_id);
        outcome.value = true;
        return outcome;
    });
}

}  // namespace confab::domain
