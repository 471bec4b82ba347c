#include "confab/domain/message_service.hpp"

#include "confab/domain/group_writes.hpp"
#include "confab/domain/media_service.hpp"
#include "confab/domain/polls.hpp"
#include "confab/domain/rich_text.hpp"
#include "confab/domain/rules.hpp"
#include "confab/domain/validation.hpp"
#include "confab/store/chats.hpp"
#include "confab/store/media.hpp"
#include "confab/store/mentions.hpp"
#include "confab/store/messages.hpp"
#include "confab/store/search.hpp"

#include "confab/obs/metrics.hpp"

#include <chrono>

namespace confab::domain {
namespace {

constexpr std::size_t max_emoji_bytes = 32;
constexpr int max_distinct_emoji = 20;
constexpr std::size_t max_search_chars = 256;

// Where the page after the first `limit` of the messages read (up to `limit + 1`) starts: a
// message past the page says there is more, and the next cursor continues in the page's
// direction (newest-first pages go to older seqs).
std::optional<std::int64_t> next_cursor_of(std::span<const Message> read, int limit) {
    if (limit <= 0 || read.size() <= static_cast<std::size_t>(limit)) return std::nullopt;
    return read[static_cast<std::size_t>(limit) - 1].seq;
}

// A page of at most `limit` from up to `limit + 1` messages read.
HistoryPage paged(std::vector<Message> messages, int limit) {
    HistoryPage page;
    page.next_cursor = next_cursor_of(messages, limit);
    if (static_cast<int>(messages.size()) > limit) messages.pop_back();
    page.messages = std::move(messages);
    return page;
}

}  // namespace

std::span<const Message> SharedPage::messages() const {
    const auto& kept = kept_->stored().messages;
    return std::span(kept).first(std::min(kept.size(), static_cast<std::size_t>(limit_)));
}

std::optional<std::int64_t> SharedPage::next_cursor() const { return next_cursor_of(kept_->stored().messages, limit_); }

void MessageService::validate_content(const std::string& content, bool required) const {
    check_content(content, required, limits_.content_chars);
}

void MessageService::check_send(const SendMessage& m) const {
    require_uuid(m.chat_id, "chat_id");
    if (m.reply_to_id) require_uuid(*m.reply_to_id, "reply_to_id");
    if (m.thread_root_id) require_uuid(*m.thread_root_id, "thread_root_id");
    if (m.media_id) require_uuid(*m.media_id, "media_id");
    require_client_id(m.client_id);
    if (m.poll && m.type != MessageType::poll) throw bad_request("poll is for poll messages", "poll");
    if (m.poll && m.from_template) throw bad_request("a poll's content is its question", "template_id");
    if (m.from_template) {
        if (!m.content.empty()) throw bad_request("send content or template_id, not both", "content");
        require_uuid(m.from_template->template_id, "template_id");
        if (!m.entities.empty()) throw bad_request("a template's content takes no entities", "entities");
    }
    switch (m.type) {
        case MessageType::text: validate_content(m.content, !m.from_template); break;
        case MessageType::poll:
            if (!m.poll) throw bad_request("poll messages need a poll", "poll");
            if (m.media_id) throw bad_request("a poll has no media", "media_id");
            polls::check_new(m.content, *m.poll, model::now());
            break;
        case MessageType::location:
            if (!m.location) throw bad_request("location messages need metadata.location", "metadata");
            validate_content(m.content, false);
            break;
        case MessageType::system:
            if (!m.by_host_backend) throw bad_request("system messages are written by the server", "type");
            validate_content(m.content, true);
            break;
        default:
            validate_content(m.content, false);
            if (!m.media_id) throw bad_request("media messages need a media_id", "media_id");
    }
    rich_text::validate(m.content, m.entities);
}

void MessageService::spend_send(const std::string& sender_id) { sends_.require(sender_id, "messages"); }

boost::asio::awaitable<SendMessage> MessageService::fill_template(SendMessage m) {
    m.chat_id.clear();  // no chat's templates: only the sender's own
    m.content = co_await writes_.pool().run(
        [&m, chars = limits_.content_chars](store::Tx& tx) { return filled_template(tx, m, chars); });
    m.from_template.reset();
    co_return m;
}

boost::asio::awaitable<Sent> MessageService::send(SendMessage m) {
    check_send(m);
    spend_send(m.sender_id);
    co_return co_await post(std::move(m));
}

boost::asio::awaitable<Sent> MessageService::post(SendMessage m) {
    // Nothing is awaited before the send is queued in its chat's lane, so a connection's
    // sends keep the order it read them in even when several are in flight (net::WsSession).
    // A cached access refuses a sender early; otherwise the writer checks it, as committed:
    // always on a node whose cache another node's change (an add, an unblock) may not have reached.
    // With a client_id only a non-member is refused here: a repeat is answered before the rules
    // of posting are asked (SendWriter::write).
    const auto access = writes_.cache().find(m.chat_id);
    if (access && !writes_.shared_with_others()) {
        const auto sender = standing_in(access.get(), m.sender_id);
        if (!m.client_id) rules::may_post(sender, m.type);
    }
    // A mention of everyone stores a mention per member (a large group's: up to 200,000 rows).
    const auto weight = !rich_text::mentions_in(m.entities).everyone ? store::Weight::light
                        : access                                     ? weight_for(access->members.size())
                                                                     : store::Weight::heavy;
    const auto chat_id = m.chat_id;
    auto sent = co_await writes_.commit_batched(chat_id, std::move(m), send_writer_, weight);
    if (sent.created) track_send(sent.message);
    co_return sent;
}

void MessageService::track_send(const Message& message) {
    writes_.track({"message.sent", message.sender_id, message.chat_id, std::string(to_string(message.type))});
    if (message.media)
        writes_.track({"media.shared", message.sender_id, message.chat_id, std::string(to_string(message.media->kind)),
                       message.media->size_bytes});
}

boost::asio::awaitable<HistoryPage> MessageService::history(std::string actor, std::string chat_id, HistoryQuery q) {
    co_await writes_.standing(chat_id, actor);
    if (!q.before_seq && !q.after_seq && newest_pages_.enabled())
        co_return co_await newest_page(std::move(actor), std::move(chat_id), q);
    // A page's messages, then their reactions and polls (a moment newer at most): no transaction.
    auto messages = co_await writes_.pool().read([actor, chat_id, q](store::Tx& tx) {
        return store::messages::page(tx, chat_id, {q.before_seq, q.after_seq, q.limit + 1}, q.include_thread_replies,
                                     actor);
    });
    co_return paged(std::move(messages), q.limit);
}

boost::asio::awaitable<HistoryPage> MessageService::newest_page(std::string actor, std::string chat_id,
                                                                HistoryQuery q) {
    static obs::Counter& from_cache = obs::metrics().history_pages.with({"cache"});
    static obs::Counter& from_database = obs::metrics().history_pages.with({"database"});
    // The stamp first: a page read after it is at least as new as its version says.
    const auto stamp = co_await page_stamp(actor, chat_id);
    if (!stamp) throw not_found("chat");  // deleted since the standing was read
    // One more than the page: it tells whether there are more.
    const auto count = static_cast<std::size_t>(q.limit) + 1;
    auto kept = newest_pages_.find(chat_id, q.include_thread_replies, stamp->version);
    if (kept && !kept->covers(count, stamp->hidden)) kept = nullptr;
    (kept ? from_cache : from_database).inc();
    if (kept && stamp->hidden.empty() && !kept->has_live_parts(count))
        co_return HistoryPage{.shared = SharedPage(std::move(kept), q.limit)};
    auto messages = co_await writes_.pool().read([this, actor, chat_id, q, count, stamp, kept](store::Tx& tx) {
        if (!kept && !stamp->hidden.empty())
            return store::messages::page(tx, chat_id, {.limit = q.limit + 1}, q.include_thread_replies, actor);
        auto page = kept ? kept->first(count, stamp->hidden)
                         : store::messages::newest_stored(tx, chat_id, q.include_thread_replies, q.limit + 1);
        if (!kept) newest_pages_.keep(chat_id, q.include_thread_replies, stamp->version, page, count);
        store::messages::attach_live(tx, page.messages, page.reacted, actor);
        return std::move(page.messages);
    });
    co_return paged(std::move(messages), q.limit);
}

boost::asio::awaitable<std::optional<store::messages::PageStamp>> MessageService::page_stamp(
    const std::string& actor, const std::string& chat_id) {
    try {
        co_return co_await page_stamps_.read(chat_id, actor);
    } catch (const store::Unavailable&) {
        // No connection of this thread's: the pool reads it (and says so if it cannot either).
    }
    co_return co_await writes_.pool().read(
        [actor, chat_id](store::Tx& tx) { return store::messages::page_stamp(tx, chat_id, actor); });
}

boost::asio::awaitable<std::int64_t> MessageService::settled_seq(std::string chat_id, std::int64_t below,
                                                                 std::chrono::milliseconds age,
                                                                 std::chrono::system_clock::time_point stored_before) {
    co_return co_await writes_.pool().read([chat_id, below, age, stored_before](store::Tx& tx) {
        return store::messages::settled_seq(tx, chat_id, below, age, stored_before);
    });
}

boost::asio::awaitable<ThreadPage> MessageService::thread(std::string actor, std::string root_id, HistoryQuery q) {
    auto root = (co_await writes_.visible_message(actor, root_id)).first;
    auto replies = co_await writes_.pool().read([actor, root_id, chat_id = root.chat_id, q](store::Tx& tx) {
        return store::messages::thread_page(tx, root_id, chat_id, {q.before_seq, q.after_seq, q.limit + 1}, actor);
    });
    co_return ThreadPage{std::move(root), paged(std::move(replies), q.limit)};
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
        auto messages = store::messages::changed_since(tx, chat_id, since_version, limit + 1, actor);
        const auto hidden = store::messages::hidden_since(tx, chat_id, actor, since_version, limit + 1);
        // The first `limit` changes of both kinds, in version order.
        std::size_t taken_messages = 0;
        std::size_t taken_hidden = 0;
        while (static_cast<int>(taken_messages + taken_hidden) < limit) {
            const bool message_left = taken_messages < messages.size();
            const bool hidden_left = taken_hidden < hidden.size();
            if (message_left && (!hidden_left || messages[taken_messages].version < hidden[taken_hidden].version)) {
                ++taken_messages;
            } else if (hidden_left) {
                page.hidden.push_back({hidden[taken_hidden].message_id, chat_id, hidden[taken_hidden].version});
                ++taken_hidden;
            } else {
                break;
            }
        }
        page.has_more = taken_messages < messages.size() || taken_hidden < hidden.size();
        messages.resize(taken_messages);
        page.messages = std::move(messages);
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

boost::asio::awaitable<Message> MessageService::edit(std::string actor, std::string message_id, std::string content,
                                                     std::vector<TextEntity> entities) {
    validate_content(content, false);
    rich_text::validate(content, entities);
    changes_.require(actor, "edits and reactions");
    const auto [message, standing] = co_await writes_.visible_message(actor, message_id);
    // A media message's caption may be removed (""); a text message keeps content.
    validate_content(content, needs_content(message.type));
    rules::may_edit_message(actor, message);
    const auto chat_id = message.chat_id;
    writes_.track({"message.edited", actor, chat_id});
    co_return co_await writes_.commit(chat_id, [this, actor, chat_id, message_id, content,
                                                entities = std::move(entities)](store::Tx& tx) {
        // Judged again under the chat lock: a concurrent delete, or the sender leaving, wins.
        const auto now = lock_standing(tx, chat_id, actor, "message");
        const auto before = message_of(tx, message_id, actor);
        rules::may_edit_message(actor, before);
        std::vector<std::string> mentioned;
        if (!entities.empty())
            mentioned = mentioned_members(
                *writes_.cache().seen_in(tx, chat_id, store::chats::access_version(tx, chat_id)).access, actor,
                entities);
        store::messages::edit(tx, message_id, content, entities, store::messages::next_version(tx, chat_id));
        Outcome<Message> outcome{message_of(tx, message_id, actor), {}};
        outcome.effects.in_chat(Occasion::message_updated, MessageUpdated{as_members_see(tx, outcome.value, now)},
                                chat_id);
        if (!mentioned.empty() || !rich_text::mentions_in(before.entities).empty()) {
            store::mentions::keep_only(tx, message_id, mentioned);
            tell_mentioned(outcome.effects, outcome.value, store::mentions::add(tx, outcome.value, mentioned));
        }
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
        Outcome<std::vector<std::string>> outcome;
        if (current.media) outcome.value = store::media::remove(tx, current.media->id);
        outcome.effects.in_chat(Occasion::message_deleted, MessageDeleted{message_id, chat_id, version}, chat_id);
        // A deleted reply leaves its thread: the root's summary no longer counts it.
        if (const auto& root_id = current.thread_root_id) {
            store::messages::recount_thread(tx, *root_id, store::messages::next_version(tx, chat_id));
            outcome.effects.in_chat(Occasion::message_updated, MessageUpdated{message_of(tx, *root_id, "")}, chat_id);
        }
        return outcome;
    });
    writes_.track({"message.deleted", actor, chat_id});
    co_await release_bytes(writes_.pool(), storage_, std::move(orphaned_bytes));
}

boost::asio::awaitable<void> MessageService::react(std::string actor, std::string message_id, std::string emoji,
                                                   bool add) {
    if (emoji.empty() || emoji.size() > max_emoji_bytes || !is_plain_text(emoji) || !shows_something(emoji))
        throw bad_request("emoji must be 1-32 bytes of UTF-8 that shows, without control or bidirectional characters",
                          "emoji");
    changes_.require(actor, "edits and reactions");
    const auto [message, standing] = co_await writes_.visible_message(actor, message_id);
    rules::may_react(standing);
    if (message.is_deleted) {
        if (!add) co_return;  // a deleted message has no reactions left: removing one changes nothing
        throw conflict("message is deleted");
    }
    const auto chat_id = message.chat_id;
    const bool changed = co_await writes_.commit(chat_id, [chat_id, message_id, actor, emoji, add](store::Tx& tx) {
        // One reaction change per chat at a time: the 20-emoji cap holds. A reactor who has
        // left (or was restricted) since is refused.
        const auto now = lock_standing(tx, chat_id, actor, "message");
        rules::may_react(now);
        Outcome<bool> outcome{false, {}};
        if (message_of(tx, message_id, actor).is_deleted) {
            if (!add) return outcome;  // deleted meanwhile: nothing left to remove
            throw conflict("message is deleted");
        }
        const bool changed = add ? store::messages::add_reaction(tx, message_id, actor, emoji)
                                 : store::messages::remove_reaction(tx, message_id, actor, emoji);
        if (!changed) return outcome;  // idempotent: nothing moves, nothing is sent
        if (add && store::messages::distinct_emoji(tx, message_id) > max_distinct_emoji)
            throw conflict("a message has at most 20 distinct reactions");
        store::messages::set_version(tx, message_id, store::messages::next_version(tx, chat_id));
        outcome.effects.in_chat(Occasion::message_updated,
                                MessageUpdated{as_members_see(tx, message_of(tx, message_id, actor), now)}, chat_id);
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
        ReadUpdated read{chat_id, actor, moved->last_read_seq};
        Privacy reader;
        reader.send_read_receipts = moved->send_read_receipts;
        if (rules::sees_reads(reader, false)) {
            outcome.effects.in_chat(Occasion::read_updated, std::move(read), chat_id, {.actor = actor});
        } else {
            outcome.effects.deliver(Occasion::read_kept, std::move(read), {.actor = actor});
        }
        outcome.value = true;
        return outcome;
    });
}

boost::asio::awaitable<bool> MessageService::pin(std::string actor, std::string message_id, bool pin) {
    changes_.require(actor, "edits, reactions and pins");
    const auto [message, standing] = co_await writes_.visible_message(actor, message_id);
    rules::may_pin(standing, message, pin);
    const auto chat_id = message.chat_id;
    co_return co_await writes_.commit(chat_id, [actor, chat_id, message_id, pin](store::Tx& tx) {
        const auto now = lock_standing(tx, chat_id, actor, "message");
        const auto current = message_of(tx, message_id, actor);
        rules::may_pin(now, current, pin);
        Outcome<bool> outcome{false, {}};
        if (current.pinned_at.has_value() == pin) return outcome;  // idempotent: nothing moves, nothing is sent
        const auto version = store::messages::next_version(tx, chat_id);
        if (pin) {
            store::messages::pin(tx, message_id, actor, version);
        } else {
            store::messages::unpin(tx, message_id, version);
        }
        outcome.effects.in_chat(Occasion::message_updated,
                                MessageUpdated{as_members_see(tx, message_of(tx, message_id, actor), now)}, chat_id);
        outcome.value = true;
        return outcome;
    });
}

boost::asio::awaitable<HistoryPage> MessageService::pins(std::string actor, std::string chat_id,
                                                         std::optional<std::int64_t> before_pin, int limit) {
    require_uuid(chat_id, "chat_id");
    co_await writes_.standing(chat_id, actor);
    auto pins = co_await writes_.pool().run([actor, chat_id, before_pin, limit](store::Tx& tx) {
        return store::messages::pins(tx, chat_id, before_pin, limit + 1, actor);
    });
    HistoryPage page;
    if (static_cast<int>(pins.messages.size()) > limit) {
        pins.messages.pop_back();
        page.next_cursor = pins.orders[pins.messages.size() - 1];
    }
    page.messages = std::move(pins.messages);
    co_return page;
}

boost::asio::awaitable<bool> MessageService::hide(std::string actor, std::string message_id) {
    require_uuid(message_id, "message_id");
    // Not visible_message: a message hidden already is found again, so a retry is harmless.
    const auto chat_id =
        co_await writes_.pool().run([message_id](store::Tx& tx) { return store::messages::chat_of(tx, message_id); });
    if (!chat_id) throw not_found("message");
    standing_in((co_await writes_.access(*chat_id)).get(), actor, "message");
    co_return co_await writes_.commit(*chat_id, [actor, chat_id = *chat_id, message_id](store::Tx& tx) {
        lock_standing(tx, chat_id, actor, "message");
        Outcome<bool> outcome{false, {}};
        if (store::messages::is_hidden(tx, message_id, actor)) return outcome;
        // The hiding takes a version of the chat so that the actor's other devices find it in
        // since_version sync; nobody else sees anything of it.
        const auto version = store::messages::next_version(tx, chat_id);
        store::messages::hide(tx, message_id, actor, chat_id, version);
        outcome.effects.deliver(Occasion::message_hidden, MessageHidden{message_id, chat_id, version},
                                {.actor = actor});
        outcome.value = true;
        return outcome;
    });
}

boost::asio::awaitable<HistoryPage> MessageService::mentions(std::string actor, std::optional<std::int64_t> before,
                                                             int limit) {
    auto mentions = co_await writes_.pool().run(
        [actor, before, limit](store::Tx& tx) { return store::mentions::of_user(tx, actor, before, limit + 1); });
    HistoryPage page;
    if (static_cast<int>(mentions.messages.size()) > limit) {
        mentions.messages.pop_back();
        page.next_cursor = mentions.positions[mentions.messages.size() - 1];
    }
    page.messages = std::move(mentions.messages);
    co_return page;
}

namespace {

// The forward's copy of the source's media: a row of the forwarder's in the target chat for
// the bytes already stored (both parts of a live photo), counted in the forwarder's quota like
// an upload. Taken under the bytes' locks, and only if the source still has them then: a
// removal of the source's media either commits before (refused here) or finds this row using
// the bytes.
Media copy_media(store::Tx& tx, const Message& source, const std::string& forwarder, const std::string& chat_id,
                 std::size_t quota_bytes) {
    Media copy = *source.media;
    store::media::lock_bytes_of(tx, copy);
    const auto current = store::messages::find(tx, source.id, forwarder);
    if (!current || !current->media || current->media->id != copy.id) throw conflict("the message's media was removed");
    store::media::lock_quota(tx, forwarder);  // after the bytes' lock, as uploads take them
    copy.chat_id = chat_id;
    copy.uploader_id = forwarder;
    require_within_quota(quota_bytes, store::media::usage(tx, copy).used_bytes, quota_bytes_of(copy));
    return store::media::insert_attached(tx, copy);
}

}  // namespace

boost::asio::awaitable<Sent> MessageService::forward(Forward f) {
    require_uuid(f.chat_id, "chat_id");
    require_client_id(f.client_id);
    sends_.require(f.actor, "messages");
    // Early refusals against the cache: the source out of sight, the target closed to a
    // non-member, and, without a client_id, to the forwarder. What the source holds and the
    // rules of posting are judged in the transaction, after a client_id repeat has been answered
    // (as a send's: SendWriter::write).
    const auto type = (co_await writes_.visible_message(f.actor, f.message_id)).first.type;
    const auto forwarder = co_await writes_.standing(f.chat_id, f.actor);
    if (!f.client_id) rules::may_post(forwarder, type);
    const auto quota = limits_.media_quota_bytes;
    auto sent = co_await writes_.commit(f.chat_id, [f, quota, type](store::Tx& tx) {
        const auto standing = lock_standing(tx, f.chat_id, f.actor);
        Outcome<Sent> outcome;
        if (f.client_id) {
            auto stored = store::messages::find_by_client_ids(tx, {{f.actor, *f.client_id}});
            if (!stored.empty()) {
                if (stored.front().chat_id != f.chat_id) throw conflict("client_id was used in another chat");
                outcome.value = {std::move(stored.front()), false};
                return outcome;
            }
        }
        // The source's chat is not locked (one lock at a time keeps writes free of deadlocks):
        // it is read as last committed, the forwarder's membership included.
        rules::may_post(standing, type);
        const auto source = message_of(tx, f.message_id, f.actor);
        if (!store::members::standing(tx, source.chat_id, f.actor)) throw not_found("message");
        rules::may_forward(source);
        const bool slowed = check_slow_mode(tx, f.chat_id, f.actor, standing);
        std::optional<std::string> media_id;
        if (source.media) media_id = copy_media(tx, source, f.actor, f.chat_id, quota).id;
        const auto shown_again = shown_again_by_next_message(tx, standing.type, f.chat_id);
        std::optional<Message> inserted;
        try {
            inserted = store::messages::insert(tx, store::NewMessage{f.chat_id, f.actor, source.type, source.content,
                                                                     std::nullopt, source.metadata.text, f.client_id,
                                                                     media_id, std::nullopt, source.entities});
        } catch (const store::Duplicate&) {  // stored meanwhile: run again, and answer as a repeat
            throw store::RaceLost("a client_id stored meanwhile");
        }
        if (!inserted) throw not_found("chat");
        if (slowed) store::members::set_posted(tx, {{f.chat_id, f.actor}});
        // A forward of a forward names the original, as the first forward did.
        store::messages::set_forwarded_from(tx, inserted->id,
                                            source.forwarded_from.value_or(ForwardOrigin{source.id, source.chat_id,
                                                                                         source.sender_id,
                                                                                         source.created_at}));
        outcome.value = {message_of(tx, inserted->id, f.actor), true};
        announce_shown_again(tx, outcome.effects, f.chat_id, shown_again);
        outcome.effects.in_chat(Occasion::message_created, MessageCreated{outcome.value.message}, f.chat_id);
        return outcome;
    });
    if (sent.created) track_send(sent.message);
    co_return sent;
}

}  // namespace confab::domain
