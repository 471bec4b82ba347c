#include "scenarios.hpp"

#include "concurrency.hpp"
#include "database_work.hpp"
#include "process_stats.hpp"
#include "read_load.hpp"
#include "report.hpp"
#include "traffic.hpp"
#include "verify.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>
#include <thread>

namespace confab::bench {
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr double max_p99_ms = 100;       // a step is sustained only below this p99
constexpr double half_rate_p99_ms = 50;  // the target at half the sustained rate
constexpr double min_ack_share = 0.95;   // acks per second at least this share of the offer

// ---------------------------------------------------------------------------------------
// measuring

struct CpuMark {
    std::int64_t at_ns;
    double server, postgres, loadgen, nats;
    std::uint64_t server_rss;
};

// CPU and RSS of every node together.
ProcessSample sample_servers(const Context& context) {
    ProcessSample total;
    for (const auto pid : context.server_pids) {
        const auto sample = sample_process(pid).value_or(ProcessSample{});
        total.cpu_seconds += sample.cpu_seconds;
        total.rss_bytes += sample.rss_bytes;
    }
    return total;
}

CpuMark mark(const Context& context) {
    const auto server = sample_servers(context);
    const auto nats =
        context.nats_pid > 0 ? sample_process(context.nats_pid).value_or(ProcessSample{}) : ProcessSample{};
    return {now_ns(),
            server.cpu_seconds,
            context.postgres_pid > 0 ? cpu_seconds_of_tree(context.postgres_pid) : 0.0,
            own_cpu_seconds(),
            nats.cpu_seconds,
            server.rss_bytes};
}

// Calls fire(intended_ns) `rate` times a second for `seconds`, on a fixed schedule whatever
// the server answers (open loop). Sends due within the same half millisecond go out
// together; each keeps its scheduled time, so latency includes any lateness of the loadgen.
asio::awaitable<void> pace(double rate, double seconds, std::function<void(std::int64_t)> fire) {
    if (rate <= 0) co_return;
    asio::steady_timer timer(co_await asio::this_coro::executor);
    const auto start = now_ns();
    const auto total = static_cast<std::uint64_t>(rate * seconds);
    const double interval_ns = 1e9 / rate;
    std::uint64_t done = 0;
    while (done < total) {
        const auto due = std::min<std::uint64_t>(
            total, static_cast<std::uint64_t>(static_cast<double>(now_ns() - start) / interval_ns) + 1);
        for (; done < due; ++done) fire(start + static_cast<std::int64_t>(static_cast<double>(done) * interval_ns));
        const auto next_ns = start + static_cast<std::int64_t>(static_cast<double>(done) * interval_ns);
        timer.expires_after(std::chrono::nanoseconds(std::max<std::int64_t>(next_ns - now_ns(), 500'000)));
        co_await timer.async_wait(asio::use_awaitable);
    }
}

// Who sends the next message: chats in turn, and within a chat its senders in turn.
class SendPlan {
public:
    SendPlan(const Fleet& fleet, std::size_t chats, std::size_t senders_per_chat) : senders_(chats) {
        for (const auto& connection : fleet.connections) {
            auto& senders = senders_.at(static_cast<std::size_t>(connection->chat()));
            if (senders.size() < senders_per_chat) senders.push_back(connection.get());
        }
    }
    std::pair<WsConnection*, int> next() {
        const auto chat = count_ % senders_.size();
        const auto& senders = senders_[chat];
        const auto sender = senders[(count_ / senders_.size()) % senders.size()];
        ++count_;
        return {sender, static_cast<int>(chat)};
    }

private:
    std::vector<std::vector<WsConnection*>> senders_;
    std::uint64_t count_ = 0;
};

struct StepLoad {
    double write_rate = 0;
    double read_rate = 0;  // 0: no reads
};

asio::awaitable<void> drain(Traffic& traffic, ReadLoad* reads, double seconds) {
    const auto deadline = now_ns() + static_cast<std::int64_t>(seconds * 1e9);
    while (!(traffic.drained() && (!reads || reads->drained())) && now_ns() < deadline)
        co_await sleep_for(std::chrono::milliseconds(20));
}

std::string judge(StepResult& step) {
    std::vector<std::string> reasons;
    if (step.offered_per_s > 0 && step.end_to_end.count == 0) reasons.push_back("no deliveries");
    if (step.end_to_end.p99 >= max_p99_ms) reasons.push_back("p99 >= 100 ms");
    if (step.acks_per_s < min_ack_share * step.offered_per_s)
        reasons.push_back("acks " + std::to_string(static_cast<int>(100 * step.acks_per_s / step.offered_per_s)) +
                          "% of offer");
    if (step.reads) {
        if (step.reads->latency.p99 >= max_p99_ms) reasons.push_back("read p99 >= 100 ms");
        if (step.reads->completed_per_s < min_ack_share * step.reads->offered_per_s)
            reasons.push_back("reads fall behind");
        if (step.reads->failed > 0) reasons.push_back(std::to_string(step.reads->failed) + " failed reads");
    }
    if (step.new_errors > 0) reasons.push_back(std::to_string(step.new_errors) + " errors");
    if (step.undelivered > 0) reasons.push_back(std::to_string(step.undelivered) + " undelivered after drain");
    step.good = reasons.empty();
    if (step.good) return "ok";
    std::string verdict;
    for (const auto& reason : reasons) verdict += (verdict.empty() ? "" : "; ") + reason;
    return verdict;
}

// One offered rate: warm up, measure a window, then wait for the window's messages to land.
asio::awaitable<StepResult> run_step(Context& context, Traffic& traffic, SendPlan& plan, ReadLoad* reads, StepLoad load,
                                     std::optional<double> window_s = std::nullopt) {
    const auto& settings = context.settings;
    const auto send = [&](std::int64_t intended) {
        const auto [sender, chat] = plan.next();
        traffic.send(*sender, chat, intended);
    };
    const auto read = [&](std::int64_t intended) { reads->schedule(intended); };
    const auto run_for = [&](double seconds) -> asio::awaitable<void> {
        co_await (pace(load.write_rate, seconds, send) && pace(reads ? load.read_rate : 0, seconds, read));
    };
    const auto errors_before = traffic.errors().total();
    co_await run_for(settings.warmup_s);
    traffic.begin_window();
    if (reads) reads->begin_window();
    const auto database_before = sample_database_work(context.database_url);
    const auto before = mark(context);
    co_await run_for(window_s.value_or(settings.window_s));
    const auto after = mark(context);
    const auto database_after = sample_database_work(context.database_url);
    traffic.end_window();
    if (reads) reads->end_window();
    co_await drain(traffic, reads, settings.drain_s);

    auto window = traffic.take_window();
    StepResult step;
    step.label = "step";
    step.window_s = window.seconds;
    step.offered_per_s = static_cast<double>(window.offered) / window.seconds;
    step.acks_per_s = static_cast<double>(window.acks) / window.seconds;
    step.deliveries_per_s = static_cast<double>(window.deliveries) / window.seconds;
    step.end_to_end = window.end_to_end.summarize();
    step.ack = window.ack.summarize();
    step.new_errors = traffic.errors().total() - errors_before;
    step.undelivered = traffic.outstanding_acks() + traffic.outstanding_deliveries();
    const double elapsed = static_cast<double>(after.at_ns - before.at_ns) / 1e9;
    step.server_cpu = (after.server - before.server) / elapsed;
    step.postgres_cpu = (after.postgres - before.postgres) / elapsed;
    step.loadgen_cpu = (after.loadgen - before.loadgen) / elapsed;
    step.nats_cpu = (after.nats - before.nats) / elapsed;
    step.server_rss = after.server_rss;
    step.database = database_after - database_before;
    if (reads) {
        auto counters = reads->take_window();
        step.reads = ReadFigures{static_cast<double>(counters.offered) / counters.seconds,
                                 static_cast<double>(counters.completed) / counters.seconds, counters.failed,
                                 counters.latency.summarize()};
    }
    step.verdict = judge(step);
    co_return step;
}

// Steps the offered rate up by `growth` until a step fails, then runs half the best rate.
// The searched rate is the send rate, or with reads the read rate (writes stay fixed).
// A failed step is run once more before it counts: the machine is shared, and a burst of
// someone else's disk or CPU use can fail one window at a rate the server sustains.
asio::awaitable<void> search(Context& context, ScenarioResult& result, Traffic& traffic, ReadLoad* reads,
                             double start_rate, std::function<StepLoad(double)> load_at,
                             std::function<asio::awaitable<StepResult>(StepLoad)> step_at) {
    const auto& settings = context.settings;
    // Runs `rate`, and again if that fails; a failed first attempt goes into the steps.
    const auto measure = [&](double rate, std::string label, std::string retry_label) -> asio::awaitable<StepResult> {
        auto step = co_await step_at(load_at(rate));
        step.label = std::move(label);
        if (step.good) co_return step;
        result.steps.push_back(std::move(step));
        // An overloaded step leaves a backlog: let it land before measuring anything else.
        co_await drain(traffic, reads, 3 * settings.drain_s);
        auto retry = co_await step_at(load_at(rate));
        retry.label = std::move(retry_label);
        if (!retry.good) co_await drain(traffic, reads, 3 * settings.drain_s);
        co_return retry;
    };
    double rate = start_rate;
    std::optional<double> best_rate;
    const auto run = [&](double at, const char* label, const char* retry_label) -> asio::awaitable<bool> {
        result.steps.push_back(co_await measure(at, label, retry_label));
        if (!result.steps.back().good) co_return false;
        result.best = result.steps.size() - 1;
        best_rate = at;
        co_return true;
    };
    for (int i = 0; i < settings.max_steps; ++i) {
        if (co_await run(rate, "step", "retry")) {
            rate *= settings.growth;
            continue;
        }
        if (best_rate || i >= 2) break;
        rate /= settings.growth * settings.growth;  // even the first rate was too much: go lower
    }
    // The growth steps bracket the highest sustained rate within a factor of `growth`;
    // bisecting that bracket (geometric midpoints) narrows it.
    for (int i = 0; best_rate && *best_rate < rate && i < settings.refinements; ++i) {
        const auto middle = std::sqrt(*best_rate * rate);
        if (!co_await run(middle, "refine", "retry")) rate = middle;
    }
    if (best_rate) result.half = co_await measure(*best_rate / 2, "half", "half*");
}

std::vector<std::vector<std::size_t>> consecutive_groups(std::size_t first_user, std::size_t groups,
                                                         std::size_t members) {
    std::vector<std::vector<std::size_t>> lists(groups);
    for (std::size_t g = 0; g < groups; ++g)
        for (std::size_t m = 0; m < members; ++m) lists[g].push_back(first_user + g * members + m);
    return lists;
}

// Offered rates with no search: a rate that is not sustained is reported as it is.
asio::awaitable<std::vector<StepResult>> fixed_rate_steps(Context& context, Traffic& traffic, SendPlan& plan,
                                                          const std::vector<double>& rates,
                                                          std::optional<double> window_s = std::nullopt) {
    std::vector<StepResult> steps;
    for (const auto rate : rates) {
        steps.push_back(co_await run_step(context, traffic, plan, nullptr, {rate, 0}, window_s));
        steps.back().label = "fixed";
    }
    co_return steps;
}

// The shares of the knee the cost scenarios measure.
const std::vector<double> kShares{0.1, 0.3, 0.6, 0.9};

// The groups kept in `made` (a scenario's shared chats), made the first time they are needed.
asio::awaitable<const std::vector<Chat>*> groups_of(Context& context, std::optional<std::vector<Chat>>& made,
                                                    const char* name, std::size_t chats, std::size_t members) {
    if (!made) {
        co_await context.population.ensure_users(chats * members);
        made = co_await context.population.create_groups(name, consecutive_groups(0, chats, members));
    }
    co_return &*made;
}

asio::awaitable<const std::vector<Chat>*> cost_chats_of(Context& context) {
    const auto& s = context.settings;
    return groups_of(context, context.cost_chats, "cost", s.cost_chats, s.cost_members);
}

asio::awaitable<const std::vector<Chat>*> many_chats_of(Context& context) {
    const auto& s = context.settings;
    return groups_of(context, context.many_chats, "many", s.many_chats, s.many_members);
}

// PostgreSQL's own rate for `shape`, one message per transaction and batched, measured
// right before the scenario so that both see the machine in the same state.
void measure_ceiling(const Context& context, ScenarioResult& result, const CeilingShape& shape) {
    if (!context.ceiling) return;
    for (const int batch : {1, context.ceiling->batch})
        result.ceilings.push_back(run_pgbench(*context.ceiling, shape, batch));
}

void add_ratios(ScenarioResult& result) {
    if (!result.best) return;
    const auto persisted = result.steps[*result.best].acks_per_s;
    for (const auto& ceiling : result.ceilings)
        result.ratios.push_back({"pgbench " + ceiling.shape + " " + std::to_string(ceiling.batch) + " msg/tx, " +
                                     std::to_string(ceiling.clients) + " clients",
                                 ceiling.messages_per_s, persisted / ceiling.messages_per_s});
}

const CeilingResult* ceiling_of(const ScenarioResult& result, bool batched) {
    for (const auto& ceiling : result.ceilings)
        if ((ceiling.batch > 1) == batched) return &ceiling;
    return nullptr;
}

std::string met(bool ok) { return ok ? "met" : "NOT met"; }

void add_half_rate_target(ScenarioResult& result) {
    if (!result.half) {
        result.targets.push_back("target p99 < 50 ms at half the max rate: NOT met (no sustained rate)");
        return;
    }
    const auto p99 = result.half->reads ? std::max(result.half->end_to_end.p99, result.half->reads->latency.p99)
                                        : result.half->end_to_end.p99;
    result.targets.push_back("target p99 < 50 ms at half the max rate: " + met(p99 < half_rate_p99_ms) + " (" +
                             fixed(p99) + " ms)");
}

// What a traffic scenario measures once its chats' members are connected: steps into `result`.
using Measure = std::function<asio::awaitable<void>(Traffic&, SendPlan&, ReadLoad*)>;

// Connects every member of `chats`, lets presence settle, runs `measure`, waits for what was
// sent to land, disconnects and verifies what was stored. With `reads`, REST reads run from
// the start of `measure` to its end.
asio::awaitable<void> with_chat_traffic(Context& context, ScenarioResult& result, const std::vector<Chat>& chats,
                                        std::size_t senders_per_chat, bool reads, const Measure& measure) {
    auto& population = context.population;
    std::vector<std::string> ids;
    std::vector<int> audience;
    for (const auto& chat : chats) {
        ids.push_back(chat.id);
        audience.push_back(static_cast<int>(chat.members.size()));
    }
    Traffic traffic(ids, audience);
    auto fleet = co_await population.connect(seats_of(chats), traffic);
    result.connect = ConnectFigures{fleet.connections.size(), fleet.connect_seconds, fleet.connect};
    co_await sleep_for(std::chrono::milliseconds(static_cast<int>(context.settings.settle_s * 1000)));
    SendPlan plan(fleet, chats.size(), senders_per_chat);

    std::optional<ReadLoad> read_load;
    if (reads) {
        read_load.emplace(population, chats);
        co_await read_load->start(context.settings.read_connections);
    }
    co_await measure(traffic, plan, read_load ? &*read_load : nullptr);

    co_await drain(traffic, read_load ? &*read_load : nullptr, context.settings.drain_s);
    if (read_load) co_await read_load->stop();
    co_await population.disconnect(fleet);
    result.errors = traffic.errors();
    result.verification = verify_stored(context.database_url, traffic.chat_ids(), traffic.acked());
}

// Searches the rate, then runs the `shares` of the best rate found (for cost), each on a
// vacuumed database: the vacuum that the search's or the last share's writes leave falls
// on none of them (pgbench's ceilings, too, run on a vacuumed database). With
// `fixed_write_rate`, the search is over REST reads while sends stay at that rate.
asio::awaitable<void> run_chat_traffic(Context& context, ScenarioResult& result, const std::vector<Chat>& chats,
                                       std::size_t senders_per_chat, double start_rate,
                                       std::optional<double> fixed_write_rate = std::nullopt,
                                       const std::vector<double>& shares = {}) {
    co_await with_chat_traffic(context, result, chats, senders_per_chat, fixed_write_rate.has_value(),
                               [&](Traffic& traffic, SendPlan& plan, ReadLoad* reads) -> asio::awaitable<void> {
                                   const auto load_at = [&](double rate) {
                                       return fixed_write_rate ? StepLoad{*fixed_write_rate, rate} : StepLoad{rate, 0};
                                   };
                                   const auto step_at = [&](StepLoad load) {
                                       return run_step(context, traffic, plan, reads, load);
                                   };
                                   co_await search(context, result, traffic, reads, start_rate, load_at, step_at);
                                   for (const auto share : shares) {
                                       if (!result.best) break;
                                       vacuum_analyze(context.database_url);
                                       auto step =
                                           co_await run_step(context, traffic, plan, nullptr,
                                                             {share * result.steps[*result.best].offered_per_s, 0},
                                                             context.settings.cost_window_s);
                                       step.label = fixed(100 * share, 0) + "%";
                                       result.loads.emplace_back(share, std::move(step));
                                   }
                               });
}

// What target (a) asks of the machine's cores before the server does any work: PostgreSQL
// as frugal per message as in pgbench's batches, and the load generator as in the best step.
void note_target_a_budget(ScenarioResult& result, const CeilingResult& batched, const StepResult& best) {
    if (batched.postgres_cpu <= 0 || best.acks_per_s <= 0) return;
    const auto goal = 0.8 * batched.messages_per_s;
    const auto database = batched.postgres_cpu / batched.messages_per_s * goal;
    const auto load = best.loadgen_cpu / best.acks_per_s * goal;
    result.notes.push_back("target (a) at " + fixed(goal) + " msg/s needs " + fixed(database) +
                           " CPU-s/s of PostgreSQL (at pgbench's batched cost per message) + " + fixed(load) +
                           " of the load generator (at the best step's cost) = " + fixed(database + load) + " of " +
                           fixed(std::thread::hardware_concurrency()) + " cores, before any server work");
}

// ---------------------------------------------------------------------------------------
// the scenarios

asio::awaitable<void> many_chats(Context& context, ScenarioResult& result) {
    const auto& s = context.settings;
    result.description = std::to_string(s.many_chats) + " group chats x " + std::to_string(s.many_members) +
                         " members, every member sends, all members connected";
    const auto* chats = co_await many_chats_of(context);
    measure_ceiling(context, result, many_chats_shape());
    co_await run_chat_traffic(context, result, *chats, s.many_members, s.many_start);
    add_ratios(result);
    if (result.best) context.many_chats_best_rate = result.steps[*result.best].offered_per_s;
    if (const auto* batched = ceiling_of(result, true)) {
        const auto persisted = result.best ? result.steps[*result.best].acks_per_s : 0.0;
        result.targets.push_back(
            "target (a) persisted >= 80% of batched pgbench: " + met(persisted >= 0.8 * batched->messages_per_s) +
            " (" + fixed(100 * persisted / batched->messages_per_s) + "%)");
        if (result.best) note_target_a_budget(result, *batched, result.steps[*result.best]);
    }
    add_half_rate_target(result);
}

asio::awaitable<void> hot_chat(Context& context, ScenarioResult& result) {
    const auto& s = context.settings;
    result.description = "one group of " + std::to_string(s.hot_members) + " members, all of them sending";
    co_await context.population.ensure_users(s.hot_members);
    const auto chats = co_await context.population.create_groups("hot", consecutive_groups(0, 1, s.hot_members));
    measure_ceiling(context, result, hot_chat_shape());
    co_await run_chat_traffic(context, result, chats, s.hot_members, s.hot_start);
    add_ratios(result);
    if (const auto* naive = ceiling_of(result, false)) {
        const auto persisted = result.best ? result.steps[*result.best].acks_per_s : 0.0;
        result.targets.push_back(
            "target (b) >= 5x naive pgbench into one chat: " + met(persisted >= 5 * naive->messages_per_s) + " (" +
            fixed(persisted / naive->messages_per_s) + "x)");
    }
    add_half_rate_target(result);
}

asio::awaitable<void> fan_out(Context& context, ScenarioResult& result) {
    const auto& s = context.settings;
    result.description = "one group of " + std::to_string(s.fan_out_members) + " members, " +
                         std::to_string(s.fan_out_senders) + " of them sending";
    // Members of this group announce presence to each other; kept apart from the idle
    // scenario's users so that idle connections stay idle.
    const auto first = context.idle_selected ? s.idle_connections : 0;
    co_await context.population.ensure_users(first + s.fan_out_members);
    const auto chats =
        co_await context.population.create_groups("fan-out", consecutive_groups(first, 1, s.fan_out_members));
    measure_ceiling(context, result, hot_chat_shape());
    co_await run_chat_traffic(context, result, chats, s.fan_out_senders, s.fan_out_start);
    add_ratios(result);
    const auto deliveries = result.best ? result.steps[*result.best].deliveries_per_s : 0.0;
    result.targets.push_back("target (c) >= 200,000 deliveries/s: " + met(deliveries >= 200000) + " (" +
                             fixed(deliveries) + "/s)");
    add_half_rate_target(result);
}

// Counts nothing: idle connections only have to stay open.
class IdleSink final : public FrameSink {
public:
    void on_frame(WsConnection&, std::string_view) override {}
    void on_closed(WsConnection&, bool expected) override {
        if (!expected) ++lost;
    }
    std::uint64_t lost = 0;
};

asio::awaitable<void> idle(Context& context, ScenarioResult& result) {
    const auto& s = context.settings;
    result.description = std::to_string(s.idle_connections) + " idle WebSocket connections, one per user";
    co_await context.population.ensure_users(s.idle_connections);
    std::vector<Seat> seats;
    for (std::size_t u = 0; u < s.idle_connections; ++u) seats.push_back({u, -1});
    const auto settle = std::chrono::milliseconds(static_cast<int>(s.settle_s * 1000) + 1000);
    co_await sleep_for(settle);
    IdleFigures figures;
    figures.connections = seats.size();
    figures.rss_before = mark(context).server_rss;
    IdleSink sink;
    auto fleet = co_await context.population.connect(seats, sink);
    result.connect = ConnectFigures{fleet.connections.size(), fleet.connect_seconds, fleet.connect};
    co_await sleep_for(settle);
    const auto connected = mark(context);
    figures.rss_connected = connected.server_rss;
    co_await sleep_for(std::chrono::milliseconds(static_cast<int>(s.window_s * 1000)));
    const auto later = mark(context);
    const double idle_seconds = static_cast<double>(later.at_ns - connected.at_ns) / 1e9;
    figures.server_cpu_idle = (later.server - connected.server) / idle_seconds;
    figures.postgres_cpu_idle = (later.postgres - connected.postgres) / idle_seconds;
    figures.bytes_per_connection =
        (static_cast<double>(figures.rss_connected) - static_cast<double>(figures.rss_before)) /
        static_cast<double>(figures.connections);
    co_await context.population.disconnect(fleet);
    co_await sleep_for(settle);
    figures.rss_after = mark(context).server_rss;
    result.idle = figures;
    result.errors.lost_connections = sink.lost;
    result.targets.push_back(
        "target (d) <= 10 KiB server RSS per idle connection: " + met(figures.bytes_per_connection <= 10 * 1024) +
        " (" + fixed(figures.bytes_per_connection / 1024) + " KiB)");
}

// Issue #21's targets for one load: the server's CPU per send within 40 us plus 2 us per
// delivery; PostgreSQL's CPU per message within 1.2x pgbench's batched cost from 60% of the
// knee up, and within its one-message-per-transaction cost below.
void add_cost_targets(ScenarioResult& result, double share, const StepResult& load) {
    if (load.acks_per_s <= 0) return;
    const auto label = fixed(100 * share, 0) + "% of the knee";
    const auto server_us = 1e6 * load.server_cpu / load.acks_per_s;
    const auto budget_us = 40 + 2 * load.deliveries_per_s / load.acks_per_s;
    result.targets.push_back("target server CPU <= 40 us/send + 2 us/delivery at " + label + ": " +
                             met(server_us <= budget_us) + " (" + fixed(server_us) + " of " + fixed(budget_us) +
                             " us)");
    const auto* ceiling = ceiling_of(result, share >= 0.6);
    if (!ceiling || ceiling->messages_per_s <= 0 || ceiling->postgres_cpu <= 0) return;
    const auto postgres_us = 1e6 * load.postgres_cpu / load.acks_per_s;
    const auto limit_us = 1e6 * ceiling->postgres_cpu / ceiling->messages_per_s * (share >= 0.6 ? 1.2 : 1.0);
    result.targets.push_back("target PostgreSQL CPU <= " + std::string(share >= 0.6 ? "1.2x batched" : "naive") +
                             " pgbench per message at " + label + ": " + met(postgres_us <= limit_us) + " (" +
                             fixed(postgres_us) + " of " + fixed(limit_us) + " us)");
}

// Issue #21: what one message costs the server and PostgreSQL at shares of the knee, in
// many small groups where every member sends.
asio::awaitable<void> cost(Context& context, ScenarioResult& result) {
    const auto& s = context.settings;
    result.description = std::to_string(s.cost_chats) + " group chats x " + std::to_string(s.cost_members) +
                         " members, every member sends; then " + fixed(s.cost_window_s, 0) +
                         (s.cost_rates.empty() ? " s at shares of the best rate" : " s at each fixed rate");
    const auto& chats = *co_await cost_chats_of(context);
    if (!s.cost_rates.empty()) {
        result.searched = false;
        co_await with_chat_traffic(context, result, chats, s.cost_members, false,
                                   [&](Traffic& traffic, SendPlan& plan, ReadLoad*) -> asio::awaitable<void> {
                                       for (auto& step : co_await fixed_rate_steps(context, traffic, plan, s.cost_rates,
                                                                                   s.cost_window_s))
                                           result.loads.emplace_back(0, std::move(step));
                                   });
        context.cost_chats_have_history = true;
        co_return;
    }
    measure_ceiling(context, result, cost_shape());
    co_await run_chat_traffic(context, result, chats, s.cost_members, s.cost_start, std::nullopt, kShares);
    context.cost_chats_have_history = true;
    add_ratios(result);
    for (const auto& [share, load] : result.loads) add_cost_targets(result, share, load);
}

// Issue #21 item 3: a history page costs PostgreSQL no more than pgbench's keyset page query
// at the same rate, and the server at most twice its PostgreSQL cost.
void add_history_targets(ScenarioResult& result, const StepResult& load, const CeilingResult* pgbench) {
    if (!load.reads || load.reads->completed_per_s <= 0) return;
    const auto label = " at " + load.label + (load.label.ends_with('%') ? " of the knee: " : ": ");
    const auto postgres_us = per_unit(load, 1e6 * load.postgres_cpu * load.window_s);
    const auto server_us = per_unit(load, 1e6 * load.server_cpu * load.window_s);
    result.targets.push_back("target server CPU <= 2x its PostgreSQL CPU per page" + label +
                             met(server_us <= 2 * postgres_us) + " (" + fixed(server_us) + " of " +
                             fixed(2 * postgres_us) + " us)");
    if (!pgbench || pgbench->transactions_per_s <= 0 || pgbench->postgres_cpu <= 0) return;
    const auto page_us = 1e6 * pgbench->postgres_cpu / pgbench->transactions_per_s;
    result.targets.push_back("target PostgreSQL CPU per page <= pgbench's keyset page query" + label +
                             met(postgres_us <= page_us) + " (" + fixed(postgres_us) + " of " + fixed(page_us) +
                             " us)");
}

// Issue #21 item 3: what a history page (the newest 50 messages of a chat, as a client opening
// it reads them) costs the server and PostgreSQL at shares of the read knee (or at the given
// rates: the same loads for two builds), beside pgbench's keyset page query at the same rates,
// on the same chats of the same database. Only reads: no sockets are open while they run. The
// database is vacuumed before the measured steps (the sends before leave autovacuum work, which
// would otherwise weigh on the server's first steps and not on pgbench's), and each step's
// pgbench run follows the server's at once, so that the two see the same machine.
asio::awaitable<void> history(Context& context, ScenarioResult& result) {
    const auto& s = context.settings;
    const bool fixed_rates = !s.history_rates.empty();
    result.description = "history pages (GET /chats/{id}/messages?limit=50) of the " + std::to_string(s.cost_chats) +
                         " cost chats by their members over " + std::to_string(s.read_connections) +
                         " keep-alive connections; then " + fixed(s.cost_window_s, 0) +
                         (fixed_rates ? " s at each fixed rate" : " s at shares of the best rate") +
                         ", and pgbench's keyset page query at each";
    result.rate_unit = "read/s";
    const auto& chats = *co_await cost_chats_of(context);
    if (!context.cost_chats_have_history)
        co_await with_chat_traffic(context, result, chats, s.cost_members, false,
                                   [&](Traffic& traffic, SendPlan& plan, ReadLoad*) -> asio::awaitable<void> {
                                       const auto fill = co_await run_step(context, traffic, plan, nullptr,
                                                                           {s.history_fill_rate, 0}, s.history_fill_s);
                                       result.notes.push_back("history: " + fixed(fill.acks_per_s * fill.window_s, 0) +
                                                              " messages sent into the chats before the reads");
                                   });
    context.cost_chats_have_history = true;
    std::vector<std::string> ids;
    ids.reserve(chats.size());
    for (const auto& chat : chats) ids.push_back(chat.id);
    Traffic no_sends(ids, std::vector<int>(ids.size(), 0));
    SendPlan no_senders(Fleet{}, chats.size(), 0);
    ReadLoad reads(context.population, chats, ReadMix::pages);
    co_await reads.start(s.read_connections);
    // (share of the knee, or 0 for a fixed rate; the rate; the step's label)
    std::vector<std::tuple<double, double, std::string>> measured;
    if (fixed_rates) {
        result.searched = false;
        for (const auto rate : s.history_rates) measured.emplace_back(0, rate, fixed(rate, 0) + " read/s");
    } else {
        co_await search(
            context, result, no_sends, &reads, s.history_start,
            [](double rate) {
                return StepLoad{0, rate};
            },
            [&](StepLoad load) { return run_step(context, no_sends, no_senders, &reads, load); });
        if (result.best)
            for (const auto share : kShares)
                measured.emplace_back(share, share * result.steps[*result.best].reads->offered_per_s,
                                      fixed(100 * share, 0) + "%");
    }
    std::optional<CeilingOptions> pages_by_pgbench;
    if (!measured.empty()) {
        vacuum_analyze(context.database_url);
        if (context.ceiling) {
            name_page_chats(context.database_url, ids);
            pages_by_pgbench = *context.ceiling;
            pages_by_pgbench->database_url = context.database_url;
        }
    }
    for (const auto& [share, rate, label] : measured) {
        auto step = co_await run_step(context, no_sends, no_senders, &reads, {0, rate}, s.cost_window_s);
        step.label = label;
        const CeilingResult* pgbench = nullptr;
        if (pages_by_pgbench) {
            result.ceilings.push_back(run_pgbench_pages(*pages_by_pgbench, step.reads->offered_per_s, s.cost_window_s));
            pgbench = &result.ceilings.back();
        }
        add_history_targets(result, step, pgbench);
        result.loads.emplace_back(share, std::move(step));
    }
    co_await reads.stop();
}

asio::awaitable<void> reads(Context& context, ScenarioResult& result) {
    const auto& s = context.settings;
    const double write_rate = context.many_chats_best_rate ? *context.many_chats_best_rate / 2 : s.reads_write_rate;
    result.description = "chat list and history page reads (" + std::to_string(s.read_connections) +
                         " keep-alive HTTP connections) while " + fixed(write_rate) + " msg/s go into the " +
                         std::to_string(s.many_chats) + " chats of many_chats";
    result.rate_unit = "read/s";
    const auto* chats = co_await many_chats_of(context);
    co_await run_chat_traffic(context, result, *chats, s.many_members, s.reads_start, write_rate);
    add_half_rate_target(result);
}

// Of all deliveries, the share made on another node than the sender's, when every member
// of each chat sends in turn and the connections are spread as Population::connect does.
double cross_node_share(const Population& population, const std::vector<Chat>& chats) {
    std::size_t seat = 0;
    double cross = 0, total = 0;
    for (const auto& chat : chats) {
        const auto size = chat.members.size();
        for (std::size_t sender = 0; sender < size; ++sender)
            for (std::size_t receiver = 0; receiver < size; ++receiver) {
                total += 1;
                if (population.node_of_seat(seat + sender) != population.node_of_seat(seat + receiver)) cross += 1;
            }
        seat += size;
    }
    return total > 0 ? cross / total : 0;
}

// Issue #20: fixed offered rates into groups whose members are spread over the nodes, the
// same whatever their number, so that bench/cluster compares one node with three at the same
// load. No search: a rate that is not sustained is reported as it is.
asio::awaitable<void> cluster(Context& context, ScenarioResult& result) {
    const auto& s = context.settings;
    result.description = std::to_string(s.cluster_chats) + " group chats x " + std::to_string(s.cluster_members) +
                         " members on " + std::to_string(context.population.nodes()) +
                         " node(s), every member sends; fixed rates";
    result.searched = false;
    co_await context.population.ensure_users(s.cluster_chats * s.cluster_members);
    const auto chats =
        co_await context.population.create_groups("cluster", consecutive_groups(0, s.cluster_chats, s.cluster_members));
    result.cross_node_share = cross_node_share(context.population, chats);
    co_await with_chat_traffic(context, result, chats, s.cluster_members, false,
                               [&](Traffic& traffic, SendPlan& plan, ReadLoad*) -> asio::awaitable<void> {
                                   result.steps = co_await fixed_rate_steps(context, traffic, plan, s.cluster_rates);
                               });
}

}  // namespace

Settings settings_for(bool quick) {
    if (quick)
        return Settings{.warmup_s = 0.3,
                        .window_s = 1,
                        .drain_s = 5,
                        .max_steps = 2,
                        .refinements = 0,
                        .settle_s = 0.3,
                        .many_chats = 20,
                        .many_members = 5,
                        .hot_members = 10,
                        .fan_out_members = 50,
                        .fan_out_senders = 2,
                        .idle_connections = 200,
                        .read_connections = 4,
                        .many_start = 20,
                        .hot_start = 20,
                        .fan_out_start = 5,
                        .reads_start = 20,
                        .reads_write_rate = 10,
                        .cost_chats = 10,
                        .cost_members = 5,
                        .cost_start = 20,
                        .cost_window_s = 1,
                        .history_start = 20,
                        .history_fill_rate = 100,
                        .history_fill_s = 1,
                        .cluster_chats = 10,
                        .cluster_members = 6,
                        .cluster_rates = {50}};
    return Settings{.warmup_s = 2,
                    .window_s = 6,
                    .drain_s = 10,
                    .max_steps = 14,
                    .refinements = 2,
                    .settle_s = 2,
                    .many_chats = 1000,
                    .many_members = 5,
                    .hot_members = 50,
                    .fan_out_members = 1000,
                    .fan_out_senders = 5,
                    .idle_connections = 10000,
                    .read_connections = 32,
                    .many_start = 100,
                    .hot_start = 50,
                    .fan_out_start = 10,
                    .reads_start = 50,
                    .reads_write_rate = 100,
                    .cost_chats = 100,
                    .cost_members = 10,
                    .cost_start = 100,
                    .cost_window_s = 20,
                    .history_start = 100,
                    .history_fill_rate = 1000,
                    .history_fill_s = 20,
                    .cluster_chats = 100,
                    .cluster_members = 10,
                    .cluster_rates = {250, 500, 1000}};
}

const std::vector<std::string>& scenario_names() {
    // idle first: once other scenarios have opened and closed thousands of connections, the
    // allocator holds freed memory that new connections reuse, and RSS growth understates them.
    static const std::vector<std::string> names{"idle",  "many_chats", "hot_chat", "fan_out",
                                                "reads", "cost",       "history",  "cluster"};
    return names;
}

bool runs_by_default(const std::string& scenario) { return scenario != "cluster"; }

asio::awaitable<ScenarioResult> run_scenario(Context& context, const std::string& name) {
    ScenarioResult result;
    result.name = name;
    const auto before = sample_servers(context);
    if (name == "many_chats") co_await many_chats(context, result);
    else if (name == "hot_chat") co_await hot_chat(context, result);
    else if (name == "fan_out") co_await fan_out(context, result);
    else if (name == "idle") co_await idle(context, result);
    else if (name == "reads") co_await reads(context, result);
    else if (name == "cost") co_await cost(context, result);
    else if (name == "history") co_await history(context, result);
    else if (name == "cluster") co_await cluster(context, result);
    else throw std::invalid_argument("unknown scenario " + name);
    const auto after = sample_servers(context);
    result.server_cpu_seconds = after.cpu_seconds - before.cpu_seconds;
    result.server_rss_before = before.rss_bytes;
    result.server_rss_after = after.rss_bytes;
    co_return result;
}

}  // namespace confab::bench
