#pragma once

#include "confab/obs/metrics.hpp"

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace confab::net {

// Open connections per key (a client address, a user) held under a cap. A Slot is one
// connection's place and gives it back when destroyed, however the connection ends.
class ConnectionCounter {
public:
    class Slot {
    public:
        Slot(Slot&& other) noexcept;
        Slot(const Slot&) = delete;
        Slot& operator=(const Slot&) = delete;
        Slot& operator=(Slot&&) = delete;
        ~Slot();

    private:
        friend class ConnectionCounter;
        Slot(ConnectionCounter& counter, std::string key) : counter_(&counter), key_(std::move(key)) {}

        ConnectionCounter* counter_;
        std::string key_;
    };

    // `name` labels the refusals in confab_rate_limited_total.
    ConnectionCounter(std::string_view name, std::size_t cap);

    // A place for `key`, or nullopt when `key` already holds `cap` connections.
    std::optional<Slot> try_take(const std::string& key);
    std::size_t held(const std::string& key) const;

private:
    void release(const std::string& key);

    obs::Counter& refusals_;
    const std::size_t cap_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::size_t> open_;
};

}  // namespace confab::net
