#pragma once

#include "confab/model/user.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

// Product analytics: the events the server records and the figures computed from them.
namespace confab::model {

struct AnalyticsEvent {
    std::string name;  // message.sent, media.shared, chat.created, reaction.added, ...
    std::optional<std::string> user_id;
    std::optional<std::string> chat_id;
    std::string detail{};    // the one attribute the figures split by: a message's type, a media kind
    std::int64_t bytes = 0;  // media.shared: the upload's size
    Timestamp occurred_at = model::now();
};

// The events of one minute with the same name, user, chat and detail, counted: what is
// stored (analytics_minutes), rather than a row per event.
struct AnalyticsMinute {
    Timestamp minute;
    std::string name;
    std::optional<std::string> user_id;
    std::optional<std::string> chat_id;
    std::string detail;
    std::int64_t events = 0;
    std::int64_t bytes = 0;
};

struct MediaUsage {
    std::int64_t count = 0;
    std::int64_t bytes = 0;
};

struct StatsBucket {
    Timestamp start;
    std::int64_t messages = 0;
    std::int64_t active_chats = 0;
    std::int64_t active_users = 0;
};

struct Stats {
    Timestamp from, to;
    std::string bucket;  // hour|day
    std::vector<StatsBucket> buckets;
    std::int64_t messages = 0;
    std::int64_t active_chats = 0;
    std::map<std::string, MediaUsage> media;  // by kind
    std::optional<double> response_median_ms, response_p95_ms;
    std::int64_t response_samples = 0;
    std::int64_t daily_active = 0, weekly_active = 0, monthly_active = 0;  // windows ending at `to`
};

}  // namespace confab::model
