#pragma once

#include "confab/store/messages.hpp"

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace confab::domain {

// The newest page of recently read chats, as stored (store::messages::StoredPage), so that
// opening a chat costs PostgreSQL one small statement instead of the page: each read first
// takes the chat's version and the reader's hidden messages (store::messages::page_stamp),
// and a page kept for that version is as current as the page statement would be, because
// every change to a chat's messages takes its next version in the same transaction (the
// contract since_version sync rests on). What each viewer sees differently (hidden messages,
// reactions, polls) is never kept: hidden messages are left out here, reactions and polls
// read live. At most `capacity_bytes` (estimated) are held; past it the least recently used
// pages go. A capacity of 0 keeps nothing.
class HistoryCache {
public:
    explicit HistoryCache(std::size_t capacity_bytes) : capacity_bytes_(capacity_bytes) {}

    bool enabled() const { return capacity_bytes_ > 0; }

    // The first `count` messages of the page kept for the chat (with or without thread
    // replies) at `version`, leaving out `hidden`; nullopt when none is kept at that version,
    // or when leaving those out reaches past what is kept of a chat with more.
    std::optional<store::messages::StoredPage> find(const std::string& chat_id, bool with_thread_replies,
                                                    std::int64_t version, const std::vector<std::string>& hidden,
                                                    std::size_t count);
    // Keeps `page`, the newest messages read (nothing left out) when the chat was at
    // `version` or later, `asked` of them asked for: fewer means the chat has no more. A page
    // kept at a later version stays.
    void keep(const std::string& chat_id, bool with_thread_replies, std::int64_t version,
              store::messages::StoredPage page, std::size_t asked);

    std::size_t bytes() const;

private:
    struct Entry {
        std::int64_t version = 0;
        store::messages::StoredPage page;
        bool whole_chat = false;  // the page holds every message of the chat
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
