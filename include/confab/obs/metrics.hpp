#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

// Prometheus metrics: plain atomics on the hot path; a labelled series is found once per
// label set under a shared lock (per request at most, never per delivered frame).
namespace confab::obs {

class Counter {
public:
    static constexpr const char* type = "counter";
    void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> value_{0};
};

class Gauge {
public:
    static constexpr const char* type = "gauge";
    void add(std::int64_t n) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
    void set(std::int64_t n) noexcept { value_.store(n, std::memory_order_relaxed); }
    std::int64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::int64_t> value_{0};
};

class Histogram {
public:
    static constexpr const char* type = "histogram";
    static constexpr std::array<double, 12> bounds{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                   0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
    void observe(double seconds) noexcept;
    std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }
    void write(std::string& out, const std::string& name, const std::string& labels) const;

private:
    std::array<std::atomic<std::uint64_t>, bounds.size()> buckets_{};  // not cumulative
    std::atomic<std::uint64_t> count_{0};
    std::atomic<std::uint64_t> sum_nanoseconds_{0};
};

// A family as the exposition sees it: something that writes itself.
class Exposed {
public:
    virtual void write(std::string& out) const = 0;

protected:
    Exposed() = default;
    ~Exposed() = default;
};
// The families of Metrics, in the order they are declared there and exposed.
using Registry = std::vector<const Exposed*>;

// One metric name with a fixed list of label names, entered in `registry` as it is built.
template <class Metric>
class Family final : public Exposed {
public:
    Family(Registry& registry, std::string name, std::string help, std::vector<std::string> label_names)
        : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {
        if (label_names_.empty()) series_.emplace(std::vector<std::string>{}, std::make_unique<Metric>());
        registry.push_back(this);
    }
    Family(const Family&) = delete;
    Family& operator=(const Family&) = delete;
    ~Family() = default;
    // The single series of a family without labels (cache the reference on hot paths).
    Metric& only() { return with({}); }

    // Looked up without copying the values: most requests find a series that exists.
    Metric& with(std::initializer_list<std::string_view> label_values);
    void write(std::string& out) const override;

private:
    struct LabelsLess {
        using is_transparent = void;
        template <class Left, class Right>
        bool operator()(const Left& left, const Right& right) const {
            return std::lexicographical_compare(left.begin(), left.end(), right.begin(), right.end(),
                                                std::less<std::string_view>());
        }
    };
    std::string name_, help_;
    std::vector<std::string> label_names_;
    mutable std::shared_mutex mutex_;
    std::map<std::vector<std::string>, std::unique_ptr<Metric>, LabelsLess> series_;
};

// Every metric the server exposes at GET /metrics: each family enters itself in `families_`,
// declared first so that it is built before them.
class Metrics {
    Registry families_;

public:
    Metrics() = default;
    Metrics(const Metrics&) = delete;
    Metrics& operator=(const Metrics&) = delete;

