#include "confab/domain/history_cache.hpp"

#include <algorithm>
#include <string_view>
#include <unordered_set>

namespace confab::domain {
namespace {

// About what a message takes as JSON beyond its texts (the api reserves as much for it).
constexpr std::size_t written_bytes_besides_texts = 640;

// What a kept message costs in memory, roughly: the struct, its longest texts, and the same
// texts again in the page as written.
std::size_t estimated_bytes(const model::Message& message) {
    const std::size_t texts = message.content.size() + message.metadata.text.size();
    std::size_t bytes = sizeof(model::Message) + 2 * texts + written_bytes_besides_texts +
                        message.entities.size() * sizeof(model::TextEntity);
    if (message.thread) bytes += message.thread->participant_ids.size() * sizeof(std::string);
    return bytes;
}

}  // namespace

bool KeptPage::covers(std::size_t count, const std::vector<std::string>& hidden) const {
    if (whole_chat_) return true;
    if (hidden.empty()) return page_.messages.size() >= count;
    const std::unordered_set<std::string_view> left_out(hidden.begin(), hidden.end());
    return static_cast<std::size_t>(std::count_if(page_.messages.begin(), page_.messages.end(),
                                                  [&](const auto& m) { return !left_out.contains(m.id); })) >= count;
}

store::messages::StoredPage KeptPage::first(std::size_t count, const std::vector<std::string>& hidden) const {
    const std::unordered_set<std::string_view> left_out(hidden.begin(), hidden.end());
    store::messages::StoredPage page;
    page.messages.reserve(std::min(count, page_.messages.size()));
    for (std::size_t i = 0; i < page_.messages.size() && page.messages.size() < count; ++i) {
        if (left_out.contains(page_.messages[i].id)) continue;
        page.messages.push_back(page_.messages[i]);
        page.reacted.push_back(page_.reacted[i]);
    }
    return page;
}

std::shared_ptr<const std::string> KeptPage::written(int limit) const {
    std::lock_guard lock(written_mutex_);
    return written_limit_ == limit ? written_ : nullptr;
}

void KeptPage::remember_written(int limit, std::shared_ptr<const std::string> text) const {
    std::lock_guard lock(written_mutex_);
    written_limit_ = limit;
    written_ = std::move(text);
}

std::string HistoryCache::key_of(const std::string& chat_id, bool with_thread_replies) {
    return chat_id + (with_thread_replies ? "+threads" : "");
}

std::shared_ptr<const KeptPage> HistoryCache::find(const std::string& chat_id, bool with_thread_replies,
                                                   std::int64_t version) {
    std::lock_guard lock(mutex_);
    const auto entry = entries_.find(key_of(chat_id, with_thread_replies));
    if (entry == entries_.end() || entry->second.page->version() != version) return nullptr;
    recency_.splice(recency_.begin(), recency_, entry->second.recency);
    return entry->second.page;
}

void HistoryCache::keep(const std::string& chat_id, bool with_thread_replies, std::int64_t version,
                        store::messages::StoredPage page, std::size_t asked) {
    if (!enabled()) return;
    std::size_t bytes = 0;
    for (const auto& message : page.messages) bytes += estimated_bytes(message);
    if (bytes > capacity_bytes_) return;
    const bool whole_chat = page.messages.size() < asked;
    auto kept = std::make_shared<const KeptPage>(version, std::move(page), whole_chat);
    std::lock_guard lock(mutex_);
    auto key = key_of(chat_id, with_thread_replies);
    if (const auto existing = entries_.find(key); existing != entries_.end()) {
        if (existing->second.page->version() > version) return;
        drop(existing);
    }
    recency_.push_front(key);
    entries_.emplace(std::move(key), Entry{std::move(kept), bytes, recency_.begin()});
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
