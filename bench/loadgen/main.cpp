// confab-loadgen: issue #7's load generator. See docs/performance.md; bench/run starts
// PostgreSQL and the server and calls this with their addresses and process ids.

#include "ceiling.hpp"
#include "population.hpp"
#include "report.hpp"
#include "scenarios.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <stdexcept>

namespace {

namespace asio = boost::asio;
using namespace confab::bench;
using nlohmann::json;

constexpr const char* usage =
    R"(usage: confab-loadgen --port PORT --server-pid PID --database-url URL [options] [SCENARIO...]

Scenarios (default: all but cluster, always in this order): idle many_chats hot_chat fan_out
reads cost cluster
  --port PORT                 the confab server's HTTP port on 127.0.0.1; given once per node
                              of a cluster, REST goes to the first and WebSockets round-robin
  --server-pid PID            its process id (RSS and CPU from /proc); once per node
  --postgres-pid PID          the postmaster's process id (CPU of all its backends)
  --nats-pid PID              nats-server's process id (its CPU, for cluster)
  --rates R[,R...]            the msg/s that cluster runs (default 250,500,1000; --quick 50)
  --cost-rates R[,R...]       the msg/s that cost runs, each for its window, instead of searching
                              its knee and running shares of it (no pgbench, no targets): the
                              same loads for two builds on a machine whose speed moves
  --history-rates R[,R...]    the read/s that history runs instead of shares of its knee, each
                              with pgbench's page query at the same rate and its targets
  --database-url URL          confab's database, to verify what was stored
  --ceiling-database-url URL  a database with the confab schema for pgbench (omit: no ceiling)
  --pgbench PATH              pgbench binary (default /usr/lib/postgresql/15/bin/pgbench)
  --pgbench-scripts DIR       bench/pgbench (message.sql and batch.sql)
  --pgbench-clients N         pgbench clients (default 16)
  --pgbench-seconds N         seconds per pgbench run (default 10; --quick runs 5 transactions
                              per client instead, so that it ends however busy the machine)
  --json FILE                 write every figure there as JSON
  --quick                     small sizes and one-second steps: a smoke run
Exit status: 0 when every scenario stored every acked message with contiguous seq and saw
no errors (timings never fail a run), 1 otherwise, 2 on bad usage.
)";

struct Options {
    std::vector<unsigned short> ports;
    std::vector<pid_t> server_pids;
    pid_t postgres_pid = 0;
    pid_t nats_pid = 0;
    std::vector<double> cluster_rates;  // empty: the settings'
    std::vector<double> cost_rates;     // empty: shares of the knee
    std::vector<double> history_rates;  // empty: shares of the knee
    std::string database_url;
    std::string json_path;
    bool quick = false;
    bool pgbench_seconds_given = false;
    CeilingOptions ceiling{.database_url = {}, .pgbench = "/usr/lib/postgresql/15/bin/pgbench", .scripts_dir = {}};
    std::vector<std::string> scenarios;
};

std::vector<double> parse_rates(const std::string& list) {
    std::vector<double> rates;
    std::istringstream items(list);
    for (std::string item; std::getline(items, item, ',');) {
        rates.push_back(std::stod(item));
        if (!(rates.back() > 0)) throw std::invalid_argument("--rates takes positive msg/s");
    }
    if (rates.empty()) throw std::invalid_argument("--rates needs at least one rate");
    return rates;
}

Options parse(int argc, char** argv) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
            return argv[++i];
        };
        if (arg == "--port") options.ports.push_back(static_cast<unsigned short>(std::stoi(value())));
        else if (arg == "--server-pid") options.server_pids.push_back(std::stoi(value()));
        else if (arg == "--postgres-pid") options.postgres_pid = std::stoi(value());
        else if (arg == "--nats-pid") options.nats_pid = std::stoi(value());
        else if (arg == "--rates") options.cluster_rates = parse_rates(value());
        else if (arg == "--cost-rates") options.cost_rates = parse_rates(value());
        else if (arg == "--history-rates") options.history_rates = parse_rates(value());
        else if (arg == "--database-url") options.database_url = value();
        else if (arg == "--ceiling-database-url") options.ceiling.database_url = value();
        else if (arg == "--pgbench") options.ceiling.pgbench = value();
        else if (arg == "--pgbench-scripts") options.ceiling.scripts_dir = value();
        else if (arg == "--pgbench-clients") options.ceiling.clients = std::stoi(value());
        else if (arg == "--pgbench-seconds") {
            options.ceiling.seconds = std::stoi(value());
            options.pgbench_seconds_given = true;
        } else if (arg == "--json") options.json_path = value();
        else if (arg == "--quick") options.quick = true;
        else if (arg == "-h" || arg == "--help") {
            std::cout << usage;
            std::exit(0);
        } else if (arg.starts_with("-")) throw std::invalid_argument("unknown option " + arg);
        else if (std::find(scenario_names().begin(), scenario_names().end(), arg) == scenario_names().end())
            throw std::invalid_argument("unknown scenario " + arg);
        else options.scenarios.push_back(arg);
    }
    if (options.ports.empty() || options.server_pids.empty() || options.database_url.empty())
        throw std::invalid_argument("--port, --server-pid and --database-url are required");
    if (!options.ceiling.database_url.empty() && options.ceiling.scripts_dir.empty())
        throw std::invalid_argument("--ceiling-database-url needs --pgbench-scripts");
    if (options.quick && !options.pgbench_seconds_given) options.ceiling.transactions = 5;
    if (options.scenarios.empty())
        std::copy_if(scenario_names().begin(), scenario_names().end(), std::back_inserter(options.scenarios),
                     runs_by_default);
    // Scenarios run in the canonical order whatever the command line's order.
    std::vector<std::string> ordered;
    for (const auto& name : scenario_names())
        if (std::find(options.scenarios.begin(), options.scenarios.end(), name) != options.scenarios.end())
            ordered.push_back(name);
    options.scenarios = ordered;
    return options;
}