    Family<Gauge> connections_open{families_, "confab_connections_open", "Open client connections.", {"kind"}};
    Family<Counter> http_requests{families_,
                                  "confab_http_requests_total",
                                  "HTTP requests by route and status.",
                                  {"route", "status"}};
    Family<Histogram> http_duration{families_,
                                    "confab_http_request_duration_seconds",
                                    "HTTP request latency by route.",
                                    {"route"}};
    Family<Gauge> http_in_flight{families_, "confab_http_requests_in_flight", "HTTP requests being answered.", {}};
    Family<Counter> ws_frames_in{families_,
                                 "confab_ws_frames_received_total",
                                 "WebSocket frames received by event type.",
                                 {"type"}};
    Family<Counter> ws_frames_out{families_, "confab_ws_frames_sent_total", "WebSocket frames sent.", {}};
    Family<Counter> messages_sent{families_, "confab_messages_sent_total", "Messages stored, by type.", {"type"}};
    Family<Counter> deliveries{families_,
                               "confab_fanout_deliveries_total",
                               "Event frames handed to live connections.",
                               {}};
    Family<Counter> queue_drops{families_,
                                "confab_ws_outbound_queue_overflows_total",
                                "WebSockets closed because their outbound queue was full.",
                                {}};
    Family<Counter> rate_limited{families_,
                                 "confab_rate_limited_total",
                                 "Requests refused by a rate limit.",
                                 {"limit"}};
    Family<Gauge> scheduled_backlog{families_,
                                    "confab_scheduled_messages_due",
                                    "Scheduled messages that are due and not yet sent or cancelled.",
                                    {}};
    Family<Counter> scheduled_done{families_,
                                   "confab_scheduled_messages_total",
                                   "Scheduled messages that came due, by outcome (sent, cancelled).",
                                   {"outcome"}};
    Family<Gauge> db_in_use{families_, "confab_db_pool_in_use", "Database connections running a transaction.", {}};
    Family<Gauge> db_waiting{families_, "confab_db_pool_waiting", "Transactions queued for a database connection.", {}};
    Family<Counter> db_errors{families_,
                              "confab_db_errors_total",
                              "Transactions failed for database reasons.",
                              {"kind"}};
    Family<Histogram> db_duration{families_,
                                  "confab_db_transaction_duration_seconds",
                                  "Time from taking a connection to commit.",
                                  {}};
    Family<Counter> db_group_commits{families_,
                                     "confab_db_group_commits_total",
                                     "Transactions that committed a group of ordered writes.",
                                     {}};
    Family<Counter> db_group_commit_writes{families_,
                                           "confab_db_group_commit_writes_total",
                                           "Ordered writes run in those groups (divide for the mean group size).",
                                           {}};
    Family<Counter> analytics_written{families_,
                                      "confab_analytics_events_written_total",
                                      "Analytics events stored.",
                                      {}};
    Family<Counter> analytics_dropped{families_,
                                      "confab_analytics_events_dropped_total",
                                      "Analytics events dropped because the writer fell behind.",
                                      {}};
    Family<Histogram> search_duration{families_,
                                      "confab_search_duration_seconds",
                                      "Message searches, from queueing for a connection to the page of results.",
                                      {"scope"}};
    Family<Counter> media_bytes{families_,
                                "confab_media_bytes_stored_total",
                                "Bytes of media uploads accepted.",
                                {"kind"}};
    // Overload and outage protection.
    Family<Counter> db_connect_attempts{families_,
                                        "confab_db_connect_attempts_total",
                                        "Database connections the pool tried to open.",
                                        {}};
    Family<Counter> readiness_probes{families_,
                                     "confab_readiness_probes_total",
                                     "Database probes made to answer GET /readyz.",
                                     {}};
    Family<Counter> shed{families_,
                         "confab_shed_total",
                         "Work refused with 503 because its queue was full.",
                         {"queue"}};
    Family<Counter> token_lookups{families_,
                                  "confab_auth_token_lookups_total",
                                  "Bearer tokens checked, by where the answer came from.",
                                  {"source"}};
    Family<Counter> history_pages{families_,
                                  "confab_history_pages_total",
                                  "Newest history pages read, by where their messages came from (cache, database).",
                                  {"source"}};
    Family<Counter> thumbnails_made{families_,
                                    "confab_media_thumbnails_made_total",
                                    "Image thumbnails and video posters made (each once, when first asked for).",
                                    {}};
    Family<Counter> translation_requests{families_,
                                         "confab_translation_requests_total",
                                         "Message translations asked for, by result (cached, translated, failed, "
                                         "timed_out, not_configured).",
                                         {"result"}};
    Family<Histogram> translation_duration{families_,
                                           "confab_translation_provider_duration_seconds",
                                           "Translations the provider answered, from the call to its answer.",
                                           {}};
    Family<Counter> cluster_messages{families_,
                                     "confab_cluster_messages_total",
                                     "Messages between the nodes of a cluster over NATS, by direction (published, "
                                     "received, dropped: malformed or refused by NATS).",
                                     {"direction"}};
    Family<Gauge> cluster_connected{families_,
                                    "confab_cluster_nats_connected",
                                    "1 while the node is connected to NATS; 0 while it reconnects, and on a "
                                    "single node.",
                                    {}};
    Family<Counter> cluster_ordering{families_,
                                     "confab_cluster_ordering_total",
                                     "Chat events a clustered node put back in seq order, by outcome (held: a "
                                     "message or another event waited for an earlier message from another node; gap: "
                                     "given up after the wait, its recipients told to resync; late: a message behind "
                                     "what went out, its recipients told to resync).",
                                     {"outcome"}};
    Family<Gauge> webhook_pending{families_,
                                  "confab_webhook_pending",
                                  "Webhook subscription and chat pairs with committed changes not yet delivered.",
                                  {}};
    Family<Gauge> webhook_oldest_pending{families_,
                                         "confab_webhook_oldest_pending_seconds",
                                         "Age of the oldest change not yet delivered to a webhook.",
                                         {}};
    Family<Counter> webhook_attempts{families_,
                                     "confab_webhook_attempts_total",
                                     "Webhook delivery attempts, by result (delivered, failed).",
                                     {"result"}};
    Family<Counter> webhook_parked{families_,
                                   "confab_webhook_failures_total",
                                   "Webhook deliveries parked as failed after webhooks.retry_for_seconds.",
                                   {}};
    Family<Histogram> webhook_latency{families_,
                                      "confab_webhook_delivery_latency_seconds",
                                      "From a change's commit to its webhook delivery's successful answer.",
                                      {}};
    Family<Gauge> push_queue_depth{families_,
                                   "confab_push_jobs_pending",
                                   "Push notifications waiting to be sent or retried.",
                                   {}};
    Family<Gauge> push_oldest_age{families_,
                                  "confab_push_oldest_pending_seconds",
                                  "Age of the oldest push notification waiting to be sent.",
                                  {}};
    Family<Counter> push_attempts{families_,
                                  "confab_push_attempts_total",
                                  "Push notifications handed to a provider, by provider and result (delivered, "
                                  "retried, dead_token, dropped).",
                                  {"provider", "result"}};
    Family<Counter> push_failures{families_,
                                  "confab_push_failures_total",
                                  "Push attempts that failed (retried, dead token or dropped), by provider.",
                                  {"provider"}};
    Family<Histogram> push_latency{families_,
                                   "confab_push_delivery_latency_seconds",
                                   "From a message's commit to its push accepted by the provider.",
                                   {}};

    // The Prometheus text exposition format (0.0.4), process RSS and CPU included.
    std::string expose() const;
};

Metrics& metrics();

}  // namespace confab::obs
