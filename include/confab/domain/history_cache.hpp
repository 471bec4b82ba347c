#pragma once

#include "confab/store/messages.hpp"

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace confab::domain {

// A chat's newest messages as read for one version of the chat. Never changed once kept, so
// the readers who see it alike share it rather than copy it.
class KeptPage {
public:
    KeptPage(std::int64_t version, store::messages::StoredPage page, bool whole_chat)
        : version_(version),
          page_(std::move(page)),
          whole_chat_(whole_chat),
          first_with_live_parts_(store::messages::first_with_live_parts(page_)) {}

    std::int64_t version() const { return version_; }
    const store::messages::StoredPage& stored() const { return page_; }
    // Whether `count` messages are kept once `hidden` are left out, or every message the chat has.
    bool covers(std::size_t count, const std::vector<std::string>& hidden) const;
    // Whether a reaction or a poll is to be read for one of the first `count` messages.
    bool has_live_parts(std::size_t count) const { return first_with_live_parts_ < count; }
    // The first `count` messages, leaving out `hidden` (a copy, for one reader).
    store::messages::StoredPage first(std::size_t count, const std::vector<std::string>& hidden) const;

    // The text the api last wrote for a page of `limit` of these messages, or null. The domain
    // never reads it: it is kept here so that it lives and goes with the page it was written
    // from, and each version of a chat's newest page is written once, not once per reader.
    std::shared_ptr<const std::string> written(int limit) const;
    void remember_written(int limit, std::shared_ptr<const std::string> text) const;

private:
    const std::int64_t version_;
    const store::messages::StoredPage page_;
    const bool whole_chat_;  // the page holds every message of the chat
    const std::size_t first_with_live_parts_;
    mutable std::mutex written_mutex_;
    mutable int written_limit_ = 0;
    mutable std::shared_ptr<const std::string> written_;
};

// The newest page of recently read chats, as stored (store::messages::StoredPage), so that
// opening a chat costs PostgreSQL one small statement instead of the page: each read first
// takes the chat's version and the reader's hidden messages (store::messages::page_stamp),
// and a page kept for that version is as current as the page statement would be, because
// every change to a chat's messages takes its next version in the same transaction (the
// contract since_version sync rests on). What each viewer sees differently (hidden messages,
// reactions, polls) is never kept: hidden messages are left out by the reader, reactions and
// polls read live. At most `capacity_bytes` (estimated, with room for the page's written
// text) are held; past it the least recently used pages go. A capacity of 0 keeps nothing.
class HistoryCache {
public:
    explicit HistoryCache(std::size_t capacity_bytes) : capacity_bytes_(capacity_bytes) {}

    bool enabled() const { return capacity_bytes_ > 0; }

    // The page kept for the chat (with or without thread replies) at `version`, or null.
    std::shared_ptr<const KeptPage> find(const std::string& chat_id, bool with_thread_replies, std::int64_t version);
    // Keeps `page`, the newest messages read (nothing left out) when the chat was at
    // `version` or later, `asked` of them asked for: fewer means the chat has no more. A page
    // kept at a later version stays.
    void keep(const std::string& chat_id, bool with_thread_replies, std::int64_t version,
              store::messages::StoredPage page, std::size_t asked);

    std::size_t bytes() const;

private:
    struct Entry {
        std::shared_ptr<const KeptPage> page;
        std::size_t bytes = 0;
        std::list<std::string>::iterator recency;
    };

    static std::string key_of(const std::string& chat_id, bool with_thread_replies);
    void drop(std::unordered_map<std::string, Entry>::iterator entry);

    const std::size_t capacity_bytes_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Entry> entries_;
    std::list<std::string> recency_;  // keys, most recently used first
    std::size_t bytes_ = 0;
};

}  // namespace confab::domain
