#include "ceiling.hpp"

#include "database_work.hpp"
#include "process_stats.hpp"

#include <pqxx/pqxx>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace confab::bench {
namespace {

// Keys far apart so that the shapes never share a chat or a user.
const CeilingShape many_chats{"many_chats", 1, 1000, 1000001, 5};
const CeilingShape hot_chat{"hot_chat", 2000001, 1, 3000001, 50};
const CeilingShape cost{"cost", 4000001, 100, 5000001, 10};
constexpr int kPageClients = 4;

double field(const std::string& output, const std::string& pattern) {
    std::smatch match;
    if (!std::regex_search(output, match, std::regex(pattern))) return 0;
    return std::stod(match[1]);
}

}  // namespace

const CeilingShape& many_chats_shape() { return many_chats; }
const CeilingShape& hot_chat_shape() { return hot_chat; }
const CeilingShape& cost_shape() { return cost; }

namespace {

void fill_ceiling_database(const std::string& database_url) {
    pqxx::connection c(database_url);
    pqxx::nontransaction tx(c);
    tx.exec(
        "CREATE OR REPLACE FUNCTION bench_uuid(bigint) RETURNS uuid LANGUAGE sql IMMUTABLE "
        "AS $$ SELECT lpad(to_hex($1), 32, '0')::uuid $$");
    // The messages of one batch (bench/pgbench/batch.sql): n consecutive chats from `first`,
    // wrapping around, each with the chat's next sender from `first_sender` on.
    tx.exec(
        "CREATE OR REPLACE FUNCTION bench_batch(first bigint, first_sender bigint, n int, chat_base bigint, "
        "chats bigint, user_base bigint, members bigint) RETURNS TABLE (j int, chat_id uuid, sender_id uuid) "
        "LANGUAGE sql IMMUTABLE AS $$ SELECT j, bench_uuid(chat_base + (first + j) % chats), "
        "bench_uuid(user_base + ((first + j) % chats) * members + (first_sender + j) % members) "
        "FROM generate_series(0, n - 1) j $$");
    tx.exec("TRUNCATE messages, chat_members, chats, users CASCADE");
    for (const auto* shape : {&many_chats, &hot_chat, &cost}) {
        const auto users = shape->chats * shape->members;
        tx.exec_params(
            "INSERT INTO users (id, username, display_name, password_hash) "
            "SELECT bench_uuid(k), 'u' || k, 'u' || k, 'x' FROM generate_series($1::bigint, $2::bigint) k",
            shape->user_base, shape->user_base + users - 1);
        tx.exec_params(
            "INSERT INTO chats (id, type, title) "
            "SELECT bench_uuid(k), 'group', 'c' || k FROM generate_series($1::bigint, $2::bigint) k",
            shape->chat_base, shape->chat_base + shape->chats - 1);
        tx.exec_params(
            "INSERT INTO chat_members (chat_id, user_id) "
            "SELECT bench_uuid($1::bigint + (k - $2::bigint) / $3::bigint), bench_uuid(k) "
            "FROM generate_series($2::bigint, $4::bigint) k",
            shape->chat_base, shape->user_base, shape->members, shape->user_base + users - 1);
    }
}

}  // namespace

void prepare_ceiling_database(const std::string& database_url) {
    fill_ceiling_database(database_url);
    vacuum_analyze(database_url);
}

void name_page_chats(const std::string& database_url, const std::vector<std::string>& chat_ids) {
    pqxx::connection c(database_url);
    pqxx::nontransaction tx(c);
    std::string ids;
    for (const auto& id : chat_ids) ids += (ids.empty() ? "" : ",") + id;
    tx.exec("CREATE OR REPLACE FUNCTION bench_uuid(bigint) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$ SELECT (" +
            tx.quote("{" + ids + "}") + "::uuid[])[($1 - " + std::to_string(cost.chat_base) + ") % " +
            std::to_string(chat_ids.size()) + " + 1] $$");
}

namespace {

// pgbench with `script` over `shape` at `rate` (0: as fast as it can) for `duration` (-T N or
// -t N), and what it cost PostgreSQL.
CeilingResult run_script(const CeilingOptions& options, const CeilingShape& shape, int batch, const std::string& script,
                         int clients, double rate, const std::string& duration) {
    std::ostringstream command;
    command << options.pgbench << " -n -M prepared -c " << clients << " -j 2 " << duration
            << (rate > 0 ? " -R " + std::to_string(rate) : "") << " -D chat_base=" << shape.chat_base
            << " -D chats=" << shape.chats << " -D user_base=" << shape.user_base << " -D members=" << shape.members
            << " -D batch=" << batch << " -f " << options.scripts_dir << '/' << script << " '" << options.database_url
            << "' 2>&1";
    std::string output;
    const auto database_cpu = [&] {
        return options.postgres_pid > 0 ? cpu_seconds_of_tree(options.postgres_pid) : 0.0;
    };
    const auto cpu_before = std::pair{database_cpu(), waited_children_cpu_seconds()};
    const auto started = std::chrono::steady_clock::now();
    {
        std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.str().c_str(), "r"), pclose);
        if (!pipe) throw std::runtime_error("cannot run pgbench");
        std::array<char, 4096> chunk{};
        while (const auto n = std::fread(chunk.data(), 1, chunk.size(), pipe.get())) output.append(chunk.data(), n);
    }
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    CeilingResult result;
    result.shape = shape.name;
    result.batch = batch;
    result.rate_limit = rate;
    result.clients = clients;
    result.seconds = elapsed;
    result.transactions_per_s = field(output, R"(tps = ([0-9.]+))");
    result.messages_per_s = result.transactions_per_s * batch;
    result.latency_ms = field(output, R"(latency average = ([0-9.]+) ms)");
    result.failed = static_cast<long>(field(output, R"(number of failed transactions: ([0-9]+))"));
    if (options.postgres_pid > 0) result.postgres_cpu = (database_cpu() - cpu_before.first) / elapsed;
    result.pgbench_cpu = (waited_children_cpu_seconds() - cpu_before.second) / elapsed;
    if (result.transactions_per_s <= 0) throw std::runtime_error("pgbench failed:\n" + output);
    return result;
}

}  // namespace

CeilingResult run_pgbench(const CeilingOptions& options, const CeilingShape& shape, int batch) {
    return run_script(options, shape, batch, batch == 1 ? "message.sql" : "batch.sql", options.clients, 0,
                      options.transactions > 0 ? "-t " + std::to_string(options.transactions)
                                               : "-T " + std::to_string(options.seconds));
}

CeilingResult run_pgbench_pages(const CeilingOptions& options, double rate, double seconds) {
    // Long enough for about ten queries at a slow rate (a quick run's can be a few a second,
    // and pgbench, held to -R, may then finish a one-second run with none), at most 30 s.
    constexpr double kQueriesAtLeast = 10;
    constexpr double kLongestSeconds = 30;
    const double enough = rate > 0 ? std::min(kQueriesAtLeast / rate, kLongestSeconds) : 0;
    const long duration = std::max(1L, std::lround(std::ceil(std::max(seconds, enough))));
    // Few clients: each is a backend PostgreSQL forks, whose start would weigh on a slow rate.
    const auto pages_for = [&](long run_seconds) {
        return run_script(options, cost, 0, "page.sql", kPageClients, rate, "-T " + std::to_string(run_seconds));
    };
    try {
        return pages_for(duration);
    } catch (const std::runtime_error&) {
        // A short run on a busy machine (a quick run beside CI's other tests) can end before
        // its clients have sent a query: once more, three times as long, before giving up.
        return pages_for(3 * duration);
    }
}

}  // namespace confab::bench
