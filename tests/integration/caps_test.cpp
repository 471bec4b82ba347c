// docs/api.md, Conventions ("Caps"): what a member may keep pending in a chat, what a chat may
// have in use, and what a user may own, so that one account cannot fill the database at the
// pace the rate limits allow. One more is 409 naming the cap; concurrent creations never pass it.

#include "support/chat_api.hpp"
#include "support/fixture.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <thread>
#include <vector>

namespace confab::test {
namespace {

using CapsTest = OwnServerSuite<unlimited>;

::testing::AssertionResult IsCapReached(const HttpResponse& r, const std::string& reason, int limit) {
    if (!IsError(r, 409, "conflict")) return ::testing::AssertionFailure() << r.describe();
    const auto details = r.json()["error"].value("details", json::object());
    if (details.value("reason", "") != reason || details.value("limit", 0) != limit)
        return ::testing::AssertionFailure() << "details " << details.dump() << " for " << reason;
    return ::testing::AssertionSuccess();
}

// `make(i)` `count` times from as many threads at once: how many were 201, each other answer
// being the cap's refusal.
int made_concurrently(int count, const std::function<HttpResponse(int)>& make, const std::string& reason, int limit) {
    std::atomic<int> made{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < count; ++i)
        threads.emplace_back([&, i] {
            const auto r = make(i);
            if (r.status == 201) {
                ++made;
            } else {
                EXPECT_TRUE(IsCapReached(r, reason, limit));
            }
        });
    for (auto& thread : threads) thread.join();
    return made;
}

TEST_F(CapsTest, AMemberKeepsAtMost100PendingScheduledMessagesInAChat) {
    auto owner = register_user(port(), "cs");
    const std::string chat = create_group(port(), owner)["id"];
    const std::string other = create_group(port(), owner)["id"];
    const auto schedule = [&](const std::string& in, const std::string& client_id) {
        return post(port(), owner.token, chat_url(in) + "/scheduled-messages",
                    {{"type", "text"},
                     {"content", "later"},
                     {"client_id", client_id},
                     {"send_at", timestamp_from_now(std::chrono::hours(24))}});
    };
    std::string first_id;
    for (int i = 0; i < 94; ++i) {
        const auto r = schedule(chat, "s" + std::to_string(i));
        ASSERT_EQ(r.status, 201) << i << ": " << r.describe();
        if (i == 0) first_id = r.json()["id"];
    }
    EXPECT_EQ(made_concurrently(
                  10, [&](int i) { return schedule(chat, "c" + std::to_string(i)); }, "too_many_scheduled", 100),
              6);
    EXPECT_TRUE(IsCapReached(schedule(chat, "over"), "too_many_scheduled", 100));
    EXPECT_EQ(schedule(chat, "s1").status, 200) << "a repeated client_id still answers what it scheduled";
    EXPECT_EQ(schedule(other, "elsewhere").status, 201) << "the cap is per chat";

    ASSERT_EQ(del(port(), owner.token, "/api/v1/scheduled-messages/" + first_id).status, 204);
    EXPECT_EQ(schedule(chat, "after-cancel").status, 201) << "a cancelled one makes room";
    EXPECT_TRUE(IsCapReached(schedule(chat, "over-again"), "too_many_scheduled", 100));
}

TEST_F(CapsTest, AChatHasAtMost100InviteLinksInUse) {
    auto owner = register_user(port(), "ci");
    const std::string chat = create_group(port(), owner)["id"];
    const auto links = chat_url(chat) + "/invite-links";
    const auto create = [&] { return post(port(), owner.token, links, json::object()); };
    std::string first_code;
    for (int i = 0; i < 95; ++i) {
        const auto r = create();
        ASSERT_EQ(r.status, 201) << i << ": " << r.describe();
        if (i == 0) first_code = r.json()["code"];
    }
    EXPECT_EQ(made_concurrently(
                  8, [&](int) { return create(); }, "too_many_invite_links", 100),
              5);
    EXPECT_TRUE(IsCapReached(create(), "too_many_invite_links", 100));

    ASSERT_EQ(del(port(), owner.token, links + "/" + first_code).status, 204);
    EXPECT_EQ(create().status, 201) << "a revoked link makes room";
    EXPECT_TRUE(IsCapReached(create(), "too_many_invite_links", 100));
}

TEST_F(CapsTest, AUserOwnsAtMost100BroadcastLists) {
    auto owner = register_user(port(), "cb");
    auto other = register_user(port(), "cbo");
    const auto create = [&](const TestUser& who, int i) {
        return post(port(), who.token, "/api/v1/broadcast-lists", {{"name", "list " + std::to_string(i)}});
    };
    std::string first_id;
    for (int i = 0; i < 93; ++i) {
        const auto r = create(owner, i);
        ASSERT_EQ(r.status, 201) << i << ": " << r.describe();
        if (i == 0) first_id = r.json()["id"];
    }
    EXPECT_EQ(made_concurrently(
                  12, [&](int i) { return create(owner, 100 + i); }, "too_many_broadcast_lists", 100),
              7);
    EXPECT_TRUE(IsCapReached(create(owner, 200), "too_many_broadcast_lists", 100));
    EXPECT_EQ(create(other, 0).status, 201) << "the cap is per user";

    ASSERT_EQ(del(port(), owner.token, "/api/v1/broadcast-lists/" + first_id).status, 204);
    EXPECT_EQ(create(owner, 300).status, 201) << "a deleted list makes room";
}

}  // namespace
}  // namespace confab::test
