// Seats in calls across a cluster against a real PostgreSQL (store/calls.hpp): one call per user,
// and a leave that is freed after its user entered the call again leaves the seat alone.

#include "confab/store/calls.hpp"
#include "confab/store/database.hpp"
#include "fresh_database.hpp"
#include "in_transaction.hpp"
#include "support/server.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace confab::store {
namespace {

using calls::Seat;
using test::TestDatabase;

class CallSeatsTest : public ::testing::Test {
protected:
    template <class Fn>
    auto in_tx(Fn fn) {
        return test::in_transaction(database_->url(), std::move(fn));
    }
    void SetUp() override {
        CONFAB_REQUIRE_DATABASE();
        database_ = test::migrated_database();
        for (const char* name : {"ann", "bob"}) users_[name] = test::add_user(*database_, name);
        call_id_ = start("ann", {users_["bob"]});
    }

    // A new group call in a new chat by `caller`; its id.
    std::string start(const std::string& caller, const std::vector<std::string>& callees) {
        const calls::NewCall call{value("select gen_random_uuid()"),
                                  value("select gen_random_uuid()"),
                                  "voice",
                                  true,
                                  users_[caller],
                                  std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now())};
        in_tx([&](Tx& tx) { return calls::claim(tx, call, "process-1", callees).result; });
        return call.call_id;
    }

    std::string value(const std::string& sql) { return database_->query_value(sql).value_or(""); }
    std::pair<Seat, std::int64_t> take(const std::string& user) {
        const auto seating = in_tx([&](Tx& tx) { return calls::take_seat(tx, users_[user], call_id_); });
        return {seating.seat, seating.entries};
    }
    void free(const std::string& user, std::int64_t entries) {
        in_tx([&](Tx& tx) {
            calls::free_seat(tx, users_[user], call_id_, entries);
            return true;
        });
    }
    bool seated(const std::string& user) {
        return value("select count(*) from call_participants where user_id = '" + users_[user] + "'") == "1";
    }

    std::unique_ptr<TestDatabase> database_;
    std::map<std::string, std::string> users_;
    std::string call_id_;
};

TEST_F(CallSeatsTest, EachEntryOnTheSameSeatCounts) {
    EXPECT_EQ(take("bob"), std::pair(Seat::taken, std::int64_t{1}));
    EXPECT_EQ(take("bob"), std::pair(Seat::already_in_this_call, std::int64_t{2}));
    EXPECT_EQ(take("ann"), std::pair(Seat::already_in_this_call, std::int64_t{2})) << "the caller's claim was one";
}

TEST_F(CallSeatsTest, ALeaveFreedAfterItsUserEnteredAgainLeavesTheSeat) {
    take("bob");
    take("bob");  // left, and joined again before the leave was freed
    free("bob", 1);
    EXPECT_TRUE(seated("bob")) << "the seat of the second entry went with the first leave";
    free("bob", 2);
    EXPECT_FALSE(seated("bob"));
    EXPECT_EQ(take("bob"), std::pair(Seat::taken, std::int64_t{1})) << "a fresh seat counts from one";
}

TEST_F(CallSeatsTest, AUserInOneCallIsRefusedAnother) {
    const auto other = start("bob", {});
    EXPECT_EQ(take("ann").first, Seat::already_in_this_call);
    EXPECT_EQ(in_tx([&](Tx& tx) { return calls::take_seat(tx, users_["ann"], other).seat; }), Seat::in_another_call);
    EXPECT_EQ(in_tx(
                  [&](Tx& tx) { return calls::take_seat(tx, users_["ann"], value("select gen_random_uuid()")).seat; }),
              Seat::in_another_call)
        << "ann is in a call, whether or not this one exists";
}

}  // namespace
}  // namespace confab::store
