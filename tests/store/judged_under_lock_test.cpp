// Chat writes against a real PostgreSQL, judged again under the chat's row lock: the cached
// access a write is checked against before it is queued may be stale by the time it runs (the
// actor left, was removed or demoted, or the group was deleted, in a write queued ahead of
// it). Each test makes the cache stale on purpose by changing the rows behind its back, which
// is exactly the state such a queued write finds, and checks the write is refused and
// changes nothing.

#include "confab/domain/chat_service.hpp"
#include "confab/domain/member_service.hpp"
#include "confab/domain/message_service.hpp"
#include "confab/media/storage.hpp"
#include "confab/store/database.hpp"
#include "fresh_database.hpp"
#include "support/server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace confab::domain {
namespace {

using test::TestDatabase;

class NoEvents : public EventSink {
public:
    void publish(const Event&, const std::vector<std::string>&, const std::optional<AfterMessage>&) override {}
};

class JudgedUnderLockTest : public ::testing::Test {
protected:
    void SetUp() override {
        CONFAB_REQUIRE_DATABASE();
        database_ = test::migrated_database();
        pool_ = std::make_unique<store::Pool>(database_->url(), 2, std::chrono::seconds(5), store::prepare_statements);
        analytics_ = std::make_unique<Analytics>(database_->url(), 1000);
        writes_ = std::make_unique<ChatWrites>(*pool_, cache_, events_, *analytics_);
        media_dir_ = std::filesystem::temp_directory_path() / ("confab-judged-" + database_->name());
        storage_ = std::make_unique<media::LocalStorage>(media_dir_);
        chats_ = std::make_unique<ChatService>(*writes_, *storage_, limits_);
        members_ = std::make_unique<MemberService>(*writes_, *storage_, limits_);
        page_stamps_ = std::make_unique<store::PageStamps>(database_->url(), *pool_);
        messages_ = std::make_unique<MessageService>(*writes_, *storage_, limits_, *page_stamps_);
        for (const char* name : {"ann", "bob", "cid"}) users_[name] = test::add_user(*database_, name);
    }

    void TearDown() override {
        if (analytics_) analytics_->stop();
        if (pool_) pool_->stop();
        std::error_code ignored;
        if (!media_dir_.empty()) std::filesystem::remove_all(media_dir_, ignored);
    }

    std::string value(const std::string& sql) { return database_->query_value(sql).value_or(""); }
    std::string id(const char* name) { return users_.at(name); }

    // Runs the coroutine to its end; its Error's code, or nullopt when it succeeded.
    template <class Make>
    std::optional<ErrorCode> refusal(Make make) {
        auto done = boost::asio::co_spawn(
            io_, [&]() -> boost::asio::awaitable<void> { co_await make(); }, boost::asio::use_future);
        io_.restart();
        io_.run();
        try {
            done.get();
            return std::nullopt;
        } catch (const Error& error) {
            return error.code();
        }
    }

    template <class Make>
    auto result_of(Make make) {
        using T = typename decltype(make())::value_type;
        std::optional<T> out;
        auto done = boost::asio::co_spawn(
            io_, [&]() -> boost::asio::awaitable<void> { out = co_await make(); }, boost::asio::use_future);
        io_.restart();
        io_.run();
        done.get();
        return std::move(*out);
    }

    // A group of ann (owner), bob and cid, created through the service: cached as such.
    std::string group() {
        NewGroup group;
        group.title = "team";
        group.member_ids = {id("bob"), id("cid")};
        return result_of([&] { return chats_->create_group(id("ann"), group); }).chat.id;
    }

    std::string post(const std::string& chat, const char* sender, const std::string& content) {
        SendMessage m;
        m.chat_id = chat;
        m.sender_id = id(sender);
        m.content = content;
        return result_of([&] { return messages_->send(m); }).message.id;
    }

    // Changes the rows without the cache knowing, as a write queued ahead would have.
    void behind_the_cache(const std::string& sql) { value(sql); }
    void leaves(const std::string& chat, const char* user) {
        behind_the_cache("delete from chat_members where chat_id = '" + chat + "' and user_id = '" + id(user) + "'");
    }
    void demote(const std::string& chat, const char* user) {
        behind_the_cache("update chat_members set role = 'member' where chat_id = '" + chat + "' and user_id = '" +
                         id(user) + "'");
    }
    bool is_member(const std::string& chat, const char* user) {
        return value("select count(*) from chat_members where chat_id = '" + chat + "' and user_id = '" + id(user) +
                     "'") == "1";
    }
    std::string member_count(const std::string& chat) {
        return value("select count(*) from chat_members where chat_id = '" + chat + "'");
    }

