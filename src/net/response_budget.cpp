#include "confab/net/response_budget.hpp"

namespace confab::net {

ResponseBudget::Hold::~Hold() {
    if (budget_ != nullptr) budget_->give_back(holder_, bytes_);
}

ResponseBudget::ResponseBudget(std::uint64_t total, std::uint64_t per_holder, std::uint64_t small)
    : total_(total),
      per_holder_(per_holder),
      small_(small),
      refusals_(obs::metrics().rate_limited.with({"response_budget"})) {}

std::optional<ResponseBudget::Hold> ResponseBudget::take(std::uint64_t bytes, std::string_view holder) {
    if (bytes <= small_) return Hold(nullptr, {}, 0);
    const std::lock_guard lock(mutex_);
    const auto own = holders_.find(std::string(holder));
    const std::uint64_t held_by_holder = own == holders_.end() ? 0 : own->second;
    if (held_ + bytes > total_ || (held_by_holder > 0 && held_by_holder + bytes > per_holder_)) {
        refusals_.inc();
        return std::nullopt;
    }
    held_ += bytes;
    holders_[std::string(holder)] += bytes;
    return Hold(this, std::string(holder), bytes);
}

void ResponseBudget::give_back(const std::string& holder, std::uint64_t bytes) {
    const std::lock_guard lock(mutex_);
    held_ -= bytes;
    if (const auto own = holders_.find(holder); own != holders_.end() && (own->second -= bytes) == 0)
        holders_.erase(own);
}

std::uint64_t ResponseBudget::held() const {
    const std::lock_guard lock(mutex_);
    return held_;
}

std::uint64_t ResponseBudget::held_by(std::string_view holder) const {
    const std::lock_guard lock(mutex_);
    const auto own = holders_.find(std::string(holder));
    return own == holders_.end() ? 0 : own->second;
}

}  // namespace confab::net
