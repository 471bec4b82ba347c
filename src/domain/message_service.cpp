#include "confab/domain/message_service.hpp"

#include "confab/domain/media_service.hpp"
#include "confab/domain/validation.hpp"
#include "confab/store/media.hpp"
#include "confab/store/messages.hpp"

#include "confab/obs/metrics.hpp"

#include <pqxx/except>

#include <array>

namespace confab::domain {
namespace {

constexpr std::size_t max_emoji_bytes = 32;
constexpr int max_distinct_emoji = 20;
constexpr std::size_t max_client_id = 64;

// One counter per message type, looked up once: no lock per message.
void count_sent(MessageType type) {
    static const auto counters = [] {
        std::array<obs::Counter*, 7> all{};
        for (int t = 0; t < 7; ++t)
            all[static_cast<std::size_t>(t)] =
                &obs::metrics().messages_sent.with({std::string(to_string(static_cast<MessageType>(t)))});
        return all;
    }();
    counters[static_cast<std::size_t>(type)]->inc();
}

void deliver(Effects& effects, Event event, const std::string& chat_id) {
    effects.deliveries.push_back({std::move(event), chat_id, {}});
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
    const auto access = co_await writes_.access(m.chat_id);
    const auto role = require_member(access.get(), m.sender_id);
    if (access->settings.only_admins_can_post && role == Role::member)
        throw forbidden("only admins can post in this group");
    auto sent = co_await writes_.commit(m.chat_id, [m](pqxx::transaction_base& tx) {
        if (!store::chats::lock(tx, m.chat_id)) throw not_found("chat");
        Outcome<Sent> outcome;
        if (m.client_id) {
            if (auto stored = store::messages::find_by_client_id(tx, m.sender_id, *m.client_id)) {
                if (stored->chat_id != m.chat_id) throw conflict("client_id was used in another chat");
                outcome.value = {std::move(*stored), false};
                return outcome;
            }
        }
        if (m.reply_to_id && store::messages::chat_of(tx, *m.reply_to_id) != m.chat_id)
            throw bad_request("reply_to_id must be a message of the same chat", "reply_to_id");
        if (m.media_id) {
            const auto media = store::media::find(tx, *m.media_id);
            if (!media || media->uploader_id != m.sender_id || media->chat_id != m.chat_id ||
                to_string(media->kind) != to_string(m.type))
                throw bad_request("media_id must be your upload of this kind to this chat", "media_id");
            if (media->attached) throw conflict("this upload is already attached to a message");
            store::media::mark_attached(tx, *m.media_id);
        }
        std::optional<Message> stored;
        try {
            stored = store::messages::insert(tx, {m.chat_id, m.sender_id, m.type, m.content, m.reply_to_id,
                                                  m.metadata.text, m.client_id, m.media_id});
        } catch (const pqxx::unique_violation&) {  // the same client_id sent to another chat at once
            throw conflict("client_id was used in another chat");
        }
        if (!stored) throw not_found("chat");
        deliver(outcome.effects, MessageCreated{*stored}, m.chat_id);
        count_sent(m.type);
        outcome.value = {std::move(*stored), true};
        return outcome;
    });
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
    require_member((co_await writes_.access(chat_id)).get(), actor);
    auto messages = co_await writes_.pool().run([chat_id, q](pqxx::transaction_base& tx) {
        return store::messages::page(tx, chat_id, q.before_seq, q.after_seq, q.limit + 1);
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
    require_member((co_await writes_.access(chat_id)).get(), actor);
    co_return co_await writes_.pool().run([actor, chat_id, since_version, limit](pqxx::transaction_base& tx) {
        SyncPage page;
        auto view = store::chats::view(tx, chat_id, actor);
        if (!view) throw not_found("chat");
        page.version = view->chat.version;
        page.messages = store::messages::changed_since(tx, chat_id, since_version, limit + 1);
        page.has_more = static_cast<int>(page.messages.size()) > limit;
        if (page.has_more) page.messages.pop_back();
        return page;
    });
}


boost::asio::awaitable<Message> MessageService::get(std::string actor, std::string message_id) {
    co_return (co_await writes_.visible_message(actor, message_id)).first;
}

boost::asio::awaitable<Message> MessageService::edit(std::string actor, std::string message_id, std::string content) {
    validate_content(content, true);
    auto [message, role] = co_await writes_.visible_message(actor, message_id);
    if (message.sender_id != actor) throw forbidden("only the sender can edit a message");
    if (message.is_deleted) throw conflict("message is deleted");
    if (message.type == MessageType::location || message.type == MessageType::system)
        throw bad_request("only text messages and captions can be edited", "content");
    const auto chat_id = message.chat_id;
    writes_.track({"message.edited", actor, chat_id});
    co_return co_await writes_.commit(chat_id, [chat_id, message_id, content](pqxx::transaction_base& tx) {
        // Re-read under the chat lock: a concurrent delete wins.
        store::chats::lock(tx, chat_id);
        const auto version = store::messages::next_version(tx, chat_id);
        auto current = store::messages::find(tx, message_id);
        if (!current || current->is_deleted) throw conflict("message is deleted");
        store::messages::edit(tx, message_id, content, version);
        Outcome<Message> outcome{*store::messages::find(tx, message_id), {}};
        deliver(outcome.effects, MessageUpdated{outcome.value}, chat_id);
        return outcome;
    });
}

boost::asio::awaitable<void> MessageService::remove(std::string actor, std::string message_id) {
    auto [message, role] = co_await writes_.visible_message(actor, message_id);
    const auto access = co_await writes_.access(message.chat_id);
    const bool moderator = access->type == ChatType::group && role != Role::member;
    if (message.sender_id != actor && !moderator) throw forbidden("only the sender or an admin can delete a message");
    if (message.is_deleted) throw conflict("message is already deleted");
    const auto chat_id = message.chat_id;
    auto orphaned_bytes = co_await writes_.commit(chat_id, [chat_id, message_id](pqxx::transaction_base& tx) {
        store::chats::lock(tx, chat_id);
        const auto version = store::messages::next_version(tx, chat_id);
        auto current = store::messages::find(tx, message_id);
        if (!current || current->is_deleted) throw conflict("message is already deleted");
        store::messages::tombstone(tx, message_id, version);
        Outcome<std::optional<std::string>> outcome;
        if (current->media) outcome.value = store::media::remove(tx, current->media->id);
        deliver(outcome.effects, MessageDeleted{message_id, chat_id, version}, chat_id);
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
    auto [message, role] = co_await writes_.visible_message(actor, message_id);
    if (message.is_deleted) throw conflict("message is deleted");
    const auto chat_id = message.chat_id;
    const bool changed = co_await writes_.commit(chat_id, [chat_id, message_id, actor, emoji, add](pqxx::transaction_base& tx) {
        store::chats::lock(tx, chat_id);  // one reaction change per chat at a time: the 20-emoji cap holds
        Outcome<bool> outcome{false, {}};
        const bool changed = add ? store::messages::add_reaction(tx, message_id, actor, emoji)
                                 : store::messages::remove_reaction(tx, message_id, actor, emoji);
        if (!changed) return outcome;  // idempotent: nothing moves, nothing is sent
        if (add && store::messages::distinct_emoji(tx, message_id) > max_distinct_emoji)
            throw conflict("a message has at most 20 distinct reactions");
        store::messages::set_version(tx, message_id, store::messages::next_version(tx, chat_id));
        auto current = store::messages::find(tx, message_id);
        if (!current || current->is_deleted) throw conflict("message is deleted");
        deliver(outcome.effects, MessageUpdated{std::move(*current)}, chat_id);
        outcome.value = true;
        return outcome;
    });
    if (changed) writes_.track({add ? "reaction.added" : "reaction.removed", actor, chat_id});
}

boost::asio::awaitable<void> MessageService::mark_read(std::string actor, std::string chat_id, std::int64_t seq) {
    require_uuid(chat_id, "chat_id");
    if (seq < 0) throw bad_request("seq must be a non-negative integer", "seq");
    require_member((co_await writes_.access(chat_id)).get(), actor);
    co_await writes_.commit(chat_id, [actor, chat_id, seq](pqxx::transaction_base& tx) {
        Outcome<bool> outcome{false, {}};
        const auto moved = store::members::advance_read(tx, chat_id, actor, seq);
        if (!moved) return outcome;
        deliver(outcome.effects, ReadUpdated{chat_id, actor, *moved}, chat_id);
        outcome.value = true;
        return outcome;
    });
}

}  // namespace confab::domain
