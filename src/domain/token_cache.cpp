#include "confab/domain/token_cache.hpp"

#include <algorithm>

namespace confab::domain {

TokenCache::TokenCache(std::chrono::milliseconds ttl, std::size_t capacity) : ttl_(ttl), capacity_(capacity) {}

std::optional<Principal> TokenCache::find(const std::string& token_hash, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    const auto it = entries_.find(token_hash);
    if (it == entries_.end()) return std::nullopt;
    if (it->second.expires <= now) {
        entries_.erase(it);
        return std::nullopt;
    }
    return it->second.principal;
}

std::uint64_t TokenCache::generation() const {
    std::lock_guard lock(mutex_);
    return generation_;
}

void TokenCache::remember(Principal principal, std::chrono::milliseconds valid_for, std::uint64_t looked_up_in,
                          Clock::time_point now) {
    const auto keep_for = std::min(ttl_, valid_for);
    if (keep_for <= std::chrono::milliseconds::zero()) return;
    std::lock_guard lock(mutex_);
    if (looked_up_in != generation_) return;  // something was forgotten meanwhile: maybe this token
    if (entries_.size() >= capacity_) {
        std::erase_if(entries_, [now](const auto& entry) { return entry.second.expires <= now; });
        // Still full of live entries: the cache stays as it is, the next lookup asks the database.
        if (entries_.size() >= capacity_) return;
    }
    auto token_hash = principal.token_hash;
    entries_.insert_or_assign(std::move(token_hash), Entry{std::move(principal), now + keep_for});
}

void TokenCache::forget(const std::string& token_hash) {
    std::lock_guard lock(mutex_);
    entries_.erase(token_hash);
    ++generation_;
}

void TokenCache::forget_user(const std::string& user_id, const std::string& keep) {
    std::lock_guard lock(mutex_);
    std::erase_if(entries_,
                  [&](const auto& entry) { return entry.second.principal.user_id == user_id && entry.first != keep; });
    ++generation_;
}

}  // namespace confab::domain
