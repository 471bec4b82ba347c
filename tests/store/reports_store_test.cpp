// Reports against a real PostgreSQL: a report keeps evidence of the message as it was, and the
// evidence names the author only while the author's account exists, even when the report and
// the account's deletion commit at the same moment.

#include "confab/store/accounts.hpp"
#include "confab/store/database.hpp"
#include "confab/store/reports.hpp"
#include "fresh_database.hpp"
#include "support/server.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace confab::store {
namespace {

using test::TestDatabase;
using namespace std::chrono_literals;

class ReportsStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        CONFAB_REQUIRE_DATABASE();
        database_ = test::migrated_database();
        author_ = test::add_user(*database_, "ann");
        reporter_ = test::add_user(*database_, "bob");
        chat_ = value("insert into chats (type, title) values ('group', 'g') returning id");
        value("insert into chat_members (chat_id, user_id) values ('" + chat_ + "', '" + author_ + "'), ('" + chat_ +
              "', '" + reporter_ + "') returning 1");
        message_ = value("with c as (update chats set last_seq = 1, version = 1 where id = '" + chat_ +
                         "' returning 1) insert into messages (chat_id, sender_id, seq, version, type, content) "
                         "select '" +
                         chat_ + "', '" + author_ + "', 1, 1, 'text', 'offending' from c returning id");
    }

    std::string value(const std::string& sql) { return database_->query_value(sql).value_or(""); }

    std::optional<model::Report> report() {
        std::optional<model::Report> stored;
        run_alone(database_->url(), [&](Tx& tx) {
            stored = reports::insert(tx, {chat_, message_, reporter_, model::ReportReason::spam, std::nullopt});
        });
        return stored;
    }

    // Whether another session waits for a row lock within `patience`.
    bool someone_waits_for_a_lock(std::chrono::milliseconds patience) {
        const auto deadline = std::chrono::steady_clock::now() + patience;
        while (std::chrono::steady_clock::now() < deadline) {
            if (value("select count(*) from pg_locks where not granted") != "0") return true;
            std::this_thread::sleep_for(5ms);
        }
        return false;
    }

    std::unique_ptr<TestDatabase> database_;
    std::string author_, reporter_, chat_, message_;
};

TEST_F(ReportsStoreTest, TheEvidenceNamesTheAuthorWhileTheirAccountExists) {
    const auto stored = report();
    ASSERT_TRUE(stored);
    ASSERT_TRUE(stored->reported_message);
    EXPECT_EQ(stored->reported_message->sender_id, author_);
    EXPECT_EQ(stored->reported_message->content, "offending");
    EXPECT_FALSE(report()) << "one open report per message and reporter";
}

TEST_F(ReportsStoreTest, AReportCommittingAsTheAuthorsAccountIsDeletedNamesNobody) {
    std::promise<void> tombstoned;
    auto deletion = std::async(std::launch::async, [&] {
        bool report_waited = false;
        run_alone(database_->url(), [&](Tx& tx) {
            accounts::remove_user(tx, author_);
            tombstoned.set_value();
            // Commit only once the report waits on the author's row (or it plainly does not).
            report_waited = someone_waits_for_a_lock(5s);
        });
        return report_waited;
    });
    tombstoned.get_future().wait();
    const auto stored = report();
    EXPECT_TRUE(deletion.get()) << "the report waits for the deletion to commit";
    ASSERT_TRUE(stored && stored->reported_message);
    EXPECT_EQ(stored->reported_message->sender_id, std::nullopt)
        << "the report read the author before the deletion committed, and kept their id";
    EXPECT_EQ(value("select count(*) from message_reports where reported_sender_id is not null"), "0");
}

}  // namespace
}  // namespace confab::store
