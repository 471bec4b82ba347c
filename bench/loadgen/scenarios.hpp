#pragma once

#include "ceiling.hpp"
#include "population.hpp"
#include "results.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace confab::bench {

// Sizes and timings of a run: the full suite, or --quick (small sizes, about a second per
// step) for development and the CI smoke test.
struct Settings {
    double warmup_s, window_s, drain_s;
    int max_steps;
    int refinements;      // bisection steps after the first rate that is not sustained
    double growth = 1.5;  // offered rate multiplier from one step to the next
    double settle_s;      // after connecting, before sending (presence fan-out)
    std::size_t many_chats, many_members;
    std::size_t hot_members;
    std::size_t fan_out_members, fan_out_senders;
    std::size_t idle_connections;
    std::size_t read_connections;
    double many_start, hot_start, fan_out_start, reads_start;
    double reads_write_rate;  // writes under the reads when many_chats did not run first
    std::size_t cost_chats, cost_members;
    double cost_start;
    double cost_window_s;                      // each share of the knee is measured this long
    std::vector<double> cost_rates;            // msg/s cost runs instead of shares of its knee; empty: the shares
    std::vector<double> history_rates;         // read/s history runs instead of shares of its knee; empty: the shares
    double history_start;                      // reads/s
    double history_fill_rate, history_fill_s;  // sends that give the cost chats history when cost did not run
    std::size_t cluster_chats, cluster_members;
    std::vector<double> cluster_rates;  // msg/s, each run for window_s
};

Settings settings_for(bool quick);

// Everything the scenarios share within one loadgen run.
struct Context {
    Population& population;
    Settings settings;
    std::vector<pid_t> server_pids;  // every node's
    pid_t postgres_pid = 0;
    pid_t nats_pid = 0;  // 0: no NATS
    std::string database_url;
    std::optional<CeilingOptions> ceiling;        // unset: no pgbench comparison
    bool idle_selected = false;                   // the fan-out group then takes users the idle scenario does not
    std::optional<std::vector<Chat>> many_chats;  // made by the first scenario that needs them
    std::optional<double> many_chats_best_rate;
    std::optional<std::vector<Chat>> cost_chats;  // made by cost or history
    bool cost_chats_have_history = false;         // the cost scenario ran: thousands of messages each
};

// Issue #7's scenarios (a) to (e), in the order they run: "idle" (d) first, then
// "many_chats", "hot_chat", "fan_out", "reads"; then issue #21's "cost" and "history"; then issue #20's
// "cluster", which runs only when named (bench/cluster names it).
const std::vector<std::string>& scenario_names();
bool runs_by_default(const std::string& scenario);

boost::asio::awaitable<ScenarioResult> run_scenario(Context& context, const std::string& name);

}  // namespace confab::bench
