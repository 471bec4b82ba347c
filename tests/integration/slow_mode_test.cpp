// Slow mode (docs/api.md, Slow mode): a group's seconds between one member's posts, set with
// the group's other settings by who may change them. A post too soon is refused with 429,
// details.reason slow_mode and when to try again, over REST and in a WebSocket ack alike; it
// takes no seq and spends no client_id. Moderators and above are exempt. Time passes here by
// moving the member's last post back in the database, or, for a 1-second slow mode, by
// waiting as long as the server said.

#include <chrono>
#include <string>
#include <thread>

#include <pqxx/pqxx>

#include <gtest/gtest.h>

#include "support/chat_api.hpp"

namespace confab::test {
namespace {

using SlowModeTest = ChatTest;

struct Group {
    TestUser owner, admin, moderator, member;
    std::string chat_id;
};

Group make_group(std::uint16_t port) {
    Group g{register_user(port, "sm"), register_user(port, "sm"), register_user(port, "sm"), register_user(port, "sm"),
            ""};
    g.chat_id = create_group(port, g.owner, {g.admin.id, g.moderator.id, g.member.id}).at("id").get<std::string>();
    set_role(port, g.owner, g.chat_id, g.admin.id, "admin");
    set_role(port, g.owner, g.chat_id, g.moderator.id, "moderator");
    return g;
}

HttpResponse set_slow_mode(std::uint16_t port, const TestUser& actor, const std::string& chat_id, const json& seconds) {
    return put(port, actor.token, chat_url(chat_id), {{"settings", {{"slow_mode_seconds", seconds}}}});
}

json text(const std::string& content) { return {{"type", "text"}, {"content", content}}; }

// A 429 rate_limited with reason slow_mode, saying to wait at most `at_most` seconds.
::testing::AssertionResult IsSlowModeRefusal(const HttpResponse& r, std::int64_t at_most) {
    auto refused = IsError(r, 429, "rate_limited");
    if (!refused) return refused;
    const auto details = r.json()["error"]["details"];
    if (details.value("reason", "") != "slow_mode") return ::testing::AssertionFailure() << "reason: " << r.body;
    const auto seconds = details.value("retry_after_seconds", std::int64_t{0});
    if (seconds < 1 || seconds > at_most) return ::testing::AssertionFailure() << "retry_after_seconds: " << r.body;
    const auto ms = details.value("retry_after_ms", std::int64_t{0});
    if (ms < 1 || ms > at_most * 1000) return ::testing::AssertionFailure() << "retry_after_ms: " << r.body;
    if (r.header("Retry-After") != std::to_string(seconds))
        return ::testing::AssertionFailure() << "Retry-After " << r.header("Retry-After") << ": " << r.body;
    return ::testing::AssertionSuccess();
}

// The member's last counted post, moved `seconds` into the past: as if that time had passed.
void age_last_post(const std::string& chat_id, const std::string& user_id, int seconds) {
    pqxx::connection db(chat_database_url());
    pqxx::work tx(db);
    tx.exec_params(
        "UPDATE chat_members SET last_posted_at = last_posted_at - make_interval(secs => $3) "
        "WHERE chat_id = $1::uuid AND user_id = $2::uuid",
        chat_id, user_id, seconds);
    tx.commit();
}

TEST_F(SlowModeTest, AnAdminTurnsItOnAndEveryMemberHearsOfIt) {
    auto g = make_group(port());
    EXPECT_EQ(get_chat(port(), g.member, g.chat_id)["settings"]["slow_mode_seconds"], 0) << "off by default";
    auto ws = ws_connect(port(), g.member.token);
    const auto r = set_slow_mode(port(), g.admin, g.chat_id, 30);
    ASSERT_TRUE(IsJson(r, 200));
    EXPECT_TRUE(IsChatModel(r.json()));
    EXPECT_EQ(r.json()["settings"]["slow_mode_seconds"], 30);
    EXPECT_EQ(r.json()["settings"]["only_admins_can_pin"], true) << "the other settings keep their values";

    const auto updated = wait_for(*ws, "chat.updated", about_chat(g.chat_id));
    ASSERT_TRUE(updated.has_value());
    EXPECT_EQ((*updated)["data"]["chat"]["settings"]["slow_mode_seconds"], 30);
    const auto note = wait_for(*ws, "message.new", about_chat(g.chat_id));
    ASSERT_TRUE(note.has_value());
    EXPECT_EQ((*note)["data"]["message"]["metadata"]["event"], "chat.settings_changed");
    EXPECT_NE((*note)["data"]["message"]["content"].get<std::string>().find("slow mode: 30 seconds"),
              std::string::npos);

    // A group may also be created with it.
    const auto created = create_group(port(), g.owner, {g.member.id}, {{"settings", {{"slow_mode_seconds", 3600}}}});
    EXPECT_EQ(created["settings"]["slow_mode_seconds"], 3600);
}

TEST_F(SlowModeTest, AQuickSecondPostIsRefusedTakesNoSeqAndSpendsNoClientId) {
    auto g = make_group(port());
    ASSERT_TRUE(IsJson(set_slow_mode(port(), g.owner, g.chat_id, 60), 200));
    const auto first = send_message(port(), g.member, g.chat_id, text("first"));
    ASSERT_TRUE(IsJson(first, 201));

    auto too_soon = text("too soon");
    too_soon["client_id"] = "slow-1";
    EXPECT_TRUE(IsSlowModeRefusal(send_message(port(), g.member, g.chat_id, too_soon), 60));
    EXPECT_TRUE(IsSlowModeRefusal(send_message(port(), g.member, g.chat_id, too_soon), 60)) << "still too soon";
    EXPECT_EQ(get_chat(port(), g.owner, g.chat_id)["last_seq"], first.json()["seq"]) << "no seq taken";

    age_last_post(g.chat_id, g.member.id, 61);
    const auto later = send_message(port(), g.member, g.chat_id, too_soon);
    ASSERT_TRUE(IsJson(later, 201)) << "the refused send spent no client_id";
    EXPECT_EQ(later.json()["seq"], first.json()["seq"].get<std::int64_t>() + 1);
    EXPECT_EQ(later.json()["client_id"], "slow-1");

    // Repeating a stored send answers it, slow mode or not; a new one waits again.
    const auto repeated = send_message(port(), g.member, g.chat_id, too_soon);
    ASSERT_TRUE(IsJson(repeated, 200));
    EXPECT_EQ(repeated.json()["id"], later.json()["id"]);
    EXPECT_TRUE(IsSlowModeRefusal(send_message(port(), g.member, g.chat_id, text("again")), 60));

    // Each member has their own interval.
    const auto other = register_user(port(), "sm");
    add_members(port(), g.owner, g.chat_id, {other.id});
    EXPECT_TRUE(IsJson(send_message(port(), other, g.chat_id, text("my turn")), 201));
}

TEST_F(SlowModeTest, AOneSecondSlowModeLetsThePostThroughOnceTheServersWaitIsOver) {
    auto g = make_group(port());
    ASSERT_TRUE(IsJson(set_slow_mode(port(), g.owner, g.chat_id, 1), 200));
    ASSERT_TRUE(IsJson(send_message(port(), g.member, g.chat_id, text("one")), 201));
    const auto refused = send_message(port(), g.member, g.chat_id, text("two"));
    ASSERT_TRUE(IsSlowModeRefusal(refused, 1));
    std::this_thread::sleep_for(
        std::chrono::milliseconds(refused.json()["error"]["details"]["retry_after_ms"].get<std::int64_t>()));
    EXPECT_TRUE(IsJson(send_message(port(), g.member, g.chat_id, text("two")), 201));
}

// A scheduled message that comes due while its author must still wait is posted once the
// wait slow mode names is over, not when its claim lapses (10 s; eventually gives up at 8).
TEST_F(SlowModeTest, AScheduledMessageHeldBackIsPostedOnceTheWaitIsOver) {
    auto g = make_group(port());
    ASSERT_TRUE(IsJson(set_slow_mode(port(), g.owner, g.chat_id, 1), 200));
    ASSERT_TRUE(IsJson(send_message(port(), g.member, g.chat_id, text("one")), 201));
    auto body = text("two, scheduled");
    body["send_at"] = timestamp_from_now(std::chrono::milliseconds(300));
    const auto scheduled =
        expect_json(post(port(), g.member.token, chat_url(g.chat_id) + "/scheduled-messages", body), 201, "schedule");
    json posted;
    EXPECT_TRUE(eventually([&] {
        posted =
            expect_json(get(port(), g.member.token, "/api/v1/scheduled-messages/" + scheduled["id"].get<std::string>()),
                        200, "scheduled");
        return posted["status"] != "pending";
    })) << posted.dump();
    EXPECT_EQ(posted["status"], "sent") << posted.dump();
}

TEST_F(SlowModeTest, ModeratorsAdminsAndTheOwnerAreExempt) {
    auto g = make_group(port());
    ASSERT_TRUE(IsJson(set_slow_mode(port(), g.owner, g.chat_id, 3600), 200));
    for (const auto* exempt : {&g.moderator, &g.admin, &g.owner}) {
        EXPECT_TRUE(IsJson(send_message(port(), *exempt, g.chat_id, text("one")), 201));
        EXPECT_TRUE(IsJson(send_message(port(), *exempt, g.chat_id, text("two")), 201));
    }
    // A member made moderator is exempt from then on; made member again, held back again.
    ASSERT_TRUE(IsJson(send_message(port(), g.member, g.chat_id, text("one")), 201));
    set_role(port(), g.owner, g.chat_id, g.member.id, "moderator");
    EXPECT_TRUE(IsJson(send_message(port(), g.member, g.chat_id, text("two")), 201));
    set_role(port(), g.owner, g.chat_id, g.member.id, "member");
    EXPECT_TRUE(IsSlowModeRefusal(send_message(port(), g.member, g.chat_id, text("three")), 3600));
}

TEST_F(SlowModeTest, TurnedOffItHoldsNoOneBack) {
    auto g = make_group(port());
    ASSERT_TRUE(IsJson(set_slow_mode(port(), g.owner, g.chat_id, 3600), 200));
    ASSERT_TRUE(IsJson(send_message(port(), g.member, g.chat_id, text("one")), 201));
    ASSERT_TRUE(IsSlowModeRefusal(send_message(port(), g.member, g.chat_id, text("two")), 3600));
    ASSERT_TRUE(IsJson(set_slow_mode(port(), g.owner, g.chat_id, 0), 200));
    EXPECT_TRUE(IsJson(send_message(port(), g.member, g.chat_id, text("two")), 201));
    EXPECT_TRUE(IsJson(send_message(port(), g.member, g.chat_id, text("three")), 201));
}

TEST_F(SlowModeTest, OnlyWhoChangesSettingsSetsItAndOnlyTo0Through3600) {
    auto g = make_group(port());
    EXPECT_TRUE(IsError(set_slow_mode(port(), g.member, g.chat_id, 10), 403, "forbidden"));
    EXPECT_TRUE(IsError(set_slow_mode(port(), g.moderator, g.chat_id, 10), 403, "forbidden"));
    for (const json& bad : {json(-1), json(3601), json("10"), json(1.5), json(nullptr)}) {
        const auto r = set_slow_mode(port(), g.owner, g.chat_id, bad);
        EXPECT_TRUE(IsError(r, 400, "bad_request")) << bad.dump();
        EXPECT_EQ(r.json()["error"]["details"]["field"], "slow_mode_seconds") << bad.dump();
    }
    EXPECT_EQ(get_chat(port(), g.owner, g.chat_id)["settings"]["slow_mode_seconds"], 0) << "nothing changed";
    const auto other = register_user(port(), "sm");
    const std::string direct = create_direct(port(), g.member, other)["id"];
    EXPECT_TRUE(IsError(set_slow_mode(port(), g.member, direct, 10), 403, "forbidden")) << "a direct chat has none";
    EXPECT_TRUE(IsError(set_slow_mode(port(), other, g.chat_id, 10), 404, "not_found")) << "not a member";
}

TEST_F(SlowModeTest, AForwardIntoTheGroupIsAPostLikeAnother) {
    auto g = make_group(port());
    ASSERT_TRUE(IsJson(set_slow_mode(port(), g.owner, g.chat_id, 60), 200));
    const auto source = send_text(port(), g.owner, g.chat_id, "worth repeating");
    const auto forward_url = message_url(source["id"]) + "/forward";
    ASSERT_TRUE(IsJson(post(port(), g.member.token, forward_url, {{"chat_id", g.chat_id}}), 201));
    EXPECT_TRUE(IsSlowModeRefusal(send_message(port(), g.member, g.chat_id, text("and me")), 60));
    EXPECT_TRUE(IsSlowModeRefusal(post(port(), g.member.token, forward_url, {{"chat_id", g.chat_id}}), 60));
    age_last_post(g.chat_id, g.member.id, 61);
    EXPECT_TRUE(IsJson(post(port(), g.member.token, forward_url, {{"chat_id", g.chat_id}}), 201));
}

TEST_F(SlowModeTest, TheWebSocketSendGetsTheSameErrorInItsAck) {
    auto g = make_group(port());
    ASSERT_TRUE(IsJson(set_slow_mode(port(), g.owner, g.chat_id, 60), 200));
    auto ws = ws_connect(port(), g.member.token);
    const auto first = ws_request(*ws, "message.send", {{"chat_id", g.chat_id}, {"type", "text"}, {"content", "a"}});
    EXPECT_TRUE(IsAck(first)) << first.dump();
    const auto second = ws_request(*ws, "message.send",
                                   {{"chat_id", g.chat_id}, {"type", "text"}, {"content", "b"}, {"client_id", "ws-1"}});
    ASSERT_TRUE(IsWsError(second, "rate_limited", second.value("id", ""))) << second.dump();
    const auto details = second["error"]["details"];
    EXPECT_EQ(details["reason"], "slow_mode");
    EXPECT_GE(details["retry_after_seconds"].get<std::int64_t>(), 1);
    EXPECT_LE(details["retry_after_seconds"].get<std::int64_t>(), 60);
    EXPECT_GT(details["retry_after_ms"].get<std::int64_t>(), 0);

    // REST and the socket share one interval: the member's last post, kept in the database.
    EXPECT_TRUE(IsSlowModeRefusal(send_message(port(), g.member, g.chat_id, text("c")), 60));
    age_last_post(g.chat_id, g.member.id, 61);
    const auto later = ws_request(*ws, "message.send",
                                  {{"chat_id", g.chat_id}, {"type", "text"}, {"content", "b"}, {"client_id", "ws-1"}});
    EXPECT_TRUE(IsAck(later)) << later.dump();
}

}  // namespace
}  // namespace confab::test
