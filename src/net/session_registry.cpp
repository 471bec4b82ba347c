#include "confab/net/session_registry.hpp"

#include <vector>

namespace confab::net {

std::size_t SessionRegistry::enter(Interrupt interrupt) {
    std::lock_guard lock(mutex_);
    const auto id = next_id_++;
    sessions_.emplace(id, std::move(interrupt));
    return id;
}

void SessionRegistry::leave(std::size_t id) {
    std::lock_guard lock(mutex_);
    sessions_.erase(id);
}

void SessionRegistry::begin_shutdown() {
    stopping_.store(true, std::memory_order_release);
    std::vector<Interrupt> targets;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [id, interrupt] : sessions_) targets.push_back(interrupt);
    }
    for (const auto& interrupt : targets) interrupt();
}

std::size_t SessionRegistry::alive() const {
    std::lock_guard lock(mutex_);
    return sessions_.size();
}

}  // namespace confab::net
