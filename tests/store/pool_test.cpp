// store::Pool against a real PostgreSQL: ordered writes are group-committed, each isolated
// in its own savepoint, acknowledged after the one COMMIT, published in submission order.

#include "confab/obs/metrics.hpp"
#include "confab/store/pool.hpp"
#include "confab/store/sql.hpp"
#include "support/server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <gtest/gtest.h>
#include <pqxx/connection>
#include <pqxx/except>
#include <pqxx/nontransaction>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace confab::store {
namespace {

using test::TestDatabase;

struct Outcome {
    bool done = false;
    std::string error;  // what() of the exception the caller got, empty on success
};

class PoolTest : public ::testing::Test {
protected:
    void SetUp() override {
        CONFAB_REQUIRE_DATABASE();
        database_ = std::make_unique<TestDatabase>();
        database_->query_value("create table items (id int primary key, note text)");
        pool_ = std::make_unique<Pool>(database_->url(), 2, std::chrono::seconds(5),
                                       [](Tx& tx) { tx.prepare("insert_item", "insert into items values ($1, $2)"); });
    }
    void TearDown() override {
        if (pool_) pool_->stop();
    }

    // Spawns `write` as an ordered write on `order` (after_commit appends to published_).
    void spawn_ordered(std::function<int(Tx&)> write, std::mutex& order, Outcome& outcome) {
        boost::asio::co_spawn(
            io_,
            [this, write = std::move(write), &order, &outcome]() -> boost::asio::awaitable<void> {
                try {
                    co_await pool_->run(write, order, [this](int id) {
                        published_.push_back(id);
                        if (id == effects_fail_for_) throw std::runtime_error("the effects failed");
                    });
                } catch (const std::exception& e) {
                    outcome.error = e.what();
                    if (outcome.error.empty()) outcome.error = "?";
                }
                outcome.done = true;
            },
            boost::asio::detached);
    }

    // Holds the lane of `order` in a 0.3 s write and calls `queue` once that write has
    // started: what `queue` submits then waits behind it, however late its worker woke.
    void behind_a_held_lane(std::mutex& order, Outcome& held, std::function<void()> queue) {
        auto started = std::make_shared<std::atomic<bool>>(false);
        spawn_ordered(
            [started](Tx& tx) {
                *started = true;
                tx.exec("select pg_sleep(0.3)");
                return 0;
            },
            order, held);
        boost::asio::co_spawn(
            io_,
            [this, started, queue = std::move(queue)]() -> boost::asio::awaitable<void> {
                boost::asio::steady_timer poll(io_);
                while (!*started) {
                    poll.expires_after(std::chrono::milliseconds(1));
                    co_await poll.async_wait(boost::asio::use_awaitable);
                }
                queue();
            },
            boost::asio::detached);
    }

    std::string count(const std::string& where) const {
        return database_->query_value("select count(*) from items where " + where).value_or("?");
    }

