#include "confab/domain/analytics.hpp"

#include "confab/obs/metrics.hpp"
#include "confab/store/analytics.hpp"

#include <spdlog/spdlog.h>

#include <vector>

namespace confab::domain {
namespace {

constexpr auto retry_pause = std::chrono::seconds(2);

std::optional<std::string> unless_empty(const std::string& text) {
    return text.empty() ? std::nullopt : std::optional(text);
}

}  // namespace

void AnalyticsRollup::add(const AnalyticsEvent& event) {
    const auto minute_ms = event.occurred_at.time_since_epoch().count() / 60000 * 60000;
    auto& [events, bytes] =
        counts_[{minute_ms, event.name, event.user_id.value_or(""), event.chat_id.value_or(""), event.detail}];
    ++events;
    bytes += event.bytes;
}

std::vector<AnalyticsMinute> AnalyticsRollup::rows() const {
    std::vector<AnalyticsMinute> rows;
    rows.reserve(counts_.size());
    for (const auto& [key, count] : counts_) {
        const auto& [minute_ms, name, user_id, chat_id, detail] = key;
        rows.push_back({Timestamp(std::chrono::milliseconds(minute_ms)), name, unless_empty(user_id),
                        unless_empty(chat_id), detail, count.first, count.second});
    }
    return rows;
}

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

// Every flush_interval, the queued events are counted into the rollup and the rollup is
// written. A failed write keeps the rollup, which the next events add to; once it holds
// `capacity_` counts, events stay queued instead, where record() drops what does not fit, so
// memory stays bounded while PostgreSQL is away.
void Analytics::write_loop() {
    static auto& written = obs::metrics().analytics_written.only();
    store::AnalyticsWriter writer(database_url_);
    AnalyticsRollup rollup;
    std::size_t events = 0;  // counted in the rollup, not yet written
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait_for(lock, flush_interval, [this] { return stopping_; });
        const bool last = stopping_;
        std::deque<AnalyticsEvent> taken;
        if (last || rollup.size() < capacity_) taken.swap(queue_);
        lock.unlock();
        for (const auto& event : taken) rollup.add(event);
        events += taken.size();
        if (rollup.size() > 0) {
            try {
                writer.add(rollup.rows());
                written.inc(events);
                rollup.clear();
                events = 0;
            } catch (const std::exception& e) {
                spdlog::warn("analytics: {} counts of {} events not written: {}", rollup.size(), events, e.what());
                if (last) obs::metrics().analytics_dropped.only().inc(events);
                else std::this_thread::sleep_for(retry_pause);
            }
        }
        if (last) return;
        lock.lock();
    }
}

}  // namespace confab::domain
