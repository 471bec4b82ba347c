#pragma once

#include "confab/domain/model.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <tuple>
#include <utility>
#include <vector>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace confab::domain {

// Events counted per minute and per (name, user, chat, detail), as analytics_minutes holds
// them: a busy minute writes one row per member who was active in a chat, not one per event.
class AnalyticsRollup {
public:
    void add(const AnalyticsEvent& event);
    std::vector<AnalyticsMinute> rows() const;
    std::size_t size() const { return counts_.size(); }
    void clear() { counts_.clear(); }

private:
    // minute (epoch ms), name, user, chat ("" for none), detail
    using Key = std::tuple<std::int64_t, std::string, std::string, std::string, std::string>;
    std::map<Key, std::pair<std::int64_t, std::int64_t>> counts_;  // events, bytes
};

// Tracked product events, queued in memory, counted per minute and written every
// flush_interval by one background thread on its own connection. record() never blocks and
// never fails a request: when the queue is full (PostgreSQL slow or down) events are
// dropped and counted.
class Analytics {
public:
    static constexpr auto flush_interval = std::chrono::seconds(5);

    Analytics(std::string database_url, std::size_t capacity);
    ~Analytics();
    Analytics(const Analytics&) = delete;
    Analytics& operator=(const Analytics&) = delete;

    void record(AnalyticsEvent event) noexcept;
    // Writes what is queued and stops the writer.
    void stop();

private:
    void write_loop();

    std::string database_url_;
    std::size_t capacity_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<AnalyticsEvent> queue_;
    bool stopping_ = false;
    std::thread writer_;
};

}  // namespace confab::domain