    std::unique_ptr<TestDatabase> database_;
    // Outlives the pool's threads (stopped in TearDown): a caller resumes, and its test may
    // end, while the committing thread still holds the order mutex.
    std::mutex order_;
    std::unique_ptr<Pool> pool_;
    boost::asio::io_context io_;
    std::vector<int> published_;  // appended on database threads, read after io_.run()
    int effects_fail_for_ = -1;   // the write whose after_commit throws
};

std::function<int(Tx&)> insert(int id) {
    return [id](Tx& tx) {
        tx.exec0("insert into items values (" + std::to_string(id) + ", 'ok')");
        return id;
    };
}

// A commit is final: effects that throw after it must not send the group round again (it
// would write everything twice and answer its callers twice).
TEST_F(PoolTest, EffectsThatThrowAfterTheCommitNeitherRerunTheGroupNorAnswerTwice) {
    std::mutex& order = order_;
    effects_fail_for_ = 2;
    const auto failed_before = obs::metrics().db_errors.with({"effects_failed"}).value();
    std::vector<Outcome> outcomes(4);
    Outcome held;
    behind_a_held_lane(order, held, [&] {
        for (int id = 1; id <= 3; ++id) spawn_ordered(insert(id), order, outcomes[id]);
    });
    io_.run();
    for (int id = 1; id <= 3; ++id) {
        EXPECT_TRUE(outcomes[id].done);
        EXPECT_EQ(outcomes[id].error, "") << "write " << id << " was committed: its caller hears so";
    }
    EXPECT_EQ(count("note = 'ok'"), "3");
    EXPECT_EQ(published_, (std::vector<int>{0, 1, 2, 3})) << "each write's effects ran once";
    EXPECT_EQ(obs::metrics().db_errors.with({"effects_failed"}).value() - failed_before, 1u);
}

TEST_F(PoolTest, QueuedOrderedWritesCommitTogetherAndFailAlone) {
    std::mutex& order = order_;
    const auto groups_before = obs::metrics().db_group_commits.only().value();
    const auto writes_before = obs::metrics().db_group_commit_writes.only().value();
    std::vector<Outcome> outcomes(23);
    // The first write holds the group lane, so every later one queues behind it.
    spawn_ordered(
        [](Tx& tx) {
            tx.exec("select pg_sleep(0.3)");
            return 0;
        },
        order, outcomes[0]);
    for (int id = 1; id <= 20; ++id) spawn_ordered(insert(id), order, outcomes[id]);
    // A write that fails after writing (its insert must be rolled back; prepared statements
    // alone, which libpqxx runs without starting a lazy savepoint), and one whose SQL fails.
    spawn_ordered(
        [](Tx& tx) -> int {
            tx.exec_prepared("insert_item", 100, "doomed");
            throw std::runtime_error("refused by the domain");
        },
        order, outcomes[21]);
    spawn_ordered(
        [](Tx& tx) {
            tx.exec0("insert into items values (5, 'duplicate')");
            return 101;
        },
        order, outcomes[22]);
    io_.run();

    for (int id = 0; id <= 20; ++id) {
        EXPECT_TRUE(outcomes[id].done);
        EXPECT_EQ(outcomes[id].error, "") << "write " << id;
    }
    EXPECT_EQ(outcomes[21].error, "refused by the domain");
    EXPECT_NE(outcomes[22].error.find("duplicate key"), std::string::npos) << outcomes[22].error;
    EXPECT_EQ(count("note = 'ok'"), "20");
    EXPECT_EQ(count("note <> 'ok'"), "0") << "the failed writes left nothing behind";

    std::vector<int> expected{0};
    for (int id = 1; id <= 20; ++id) expected.push_back(id);
    EXPECT_EQ(published_, expected) << "after_commit runs once per committed write, in submission order";
    const auto groups = obs::metrics().db_group_commits.only().value() - groups_before;
    const auto writes = obs::metrics().db_group_commit_writes.only().value() - writes_before;
    EXPECT_EQ(writes, 23u);
    EXPECT_LE(groups, 3u) << "the 22 queued writes shared at most two transactions";
}

// Inserts its inputs as items in one statement: negative ids are refused without writing,
// and the call sizes it saw are kept.
class ItemWriter final : public BatchWriter<int, int> {
public:
    std::vector<Entry> write(Tx& tx, std::span<const int* const> ids) override {
        calls.push_back(ids.size());
        std::vector<Entry> entries;
        std::string values;
        for (const int* id : ids) {
            if (*id < 0) {
                entries.emplace_back(std::make_exception_ptr(std::invalid_argument("negative")));
                continue;
            }
            values += (values.empty() ? "(" : ", (") + std::to_string(*id) + ", 'ok')";
            entries.emplace_back(*id);
        }
        if (!values.empty()) tx.exec0("insert into items values " + values);
        return entries;
    }
    std::vector<std::size_t> calls;  // on database threads; read after io_.run()
};

TEST_F(PoolTest, BatchedWritesOfOneWriterRunTogetherAndFailAlone) {
    std::mutex& order = order_;
    ItemWriter writer;
    std::vector<Outcome> outcomes(9);
    const auto spawn_batched = [&](int id, Outcome& outcome) {
        boost::asio::co_spawn(
            io_,
            [&, id]() -> boost::asio::awaitable<void> {
                try {
                    co_await pool_->run_batched(id, writer, order,
                                                [this](int stored) { published_.push_back(stored); });
                } catch (const std::exception& e) {
                    outcome.error = e.what();
                }
                outcome.done = true;
            },
            boost::asio::detached);
    };
    behind_a_held_lane(order, outcomes[0], [&] {
        spawn_batched(1, outcomes[1]);
        spawn_batched(-2, outcomes[2]);
        spawn_batched(3, outcomes[3]);
        spawn_ordered(insert(4), order, outcomes[4]);  // ends the first run of the writer
        spawn_batched(5, outcomes[5]);
        spawn_batched(6, outcomes[6]);
    });
    io_.run();
    for (int i : {0, 1, 3, 4, 5, 6}) EXPECT_EQ(outcomes[i].error, "") << "write " << i;
    EXPECT_EQ(outcomes[2].error, "negative");
    EXPECT_EQ(published_, (std::vector<int>{0, 1, 3, 4, 5, 6}));
    EXPECT_EQ(writer.calls, (std::vector<std::size_t>{3, 2})) << "each run of the writer's inputs is one call";
    EXPECT_EQ(count("true"), "5");

    // A batch that fails as a whole (id 6 is taken) is run again one write at a time.
    io_.restart();
    writer.calls.clear();
    published_.clear();
    behind_a_held_lane(order, outcomes[0], [&] {
        spawn_batched(7, outcomes[7]);
        spawn_batched(6, outcomes[6]);
        spawn_batched(8, outcomes[8]);
    });
    io_.run();
    EXPECT_EQ(outcomes[7].error, "");
    EXPECT_NE(outcomes[6].error.find("duplicate key"), std::string::npos) << outcomes[6].error;
    EXPECT_EQ(outcomes[8].error, "");
    EXPECT_EQ(published_, (std::vector<int>{0, 7, 8}));
    EXPECT_EQ(writer.calls, (std::vector<std::size_t>{3, 1, 1, 1}));
    EXPECT_EQ(count("true"), "7");
}

TEST_F(PoolTest, AWriteAloneFailsWithItsOwnError) {
    std::mutex& order = order_;
    Outcome failed, fine;
    spawn_ordered(
        [](Tx& tx) -> int {
            tx.exec0("insert into items values (1, 'doomed')");
            throw std::invalid_argument("bad input");
        },
        order, failed);
    io_.run();
    io_.restart();
    spawn_ordered(insert(2), order, fine);
    io_.run();
    EXPECT_EQ(failed.error, "bad input");
    EXPECT_EQ(fine.error, "");
    EXPECT_EQ(count("true"), "1");
    EXPECT_EQ(published_, std::vector<int>{2});
}

TEST_F(PoolTest, UnorderedRunsKeepTheirOwnTransactions) {
    bool rolled_back = false;
    std::string stored;
    boost::asio::co_spawn(
        io_,
        [&]() -> boost::asio::awaitable<void> {
            try {
                co_await pool_->run([](Tx& tx) {
                    tx.exec0("insert into items values (7, 'x')");
                    throw std::runtime_error("undo");
                });
            } catch (const std::runtime_error&) {
                rolled_back = true;
            }
            stored =
                co_await pool_->run([](Tx& tx) { return tx.exec1("select count(*) from items")[0].as<std::string>(); });
        },
        boost::asio::detached);
    io_.run();
    EXPECT_TRUE(rolled_back);
    EXPECT_EQ(stored, "0");
}

// A read (a history page) runs its statements without BEGIN and COMMIT: each is a transaction
// of its own, and an error in one is the caller's, the connection staying usable.
TEST_F(PoolTest, AReadRunsEachStatementAsATransactionOfItsOwn) {
    const auto two_transaction_ids = [](Tx& tx) {
        return std::pair{tx.exec1("select txid_current()")[0].as<std::string>(),
                         tx.exec1("select txid_current()")[0].as<std::string>()};
    };
    std::pair<std::string, std::string> read, run;
    bool refused = false;
    std::string after;
    boost::asio::co_spawn(
        io_,
        [&]() -> boost::asio::awaitable<void> {
            read = co_await pool_->read(two_transaction_ids);
            run = co_await pool_->run(two_transaction_ids);
            try {
                co_await pool_->read([](Tx& tx) { tx.exec("select 1 / 0"); });
            } catch (const std::exception&) {
                refused = true;
            }
            after = co_await pool_->read([](Tx& tx) { return tx.exec1("select 'still there'")[0].as<std::string>(); });
        },
        boost::asio::detached);
    io_.run();
    EXPECT_NE(read.first, read.second) << "statements of a read commit one by one";
    EXPECT_EQ(run.first, run.second) << "a run's statements share its transaction";
    EXPECT_TRUE(refused);
    EXPECT_EQ(after, "still there");
}

// The server's statements are short: compiling one (JIT) would cost more than running it.
TEST_F(PoolTest, ItsSessionsRunWithoutJit) {
    std::string jit;
    boost::asio::co_spawn(
        io_,
        [&]() -> boost::asio::awaitable<void> {
            jit = co_await pool_->run([](Tx& tx) { return tx.exec1("SHOW jit")[0].as<std::string>(); });
        },
        boost::asio::detached);
    io_.run();
    EXPECT_EQ(jit, "off");
}

// Past queue_limit jobs waiting for a connection, the next is refused at once with
// Unavailable instead of queueing; the queued ones still run once the connection is free.
TEST_F(PoolTest, JobsPastTheQueueLimitAreRefusedAtOnce) {
    Pool small(
        database_->url(), 1, std::chrono::seconds(5), [](Tx&) {},
        PoolLimits{std::chrono::milliseconds(100), std::chrono::milliseconds(1000), 2});
    const auto shed_before = obs::metrics().shed.with({"database"}).value();
    auto started = std::make_shared<std::atomic<bool>>(false);
    auto release = std::make_shared<std::atomic<bool>>(false);
    std::vector<Outcome> outcomes(4);
    const auto spawn = [&](std::function<int(Tx&)> work, Outcome& outcome) {
        boost::asio::co_spawn(
            io_,
            [&small, work = std::move(work), &outcome]() -> boost::asio::awaitable<void> {
                try {
                    co_await small.run(work);
                } catch (const std::exception& e) {
                    outcome.error = e.what();
                }
                outcome.done = true;
            },
            boost::asio::detached);
    };
    const auto until = [this](std::function<bool()> done) -> boost::asio::awaitable<void> {
        boost::asio::steady_timer poll(io_);
        while (!done()) {
            poll.expires_after(std::chrono::milliseconds(1));
            co_await poll.async_wait(boost::asio::use_awaitable);
        }
    };
    // The only connection is held until the refusal has been seen.
    spawn(
        [started, release](Tx&) {
            *started = true;
            while (!*release) std::this_thread::yield();
            return 0;
        },
        outcomes[0]);
    boost::asio::co_spawn(
        io_,
        [&]() -> boost::asio::awaitable<void> {
            co_await until([&] { return started->load(); });
            for (int i = 1; i <= 3; ++i) spawn(insert(i), outcomes[i]);
            co_await until([&] { return outcomes[3].done; });
            EXPECT_FALSE(outcomes[1].done || outcomes[2].done) << "the queued jobs wait";
            *release = true;
        },
        boost::asio::detached);
    io_.run();
    small.stop();

    EXPECT_EQ(outcomes[0].error, "");
    EXPECT_EQ(outcomes[1].error, "");
    EXPECT_EQ(outcomes[2].error, "");
    EXPECT_NE(outcomes[3].error.find("database busy"), std::string::npos) << outcomes[3].error;
    EXPECT_EQ(count("true"), "2");
    EXPECT_EQ(obs::metrics().shed.with({"database"}).value() - shed_before, 1u);
}

// With a gather window, ordered writes of different chats (so of different lanes) queued
// within it commit in one transaction, each still answered and published once.
TEST_F(PoolTest, WritesOfManyChatsQueuedWhileGatheringShareOneTransaction) {
    Pool gathering(
        database_->url(), 5, std::chrono::seconds(5), [](Tx&) {}, PoolLimits{.gather = std::chrono::milliseconds(300)});
    std::array<std::mutex, 12> orders;  // outlive the pool's threads (stopped below)
    const auto groups_before = obs::metrics().db_group_commits.only().value();
    const auto writes_before = obs::metrics().db_group_commit_writes.only().value();
    std::vector<Outcome> outcomes(orders.size());
    std::mutex published_mutex;  // groups on different threads publish under different orders
    std::vector<int> published;
    for (int id = 0; id < static_cast<int>(orders.size()); ++id) {
        boost::asio::co_spawn(
            io_,
            [&, id]() -> boost::asio::awaitable<void> {
                try {
                    co_await gathering.run(insert(id), orders[id], [&](int stored) {
                        std::lock_guard lock(published_mutex);
                        published.push_back(stored);
                    });
                } catch (const std::exception& e) {
                    outcomes[id].error = e.what();
                }
                outcomes[id].done = true;
            },
            boost::asio::detached);
    }
    io_.run();
    gathering.stop();
    for (const auto& outcome : outcomes) {
        EXPECT_TRUE(outcome.done);
        EXPECT_EQ(outcome.error, "");
    }
    EXPECT_EQ(count("note = 'ok'"), std::to_string(orders.size()));
    EXPECT_EQ(published.size(), orders.size()) << "each write's effects ran once";
    EXPECT_EQ(obs::metrics().db_group_commit_writes.only().value() - writes_before, orders.size());
    EXPECT_LE(obs::metrics().db_group_commits.only().value() - groups_before, 2u)
        << "writes queued together in four lanes waited for each other instead of committing alone";
}

// A write waiting for its gathering to end is failed, not lost in the wait, when the pool
// stops; and an unordered run does not wait for the gathering.
TEST_F(PoolTest, AGatheringWriteIsFailedWhenThePoolStopsAndReadsDoNotWaitForIt) {
    Pool gathering(
        database_->url(), 3, std::chrono::seconds(5), [](Tx&) {}, PoolLimits{.gather = std::chrono::hours(1)});
    Outcome write;
    std::string read;
    boost::asio::co_spawn(
        io_,
        [&]() -> boost::asio::awaitable<void> {
            try {
                co_await gathering.run(insert(1), order_, [](int) {});
            } catch (const std::exception& e) {
                write.error = e.what();
            }
            write.done = true;
        },
        boost::asio::detached);
    boost::asio::co_spawn(
        io_,
        [&]() -> boost::asio::awaitable<void> {
            read = co_await gathering.run(
                [](Tx& tx) { return tx.exec1("select count(*) from items")[0].as<std::string>(); });
            EXPECT_FALSE(write.done) << "the write waits for the hour-long gathering";
            gathering.stop();
        },
        boost::asio::detached);
    io_.run();
    EXPECT_EQ(read, "0");
    EXPECT_TRUE(write.done);
    EXPECT_EQ(write.error, "server is shutting down");
    EXPECT_EQ(count("true"), "0");
}

// Heavy writes (Weight::heavy). The writes record, once committed, their name and the id of
// the transaction that committed them; a heavy one is held on an advisory lock the test
// takes first, and releases only once the writes that must not wait for it are answered.
// Were one of those in the heavy write's transaction, or queued behind it, it could not
// be answered first: the test then fails when `deadline` has passed, instead of hanging.
class HeavyWriteTest : public PoolTest {
protected:
    static constexpr int held_key = 4242;
    static constexpr auto deadline = std::chrono::seconds(30);

