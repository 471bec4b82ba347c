#pragma once

#include "confab/domain/model.hpp"

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace confab::domain {

// Tracked product events, queued in memory and written in batches by one background
// thread on its own connection. record() never blocks and never fails a request: when
// the queue is full (PostgreSQL slow or down) events are dropped and counted.
class Analytics {
public:
    static constexpr std::size_t batch_size = 500;

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
