#pragma once

#include "confab/config/config.hpp"
#include "confab/domain/commit.hpp"
#include "confab/domain/history_cache.hpp"
#include "confab/domain/rate_limiter.hpp"
#include "confab/domain/send_writer.hpp"
#include "confab/store/page_stamps.hpp"
#include "confab/store/search.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace confab::media {
class Storage;
}

namespace confab::domain {

// A chat's newest page that every reader sees alike (nothing of it hidden from the reader,
// no reaction or poll to read for them): the kept page itself, shared rather than copied.
class SharedPage {
public:
    SharedPage(std::shared_ptr<const KeptPage> kept, int limit) : kept_(std::move(kept)), limit_(limit) {}

    std::span<const Message> messages() const;
    std::optional<std::int64_t> next_cursor() const;
    // What the api wrote for this page before (KeptPage::written), or null.
    std::shared_ptr<const std::string> written() const { return kept_->written(limit_); }
    void remember_written(std::shared_ptr<const std::string> text) const {
        kept_->remember_written(limit_, std::move(text));
    }

private:
    std::shared_ptr<const KeptPage> kept_;
    int limit_;
};

struct HistoryPage {
    std::vector<Message> messages;
    std::optional<std::int64_t> next_cursor;
    std::optional<SharedPage> shared;  // set instead of messages and next_cursor
};

struct SyncPage {
    std::vector<Message> messages;
    std::vector<MessageHidden> hidden;  // the reader's own hidings, interleaved by version with messages
    std::int64_t version = 0;
    bool has_more = false;
};

struct Forward {
    std::string actor;
    std::string message_id;  // the message forwarded
    std::string chat_id;     // where to
    std::optional<std::string> client_id;
};

struct HistoryQuery {
    std::optional<std::int64_t> before_seq;
    std::optional<std::int64_t> after_seq;
    int limit = 50;
    bool include_thread_replies = false;  // a thread's page ignores it
};

// A thread: its root, and a page of its replies as a history page.
struct ThreadPage {
    Message root;
    HistoryPage replies;
};

struct SearchQuery {
    std::string text;
    std::optional<std::string> chat_id;  // one chat, else every chat of the caller
    std::optional<store::search::Position> after;
    int limit = 50;
};

struct SearchPage {
    std::vector<SearchHit> results;
    std::optional<store::search::Position> next;  // where the next page starts, if there is one
};

// Messages and everything that changes them: send, history, edit, delete, reactions,
// read marks, pins, forwards, hiding for oneself and since_version sync. Every change takes the chat's next version.
class MessageService {
public:
    MessageService(ChatWrites& writes, media::Storage& storage, const config::Limits& limits,
                   store::PageStamps& page_stamps)
        : writes_(writes),
          storage_(storage),
          limits_(limits),
          sends_("messages", limits.message_burst, limits.message_rate),
          changes_("changes", limits.change_burst, limits.change_rate),
          send_writer_(writes.cache(), limits.content_chars),
          newest_pages_(limits.history_cache_bytes),
          page_stamps_(page_stamps) {}

    // Checks the send, spends one of the sender's sends and posts it.
    boost::asio::awaitable<Sent> send(SendMessage message);
    // What send checks before it posts, without the database: bad_request and
    // payload_too_large naming the field.
    void check_send(const SendMessage& message) const;
    // Spends one of the sender's sends (rate_limited when none is left), as send does.
    void spend_send(const std::string& sender_id);
    // A checked send from a template, for a chat still to be opened (a broadcast's copies): its
    // content filled from the sender's own template now, refused as post would refuse it.
    boost::asio::awaitable<SendMessage> fill_template(SendMessage message);
    // Posts a checked send (a scheduled message when due: not rate limited again).
    boost::asio::awaitable<Sent> post(SendMessage message);
    boost::asio::awaitable<HistoryPage> history(std::string actor, std::string chat_id, HistoryQuery query);
    boost::asio::awaitable<SyncPage> sync(std::string actor, std::string chat_id, std::int64_t since_version,
                                          int limit);
    boost::asio::awaitable<Message> get(std::string actor, std::string message_id);
    // The replies in the thread under root_id, paged as history (docs/api.md, Threads).
    boost::asio::awaitable<ThreadPage> thread(std::string actor, std::string root_id, HistoryQuery query);
    // Full-text search over the messages of the caller's chats (docs/api.md, Search).
    boost::asio::awaitable<SearchPage> search(std::string actor, SearchQuery query);
    // Replaces the content and its entities together (none given: none kept); the members it
    // newly mentions are told (mention.new), those it no longer mentions forget it.
    boost::asio::awaitable<Message> edit(std::string actor, std::string message_id, std::string content,
                                         std::vector<TextEntity> entities);
    boost::asio::awaitable<void> remove(std::string actor, std::string message_id);
    boost::asio::awaitable<void> react(std::string actor, std::string message_id, std::string emoji, bool add);
    boost::asio::awaitable<void> mark_read(std::string actor, std::string chat_id, std::int64_t seq);
    // Pins or unpins; false when it already was so (nothing changes, nothing is sent).
    boost::asio::awaitable<bool> pin(std::string actor, std::string message_id, bool pin);
    // Newest pin first; the cursor is a pin's place in that order.
    boost::asio::awaitable<HistoryPage> pins(std::string actor, std::string chat_id,
                                             std::optional<std::int64_t> before_pin, int limit);
    // Deletes the message for the actor only; false when it was hidden already.
    boost::asio::awaitable<bool> hide(std::string actor, std::string message_id);
    boost::asio::awaitable<Sent> forward(Forward forward);
    // The messages that mention the actor in the chats they are in, newest mention first;
    // the cursor is a mention's place in that order.
    boost::asio::awaitable<HistoryPage> mentions(std::string actor, std::optional<std::int64_t> before, int limit);
    // The chat's highest seq below `below` stored before `stored_before` or `age` or longer ago
    // (a cluster's node, which sees a chat's message for the first time, need not wait for
    // those: realtime::Sequencer).
    boost::asio::awaitable<std::int64_t> settled_seq(std::string chat_id, std::int64_t below,
                                                     std::chrono::milliseconds age,
                                                     std::chrono::system_clock::time_point stored_before);

private:
    void validate_content(const std::string& content, bool required) const;
    void track_send(const Message& message);
    // A chat's newest page (HistoryCache).
    boost::asio::awaitable<HistoryPage> newest_page(std::string actor, std::string chat_id, HistoryQuery q);
    // The chat's stamp for the reader (store::PageStamps, or the Pool when that has no connection).
    boost::asio::awaitable<std::optional<store::messages::PageStamp>> page_stamp(const std::string& actor,
                                                                                 const std::string& chat_id);

    ChatWrites& writes_;
    media::Storage& storage_;
    const config::Limits& limits_;
    RateLimiter sends_;    // messages per user, REST and WebSocket together
    RateLimiter changes_;  // edits and reaction changes per user: each is fanned out like a send
    SendWriter send_writer_;
    HistoryCache newest_pages_;
    store::PageStamps& page_stamps_;
};

}  // namespace confab::domain