    std::unique_ptr<TestDatabase> database_;
    std::unique_ptr<store::Pool> pool_;
    std::unique_ptr<Analytics> analytics_;
    AccessCache cache_;
    NoEvents events_;
    config::Limits limits_;
    std::unique_ptr<ChatWrites> writes_;
    std::unique_ptr<ChatService> chats_;
    std::unique_ptr<MemberService> members_;
    std::filesystem::path media_dir_;
    std::unique_ptr<media::Storage> storage_;
    std::unique_ptr<store::PageStamps> page_stamps_;
    std::unique_ptr<MessageService> messages_;
    boost::asio::io_context io_;
    std::map<std::string, std::string> users_;
};

TEST_F(JudgedUnderLockTest, AnAddQueuedBehindTheActorsLeavingIsRefused) {
    const auto chat = group();
    leaves(chat, "bob");
    const auto dan = value(
        "insert into users (username, display_name, password_hash) values ('dan', 'dan', 'x') "
        "returning id");
    EXPECT_EQ(refusal([&] { return members_->add_members(id("bob"), chat, {dan}); }), ErrorCode::not_found);
    EXPECT_EQ(member_count(chat), "2");
}

TEST_F(JudgedUnderLockTest, AnAddQueuedBehindOnlyAdminsMayAddIsRefused) {
    const auto chat = group();
    behind_the_cache("update chats set only_admins_can_add_members = true where id = '" + chat + "'");
    leaves(chat, "cid");
    EXPECT_EQ(refusal([&] { return members_->add_members(id("bob"), chat, {id("cid")}); }), ErrorCode::forbidden);
    EXPECT_FALSE(is_member(chat, "cid"));
}

TEST_F(JudgedUnderLockTest, ChatWritesOfAFormerMemberAreRefused) {
    const auto chat = group();
    leaves(chat, "ann");  // the owner, cached as such
    ChatUpdate rename;
    rename.title = "taken over";
    EXPECT_EQ(refusal([&] { return chats_->update(id("ann"), chat, rename); }), ErrorCode::not_found);
    EXPECT_EQ(refusal([&] { return members_->remove_member(id("ann"), chat, id("bob")); }), ErrorCode::not_found);
    MemberUpdate promote;
    promote.role = Role::admin;
    EXPECT_EQ(refusal([&] { return members_->update_member(id("ann"), chat, id("bob"), promote); }),
              ErrorCode::not_found);
    EXPECT_EQ(refusal([&] { return chats_->remove(id("ann"), chat); }), ErrorCode::not_found);
    EXPECT_EQ(value("select title from chats where id = '" + chat + "'"), "team");
    EXPECT_TRUE(is_member(chat, "bob"));
}

TEST_F(JudgedUnderLockTest, ADemotedOwnerCanNoLongerDeleteOrReconfigureTheGroup) {
    const auto chat = group();
    demote(chat, "ann");
    EXPECT_EQ(refusal([&] { return chats_->remove(id("ann"), chat); }), ErrorCode::forbidden);
    ChatUpdate lock_down;
    lock_down.settings.only_admins_can_post = true;
    EXPECT_EQ(refusal([&] { return chats_->update(id("ann"), chat, lock_down); }), ErrorCode::forbidden);
    EXPECT_EQ(value("select only_admins_can_post from chats where id = '" + chat + "'"), "f");
    EXPECT_EQ(member_count(chat), "3");
}

TEST_F(JudgedUnderLockTest, SettingsLeftOutKeepTheirValueAsOfTheLock) {
    const auto chat = group();
    behind_the_cache("update chats set only_admins_can_post = true where id = '" + chat + "'");
    ChatUpdate open_adding;
    open_adding.settings.only_admins_can_add_members = true;
    refusal([&] { return chats_->update(id("ann"), chat, open_adding); });
    EXPECT_EQ(value("select only_admins_can_post from chats where id = '" + chat + "'"), "t");
}

TEST_F(JudgedUnderLockTest, WritesToAGroupDeletedMeanwhileAreNotFound) {
    const auto chat = group();
    behind_the_cache("delete from chats where id = '" + chat + "'");
    ChatUpdate rename;
    rename.title = "ghost";
    MemberUpdate promote;
    promote.role = Role::admin;
    EXPECT_EQ(refusal([&] { return chats_->update(id("ann"), chat, rename); }), ErrorCode::not_found);
    EXPECT_EQ(refusal([&] { return members_->add_members(id("ann"), chat, {id("bob")}); }), ErrorCode::not_found);
    EXPECT_EQ(refusal([&] { return members_->update_member(id("ann"), chat, id("bob"), promote); }),
              ErrorCode::not_found);
    EXPECT_EQ(refusal([&] { return members_->remove_member(id("ann"), chat, id("bob")); }), ErrorCode::not_found);
    EXPECT_EQ(refusal([&] { return chats_->remove(id("ann"), chat); }), ErrorCode::not_found);
}

TEST_F(JudgedUnderLockTest, MessageWritesOfAFormerMemberAreRefused) {
    const auto chat = group();
    const auto own = post(chat, "bob", "mine");
    const auto other = post(chat, "cid", "theirs");
    leaves(chat, "bob");
    EXPECT_EQ(refusal([&] { return messages_->edit(id("bob"), own, "rewritten", {}); }), ErrorCode::not_found);
    EXPECT_EQ(refusal([&] { return messages_->remove(id("bob"), own); }), ErrorCode::not_found);
    EXPECT_EQ(refusal([&] { return messages_->react(id("bob"), other, "👍", true); }), ErrorCode::not_found);
    EXPECT_EQ(value("select content from messages where id = '" + own + "'"), "mine");
    EXPECT_EQ(value("select count(*) from reactions where message_id = '" + other + "'"), "0");
}

TEST_F(JudgedUnderLockTest, ADemotedAdminCanNoLongerDeleteOthersMessages) {
    const auto chat = group();
    const auto theirs = post(chat, "cid", "theirs");
    demote(chat, "ann");
    EXPECT_EQ(refusal([&] { return messages_->remove(id("ann"), theirs); }), ErrorCode::forbidden);
    EXPECT_EQ(value("select not is_deleted from messages where id = '" + theirs + "'"), "t");
}

}  // namespace
}  // namespace confab::domain
