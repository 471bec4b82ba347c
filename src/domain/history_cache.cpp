#include "confab/domain/history_cache.hpp"

#include <algorithm>
#include <string_view>
#include <unordered_set>

namespace confab::domain {
namespace {

// What a kept message costs in memory, roughly: the struct and its longest texts.
std::size_t estimated_bytes(const model::Message& message) {
    std::size_t bytes = sizeof(model::Message) + message.content.size() + message.metadata.text.size() +
                        message.entities.size() * sizeof(model::TextEntity);
    if (message.thread) bytes += message.thread->participant_ids.size() * sizeof(std::string);
    return bytes;
}

}  // namespace

std::string HistoryCache::key_of(const std::string& chat_id, bool with_thread_replies) {
    return chat_id + (with_thread_replies ? "+threads" : "");
}

std::optional<store::messages::StoredPage> HistoryCache::find(const std::string& chat_id, bool with_thread_replies,
                                                              std::int64_t version,
                                                              const std::vector<std::string>& hidden,
                                                              std::size_t count) {
    std::lock_guard lock(mutex_);
    const auto entry = entries_.find(key_of(chat_id, with_thread_replies));
    if (entry == entries_.end() || entry->second.version != version) return std::nullopt;
    recency_.splice(recency_.begin(), recency_, entry->second.recency);
    const auto& kept = entry->second.page;
    const std::unordered_set<std::string_view> left_out(hidden.begin(), hidden.end());
    store::messages::StoredPage page;
    page.messages.reserve(std::min(count, kept.messages.size()));
    for (std::size_t i = 0; i < kept.messages.size() && page.messages.size() < count; ++i) {
        if (left_out.contains(kept.messages[i].id)) continue;
        page.messages.push_back(kept.messages[i]);
        page.reacted.push_back(kept.reacted[i]);
    }
    if (page.messages.size() < count && !entry->second.whole_chat) return std::nullopt;
    return page;
}

void HistoryCache::keep(const std::string& chat_id, bool with_thread_replies, std::int64_t version,
                        store::messages::StoredPage page, std::size_t asked) {
    if (!enabled()) return;
    std::size_t bytes = 0;
    for (const auto& message : page.messages) bytes += estimated_bytes(message);
    if (bytes > capacity_bytes_) return;
    std::lock_guard lock(mutex_);
    auto key = key_of(chat_id, with_thread_replies);
    if (const auto existing = entries_.find(key); existing != entries_.end()) {
        if (existing->second.version > version) return;
        drop(existing);
    }
    const bool whole_chat = page.messages.size() < asked;
    recency_.push_front(key);
    entries_.emplace(std::move(key), Entry{version, std::move(page), whole_chat, bytes, recency_.begin()});
    bytes_ += bytes;
    while (bytes_ > capacity_bytes_) drop(entries_.find(recency_.back()));
}

void HistoryCache::drop(std::unordered_map<std::string, Entry>::iterator entry) {
    bytes_ -= entry->second.bytes;
    recency_.erase(entry->second.recency);
    entries_.erase(entry);
}

std::size_t HistoryCache::bytes() const {
    std::lock_guard lock(mutex_);
    return bytes_;
}

}  // namespace confab::domain
