#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "confab/obs/metrics.hpp"

namespace confab::domain {

// Token buckets keyed by a string (a user id, a client address): `burst` tokens at most,
// refilled at `per_second`. One limiter serves one policy; REST and WebSocket share it.
class RateLimiter {
public:
    using Clock = std::chrono::steady_clock;

    // `name` labels the rejections in the metrics ("messages", "sign_in").
    RateLimiter(std::string name, double burst, double per_second);

    // Takes a token, or returns how long until one is available.
    std::optional<std::chrono::milliseconds> acquire(const std::string& key, Clock::time_point now = Clock::now());

    // Throws Error{rate_limited} with details.retry_after_ms when the bucket is empty.
    void require(const std::string& key, const char* what);
    // As require, but takes no token: for a budget spent only by what fails (with acquire).
    void require_left(const std::string& key, const char* what, Clock::time_point now = Clock::now());

    std::size_t tracked() const;

private:
    struct Bucket {
        double tokens;
        Clock::time_point updated;
    };
    void forget_full_buckets(Clock::time_point now);
    [[noreturn]] void refuse(std::chrono::milliseconds wait, const char* what);
    // Brings the bucket's tokens up to `now`; with mutex_ held.
    Bucket& refilled(const std::string& key, Clock::time_point now);
    std::chrono::milliseconds wait_for_one(const Bucket& bucket) const;

    obs::Counter& rejections_;
    const double burst_;
    const double per_second_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Bucket> buckets_;
    std::size_t acquisitions_since_sweep_ = 0;
};

}  // namespace confab::domain
