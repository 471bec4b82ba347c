#pragma once

#include <string>
#include <sys/types.h>
#include <vector>

namespace confab::bench {

// The shape of a pgbench run: which chats its messages go to.
struct CeilingShape {
    std::string name;  // "many_chats", "hot_chat" or "cost"
    long chat_base;    // integer key of the first chat (bench_uuid(key) is its id)
    long chats;
    long user_base;  // integer key of the first chat's first member
    long members;    // per chat
};

// The shapes the scenarios compare against: 1,000 chats of 5, one chat of 50, and 100 chats
// of 10 (cost).
const CeilingShape& many_chats_shape();
const CeilingShape& hot_chat_shape();
const CeilingShape& cost_shape();

struct CeilingResult {
    std::string shape;
    int batch = 1;          // messages per transaction; 0 for history pages (page.sql)
    double rate_limit = 0;  // transactions per second pgbench was held to (-R); 0: as fast as it can
    int clients = 0;
    double seconds = 0;
    double transactions_per_s = 0;
    double messages_per_s = 0;
    double latency_ms = 0;  // pgbench's average transaction latency
    long failed = 0;
    // CPU seconds per second of the run (2.00 = both cores), when the postmaster is known.
    double postgres_cpu = 0, pgbench_cpu = 0;
};

struct CeilingOptions {
    std::string database_url;  // a database with the confab schema, given over to pgbench
    std::string pgbench;       // the pgbench binary
    std::string scripts_dir;   // bench/pgbench: message.sql (one per transaction) and batch.sql
    pid_t postgres_pid = 0;    // the postmaster, for the CPU the run costs it (0: not measured)
    int clients = 16;
    int seconds = 10;
    int transactions = 0;  // per client, instead of `seconds` when set: a smoke run ends however busy the machine
    int batch = 50;
};

// Fills the ceiling database with the users, chats and members of every shape (replacing what
// an earlier run left).
void prepare_ceiling_database(const std::string& database_url);

// Defines bench_uuid in the server's own database so that page.sql's chats (the cost shape's
// keys, wrapping around `chat_ids`) are `chat_ids`, the chats whose history the server was
// asked for: pgbench then reads the same rows, in the same table, as the server.
void name_page_chats(const std::string& database_url, const std::vector<std::string>& chat_ids);

// Runs pgbench with one message per transaction (batch 1: message.sql) or `batch` per
// transaction (batch.sql).
CeilingResult run_pgbench(const CeilingOptions& options, const CeilingShape& shape, int batch);
// Runs pgbench's keyset page query (page.sql: a chat's newest 50 messages, one statement)
// over the cost shape's chats at `rate` queries per second for `seconds`, in the database of
// options.database_url (one where name_page_chats ran).
CeilingResult run_pgbench_pages(const CeilingOptions& options, double rate, double seconds);

}  // namespace confab::bench
