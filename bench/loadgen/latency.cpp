#include "latency.hpp"

#include <algorithm>
#include <cmath>

namespace confab::bench {

LatencySummary LatencySamples::summarize() {
    LatencySummary summary;
    summary.count = samples_.size();
    if (samples_.empty()) return summary;
    std::sort(samples_.begin(), samples_.end());
    const auto at = [&](double quantile) {
        // Nearest rank: the smallest sample with at least `quantile` of the samples at or below it.
        const auto rank = static_cast<std::size_t>(std::ceil(quantile * static_cast<double>(samples_.size())));
        return static_cast<double>(samples_[std::max<std::size_t>(rank, 1) - 1]) / 1e6;
    };
    summary.p50 = at(0.50);
    summary.p95 = at(0.95);
    summary.p99 = at(0.99);
    summary.max = static_cast<double>(samples_.back()) / 1e6;
    return summary;
}

}  // namespace confab::bench
