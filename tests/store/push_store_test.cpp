// The push derivation's reads against a real PostgreSQL (store/push.hpp): a chat's new
// messages are read only up to the last_seq read with its cursor, so a message committed
// after the derivation read whom the chat's messages mention waits for the next step
// instead of being judged without its mentions (and its push lost).

#include "confab/store/database.hpp"
#include "confab/store/push.hpp"
#include "fresh_database.hpp"
#include "in_transaction.hpp"
#include "support/server.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace confab::store {
namespace {

using test::TestDatabase;

class PushStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        CONFAB_REQUIRE_DATABASE();
        database_ = test::migrated_database();
        sender_ = test::add_user(*database_, "ann");
        chat_ = *database_->query_value("insert into chats (type, title) values ('group', 'g') returning id");
        database_->query_value("insert into chat_members (chat_id, user_id) values ('" + chat_ + "', '" + sender_ +
                               "') returning 1");
    }

    // A message with the chat's next seq, as a send writes it: the message and last_seq together.
    void send() {
        database_->query_value(
            "with c as (update chats set last_seq = last_seq + 1, version = version + 1 where id = '" + chat_ +
            "' returning last_seq, version) insert into messages (chat_id, sender_id, seq, version, type, content) "
            "select '" +
            chat_ + "', '" + sender_ + "', last_seq, version, 'text', 'hi' from c returning 1");
    }
    template <class Fn>
    auto in_tx(Fn fn) {
        return test::in_transaction(database_->url(), std::move(fn));
    }

    std::unique_ptr<TestDatabase> database_;
    std::string sender_, chat_;
};

TEST_F(PushStoreTest, NewMessagesStopAtTheLastSeqReadWithTheCursor) {
    send();
    send();
    const auto behind = in_tx([](Tx& tx) { return push::chats_behind(tx, 10, std::nullopt); });
    ASSERT_EQ(behind.size(), 1u);
    EXPECT_EQ(behind[0].cursor, 0);
    EXPECT_EQ(behind[0].last_seq, 2);
    send();  // committed after the chat was read: not this step's
    const auto news = in_tx([&](Tx& tx) { return push::messages_after(tx, behind, 10); });
    ASSERT_EQ(news.at(chat_).size(), 2u);
    EXPECT_EQ(news.at(chat_).front().seq, 1);
    EXPECT_EQ(news.at(chat_).back().seq, 2);

    // Asked of some chats, only those.
    const auto next = in_tx([&](Tx& tx) { return push::chats_behind(tx, 10, std::vector{chat_}); });
    ASSERT_EQ(next.size(), 1u);
    EXPECT_TRUE(in_tx([](Tx& tx) { return push::chats_behind(tx, 10, std::vector<std::string>{}); }).empty());
    EXPECT_EQ(next[0].last_seq, 3);
    auto from_two = next;
    from_two[0].cursor = 2;
    const auto later = in_tx([&](Tx& tx) { return push::messages_after(tx, from_two, 10); });
    ASSERT_EQ(later.at(chat_).size(), 1u);
    EXPECT_EQ(later.at(chat_).front().seq, 3);
}

}  // namespace
}  // namespace confab::store
