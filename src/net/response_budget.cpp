#include "confab/net/response_budget.hpp"

namespace confab::net {

ResponseBudget::Hold::~Hold() {
    if (budget_ != nullptr) budget_->held_.fetch_sub(bytes_);
}

ResponseBudget::ResponseBudget(std::uint64_t total, std::uint64_t small)
    : total_(total), small_(small), refusals_(obs::metrics().rate_limited.with({"response_budget"})) {}

std::optional<ResponseBudget::Hold> ResponseBudget::take(std::uint64_t bytes) {
    if (bytes <= small_) return Hold(nullptr, 0);
    auto held = held_.load();
    do {
        if (held + bytes > total_) {
            refusals_.inc();
            return std::nullopt;
        }
    } while (!held_.compare_exchange_weak(held, held + bytes));
    return Hold(this, bytes);
}

}  // namespace confab::net
