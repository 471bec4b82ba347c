#pragma once

#include "ceiling.hpp"
#include "database_work.hpp"
#include "latency.hpp"
#include "traffic.hpp"
#include "verify.hpp"

#include <optional>
#include <string>
#include <vector>

namespace confab::bench {

struct ReadFigures {
    double offered_per_s = 0;
    double completed_per_s = 0;
    std::uint64_t failed = 0;
    LatencySummary latency;
};

// One rate of one scenario: what was offered, what came back, and what it cost whom.
struct StepResult {
    std::string label;         // "step" while searching, "retry" when a failed step is run again,
                               // "half" at half the best rate ("half*" for its second attempt)
    double offered_per_s = 0;  // message sends scheduled per second
    double window_s = 0;
    double acks_per_s = 0;  // = persisted messages per second
    double deliveries_per_s = 0;
    LatencySummary end_to_end;      // send -> every member's message.new
    LatencySummary ack;             // send -> ack
    std::uint64_t new_errors = 0;   // error frames, lost connections, disorder, duplicates
    std::uint64_t undelivered = 0;  // acks or deliveries still missing after the drain
    std::optional<ReadFigures> reads;
    // CPU seconds per second of window: 1.0 is one core fully busy (the machine has 2). With
    // several nodes, server_cpu and server_rss are their sums; nats_cpu is 0 without NATS.
    double server_cpu = 0, postgres_cpu = 0, loadgen_cpu = 0, nats_cpu = 0;
    std::uint64_t server_rss = 0;  // at the end of the window
    DatabaseWork database;         // what PostgreSQL did over the window
    bool good = false;
    std::string verdict;  // why the step failed, or "ok"
};

struct ConnectFigures {
    std::size_t connections = 0;
    double seconds = 0;
    LatencySummary handshake;
};

struct IdleFigures {
    std::size_t connections = 0;
    std::uint64_t rss_before = 0, rss_connected = 0, rss_after = 0;
    double bytes_per_connection = 0;
    double server_cpu_idle = 0;    // CPU seconds per second while the connections idle
    double postgres_cpu_idle = 0;  // PostgreSQL's, meanwhile: the server's background work
};

struct Ratio {
    std::string against;  // e.g. "pgbench many_chats batch 50"
    double ceiling_per_s = 0;
    double ratio = 0;  // Confab persisted messages/s at the best rate / ceiling
};

struct ScenarioResult {
    std::string name;
    std::string description;
    std::string rate_unit = "msg/s";  // what offered_per_s counts ("read/s" for reads)
    std::optional<ConnectFigures> connect;
    std::vector<StepResult> steps;
    bool searched = true;             // false: the steps are fixed rates (cluster), there is no best
    std::optional<std::size_t> best;  // index of the highest good step
    std::optional<StepResult> half;
    // Steps at fixed shares of the best rate, for what a message costs below the knee (cost).
    std::vector<std::pair<double, StepResult>> loads;
    std::optional<IdleFigures> idle;
    // Of all deliveries, the share made on another node than the sender's (cluster).
    std::optional<double> cross_node_share;
    std::vector<CeilingResult> ceilings;  // measured just before the scenario, on the same cluster
    std::vector<Ratio> ratios;
    std::optional<Verification> verification;
    TrafficErrors errors;
    std::vector<std::string> targets;  // each "target ... : met|NOT met (...)"
    std::vector<std::string> notes;
    double server_cpu_seconds = 0;  // whole scenario, setup included
    std::uint64_t server_rss_before = 0, server_rss_after = 0;
};

}  // namespace confab::bench
