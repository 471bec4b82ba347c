#include "confab/net/connection_counter.hpp"

#include <utility>

namespace confab::net {

ConnectionCounter::Slot::Slot(Slot&& other) noexcept
    : counter_(std::exchange(other.counter_, nullptr)), key_(std::move(other.key_)) {}

ConnectionCounter::Slot::~Slot() {
    if (counter_) counter_->release(key_);
}

ConnectionCounter::ConnectionCounter(std::string_view name, std::size_t cap)
    : refusals_(obs::metrics().rate_limited.with({name})), cap_(cap) {}

std::optional<ConnectionCounter::Slot> ConnectionCounter::try_take(const std::string& key) {
    {
        std::lock_guard lock(mutex_);
        auto& open = open_[key];
        if (open < cap_) {
            ++open;
            return Slot(*this, key);
        }
    }
    refusals_.inc();
    return std::nullopt;
}

std::size_t ConnectionCounter::held(const std::string& key) const {
    std::lock_guard lock(mutex_);
    const auto it = open_.find(key);
    return it == open_.end() ? 0 : it->second;
}

// Keys with no open connection are dropped, so the map stays as small as the live set.
void ConnectionCounter::release(const std::string& key) {
    std::lock_guard lock(mutex_);
    const auto it = open_.find(key);
    if (it != open_.end() && --it->second == 0) open_.erase(it);
}

}  // namespace confab::net
