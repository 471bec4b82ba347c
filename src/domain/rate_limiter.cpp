#include "confab/domain/rate_limiter.hpp"

#include "confab/domain/error.hpp"

#include <algorithm>
#include <cmath>

namespace confab::domain {
namespace {
// Full buckets carry no information; dropping them now and then bounds the map by the
// number of keys active within one refill period.
constexpr std::size_t sweep_every = 4096;
}  // namespace

RateLimiter::RateLimiter(std::string name, double burst, double per_second)
    : rejections_(obs::metrics().rate_limited.with({std::move(name)})), burst_(burst), per_second_(per_second) {}

RateLimiter::Bucket& RateLimiter::refilled(const std::string& key, Clock::time_point now) {
    auto [it, inserted] = buckets_.try_emplace(key, Bucket{burst_, now});
    auto& bucket = it->second;
    const double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
    bucket.tokens = std::min(burst_, bucket.tokens + std::max(0.0, elapsed) * per_second_);
    bucket.updated = now;
    return bucket;
}

std::chrono::milliseconds RateLimiter::wait_for_one(const Bucket& bucket) const {
    const double wait_seconds = (1.0 - bucket.tokens) / per_second_;
    return std::chrono::milliseconds(static_cast<long long>(std::ceil(wait_seconds * 1000.0)));
}

std::optional<std::chrono::milliseconds> RateLimiter::acquire(const std::string& key, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    if (++acquisitions_since_sweep_ >= sweep_every) forget_full_buckets(now);
    auto& bucket = refilled(key, now);
    if (bucket.tokens >= 1.0) {
        bucket.tokens -= 1.0;
        return std::nullopt;
    }
    return wait_for_one(bucket);
}

void RateLimiter::refuse(std::chrono::milliseconds wait, const char* what) {
    rejections_.inc();
    Error error(ErrorCode::rate_limited, std::string("too many ") + what + "; retry later");
    error.retry_after_ms = wait.count();
    throw error;
}

void RateLimiter::require(const std::string& key, const char* what) {
    if (const auto wait = acquire(key)) refuse(*wait, what);
}

void RateLimiter::require_left(const std::string& key, const char* what, Clock::time_point now) {
    std::optional<std::chrono::milliseconds> wait;
    {
        std::lock_guard lock(mutex_);
        const auto it = buckets_.find(key);
        if (it == buckets_.end()) return;  // never spent: full
        const auto& bucket = refilled(key, now);
        if (bucket.tokens < 1.0) wait = wait_for_one(bucket);
    }
    if (wait) refuse(*wait, what);
}

std::size_t RateLimiter::tracked() const {
    std::lock_guard lock(mutex_);
    return buckets_.size();
}

void RateLimiter::forget_full_buckets(Clock::time_point now) {
    acquisitions_since_sweep_ = 0;
    std::erase_if(buckets_, [&](const auto& entry) {
        const double elapsed = std::chrono::duration<double>(now - entry.second.updated).count();
        return entry.second.tokens + elapsed * per_second_ >= burst_;
    });
}

}  // namespace confab::domain
