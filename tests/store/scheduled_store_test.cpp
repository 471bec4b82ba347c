// Scheduled messages against a real PostgreSQL: an edit or a cancellation and the claim that
// posts a due message never both win. The claim reads the message it posts, so an edit or a
// cancellation after it would be one the post does not keep: it is refused while the claim
// holds, and allowed again once the claim lapses (its node died) or is given back for a wait.

#include "confab/store/database.hpp"
#include "confab/store/scheduled.hpp"
#include "fresh_database.hpp"
#include "in_transaction.hpp"
#include "support/server.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace confab::store {
namespace {

using test::in_transaction;
using test::TestDatabase;
using namespace std::chrono_literals;

class ScheduledStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        CONFAB_REQUIRE_DATABASE();
        database_ = test::migrated_database();
        author_ = test::add_user(*database_, "ann");
        chat_ = value("insert into chats (type, title) values ('group', 'g') returning id");
        value("insert into chat_members (chat_id, user_id) values ('" + chat_ + "', '" + author_ + "') returning 1");
        // Due a second ago.
        id_ = value("insert into scheduled_messages (chat_id, sender_id, send_at, type, content) values ('" + chat_ +
                    "', '" + author_ + "', now() - interval '1 second', 'text', 'as scheduled') returning id");
    }

    std::string value(const std::string& sql) { return database_->query_value(sql).value_or(""); }

    // A moment `from_now` away, at the milliseconds a send_at keeps.
    static model::Timestamp at(std::chrono::milliseconds from_now) {
        return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now() + from_now);
    }

    std::vector<model::ScheduledMessage> claim() {
        return in_transaction(database_->url(),
                              [](Tx& tx) { return scheduled::claim_due(tx, 10, std::chrono::seconds(10)); });
    }

    std::optional<model::ScheduledMessage> edit(const std::string& content,
                                                std::optional<model::Timestamp> send_at = std::nullopt) {
        return in_transaction(database_->url(), [&](Tx& tx) {
            return scheduled::update(tx, id_, {send_at, content, std::nullopt, std::nullopt});
        });
    }

    bool cancel() {
        return in_transaction(database_->url(), [&](Tx& tx) { return scheduled::remove(tx, id_); });
    }

    std::unique_ptr<TestDatabase> database_;
    std::string author_, chat_, id_;
};

TEST_F(ScheduledStoreTest, AnEditBeforeTheClaimIsWhatThePostReads) {
    ASSERT_TRUE(edit("edited"));
    const auto claimed = claim();
    ASSERT_EQ(claimed.size(), 1U);
    EXPECT_EQ(claimed[0].content, "edited");
}

TEST_F(ScheduledStoreTest, AnEditOrCancellationAfterTheClaimIsRefused) {
    const auto claimed = claim();
    ASSERT_EQ(claimed.size(), 1U);
    EXPECT_EQ(claimed[0].content, "as scheduled");
    EXPECT_FALSE(edit("edited")) << "the post carries what the claim read";
    EXPECT_FALSE(edit("later", at(std::chrono::hours(24))));
    EXPECT_FALSE(cancel()) << "the post happens";
    EXPECT_EQ(value("select content from scheduled_messages where id = '" + id_ + "'"), "as scheduled");
    const auto sent = in_transaction(database_->url(), [&](Tx& tx) {
        return scheduled::mark_sent(tx, id_, "00000000-0000-0000-0000-000000000001");
    });
    ASSERT_TRUE(sent);
    EXPECT_EQ(sent->content, "as scheduled");
    EXPECT_FALSE(edit("edited")) << "sent";
}

TEST_F(ScheduledStoreTest, AClaimWhoseLeaseLapsedHoldsNothing) {
    ASSERT_EQ(claim().size(), 1U);
    value("update scheduled_messages set claimed_until = now() - interval '1 millisecond' returning 1");
    const auto edited = edit("edited");
    ASSERT_TRUE(edited) << "its node died: the author may edit it again";
    const auto claimed = claim();
    ASSERT_EQ(claimed.size(), 1U);
    EXPECT_EQ(claimed[0].content, "edited");
}

TEST_F(ScheduledStoreTest, AWaitGivesTheClaimBackAndKeepsItFromTheNextClaim) {
    ASSERT_EQ(claim().size(), 1U);
    in_transaction(database_->url(), [&](Tx& tx) {
        scheduled::retry_after(tx, id_, std::chrono::hours(1));
        return true;
    });
    EXPECT_TRUE(claim().empty()) << "not before the wait is over";
    ASSERT_TRUE(edit("edited during the wait"));
    EXPECT_TRUE(claim().empty()) << "new content keeps the wait";
    // A new send_at (here, as the store takes any, one already past) replaces the wait.
    ASSERT_TRUE(edit("rescheduled", at(-std::chrono::seconds(1))));
    const auto claimed = claim();
    ASSERT_EQ(claimed.size(), 1U);
    EXPECT_EQ(claimed[0].content, "rescheduled");
    EXPECT_FALSE(cancel());
}

TEST_F(ScheduledStoreTest, AFinishedClaimCannotBeCancelled) {
    ASSERT_EQ(claim().size(), 1U);
    ASSERT_TRUE(in_transaction(database_->url(), [&](Tx& tx) {
        return scheduled::mark_cancelled(tx, id_, "forbidden", "only admins may post");
    }));
    EXPECT_FALSE(cancel());
    EXPECT_FALSE(edit("edited"));
}

}  // namespace
}  // namespace confab::store
