#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "confab/obs/metrics.hpp"

namespace confab::domain {

// Token buckets keyed by a string (a user id, a client address): `burst` tokens at most,
// refilled at `per_second`. One limiter serves one policy; REST and WebSocket share it.
class RateLimiter {
public:
    using Clock = std::chrono::steady_clock;

    // `name` labels the rejections in the metrics ("messages", "sign_in").
    RateLimiter(std::string_view name, double burst, double per_second);

    // Takes a token, or returns how long until one is available.
    std::optional<std::chrono::milliseconds> acquire(const std::string& key, Clock::time_point now = Clock::now());

    // How long until a token is available (nullopt: now), taking none; for limits charged
    // only when an attempt fails.
    std::optional<std::chrono::milliseconds> peek(const std::string& key, Clock::time_point now = Clock::now()) const;

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
    double tokens_at(const Bucket& bucket, Clock::time_point now) const;
    std::chrono::milliseconds wait_for(double tokens) const;
    [[noreturn]] void refuse(std::chrono::milliseconds wait, const char* what);

    obs::Counter& rejections_;
    const double burst_;
    const double per_second_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Bucket> buckets_;
    std::size_t acquisitions_since_sweep_ = 0;
};

// The key that address-based limits count a client under: an IPv4 address as itself, an
// IPv6 address by its /64 (one subscriber's prefix, whose 2^64 addresses a client may rotate
// through freely), an IPv4-mapped IPv6 address (::ffff:a.b.c.d) as the IPv4 address. Text
// that is no address is its own key.
std::string address_key(std::string_view address);

}  // namespace confab::domain
