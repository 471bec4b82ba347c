#include "report.hpp"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <string>

namespace confab::bench {

std::string fixed(double value, int decimals) {
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    return text;
}

namespace {

using nlohmann::json;

std::string mib(std::uint64_t bytes) { return fixed(static_cast<double>(bytes) / 1048576.0); }

struct Column {
    std::string header;
    int width;
    std::function<std::string(const StepResult&)> cell;
};

std::vector<Column> columns_for(const ScenarioResult& result) {
    std::vector<Column> columns;
    const bool reads = result.rate_unit != "msg/s";
    columns.push_back({"step", 6, [](const StepResult& s) { return s.label; }});
    if (reads) {
        columns.push_back({"read/s", 8, [](const StepResult& s) { return fixed(s.reads->offered_per_s); }});
        columns.push_back({"done/s", 8, [](const StepResult& s) { return fixed(s.reads->completed_per_s); }});
        columns.push_back({"rd p50", 7, [](const StepResult& s) { return fixed(s.reads->latency.p50); }});
        columns.push_back({"rd p99", 7, [](const StepResult& s) { return fixed(s.reads->latency.p99); }});
        columns.push_back({"rd max", 7, [](const StepResult& s) { return fixed(s.reads->latency.max); }});
    }
    columns.push_back({reads ? "msg/s" : "offered", 8, [](const StepResult& s) { return fixed(s.offered_per_s); }});
    columns.push_back({"acks/s", 8, [](const StepResult& s) { return fixed(s.acks_per_s); }});
    columns.push_back({"deliv/s", 9, [](const StepResult& s) { return fixed(s.deliveries_per_s, 0); }});
    columns.push_back({"p50", 6, [](const StepResult& s) { return fixed(s.end_to_end.p50); }});
    columns.push_back({"p95", 6, [](const StepResult& s) { return fixed(s.end_to_end.p95); }});
    columns.push_back({"p99", 6, [](const StepResult& s) { return fixed(s.end_to_end.p99); }});
    columns.push_back({"max", 7, [](const StepResult& s) { return fixed(s.end_to_end.max); }});
    columns.push_back({"ack p99", 7, [](const StepResult& s) { return fixed(s.ack.p99); }});
    columns.push_back({"err", 4, [](const StepResult& s) { return std::to_string(s.new_errors); }});
    columns.push_back({"srv cpu", 7, [](const StepResult& s) { return fixed(s.server_cpu, 2); }});
    if (!result.searched) columns.push_back({"nats cpu", 8, [](const StepResult& s) { return fixed(s.nats_cpu, 2); }});
    columns.push_back({"pg cpu", 6, [](const StepResult& s) { return fixed(s.postgres_cpu, 2); }});
    columns.push_back({"gen cpu", 7, [](const StepResult& s) { return fixed(s.loadgen_cpu, 2); }});
    columns.push_back({"rss MiB", 7, [](const StepResult& s) { return mib(s.server_rss); }});
    columns.push_back({"verdict", 0, [](const StepResult& s) { return s.verdict; }});
    return columns;
}

}  // namespace

double per_unit(const StepResult& s, double total) {
    const auto rate = s.reads ? s.reads->completed_per_s : s.acks_per_s;
    return rate > 0 ? total / (rate * s.window_s) : 0;
}

namespace {

// The loads of a cost scenario, per persisted message, or of a read load (history), per read.
std::vector<Column> cost_columns(bool reads) {
    const std::string unit = reads ? "read" : "msg";
    std::vector<Column> columns{{"load", 5, [](const StepResult& s) { return s.label; }}};
    if (reads) {
        columns.push_back({"read/s", 8, [](const StepResult& s) { return fixed(s.reads->offered_per_s); }});
        columns.push_back({"done/s", 8, [](const StepResult& s) { return fixed(s.reads->completed_per_s); }});
        columns.push_back({"rd p50", 7, [](const StepResult& s) { return fixed(s.reads->latency.p50); }});
        columns.push_back({"rd p99", 7, [](const StepResult& s) { return fixed(s.reads->latency.p99); }});
    } else {
        columns.push_back({"offered", 8, [](const StepResult& s) { return fixed(s.offered_per_s); }});
        columns.push_back({"acks/s", 8, [](const StepResult& s) { return fixed(s.acks_per_s); }});
        columns.push_back({"deliv/s", 9, [](const StepResult& s) { return fixed(s.deliveries_per_s, 0); }});
        columns.push_back({"p50", 6, [](const StepResult& s) { return fixed(s.end_to_end.p50); }});
        columns.push_back({"p99", 6, [](const StepResult& s) { return fixed(s.end_to_end.p99); }});
    }
    const auto per = [](double (*total)(const StepResult&)) {
        return [total](const StepResult& s) { return fixed(per_unit(s, total(s)), 2); };
    };
    columns.insert(
        columns.end(),
        {{"srv cpu", 7, [](const StepResult& s) { return fixed(s.server_cpu, 2); }},
         {"pg cpu", 6, [](const StepResult& s) { return fixed(s.postgres_cpu, 2); }},
         {"srv us/" + unit, 11,
          [](const StepResult& s) { return fixed(per_unit(s, 1e6 * s.server_cpu * s.window_s)); }},
         {"pg us/" + unit, 10,
          [](const StepResult& s) { return fixed(per_unit(s, 1e6 * s.postgres_cpu * s.window_s)); }},
         {"tx/" + unit, 7, per([](const StepResult& s) { return static_cast<double>(s.database.commits); })},
         {"ins/" + unit, 8, per([](const StepResult& s) { return static_cast<double>(s.database.rows_inserted); })},
         {"upd/" + unit, 8, per([](const StepResult& s) { return static_cast<double>(s.database.rows_updated); })},
         {"stmt/" + unit, 9,
          [](const StepResult& s) {
              return s.database.statements ? fixed(per_unit(s, static_cast<double>(*s.database.statements)), 2)
                                           : std::string("-");
          }},
         {"verdict", 0, [](const StepResult& s) { return s.verdict; }}});
    return columns;
}

void print_row(std::ostream& out, const std::vector<Column>& columns,
               const std::function<std::string(const Column&)>& text) {
    std::string line;
    for (const auto& column : columns) {
        auto cell = text(column);
        if (column.width > 0 && static_cast<int>(cell.size()) < column.width)
            cell.insert(0, static_cast<std::size_t>(column.width) - cell.size(), ' ');
        line += cell + "  ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << '\n';
}

json latency_json(const LatencySummary& l) {
    return {{"count", l.count}, {"p50_ms", l.p50}, {"p95_ms", l.p95}, {"p99_ms", l.p99}, {"max_ms", l.max}};
}

json step_json(const StepResult& s) {
    json j{{"label", s.label},
           {"offered_msgs_per_s", s.offered_per_s},
           {"window_s", s.window_s},
           {"acks_per_s", s.acks_per_s},
           {"deliveries_per_s", s.deliveries_per_s},
           {"end_to_end", latency_json(s.end_to_end)},
           {"ack", latency_json(s.ack)},
           {"new_errors", s.new_errors},
           {"undelivered", s.undelivered},
           {"server_cpu_per_s", s.server_cpu},
           {"postgres_cpu_per_s", s.postgres_cpu},
           {"loadgen_cpu_per_s", s.loadgen_cpu},
           {"nats_cpu_per_s", s.nats_cpu},
           {"server_rss_bytes", s.server_rss},
           {"database",
            {{"commits", s.database.commits},
             {"rows_inserted", s.database.rows_inserted},
             {"rows_updated", s.database.rows_updated},
             {"statements", s.database.statements ? json(*s.database.statements) : json(nullptr)}}},
           {"good", s.good},
           {"verdict", s.verdict}};
    if (s.reads)
        j["reads"] = {{"offered_per_s", s.reads->offered_per_s},
                      {"completed_per_s", s.reads->completed_per_s},
                      {"failed", s.reads->failed},
                      {"latency", latency_json(s.reads->latency)}};
    return j;
}

json ceiling_json(const CeilingResult& c) {
    return {{"shape", c.shape},
            {"messages_per_transaction", c.batch},
            {"rate_limit_per_s", c.rate_limit},
            {"clients", c.clients},
            {"seconds", c.seconds},
            {"transactions_per_s", c.transactions_per_s},
            {"messages_per_s", c.messages_per_s},
            {"latency_avg_ms", c.latency_ms},
            {"failed_transactions", c.failed},
            {"postgres_cpu", c.postgres_cpu},
            {"pgbench_cpu", c.pgbench_cpu}};
}

}  // namespace

void print_scenario(std::ostream& out, const ScenarioResult& r) {
    out << "== " << r.name << ": " << r.description << " ==\n";
    if (r.connect)
        out << "connect: " << r.connect->connections << " connections in " << fixed(r.connect->seconds, 2) << " s ("
            << fixed(static_cast<double>(r.connect->connections) / std::max(r.connect->seconds, 1e-9), 0)
            << "/s); handshake p50 " << fixed(r.connect->handshake.p50, 2) << " ms, p99 "
            << fixed(r.connect->handshake.p99, 2) << " ms, max " << fixed(r.connect->handshake.max, 2) << " ms\n";
    if (r.idle)
        out << "idle: server RSS " << mib(r.idle->rss_before) << " MiB -> " << mib(r.idle->rss_connected)
            << " MiB with " << r.idle->connections << " connections ("
            << fixed(r.idle->bytes_per_connection / 1024.0, 2) << " KiB per connection) -> " << mib(r.idle->rss_after)
            << " MiB after closing; CPU while idle: server " << fixed(r.idle->server_cpu_idle, 4) << " s/s, PostgreSQL "
            << fixed(r.idle->postgres_cpu_idle, 4) << " s/s\n";
    if (r.cross_node_share)
        out << "deliveries to a connection on another node than the sender's: " << fixed(100 * *r.cross_node_share)
            << "%\n";
    if (!r.steps.empty()) {
        const auto columns = columns_for(r);
        out << "latencies in ms; cpu in CPU-seconds per second (2 cores = 2.00)\n";
        print_row(out, columns, [](const Column& c) { return c.header; });
        for (const auto& step : r.steps) print_row(out, columns, [&](const Column& c) { return c.cell(step); });
        if (r.half) print_row(out, columns, [&](const Column& c) { return c.cell(*r.half); });
    }
    if (!r.loads.empty()) {
        const bool reads = r.loads.front().second.reads.has_value();
        const auto columns = cost_columns(reads);
        out << (r.searched ? "at shares of the best rate" : "at fixed rates") << "; us/" << (reads ? "read" : "msg")
            << " are CPU-microseconds per " << (reads ? "completed read" : "persisted message")
            << "; tx, ins, upd and stmt/" << (reads ? "read" : "msg")
            << " are PostgreSQL's commits, rows inserted and updated and statements per "
            << (reads ? "read" : "message") << '\n';
        print_row(out, columns, [](const Column& c) { return c.header; });
        for (const auto& load : r.loads) print_row(out, columns, [&](const Column& c) { return c.cell(load.second); });
    }
    if (r.best) {
        const auto& best = r.steps[*r.best];
        const auto offered = best.reads ? best.reads->offered_per_s : best.offered_per_s;
        out << "max sustained: " << fixed(offered) << ' ' << r.rate_unit << " offered, " << fixed(best.acks_per_s)
            << " msg/s persisted, " << fixed(best.deliveries_per_s, 0) << " deliveries/s, p99 "
            << fixed(best.end_to_end.p99) << " ms";
        if (best.acks_per_s > 0)
            out << ", server CPU " << fixed(1000.0 * best.server_cpu / best.acks_per_s, 3) << " ms/msg";
        out << '\n';
        if (r.half)
            out << "at half that rate: p50 " << fixed(r.half->end_to_end.p50) << " ms, p99 "
                << fixed(r.half->end_to_end.p99) << " ms"
                << (r.half->reads ? ", reads p99 " + fixed(r.half->reads->latency.p99) + " ms" : "") << '\n';
    } else if (r.searched && !r.steps.empty()) {
        out << "max sustained: no rate met p99 < 100 ms with every ack back\n";
    }
    for (const auto& c : r.ceilings) {
        if (c.batch == 0) {  // the keyset page query
            out << "pgbench page.sql at " << fixed(c.rate_limit) << "/s, " << c.clients
                << " clients: " << fixed(c.transactions_per_s) << " queries/s (avg latency " << fixed(c.latency_ms, 2)
                << " ms; cpu: PostgreSQL " << fixed(c.postgres_cpu) << " = "
                << fixed(1e6 * c.postgres_cpu / std::max(c.transactions_per_s, 1e-9)) << " us/query, pgbench "
                << fixed(c.pgbench_cpu) << ")\n";
            continue;
        }
        out << "ceiling: pgbench " << c.shape << ", " << c.batch << " msg/tx, " << c.clients
            << " clients: " << fixed(c.messages_per_s) << " msg/s (avg tx latency " << fixed(c.latency_ms, 2)
            << " ms, failed " << c.failed << "; cpu: PostgreSQL " << fixed(c.postgres_cpu) << ", pgbench "
            << fixed(c.pgbench_cpu) << ")\n";
    }
    for (const auto& ratio : r.ratios)
        out << "vs " << ratio.against << ": " << fixed(ratio.ceiling_per_s) << " msg/s -> ratio "
            << fixed(ratio.ratio, 3) << '\n';
    if (r.verification) {
        const auto& v = *r.verification;
        out << "verification: " << v.acked_found << '/' << v.acked << " acked messages stored; " << v.contiguous_chats
            << '/' << v.chats << " chats with contiguous seq (" << v.stored << " messages) -> "
            << (v.ok() ? "OK" : "FAILED") << '\n';
    }
    out << "errors: " << r.errors.error_frames << " error frames, " << r.errors.lost_connections
        << " lost connections, " << r.errors.out_of_order << " out of order, " << r.errors.duplicates
        << " duplicates\n";
    if (!r.errors.first_error.empty()) out << "first error: " << r.errors.first_error << '\n';
    out << "server: " << fixed(r.server_cpu_seconds, 1) << " CPU s over the scenario; RSS " << mib(r.server_rss_before)
        << " -> " << mib(r.server_rss_after) << " MiB\n";
    for (const auto& target : r.targets) out << target << '\n';
    for (const auto& note : r.notes) out << "note: " << note << '\n';
    out << '\n';
}

json to_json(const ScenarioResult& r) {
    json j{{"name", r.name}, {"description", r.description}, {"rate_unit", r.rate_unit}};
    if (r.connect)
        j["connect"] = {{"connections", r.connect->connections},
                        {"seconds", r.connect->seconds},
                        {"handshake", latency_json(r.connect->handshake)}};
    j["steps"] = json::array();
    for (const auto& step : r.steps) j["steps"].push_back(step_json(step));
    j["cross_node_share"] = r.cross_node_share ? json(*r.cross_node_share) : json(nullptr);
    j["best"] = r.best ? step_json(r.steps[*r.best]) : json(nullptr);
    j["half"] = r.half ? step_json(*r.half) : json(nullptr);
    j["loads"] = json::array();
    for (const auto& [share, load] : r.loads)
        j["loads"].push_back({{"share_of_best", share}, {"step", step_json(load)}});
    if (r.idle)
        j["idle"] = {{"connections", r.idle->connections},
                     {"rss_before_bytes", r.idle->rss_before},
                     {"rss_connected_bytes", r.idle->rss_connected},
                     {"rss_after_bytes", r.idle->rss_after},
                     {"bytes_per_connection", r.idle->bytes_per_connection},
                     {"server_cpu_idle_per_s", r.idle->server_cpu_idle},
                     {"postgres_cpu_idle_per_s", r.idle->postgres_cpu_idle}};
    j["ceilings"] = json::array();
    for (const auto& ceiling : r.ceilings) j["ceilings"].push_back(ceiling_json(ceiling));
    j["ratios"] = json::array();
    for (const auto& ratio : r.ratios)
        j["ratios"].push_back(
            {{"against", ratio.against}, {"ceiling_msgs_per_s", ratio.ceiling_per_s}, {"ratio", ratio.ratio}});
    if (r.verification)
        j["verification"] = {{"acked", r.verification->acked},   {"acked_found", r.verification->acked_found},
                             {"chats", r.verification->chats},   {"contiguous_chats", r.verification->contiguous_chats},
                             {"stored", r.verification->stored}, {"ok", r.verification->ok()}};
    j["errors"] = {{"error_frames", r.errors.error_frames},
                   {"lost_connections", r.errors.lost_connections},
                   {"out_of_order", r.errors.out_of_order},
                   {"duplicates", r.errors.duplicates},
                   {"first_error", r.errors.first_error}};
    j["targets"] = r.targets;
    j["notes"] = r.notes;
    j["server_cpu_seconds"] = r.server_cpu_seconds;
    j["server_rss_before_bytes"] = r.server_rss_before;
    j["server_rss_after_bytes"] = r.server_rss_after;
    return j;
}

}  // namespace confab::bench