// Tens of thousands of sockets: the soft limit on open files is usually 1,024.
void raise_open_files_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}

json machine_facts(const std::string& database_url) {
    json facts{{"cpus", sysconf(_SC_NPROCESSORS_ONLN)}};
    std::ifstream meminfo("/proc/meminfo");
    for (std::string line; std::getline(meminfo, line);)
        if (line.rfind("MemTotal:", 0) == 0) facts["memory_kib"] = std::stoull(line.substr(9));
    pqxx::connection c(database_url);
    pqxx::read_transaction tx(c);
    json settings;
    for (const auto* name : {"server_version", "fsync", "synchronous_commit", "full_page_writes", "wal_level",
                             "shared_buffers", "max_wal_size", "commit_delay", "max_connections"})
        settings[name] = tx.exec1(std::string("SHOW ") + name)[0].as<std::string>();
    facts["postgresql"] = settings;
    return facts;
}

asio::awaitable<bool> run(const Options& options, json& report) {
    auto executor = co_await asio::this_coro::executor;
    report["quick"] = options.quick;
    report["machine"] = machine_facts(options.database_url);
    report["scenarios"] = json::array();
    const auto save = [&] {
        if (!options.json_path.empty()) std::ofstream(options.json_path) << report.dump(2) << '\n';
    };

    std::vector<asio::ip::tcp::endpoint> nodes;
    for (const auto port : options.ports) nodes.emplace_back(asio::ip::make_address("127.0.0.1"), port);
    // 32 setup requests or handshakes at a time: enough to keep both server threads busy.
    Population population(executor, nodes, 32);
    Context context{.population = population, .settings = settings_for(options.quick)};
    if (!options.cluster_rates.empty()) context.settings.cluster_rates = options.cluster_rates;
    context.settings.cost_rates = options.cost_rates;
    context.settings.history_rates = options.history_rates;
    context.server_pids = options.server_pids;
    context.postgres_pid = options.postgres_pid;
    context.nats_pid = options.nats_pid;
    context.database_url = options.database_url;
    context.idle_selected =
        std::find(options.scenarios.begin(), options.scenarios.end(), "idle") != options.scenarios.end();

    if (!options.ceiling.database_url.empty()) {
        prepare_ceiling_database(options.ceiling.database_url);
        context.ceiling = options.ceiling;
        context.ceiling->postgres_pid = options.postgres_pid;
    }

    bool all_ok = true;
    for (const auto& name : options.scenarios) {
        const auto result = co_await run_scenario(context, name);
        print_scenario(std::cout, result);
        std::cout.flush();
        report["scenarios"].push_back(to_json(result));
        save();
        all_ok = all_ok && result.errors.total() == 0 && (!result.verification || result.verification->ok());
    }
    co_return all_ok;
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    try {
        options = parse(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "confab-loadgen: " << e.what() << "\n\n" << usage;
        return 2;
    }
    raise_open_files_limit();
    asio::io_context io(1);
    json report;
    bool ok = false;
    std::exception_ptr failure;
    asio::co_spawn(io, run(options, report), [&](std::exception_ptr error, bool all_ok) {
        failure = error;
        ok = all_ok;
        io.stop();  // after a failure, connections may still be open: nothing more is measured
    });
    io.run();
    if (failure) {
        try {
            std::rethrow_exception(failure);
        } catch (const std::exception& e) {
            std::cerr << "confab-loadgen: " << e.what() << '\n';
        }
        return 1;
    }
    return ok ? 0 : 1;
}
