#include "confab/domain/fair_share.hpp"

#include <algorithm>

namespace confab::domain {

std::size_t fair_share(std::size_t capacity) { return std::max<std::size_t>(1, capacity / 8); }

SharedSlots::SharedSlots(std::size_t capacity) : capacity_(capacity), share_(fair_share(capacity)) {}

std::size_t SharedSlots::room() const { return in_flight_ < capacity_ ? capacity_ - in_flight_ : 0; }

bool SharedSlots::may_start(const std::optional<std::string>& owner) const {
    if (room() == 0) return false;
    if (!owner) return true;
    const auto found = by_owner_.find(*owner);
    return found == by_owner_.end() || static_cast<std::size_t>(found->second) < share_;
}

void SharedSlots::started(const std::optional<std::string>& owner) {
    ++in_flight_;
    if (owner) ++by_owner_[*owner];
}

void SharedSlots::finished(const std::optional<std::string>& owner) {
    if (in_flight_ > 0) --in_flight_;
    if (!owner) return;
    const auto found = by_owner_.find(*owner);
    if (found == by_owner_.end()) return;
    if (--found->second <= 0) by_owner_.erase(found);
}

}  // namespace confab::domain
