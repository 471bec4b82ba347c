// store::PageStamps against a real PostgreSQL: the stamps it reads on the caller's thread,
// pipelined on one connection, are the ones the Pool reads, each to its own reader; a
// connection that breaks under a read fails it with Unavailable, and the next read connects
// again.
#include "confab/store/database.hpp"
#include "confab/store/page_stamps.hpp"
#include "fresh_database.hpp"
#include "in_transaction.hpp"
#include "support/server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace confab::store {
namespace {

using test::TestDatabase;
using namespace std::chrono_literals;

// What one read gave: the stamp, or the Unavailable it threw.
struct Outcome {
    bool done = false;
    std::optional<messages::PageStamp> stamp;
    std::string unavailable;
};

class PageStampsTest : public ::testing::Test {
protected:
    void SetUp() override {
        CONFAB_REQUIRE_DATABASE();
        database_ = test::migrated_database();
        for (const char* name : {"ann", "bob"}) users_.push_back(test::add_user(*database_, name));
        for (int chat = 0; chat < 3; ++chat) {
            chats_.push_back(value("insert into chats (type) values ('group') returning id"));
            for (int sent = 0; sent <= chat; ++sent) send(chats_.back());
        }
        // ann hid two messages of the first chat, bob none.
        value("insert into hidden_messages (user_id, message_id, chat_id, version) select '" + users_[0] +
              "', id, chat_id, 1 from messages where chat_id = '" + chats_[0] + "' returning 1");
        send(chats_[0]);
        value("insert into hidden_messages (user_id, message_id, chat_id, version) select '" + users_[0] +
              "', id, chat_id, 2 from messages where chat_id = '" + chats_[0] + "' and seq = 2 returning 1");
        pool_ = std::make_unique<Pool>(database_->url(), 1, 5s, prepare_statements);
        stamps_ = std::make_unique<PageStamps>(database_->url(), *pool_);
    }
    void TearDown() override {
        if (pool_) pool_->stop();
    }

    std::string value(const std::string& sql) const { return database_->query_value(sql).value_or(""); }
    void send(const std::string& chat) {
        value("with c as (update chats set last_seq = last_seq + 1, version = version + 1 where id = '" + chat +
              "' returning last_seq, version) insert into messages (chat_id, sender_id, seq, version, type, content) "
              "select '" +
              chat + "', '" + users_[1] + "', last_seq, version, 'text', 'hi' from c returning 1");
    }
    // What the Pool's own statement reads, to compare with.
    std::optional<messages::PageStamp> expected(const std::string& chat, const std::string& viewer) const {
        return test::in_transaction(database_->url(), [&](Tx& tx) { return messages::page_stamp(tx, chat, viewer); });
    }

    // Starts a read on io_ (nothing runs until io_ does).
    void start(const std::string& chat, const std::string& viewer, Outcome& outcome) {
        boost::asio::co_spawn(
            io_,
            [this, chat, viewer, &outcome]() -> boost::asio::awaitable<void> {
                try {
                    outcome.stamp = co_await stamps_->read(chat, viewer);
                } catch (const Unavailable& e) {
                    outcome.unavailable = e.what();
                }
                outcome.done = true;
            },
            boost::asio::detached);
    }
    void run_until_done(const std::vector<Outcome>& outcomes) {
        const auto all_done = [&] {
            for (const auto& outcome : outcomes)
                if (!outcome.done) return false;
            return true;
        };
        while (!all_done()) io_.run_one();
    }
    Outcome read(const std::string& chat, const std::string& viewer) {
        std::vector<Outcome> outcomes(1);
        start(chat, viewer, outcomes[0]);
        run_until_done(outcomes);
        return outcomes[0];
    }
    std::string backends() const {
        return value(
            "select count(*) from pg_stat_activity where application_name = 'confab page stamps' and "
            "datname = current_database()");
    }

