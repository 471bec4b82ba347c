#include "confab/domain/blocking.hpp"

#include "confab/domain/model.hpp"
#include "confab/obs/metrics.hpp"

namespace confab::domain {

Workers::Workers(unsigned threads, std::size_t queue_limit) : pool_(threads), queue_limit_(queue_limit) {}

void Workers::enqueue() {
    if (waiting_.fetch_add(1, std::memory_order_relaxed) < queue_limit_) return;
    waiting_.fetch_sub(1, std::memory_order_relaxed);
    static obs::Counter& shed = obs::metrics().shed.with({"workers"});
    shed.inc();
    Error busy(ErrorCode::unavailable, "server busy; retry later");
    busy.retry_after_ms = 1000;
    throw busy;
}

}  // namespace confab::domain