    struct Committed {
        std::string name;
        std::string transaction;
    };

    void SetUp() override {
        PoolTest::SetUp();
        if (IsSkipped()) return;
        holder_ = std::make_unique<pqxx::connection>(database_->url());
        on_holder("select pg_advisory_lock(" + std::to_string(held_key) + ")");
    }
    void TearDown() override {
        release();
        PoolTest::TearDown();
    }

    void release() {
        if (!holder_ || released_) return;
        released_ = true;
        on_holder("select pg_advisory_unlock_all()");
    }
    void on_holder(const std::string& sql) {
        pqxx::nontransaction statement(*holder_);
        statement.exec(sql);
        statement.commit();
    }

    // Spawns the ordered write `name` on `pool`; `body` runs in its transaction first.
    void spawn_write(Pool& pool, const std::string& name, std::mutex& order, Weight weight, Outcome& outcome,
                     std::function<void(Tx&)> body = {}) {
        boost::asio::co_spawn(
            io_,
            [this, &pool, name, &order, weight, &outcome, body = std::move(body)]() -> boost::asio::awaitable<void> {
                try {
                    co_await pool.run(
                        [body](Tx& tx) {
                            if (body) body(tx);
                            return tx.exec1("select txid_current()")[0].as<std::string>();
                        },
                        order,
                        [this, name](const std::string& transaction) {
                            std::lock_guard lock(committed_mutex_);
                            committed_.push_back({name, transaction});
                        },
                        weight);
                } catch (const std::exception& e) {
                    outcome.error = e.what();
                    if (outcome.error.empty()) outcome.error = "?";
                }
                outcome.done = true;
            },
            boost::asio::detached);
    }