    std::unique_ptr<TestDatabase> database_;
    std::vector<std::string> users_, chats_;
    boost::asio::io_context io_;  // declared before the stamps: their connection goes with it
    std::unique_ptr<Pool> pool_;
    std::unique_ptr<PageStamps> stamps_;
};

void expect_same(const Outcome& got, const std::optional<messages::PageStamp>& expected) {
    ASSERT_TRUE(got.done);
    ASSERT_EQ(got.unavailable, "");
    ASSERT_EQ(got.stamp.has_value(), expected.has_value());
    if (!expected) return;
    EXPECT_EQ(got.stamp->version, expected->version);
    EXPECT_EQ(got.stamp->hidden, expected->hidden);
}

TEST_F(PageStampsTest, ReadsWhatThePoolReadsEachStampToItsOwnReader) {
    const auto ann = users_[0], bob = users_[1];
    const auto first = read(chats_[0], ann);
    expect_same(first, expected(chats_[0], ann));
    EXPECT_EQ(std::to_string(first.stamp->version), value("select version from chats where id = '" + chats_[0] + "'"));
    EXPECT_EQ(first.stamp->hidden.size(), 2U) << "ann hid two of its messages";
    expect_same(read(chats_[0], bob), expected(chats_[0], bob));
    EXPECT_TRUE(read(chats_[0], bob).stamp->hidden.empty());
    expect_same(read(chats_[0], ""), expected(chats_[0], ""));  // no viewer: nothing hidden
    const auto gone = read("00000000-0000-0000-0000-000000000000", ann);
    EXPECT_TRUE(gone.done);
    EXPECT_EQ(gone.unavailable, "");
    EXPECT_FALSE(gone.stamp) << "a chat that is not there";

    // Many at once on the one connection: each answer reaches the read that asked for it.
    std::vector<std::pair<std::string, std::string>> asked(60);
    for (std::size_t i = 0; i < asked.size(); ++i) asked[i] = {chats_[i % 3], users_[(i / 3) % 2]};
    std::vector<Outcome> outcomes(asked.size());
    for (std::size_t i = 0; i < asked.size(); ++i) start(asked[i].first, asked[i].second, outcomes[i]);
    run_until_done(outcomes);
    for (std::size_t i = 0; i < asked.size(); ++i) expect_same(outcomes[i], expected(asked[i].first, asked[i].second));
    EXPECT_EQ(backends(), "1") << "one connection for the thread, kept";
}

TEST_F(PageStampsTest, AChangeIsInTheNextStamp) {
    const auto before = read(chats_[1], users_[0]);
    send(chats_[1]);
    const auto after = read(chats_[1], users_[0]);
    ASSERT_TRUE(before.stamp && after.stamp);
    EXPECT_EQ(after.stamp->version, before.stamp->version + 1);
}

TEST_F(PageStampsTest, AConnectionBrokenUnderAReadFailsItAndTheNextReadConnectsAgain) {
    expect_same(read(chats_[2], users_[0]), expected(chats_[2], users_[0]));
    // Another session holds the chats table, so the next stamp waits in PostgreSQL, and its
    // backend is ended while it waits.
    pqxx::connection holder(database_->url());
    pqxx::work hold(holder);
    hold.exec("lock table chats in access exclusive mode");
    std::vector<Outcome> outcomes(1);
    start(chats_[2], users_[0], outcomes[0]);
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (value("select count(*) from pg_stat_activity where application_name = 'confab page stamps' and "
                 "wait_event_type = 'Lock'") != "1") {
        ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the stamp never waited for the lock";
        io_.poll();
    }
    EXPECT_FALSE(outcomes[0].done);
    value(
        "select count(pg_terminate_backend(pid)) from pg_stat_activity where application_name = 'confab page "
        "stamps'");
    run_until_done(outcomes);
    EXPECT_FALSE(outcomes[0].unavailable.empty()) << "the read its connection broke under fails, to be retried";
    EXPECT_FALSE(outcomes[0].stamp);
    hold.commit();

    expect_same(read(chats_[2], users_[0]), expected(chats_[2], users_[0]));
    EXPECT_EQ(backends(), "1") << "connected again";
}

}  // namespace
}  // namespace confab::store
