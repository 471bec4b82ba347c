#include "confab/domain/access_cache.hpp"

#include <iterator>

namespace confab::domain {
namespace {

std::size_t weight_of(const ChatAccess& access) { return access.members.size() + 1; }

}  // namespace

std::mutex& AccessCache::order_of(const std::string& chat_id) {
    return order_[std::hash<std::string>{}(chat_id) % stripes];
}

std::shared_ptr<const ChatAccess> AccessCache::find(const std::string& chat_id) {
    std::lock_guard lock(mutex_);
    const auto found = entries_.find(chat_id);
    if (found == entries_.end()) return nullptr;
    recency_.splice(recency_.begin(), recency_, found->second.recency);
    return found->second.access;
}

std::shared_ptr<const ChatAccess> AccessCache::find_current(const std::string& chat_id,
                                                            std::optional<std::int64_t> version) {
    auto hit = find(chat_id);
    return hit && (!version || hit->version == *version) ? hit : nullptr;
}

std::shared_ptr<const ChatAccess> AccessCache::find_or_load(store::Tx& tx, const std::string& chat_id,
                                                            std::optional<std::int64_t> version) {
    if (auto hit = find_current(chat_id, version)) return hit;
    std::lock_guard lock(order_of(chat_id));
    // Kept as loaded, and returned so: a bound smaller than this one chat may evict it at once.
    auto seen = seen_in(tx, chat_id, version);
    if (seen.loaded) keep(chat_id, seen.access);
    return seen.access;
}

AccessCache::Seen AccessCache::seen_in(store::Tx& tx, const std::string& chat_id, std::optional<std::int64_t> version) {
    if (auto hit = find_current(chat_id, version)) return {std::move(hit), false};
    auto loaded = store::chats::load_access(tx, chat_id);
    if (!loaded) return {};
    return {std::make_shared<const ChatAccess>(std::move(*loaded)), true};
}

void AccessCache::keep(const std::string& chat_id, std::shared_ptr<const ChatAccess> access) {
    std::lock_guard lock(mutex_);
    store_locked(chat_id, std::move(access));
}

void AccessCache::put(const std::string& chat_id, ChatAccess access) {
    auto entry = std::make_shared<const ChatAccess>(std::move(access));
    {
        std::lock_guard lock(mutex_);
        store_locked(chat_id, std::move(entry));
    }
    if (on_change_) on_change_(chat_id);
}

void AccessCache::update(const std::string& chat_id, const std::function<void(ChatAccess&)>& change) {
    if (on_change_) on_change_(chat_id);
    auto current = find(chat_id);
    if (!current) return;
    ChatAccess next = *current;
    change(next);
    auto entry = std::make_shared<const ChatAccess>(std::move(next));
    std::lock_guard lock(mutex_);
    const auto found = entries_.find(chat_id);
    if (found == entries_.end() || found->second.access != current) return;  // evicted meanwhile
    store_locked(chat_id, std::move(entry));
}

void AccessCache::erase(const std::string& chat_id) {
    {
        std::lock_guard lock(mutex_);
        if (const auto found = entries_.find(chat_id); found != entries_.end()) erase_locked(found);
    }
    if (on_change_) on_change_(chat_id);
}

void AccessCache::forget(const std::string& chat_id) {
    std::lock_guard lock(mutex_);
    if (pins_.contains(chat_id)) {
        forget_when_unpinned_.insert(chat_id);
    } else if (const auto found = entries_.find(chat_id); found != entries_.end()) {
        erase_locked(found);
    }
}

std::size_t AccessCache::chats() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
}

std::size_t AccessCache::members() const {
    std::lock_guard lock(mutex_);
    return weight_;
}

void AccessCache::store_locked(const std::string& chat_id, std::shared_ptr<const ChatAccess> access) {
    const auto weight = weight_of(*access);
    auto [found, inserted] = entries_.try_emplace(chat_id);
    auto& entry = found->second;
    if (inserted) {
        recency_.push_front(chat_id);
        entry.recency = recency_.begin();
    } else {
        weight_ -= entry.weight;
        recency_.splice(recency_.begin(), recency_, entry.recency);
    }
    entry.access = std::move(access);
    entry.weight = weight;
    weight_ += weight;
    // The entry just stored (the front) stays even when it alone is over the bound: its
    // caller needs it. So do pinned ones.
    for (auto victim = std::prev(recency_.end()); weight_ > max_members_ && victim != recency_.begin();) {
        const auto next = std::prev(victim);
        if (!pins_.contains(*victim)) erase_locked(entries_.find(*victim));
        victim = next;
    }
}

AccessCache::Pin::Pin(AccessCache& cache, std::string chat_id) : cache_(cache), chat_id_(std::move(chat_id)) {
    std::lock_guard lock(cache_.mutex_);
    ++cache_.pins_[chat_id_];
}

AccessCache::Pin::~Pin() {
    std::lock_guard lock(cache_.mutex_);
    const auto found = cache_.pins_.find(chat_id_);
    if (found == cache_.pins_.end() || --found->second > 0) return;
    cache_.pins_.erase(found);
    if (cache_.forget_when_unpinned_.erase(chat_id_) == 0) return;
    if (const auto entry = cache_.entries_.find(chat_id_); entry != cache_.entries_.end()) cache_.erase_locked(entry);
}

void AccessCache::erase_locked(std::unordered_map<std::string, Entry>::iterator entry) {
    weight_ -= entry->second.weight;
    recency_.erase(entry->second.recency);
    entries_.erase(entry);
}

}  // namespace confab::domain
