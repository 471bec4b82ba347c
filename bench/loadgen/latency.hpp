#pragma once

#include <cstdint>
#include <vector>

namespace confab::bench {

// Percentiles of one measurement window, in milliseconds.
struct LatencySummary {
    std::uint64_t count = 0;
    double p50 = 0, p95 = 0, p99 = 0, max = 0;
};

// Every sample of a window, kept whole: a step holds at most a few million deliveries, and
// exact percentiles are simpler to trust than a bucketed histogram.
class LatencySamples {
public:
    void add_ns(std::int64_t nanoseconds) { samples_.push_back(nanoseconds < 0 ? 0 : nanoseconds); }
    void clear() { samples_.clear(); }
    std::size_t size() const { return samples_.size(); }
    // Sorts the samples in place.
    LatencySummary summarize();

private:
    std::vector<std::int64_t> samples_;
};

}  // namespace confab::bench
