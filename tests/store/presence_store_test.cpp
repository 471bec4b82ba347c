// Presence across processes against a real PostgreSQL (store/presence.hpp): a user is online
// while any process holds a connection, and a silent process's users go offline when the
// sweep finds them held nowhere else.

#include "confab/store/database.hpp"
#include "confab/store/presence.hpp"
#include "fresh_database.hpp"
#include "in_transaction.hpp"
#include "support/api.hpp"
#include "support/server.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace confab::store {
namespace {

using test::TestDatabase;
using namespace std::chrono_literals;

class PresenceStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        CONFAB_REQUIRE_DATABASE();
        database_ = test::migrated_database();
        for (const char* name : {"ann", "bob"}) users_.push_back(test::add_user(*database_, name));
    }

    // "was,is": whether the user was and is online anywhere around the record.
    std::string held(const std::string& user, const std::string& process, bool is_held) {
        presence::Change change;
        run_alone(database_->url(),
                  [&](Tx& tx) { change = presence::set_held(tx, user, process, [is_held] { return is_held; }); });
        return std::to_string(change.was_online) + "," + std::to_string(change.is_online);
    }
    template <class Fn>
    auto in_tx(Fn fn) {
        return test::in_transaction(database_->url(), std::move(fn));
    }

    std::unique_ptr<TestDatabase> database_;
    std::vector<std::string> users_;
};

TEST_F(PresenceStoreTest, TheFirstHoldAnywhereMakesAUserOnlineAndTheLastReleaseAnywhereOffline) {
    const auto ann = users_[0];
    EXPECT_EQ(held(ann, "p1", true), "0,1");
    EXPECT_EQ(held(ann, "p2", true), "1,1") << "already online through p1";
    EXPECT_EQ(held(ann, "p1", true), "1,1") << "recording a hold twice changes nothing";
    EXPECT_EQ(held(ann, "p1", false), "1,1") << "p2 still holds one";
    EXPECT_EQ(held(ann, "p2", false), "1,0");
    EXPECT_EQ(held(ann, "p2", false), "0,0") << "releasing twice changes nothing";
}

TEST_F(PresenceStoreTest, ASilentProcessIsSweptAndItsUsersGoOfflineUnlessHeldElsewhere) {
    const auto ann = users_[0], bob = users_[1];
    EXPECT_FALSE(in_tx([](Tx& tx) { return presence::heartbeat(tx, "p1"); })) << "a first heartbeat registers";
    EXPECT_TRUE(in_tx([](Tx& tx) { return presence::heartbeat(tx, "p1"); }));
    in_tx([](Tx& tx) { return presence::heartbeat(tx, "p2"); });
    held(ann, "p1", true);
    held(bob, "p1", true);
    held(bob, "p2", true);
    EXPECT_TRUE(in_tx([](Tx& tx) { return presence::sweep(tx, 60s); }).offline.empty()) << "nobody is silent yet";

    database_->query_value("update presence_processes set seen_at = now() - interval '1 hour' where process_id = 'p1'");
    EXPECT_EQ(in_tx([](Tx& tx) { return presence::sweep(tx, 60s); }).offline, std::vector<std::string>{ann})
        << "bob is still held by p2";
    EXPECT_FALSE(in_tx([&](Tx& tx) { return presence::online(tx, ann); }));
    EXPECT_TRUE(in_tx([&](Tx& tx) { return presence::online(tx, bob); }));
    EXPECT_TRUE(in_tx([](Tx& tx) { return presence::sweep(tx, 60s); }).offline.empty()) << "swept once";
    EXPECT_FALSE(in_tx([](Tx& tx) { return presence::heartbeat(tx, "p1"); }))
        << "the swept process learns it was swept, to write its users again";
}

TEST_F(PresenceStoreTest, ASilentProcessesTypistsAreStoppedUnlessAnotherProcessShowsThemTyping) {
    const auto ann = users_[0], bob = users_[1];
    const auto chat = test::random_uuid(), other_chat = test::random_uuid();
    for (const char* process : {"p1", "p2"}) in_tx([process](Tx& tx) { return presence::heartbeat(tx, process); });
    in_tx([&](Tx& tx) {
        presence::typing_started(tx, "p1", {chat, ann});
        presence::typing_started(tx, "p1", {chat, bob});
        presence::typing_started(tx, "p1", {other_chat, ann});
        presence::typing_started(tx, "p2", {chat, bob});
        return 0;
    });
    // p1 stopped ann in the other chat: its next heartbeat forgets her there.
    in_tx([&](Tx& tx) {
        presence::typing_now(tx, "p1", {{chat, ann}, {chat, bob}});
        return 0;
    });
    EXPECT_TRUE(in_tx([](Tx& tx) { return presence::sweep(tx, 60s); }).stopped.empty()) << "nobody is silent yet";

    database_->query_value("update presence_processes set seen_at = now() - interval '1 hour' where process_id = 'p1'");
    const std::vector<presence::Typist> only_ann_in_the_chat{{chat, ann}};
    EXPECT_EQ(in_tx([](Tx& tx) { return presence::sweep(tx, 60s); }).stopped, only_ann_in_the_chat)
        << "bob still types in the chat through p2, and ann stopped in the other chat";
    EXPECT_TRUE(in_tx([](Tx& tx) { return presence::sweep(tx, 60s); }).stopped.empty()) << "swept once";

    // p1 comes back from a pause: its heartbeat records again whom it still shows.
    in_tx([](Tx& tx) { return presence::heartbeat(tx, "p1"); });
    in_tx([&](Tx& tx) {
        presence::typing_now(tx, "p1", {{chat, ann}});
        return 0;
    });
    EXPECT_EQ(database_->query_value("select count(*) from presence_typists where process_id = 'p1'"), "1");
}

}  // namespace
}  // namespace confab::store
