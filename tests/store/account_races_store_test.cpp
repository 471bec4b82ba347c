// The end of an account or of its sessions against a real PostgreSQL, each interleaving forced:
// one transaction holds its work uncommitted until the other waits on the user's row. A token
// issued as the account is deleted, deactivated or given a new password is either refused or
// revoked with the others; a membership written as the account is deleted is refused
// (migrations/0044_deleted_account_guard.sql).

#include "confab/model/error.hpp"
#include "confab/store/accounts.hpp"
#include "confab/store/chats.hpp"
#include "confab/store/database.hpp"
#include "confab/store/users.hpp"
#include "fresh_database.hpp"
#include "support/server.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace confab::store {
namespace {

using test::TestDatabase;
using namespace std::chrono_literals;

class AccountRacesStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        CONFAB_REQUIRE_DATABASE();
        database_ = test::migrated_database();
        user_ = test::add_user(*database_, "ann");
        chat_ = value("insert into chats (type, title) values ('group', 'g') returning id");
    }

    std::string value(const std::string& sql) { return database_->query_value(sql).value_or(""); }

    // Whether another session waits for a lock within `patience`.
    bool someone_waits_for_a_lock(std::chrono::milliseconds patience) {
        const auto deadline = std::chrono::steady_clock::now() + patience;
        while (std::chrono::steady_clock::now() < deadline) {
            if (value("select count(*) from pg_locks where not granted") != "0") return true;
            std::this_thread::sleep_for(5ms);
        }
        return false;
    }

    // Runs `first` in a transaction that commits only once `second`, run meanwhile in one of its
    // own, waits for a lock; whether it did.
    bool first_then_waiting(const std::function<void(Tx&)>& first, const std::function<void()>& second) {
        std::promise<void> done;
        auto holder = std::async(std::launch::async, [&] {
            bool waited = false;
            run_alone(database_->url(), [&](Tx& tx) {
                first(tx);
                done.set_value();
                waited = someone_waits_for_a_lock(5s);
            });
            return waited;
        });
        done.get_future().wait();
        second();
        return holder.get();
    }

    tokens::Issue issue(const std::string& token_hash, std::optional<std::string> password_hash = std::nullopt) {
        auto issued = tokens::Issue::stale;
        run_alone(database_->url(), [&](Tx& tx) {
            issued = tokens::insert(tx, {token_hash, user_, std::chrono::hours(1), std::nullopt, "test",
                                         std::move(password_hash)});
        });
        return issued;
    }

    std::string tokens_stored() { return value("select count(*) from auth_tokens where revoked_at is null"); }

    std::unique_ptr<TestDatabase> database_;
    std::string user_, chat_;
};

TEST_F(AccountRacesStoreTest, ATokenIssuedAsTheAccountIsDeletedWaitsAndIsRefused) {
    std::optional<tokens::Issue> issued;
    EXPECT_TRUE(
        first_then_waiting([&](Tx& tx) { accounts::begin_deletion(tx, user_); }, [&] { issued = issue("t1"); }));
    EXPECT_EQ(issued, tokens::Issue::stale);
    EXPECT_EQ(tokens_stored(), "0");
}

TEST_F(AccountRacesStoreTest, ATokenIssuedBeforeTheDeletionCommitsIsRemovedWithTheOthers) {
    EXPECT_TRUE(first_then_waiting(
        [&](Tx& tx) {
            EXPECT_EQ(tokens::insert(tx, {"t1", user_, std::chrono::hours(1), std::nullopt, "test", std::nullopt}),
                      tokens::Issue::issued);
        },
        [&] { run_alone(database_->url(), [&](Tx& tx) { accounts::begin_deletion(tx, user_); }); }));
    EXPECT_EQ(tokens_stored(), "0");
    EXPECT_EQ(issue("t2"), tokens::Issue::stale) << "a deleted account signs in no more";
}

TEST_F(AccountRacesStoreTest, ATokenOfTheOldPasswordWaitsForTheChangeAndIsRefused) {
    std::optional<tokens::Issue> issued;
    EXPECT_TRUE(first_then_waiting(
        [&](Tx& tx) {
            users::set_password_hash(tx, user_, "y");
            tokens::revoke_all(tx, user_, "");
        },
        [&] { issued = issue("t1", "x"); }));
    EXPECT_EQ(issued, tokens::Issue::stale);
    EXPECT_EQ(issue("t2", "y"), tokens::Issue::issued) << "the new password signs in";
    EXPECT_EQ(tokens_stored(), "1");
}

TEST_F(AccountRacesStoreTest, ATokenIssuedBeforeARevocationCommitsIsRevokedByIt) {
    EXPECT_TRUE(first_then_waiting(
        [&](Tx& tx) {
            EXPECT_EQ(tokens::insert(tx, {"t1", user_, std::chrono::hours(1), std::nullopt, "test", "x"}),
                      tokens::Issue::issued);
        },
        [&] { run_alone(database_->url(), [&](Tx& tx) { tokens::revoke_all(tx, user_, ""); }); }));
    EXPECT_EQ(tokens_stored(), "0");
}

TEST_F(AccountRacesStoreTest, ATokenIssuedAsTheAccountIsDeactivatedWaitsAndIsRefused) {
    std::optional<tokens::Issue> issued;
    EXPECT_TRUE(
        first_then_waiting([&](Tx& tx) { users::set_deactivated(tx, user_, true); }, [&] { issued = issue("t1"); }));
    EXPECT_EQ(issued, tokens::Issue::deactivated);
    EXPECT_EQ(tokens_stored(), "0");
}

TEST_F(AccountRacesStoreTest, AMembershipWrittenAsTheAccountIsDeletedWaitsAndIsRefused) {
    std::optional<model::ErrorCode> refused;
    EXPECT_TRUE(first_then_waiting([&](Tx& tx) { accounts::begin_deletion(tx, user_); },
                                   [&] {
                                       try {
                                           run_alone(database_->url(), [&](Tx& tx) {
                                               members::insert(tx, chat_, user_, model::Role::member);
                                           });
                                       } catch (const model::Error& error) {
                                           refused = error.code();
                                       }
                                   }));
    EXPECT_EQ(refused, model::ErrorCode::not_found);
    EXPECT_EQ(value("select count(*) from chat_members"), "0");
}

TEST_F(AccountRacesStoreTest, AMembershipWrittenBeforeTheDeletionCommitsIsSeenAfterIt) {
    EXPECT_TRUE(
        first_then_waiting([&](Tx& tx) { members::insert(tx, chat_, user_, model::Role::member); },
                           [&] { run_alone(database_->url(), [&](Tx& tx) { accounts::begin_deletion(tx, user_); }); }));
    // The deletion's later steps read after its first commits: the membership is there to leave.
    std::vector<std::string> shared;
    run_alone(database_->url(), [&](Tx& tx) { shared = accounts::shared_chats_of(tx, user_); });
    EXPECT_EQ(shared, std::vector<std::string>{chat_});
}

}  // namespace
}  // namespace confab::store
