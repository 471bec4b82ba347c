#pragma once

#include "confab/model/stats.hpp"

#include <memory>
#include <string>
#include <vector>

namespace confab::store {

// Writes analytics counts on a connection of its own, outside the Pool, so that a slow
// analytics table never holds up a request. Used from one thread.
class AnalyticsWriter {
public:
    explicit AnalyticsWriter(std::string database_url);
    ~AnalyticsWriter();
    AnalyticsWriter(const AnalyticsWriter&) = delete;
    AnalyticsWriter& operator=(const AnalyticsWriter&) = delete;

    // Adds the counts to those stored for the same minute and key, in one statement,
    // connecting first when there is no open connection. Throws when it could not; the next
    // call connects afresh.
    void add(const std::vector<model::AnalyticsMinute>& minutes);

private:
    struct Connection;
    std::string database_url_;
    std::unique_ptr<Connection> connection_;
};

}  // namespace confab::store