    // A heavy write's body: it waits for the test's advisory lock, having said it started.
    static std::function<void(Tx&)> held(const std::shared_ptr<std::atomic<int>>& started) {
        return [started](Tx& tx) {
            ++*started;
            tx.exec("select pg_advisory_xact_lock(" + std::to_string(held_key) + ")");
        };
    }

    // Resumes once `done()` holds, with true; at the deadline fails the test and lets the
    // heavy writes go, with false.
    boost::asio::awaitable<bool> wait_for(std::function<bool()> done, std::string what) {
        boost::asio::steady_timer poll(io_);
        const auto until = std::chrono::steady_clock::now() + deadline;
        while (!done() && std::chrono::steady_clock::now() < until) {
            poll.expires_after(std::chrono::milliseconds(2));
            co_await poll.async_wait(boost::asio::use_awaitable);
        }
        if (done()) co_return true;
        ADD_FAILURE() << what << " waited for a heavy write";
        release();
        co_return false;
    }

    static bool all_done(const std::vector<Outcome>& outcomes) {
        return std::all_of(outcomes.begin(), outcomes.end(), [](const Outcome& o) { return o.done; });
    }

    std::vector<std::string> names_in_order() {
        std::lock_guard lock(committed_mutex_);
        std::vector<std::string> names;
        for (const auto& write : committed_) names.push_back(write.name);
        return names;
    }
    std::map<std::string, std::string> transactions() {
        std::lock_guard lock(committed_mutex_);
        std::map<std::string, std::string> by_name;
        for (const auto& write : committed_) by_name[write.name] = write.transaction;
        return by_name;
    }

