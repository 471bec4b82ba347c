#include "confab/domain/rate_limiter.hpp"

#include "confab/domain/model.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cmath>

namespace confab::domain {
namespace {
// Full buckets carry no information; dropping them now and then bounds the map by the
// number of keys active within one refill period.
constexpr std::size_t sweep_every = 4096;
}  // namespace

RateLimiter::RateLimiter(std::string_view name, double burst, double per_second)
    : rejections_(obs::metrics().rate_limited.with({name})), burst_(burst), per_second_(per_second) {}

double RateLimiter::tokens_at(const Bucket& bucket, Clock::time_point now) const {
    const double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
    return std::min(burst_, bucket.tokens + std::max(0.0, elapsed) * per_second_);
}

std::chrono::milliseconds RateLimiter::wait_for(double tokens) const {
    const double wait_seconds = (1.0 - tokens) / per_second_;
    return std::chrono::milliseconds(static_cast<long long>(std::ceil(wait_seconds * 1000.0)));
}

std::optional<std::chrono::milliseconds> RateLimiter::acquire(const std::string& key, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    if (++acquisitions_since_sweep_ >= sweep_every) forget_full_buckets(now);
    auto [it, inserted] = buckets_.try_emplace(key, Bucket{burst_, now});
    auto& bucket = it->second;
    bucket.tokens = tokens_at(bucket, now);
    bucket.updated = now;
    if (bucket.tokens >= 1.0) {
        bucket.tokens -= 1.0;
        return std::nullopt;
    }
    return wait_for(bucket.tokens);
}

std::optional<std::chrono::milliseconds> RateLimiter::peek(const std::string& key, Clock::time_point now) const {
    std::lock_guard lock(mutex_);
    const auto found = buckets_.find(key);
    if (found == buckets_.end()) return std::nullopt;
    const double tokens = tokens_at(found->second, now);
    if (tokens >= 1.0) return std::nullopt;
    return wait_for(tokens);
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
    if (const auto wait = peek(key, now)) refuse(*wait, what);
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

std::string address_key(std::string_view address) {
    std::string text(address);
    in6_addr v6{};
    if (inet_pton(AF_INET6, text.c_str(), &v6) != 1) return text;  // IPv4, or no address at all
    char out[INET6_ADDRSTRLEN];
    if (IN6_IS_ADDR_V4MAPPED(&v6)) return inet_ntop(AF_INET, &v6.s6_addr[12], out, sizeof out);
    std::fill(std::begin(v6.s6_addr) + 8, std::end(v6.s6_addr), std::uint8_t{0});
    return std::string(inet_ntop(AF_INET6, &v6, out, sizeof out)) + "/64";
}

}  // namespace confab::domain
