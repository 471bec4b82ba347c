#include "confab/domain/access_cache.hpp"

namespace confab::domain {

std::mutex& AccessCache::order_of(const std::string& chat_id) {
    return order_[std::hash<std::string>{}(chat_id) % stripes];
}

std::shared_ptr<const ChatAccess> AccessCache::find(const std::string& chat_id) const {
    std::lock_guard lock(mutex_);
    const auto found = entries_.find(chat_id);
    return found == entries_.end() ? nullptr : found->second;
}

std::shared_ptr<const ChatAccess> AccessCache::find_or_load(pqxx::transaction_base& tx, const std::string& chat_id) {
    if (auto hit = find(chat_id)) return hit;
    std::lock_guard lock(order_of(chat_id));
    if (auto hit = find(chat_id)) return hit;
    auto loaded = store::chats::load_access(tx, chat_id);
    if (!loaded) return nullptr;
    put(chat_id, std::move(*loaded));
    return find(chat_id);
}

void AccessCache::put(const std::string& chat_id, ChatAccess access) {
    auto entry = std::make_shared<const ChatAccess>(std::move(access));
    std::lock_guard lock(mutex_);
    entries_[chat_id] = std::move(entry);
}

void AccessCache::update(const std::string& chat_id, const std::function<void(ChatAccess&)>& change) {
    auto current = find(chat_id);
    if (!current) return;
    ChatAccess next = *current;
    change(next);
    put(chat_id, std::move(next));
}

void AccessCache::erase(const std::string& chat_id) {
    std::lock_guard lock(mutex_);
    entries_.erase(chat_id);
}

}  // namespace confab::domain
