#include "confab/domain/analytics.hpp"

#include "confab/obs/metrics.hpp"
#include "confab/store/analytics.hpp"

#include <spdlog/spdlog.h>

#include <vector>

namespace confab::domain {
namespace {

constexpr auto flush_interval = std::chrono::seconds(1);
constexpr auto retry_pause = std::chrono::seconds(2);

}  // namespace

Analytics::Analytics(std::string database_url, std::size_t capacity)
    : database_url_(std::move(database_url)), capacity_(capacity), writer_([this] { write_loop(); }) {}

Analytics::~Analytics() { stop(); }

void Analytics::record(AnalyticsEvent event) noexcept {
    static auto& dropped = obs::metrics().analytics_dropped.only();
    try {
        std::lock_guard lock(mutex_);
        if (stopping_ || queue_.size() >= capacity_) {
            dropped.inc();
            return;
        }
        queue_.push_back(std::move(event));
        if (queue_.size() >= batch_size) wake_.notify_one();
    } catch (...) {
        dropped.inc();
    }
}

void Analytics::stop() {
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        stopping_ = true;
    }
    wake_.notify_one();
    if (writer_.joinable()) writer_.join();
}

void Analytics::write_loop() {
    static auto& written = obs::metrics().analytics_written.only();
    store::AnalyticsWriter writer(database_url_);
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait_for(lock, flush_interval, [this] { return stopping_ || queue_.size() >= batch_size; });
        if (queue_.empty()) {
            if (stopping_) return;
            continue;
        }
        const auto take = std::min(queue_.size(), batch_size);
        std::vector<AnalyticsEvent> batch(std::make_move_iterator(queue_.begin()),
                                          std::make_move_iterator(queue_.begin() + static_cast<std::ptrdiff_t>(take)));
        queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(take));
        lock.unlock();
        try {
            writer.insert(batch);
            written.inc(batch.size());
        } catch (const std::exception& e) {
            // The batch goes back to the front if there is room; what does not fit is dropped.
            spdlog::warn("analytics batch of {} not written: {}", batch.size(), e.what());
            lock.lock();
            const bool give_up = stopping_;
            std::size_t requeued = 0;
            for (auto it = batch.rbegin(); it != batch.rend() && !give_up && queue_.size() < capacity_;
                 ++it, ++requeued)
                queue_.push_front(std::move(*it));
            lock.unlock();
            obs::metrics().analytics_dropped.only().inc(batch.size() - requeued);
            if (!give_up) std::this_thread::sleep_for(retry_pause);
        }
        lock.lock();
    }
}

}  // namespace confab::domain
