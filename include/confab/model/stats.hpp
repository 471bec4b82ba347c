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
    std::string properties = "{}";  // a JSON object (identifiers and numbers only)
    Timestamp occurred_at = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
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