    std::unique_ptr<pqxx::connection> holder_;
    bool released_ = false;
    std::mutex committed_mutex_;  // groups on different threads commit under different orders
    std::vector<Committed> committed_;
};

// Writes of other chats queued in the heavy write's gathering, or while it runs (also those
// of its own lane, whichever that is), commit and are answered before it ends; the writes of
// its own chat keep their order around it, and nothing shares its transaction.
TEST_F(HeavyWriteTest, AHeavyWriteCommitsAloneAndHoldsNoOtherChat) {
    Pool pool(
        database_->url(), 4, std::chrono::seconds(5), [](Tx&) {}, PoolLimits{.gather = std::chrono::milliseconds(100)});
    std::array<std::mutex, 16> orders;  // [0] is the heavy write's chat; outlive the pool's threads
    constexpr std::size_t others = orders.size() - 1;
    auto started = std::make_shared<std::atomic<int>>(0);
    Outcome before, heavy, after;
    std::vector<Outcome> beside(others), meanwhile(others);
    spawn_write(pool, "before", orders[0], Weight::light, before);
    spawn_write(pool, "heavy", orders[0], Weight::heavy, heavy, held(started));
    spawn_write(pool, "after", orders[0], Weight::light, after);
    for (std::size_t i = 0; i < others; ++i)
        spawn_write(pool, "beside " + std::to_string(i), orders[i + 1], Weight::light, beside[i]);
    bool heavy_done_meanwhile = false, after_done_meanwhile = false;
    boost::asio::co_spawn(
        io_,
        [&]() -> boost::asio::awaitable<void> {
            if (!co_await wait_for([&] { return *started > 0 && all_done(beside); }, "a write queued beside it"))
                co_return;
            for (std::size_t i = 0; i < others; ++i)
                spawn_write(pool, "meanwhile " + std::to_string(i), orders[i + 1], Weight::light, meanwhile[i]);
            if (!co_await wait_for([&] { return all_done(meanwhile); }, "a write queued while it ran")) co_return;
            heavy_done_meanwhile = heavy.done;
            after_done_meanwhile = after.done;
            release();
        },
        boost::asio::detached);
    io_.run();
    pool.stop();

    for (const auto* outcome : {&before, &heavy, &after}) EXPECT_EQ(outcome->error, "");
    for (const auto& outcome : beside) EXPECT_EQ(outcome.error, "");
    for (const auto& outcome : meanwhile) EXPECT_EQ(outcome.error, "");
    EXPECT_FALSE(heavy_done_meanwhile) << "the heavy write was held until the others were answered";
    EXPECT_FALSE(after_done_meanwhile) << "a write of its chat queued behind it waits for it";
    EXPECT_EQ(*started, 1) << "run once";

    const auto names = names_in_order();
    const auto at = [&names](const std::string& name) {
        return std::distance(names.begin(), std::find(names.begin(), names.end(), name));
    };
    EXPECT_LT(at("before"), at("heavy"));
    EXPECT_LT(at("heavy"), at("after")) << "its chat's writes keep their order";
    const auto by_name = transactions();
    ASSERT_EQ(by_name.size(), 3 + 2 * others);
    for (const auto& [name, transaction] : by_name)
        if (name != "heavy") EXPECT_NE(transaction, by_name.at("heavy")) << name << " shared the heavy transaction";
}

// A failing write gathered beside a heavy one, or queued behind it in its chat, does not send
// it round again with savepoints (a group's rerun), and a heavy write that fails fails
// alone, run once, writing nothing.
TEST_F(HeavyWriteTest, AHeavyWriteRunsOnceWhateverFailsBesideIt) {
    release();  // nothing is held here
    Pool pool(
        database_->url(), 4, std::chrono::seconds(5), [](Tx&) {}, PoolLimits{.gather = std::chrono::milliseconds(100)});
    std::array<std::mutex, 4> orders;
    auto heavy_runs = std::make_shared<std::atomic<int>>(0);
    auto doomed_heavy_runs = std::make_shared<std::atomic<int>>(0);
    Outcome heavy, failing_behind, failing, doomed_heavy, fine;
    const auto refused = [](int id) {
        return [id](Tx& tx) {
            tx.exec0("insert into items values (" + std::to_string(id) + ", 'doomed')");
            throw std::runtime_error("refused by the domain");
        };
    };
    spawn_write(pool, "heavy", orders[0], Weight::heavy, heavy, [heavy_runs](Tx& tx) {
        ++*heavy_runs;
        tx.exec0("insert into items values (1, 'ok')");
    });
    spawn_write(pool, "failing behind", orders[0], Weight::light, failing_behind, refused(5));
    spawn_write(pool, "failing", orders[1], Weight::light, failing, refused(2));
    spawn_write(pool, "doomed heavy", orders[2], Weight::heavy, doomed_heavy, [doomed_heavy_runs](Tx& tx) {
        ++*doomed_heavy_runs;
        tx.exec0("insert into items values (3, 'doomed')");
        throw std::invalid_argument("too much");
    });
    spawn_write(pool, "fine", orders[3], Weight::light, fine,
                [](Tx& tx) { tx.exec0("insert into items values (4, 'ok')"); });
    io_.run();
    pool.stop();

    EXPECT_EQ(heavy.error, "");
    EXPECT_EQ(failing_behind.error, "refused by the domain");
    EXPECT_EQ(failing.error, "refused by the domain");
    EXPECT_EQ(doomed_heavy.error, "too much");
    EXPECT_EQ(fine.error, "");
    EXPECT_EQ(*heavy_runs, 1) << "a neighbour's failure ran the heavy write again";
    EXPECT_EQ(*doomed_heavy_runs, 1);
    EXPECT_EQ(count("note = 'ok'"), "2");
    EXPECT_EQ(count("note <> 'ok'"), "0") << "the failed writes left nothing behind";
    const auto by_name = transactions();
    ASSERT_EQ(by_name.size(), 2u);
    EXPECT_NE(by_name.at("heavy"), by_name.at("fine"));
}

// Heavy writes run on at most half the connections: with more of them held than that, the
// writes of other chats and unordered runs still find a connection, and each heavy write
// in turn commits alone.
TEST_F(HeavyWriteTest, HeavyWritesLeaveConnectionsForTheOthers) {
    Pool pool(
        database_->url(), 4, std::chrono::seconds(5), [](Tx&) {}, PoolLimits{.gather = std::chrono::milliseconds(20)});
    constexpr std::size_t heavies = 4, lights = 8;
    std::array<std::mutex, heavies + lights> orders;
    auto started = std::make_shared<std::atomic<int>>(0);
    std::vector<Outcome> heavy(heavies), light(lights), later(lights);
    for (std::size_t i = 0; i < heavies; ++i)
        spawn_write(pool, "heavy " + std::to_string(i), orders[i], Weight::heavy, heavy[i], held(started));
    std::string read;
    int started_when_answered = 0;
    boost::asio::co_spawn(
        io_,
        [&]() -> boost::asio::awaitable<void> {
            if (!co_await wait_for([&] { return *started == 2; }, "a second heavy write")) co_return;
            for (std::size_t i = 0; i < lights; ++i)
                spawn_write(pool, "light " + std::to_string(i), orders[heavies + i], Weight::light, light[i]);
            read = co_await pool.run([](Tx& tx) { return tx.exec1("select 'read'")[0].as<std::string>(); });
            if (!co_await wait_for([&] { return all_done(light); }, "a light write")) co_return;
            // Each chat again, now that the earlier groups are done: nothing was left waiting.
            for (std::size_t i = 0; i < lights; ++i)
                spawn_write(pool, "later " + std::to_string(i), orders[heavies + i], Weight::light, later[i]);
            if (!co_await wait_for([&] { return all_done(later); }, "a later light write")) co_return;
            started_when_answered = *started;
            release();
        },
        boost::asio::detached);
    io_.run();
    pool.stop();

    EXPECT_EQ(read, "read");
    EXPECT_EQ(started_when_answered, 2) << "two heavy writes at a time on a pool of four";
    for (const auto* outcomes : {&heavy, &light, &later})
        for (const auto& outcome : *outcomes) EXPECT_EQ(outcome.error, "");
    EXPECT_EQ(*started, static_cast<int>(heavies));
    const auto by_name = transactions();
    ASSERT_EQ(by_name.size(), heavies + 2 * lights);
    for (std::size_t i = 0; i < heavies; ++i)
        for (const auto& [name, transaction] : by_name)
            if (name != "heavy " + std::to_string(i))
                EXPECT_NE(transaction, by_name.at("heavy " + std::to_string(i))) << name;
}

// What still runs a moment after stop() is cancelled: a statement waiting on a lock would
// otherwise hold the server's exit past any grace period. Nothing of it commits, and its
// callers hear that the server is shutting down.
TEST_F(HeavyWriteTest, StoppingCancelsTheStatementsStillRunning) {
    auto started = std::make_shared<std::atomic<int>>(0);
    Outcome write;
    Outcome read;
    std::thread stopper;
    boost::asio::co_spawn(
        io_,
        [&]() -> boost::asio::awaitable<void> {
            spawn_write(*pool_, "held", order_, Weight::light, write, [started](Tx& tx) {
                tx.exec0("insert into items values (1, 'held')");
                held(started)(tx);
            });
            boost::asio::co_spawn(
                io_,
                [&]() -> boost::asio::awaitable<void> {
                    try {
                        co_await pool_->run([started](Tx& tx) { held(started)(tx); });
                    } catch (const std::exception& e) {
                        read.error = e.what();
                    }
                    read.done = true;
                },
                boost::asio::detached);
            if (!co_await wait_for([&] { return *started == 2; }, "the held statements")) co_return;
            stopper = std::thread([this] { pool_->stop(); });
            co_await wait_for([&] { return write.done && read.done; }, "the cancelled statements");
        },
        boost::asio::detached);
    io_.run();
    if (stopper.joinable()) stopper.join();

    EXPECT_EQ(write.error, "server is shutting down");
    EXPECT_EQ(read.error, "server is shutting down");
    EXPECT_EQ(count("true"), "0");
}

}  // namespace
}  // namespace confab::store
