// The call state machine (domain/calls) as tables: a script of transitions from a new call,
// and where it leaves the call.

#include "confab/domain/calls.hpp"

#include "confab/model/error.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace confab::domain::calls {
namespace {

const model::Timestamp t0{std::chrono::milliseconds(1'800'000'000'000)};
constexpr std::size_t mesh_limit = 3;

// "b" is b's device (the one that answers or joins in the scripts), "b@laptop" another of b's.
Device device(const std::string& name) { return {name.substr(0, name.find('@')), "token-" + name}; }

// Runs "verb [user] [user]" steps, one second apart, on a call from "a" ringing `callees`;
// returns how the last step went: "" when it passed, else the refusal's reason (or its code).
// Where a verb is a device's, the user may name one ("b@laptop").
std::string run(Call& call, const std::vector<std::string>& script) {
    std::string refusal;
    auto now = t0;
    for (const auto& line : script) {
        now += std::chrono::seconds(1);
        std::istringstream words(line);
        std::string verb, user, other;
        words >> verb >> user >> other;
        refusal.clear();
        try {
            if (verb == "answer") call.answer(device(user), mesh_limit, now);
            else if (verb == "decline") call.decline(user, now);
            else if (verb == "leave") call.leave(device(user), now);
            else if (verb == "join") call.join(device(user), mesh_limit, now);
            else if (verb == "timeout") call.ring_timeout(now);
            else if (verb == "share") call.share_screen(device(user), true);
            else if (verb == "unshare") call.share_screen(device(user), false);
            else if (verb == "drop") call.device_dropped(device(user));
            else if (verb == "back") call.device_back(device(user));
            else if (verb == "grace") call.grace_over(user, now);
            else if (verb == "gone") call.member_gone(user, now);
            else if (verb == "relay") call.require_relay(device(user), other);
            else ADD_FAILURE() << "unknown verb " << verb;
        } catch (const model::Error& error) {
            refusal = error.reason ? *error.reason : std::string(model::to_string(error.code()));
        }
    }
    return refusal;
}

TEST(Calls, TransitionsFromRingingToEnded) {
    struct Row {
        const char* what;
        bool group;
        std::vector<std::string> callees;
        std::vector<std::string> script;
        Phase phase;
        std::optional<Outcome> outcome;
        std::string last_refusal;
    };
    const std::vector<Row> rows{
        {"a new call rings", false, {"b"}, {}, Phase::ringing, std::nullopt, ""},
        {"answered", false, {"b"}, {"answer b"}, Phase::active, std::nullopt, ""},
        {"answered, then hung up by the callee",
         false,
         {"b"},
         {"answer b", "leave b"},
         Phase::ended,
         Outcome::completed,
         ""},
        {"answered, then hung up by the caller",
         false,
         {"b"},
         {"answer b", "leave a"},
         Phase::ended,
         Outcome::completed,
         ""},
        {"declined", false, {"b"}, {"decline b"}, Phase::ended, Outcome::declined, ""},
        {"cancelled by the caller", false, {"b"}, {"leave a"}, Phase::ended, Outcome::missed, ""},
        {"the ring times out", false, {"b"}, {"timeout"}, Phase::ended, Outcome::missed, ""},
        {"a timeout after the answer changes nothing",
         false,
         {"b"},
         {"answer b", "timeout"},
         Phase::active,
         std::nullopt,
         ""},
        {"answered twice", false, {"b"}, {"answer b", "answer b"}, Phase::active, std::nullopt, "not_ringing"},
        {"answered by someone not rung", false, {"b"}, {"answer c"}, Phase::ringing, std::nullopt, "not_ringing"},
        {"declined after the answer",
         false,
         {"b"},
         {"answer b", "decline b"},
         Phase::active,
         std::nullopt,
         "not_ringing"},
        {"answered after it ended", false, {"b"}, {"leave a", "answer b"}, Phase::ended, Outcome::missed, "call_ended"},
        {"hung up by a non-participant",
         false,
         {"b"},
         {"answer b", "leave c"},
         Phase::active,
         std::nullopt,
         "forbidden"},
        {"a direct call cannot be joined",
         false,
         {"b"},
         {"answer b", "join c"},
         Phase::active,
         std::nullopt,
         "bad_request"},
        {"group: the first answer makes it active", true, {"b", "c"}, {"answer b"}, Phase::active, std::nullopt, ""},
        {"group: a decline leaves the others ringing",
         true,
         {"b", "c"},
         {"decline b"},
         Phase::ringing,
         std::nullopt,
         ""},
        {"group: every callee declines",
         true,
         {"b", "c"},
         {"decline b", "decline c"},
         Phase::ended,
         Outcome::declined,
         ""},
        {"group: one declines, the other misses",
         true,
         {"b", "c"},
         {"decline b", "timeout"},
         Phase::ended,
         Outcome::missed,
         ""},
        {"group: a timeout after an answer goes on",
         true,
         {"b", "c"},
         {"answer b", "timeout"},
         Phase::active,
         std::nullopt,
         ""},
        {"group: the caller leaves, two remain",
         true,
         {"b", "c"},
         {"answer b", "answer c", "leave a"},
         Phase::active,
         std::nullopt,
         ""},
        {"group: the last but one leaves",
         true,
         {"b", "c"},
         {"answer b", "answer c", "leave a", "leave b"},
         Phase::ended,
         Outcome::completed,
         ""},
        {"group: alone while others ring goes on",
         true,
         {"b", "c"},
         {"answer b", "leave a"},
         Phase::active,
         std::nullopt,
         ""},
        {"group: alone once the ring times out ends",
         true,
         {"b", "c"},
         {"answer b", "leave a", "timeout"},
         Phase::ended,
         Outcome::completed,
         ""},
        {"group: a member not rung joins", true, {"b"}, {"answer b", "join d"}, Phase::active, std::nullopt, ""},
        {"group: a ringing member joins", true, {"b", "c"}, {"answer b", "join c"}, Phase::active, std::nullopt, ""},
        {"group: an answer past the mesh limit",
         true,
         {"b", "c", "d"},
         {"answer b", "answer c", "answer d"},
         Phase::active,
         std::nullopt,
         "call_full"},
        {"group: joined before any answer", true, {"b"}, {"join d"}, Phase::ringing, std::nullopt, "not_answered"},
        {"group: joined twice", true, {"b"}, {"answer b", "join b"}, Phase::active, std::nullopt, "already_joined"},
        {"group: past the mesh limit",
         true,
         {"b"},
         {"answer b", "join c", "join d"},
         Phase::active,
         std::nullopt,
         "call_full"},
        {"group: joined after it ended",
         true,
         {"b"},
         {"answer b", "leave b", "join d"},
         Phase::ended,
         Outcome::completed,
         "call_ended"},
        {"a dropped device back in time stays",
         false,
         {"b"},
         {"answer b", "drop b", "back b", "grace b"},
         Phase::active,
         std::nullopt,
         ""},
        {"a dropped device past its grace leaves",
         false,
         {"b"},
         {"answer b", "drop b", "grace b"},
         Phase::ended,
         Outcome::completed,
         ""},
        {"a dropped caller while ringing cancels",
         false,
         {"b"},
         {"drop a", "grace a"},
         Phase::ended,
         Outcome::missed,
         ""},
        {"screen sharing by a participant",
         false,
         {"b"},
         {"answer b", "share b", "unshare b"},
         Phase::active,
         std::nullopt,
         ""},
        {"screen sharing by a non-participant",
         false,
         {"b"},
         {"answer b", "share c"},
         Phase::active,
         std::nullopt,
         "forbidden"},
        {"screen sharing after the end",
         false,
         {"b"},
         {"answer b", "leave b", "share a"},
         Phase::ended,
         Outcome::completed,
         "call_ended"},
        {"a relay between participants", false, {"b"}, {"answer b", "relay a b"}, Phase::active, std::nullopt, ""},
        {"a relay to a ringing callee",
         true,
         {"b", "c"},
         {"answer b", "relay a c"},
         Phase::active,
         std::nullopt,
         "not_found"},
        {"a relay to oneself", false, {"b"}, {"answer b", "relay a a"}, Phase::active, std::nullopt, "not_found"},
        {"a relay from a non-participant",
         false,
         {"b"},
         {"answer b", "relay c a"},
         Phase::active,
         std::nullopt,
         "forbidden"},
        {"a relay after the end",
         false,
         {"b"},
         {"answer b", "leave a", "relay b a"},
         Phase::ended,
         Outcome::completed,
         "call_ended"},
    };
    for (const auto& row : rows) {
        Call call("call-1", "chat-1", Kind::video, row.group, device("a"), row.callees, t0);
        EXPECT_EQ(run(call, row.script), row.last_refusal) << row.what;
        EXPECT_EQ(call.phase(), row.phase) << row.what;
        EXPECT_EQ(call.outcome(), row.outcome) << row.what;
    }
}

TEST(Calls, RingsStopForTheRightReason) {
    struct Row {
        const char* what;
        std::vector<std::string> callees;
        std::vector<std::string> before;
        std::string verb;
        std::vector<RingStopped> stopped;
    };
    const std::vector<Row> rows{
        {"answered", {"b", "c"}, {}, "answer b", {{"b", RingStop::answered}}},
        {"declined", {"b", "c"}, {}, "decline c", {{"c", RingStop::declined}}},
        {"cancelled", {"b", "c"}, {}, "leave a", {{"b", RingStop::cancelled}, {"c", RingStop::cancelled}}},
        {"timed out", {"b", "c"}, {"answer b"}, "timeout", {{"c", RingStop::missed}}},
        {"joined while ringing", {"b", "c"}, {"answer b"}, "join c", {{"c", RingStop::answered}}},
        {"left the chat while rung", {"b", "c"}, {}, "gone c", {{"c", RingStop::cancelled}}},
        {"the caller left the chat",
         {"b", "c"},
         {},
         "gone a",
         {{"b", RingStop::cancelled}, {"c", RingStop::cancelled}}},
        {"a participant left the chat", {"b", "c"}, {"answer b"}, "gone b", {}},
    };
    for (const auto& row : rows) {
        Call call("call-1", "chat-1", Kind::voice, true, device("a"), row.callees, t0);
        run(call, row.before);
        std::istringstream words(row.verb);
        std::string verb, user;
        words >> verb >> user;
        const auto now = t0 + std::chrono::minutes(1);
        Step step;
        if (verb == "answer") step = call.answer(device(user), mesh_limit, now);
        if (verb == "decline") step = call.decline(user, now);
        if (verb == "leave") step = call.leave(device(user), now);
        if (verb == "timeout") step = call.ring_timeout(now);
        if (verb == "join") step = call.join(device(user), mesh_limit, now);
        if (verb == "gone") step = call.member_gone(user, now);
        EXPECT_EQ(step.rings_stopped, row.stopped) << row.what;
    }
}

// Whoever leaves the chat leaves its call: a participant as by hanging up, a callee's ring
// stops without counting as a decline; a user the call no longer concerns changes nothing.
TEST(Calls, AMemberWhoLeavesTheChatLeavesItsCall) {
    Call group_call("call-1", "chat-1", Kind::voice, true, device("a"), {"b", "c", "d"}, t0);
    EXPECT_EQ(run(group_call, {"answer b", "answer c", "gone c", "relay b c"}), "not_found") << "c is in it no more";
    EXPECT_FALSE(group_call.is_participant("c"));
    EXPECT_EQ(run(group_call, {"gone d"}), "");
    EXPECT_TRUE(group_call.ringing().empty());
    EXPECT_EQ(group_call.phase(), Phase::active) << "a and b still talk";
    EXPECT_EQ(run(group_call, {"gone d", "gone b"}), "") << "nothing left of d; b's leaving ends it";
    EXPECT_EQ(group_call.phase(), Phase::ended);
    EXPECT_EQ(group_call.outcome(), Outcome::completed);

    Call unanswered("call-2", "chat-1", Kind::voice, false, device("a"), {"b"}, t0);
    EXPECT_EQ(run(unanswered, {"gone b"}), "");
    EXPECT_EQ(unanswered.phase(), Phase::ended);
    EXPECT_EQ(unanswered.outcome(), Outcome::missed) << "not declined: b never said no";

    Call one_declined("call-3", "chat-1", Kind::voice, true, device("a"), {"b", "c"}, t0);
    EXPECT_EQ(run(one_declined, {"decline b", "gone c"}), "");
    EXPECT_EQ(one_declined.phase(), Phase::ended);
    EXPECT_EQ(one_declined.outcome(), Outcome::missed) << "c was removed while ringing, it did not decline";
}

TEST(Calls, ADurationRunsFromTheFirstAnswerToTheEnd) {
    Call call("call-1", "chat-1", Kind::voice, false, device("a"), {"b"}, t0);
    EXPECT_EQ(call.duration_ms(), 0);
    call.answer(device("b"), mesh_limit, t0 + std::chrono::seconds(5));
    EXPECT_FALSE(call.leave(device("b"), t0 + std::chrono::seconds(65)).rings_stopped.size());
    EXPECT_EQ(call.duration_ms(), 60000);
    EXPECT_EQ(call.ended_at(), t0 + std::chrono::seconds(65));
}

TEST(Calls, OnlyTheDeviceInTheCallDropsOrComesBack) {
    Call call("call-1", "chat-1", Kind::voice, false, device("a"), {"b"}, t0);
    call.answer(device("b"), mesh_limit, t0);
    EXPECT_FALSE(call.device_dropped({"b", "another-token"}));
    EXPECT_TRUE(call.device_dropped(device("b")));
    EXPECT_FALSE(call.device_dropped(device("b")));
    EXPECT_FALSE(call.participants().at("b").connected);
    EXPECT_TRUE(call.device_back(device("b")));
    EXPECT_FALSE(call.device_back(device("b")));
    EXPECT_EQ(call.device_of("b"), device("b"));
    EXPECT_EQ(call.device_of("c"), std::nullopt);
}

// A call is taken per device: a participant's other devices, not in it, may not hang it up
// (nor cancel it, the caller's), share a screen in it or signal from it, and changing nothing.
// What takes a user out whichever device they are on (the grace, leaving the chat) still does.
TEST(Calls, OnlyTheDeviceInTheCallHangsUpSharesOrSignals) {
    struct Row {
        const char* what;
        std::vector<std::string> script;
        std::string last_refusal;
        std::vector<std::string> participants;  // after the script
    };
    const std::vector<Row> rows{
        {"the caller's other device cancels", {"leave a@tablet"}, "forbidden", {"a"}},
        {"the caller's device cancels", {"leave a"}, "", {}},
        {"the callee's other device hangs up", {"answer b@laptop", "leave b"}, "forbidden", {"a", "b"}},
        {"the callee's device in the call hangs up", {"answer b@laptop", "leave b@laptop"}, "", {"a"}},
        {"the other device shares a screen", {"answer b@laptop", "share b"}, "forbidden", {"a", "b"}},
        {"the device in the call shares a screen", {"answer b@laptop", "share b@laptop"}, "", {"a", "b"}},
        {"the other device signals", {"answer b@laptop", "relay b a"}, "forbidden", {"a", "b"}},
        {"the device in the call signals", {"answer b@laptop", "relay b@laptop a"}, "", {"a", "b"}},
        {"a signal to a participant (to the device in the call)", {"answer b@laptop", "relay a b"}, "", {"a", "b"}},
        {"a rung user who is no participant signals", {"answer b@laptop", "relay c a"}, "forbidden", {"a", "b"}},
        {"the grace of the device in the call ends", {"answer b@laptop", "drop b@laptop", "grace b"}, "", {"a"}},
        {"a user in the call on another device leaves the chat", {"answer b@laptop", "gone b"}, "", {"a"}},
    };
    for (const auto& row : rows) {
        Call call("call-1", "chat-1", Kind::video, true, device("a"), {"b", "c"}, t0);
        EXPECT_EQ(run(call, row.script), row.last_refusal) << row.what;
        std::vector<std::string> participants;
        for (const auto& [user, participant] : call.participants()) participants.push_back(user);
        EXPECT_EQ(participants, row.participants) << row.what;
        if (call.is_participant("b")) {
            EXPECT_TRUE(call.is_in_call(device("b@laptop"))) << row.what;
            EXPECT_FALSE(call.is_in_call(device("b"))) << row.what;
            EXPECT_EQ(call.participants().at("b").screen_sharing, row.script.back() == "share b@laptop") << row.what;
        }
    }
}

// A call whose node was lost ends as recorded: answered, it is completed up to the loss (never
// before its answer); never answered, it is missed.
TEST(Calls, ALostCallEndsAsFailedWithWhatWasRecorded) {
    using std::chrono::seconds;
    struct Row {
        const char* what;
        std::optional<model::Timestamp> answered_at;
        model::Timestamp lost_at;
        Outcome outcome;
        std::int64_t duration_ms;
        model::Timestamp ended_at;
    };
    const std::vector<Row> rows{
        {"answered, lost later", t0 + seconds(5), t0 + seconds(65), Outcome::completed, 60000, t0 + seconds(65)},
        {"answered after the last known moment", t0 + seconds(5), t0 + seconds(2), Outcome::completed, 0,
         t0 + seconds(5)},
        {"never answered", std::nullopt, t0 + seconds(30), Outcome::missed, 0, t0 + seconds(30)},
        {"lost before it started, as far as known", std::nullopt, t0 - seconds(3), Outcome::missed, 0, t0},
    };
    for (const auto& row : rows) {
        const auto call =
            Call::lost("call-1", "chat-1", Kind::video, true, "a", {"b", "c"}, t0, row.answered_at, row.lost_at);
        EXPECT_EQ(call.phase(), Phase::ended) << row.what;
        EXPECT_TRUE(call.failed()) << row.what;
        EXPECT_EQ(call.outcome(), row.outcome) << row.what;
        EXPECT_EQ(call.duration_ms(), row.duration_ms) << row.what;
        EXPECT_EQ(call.ended_at(), row.ended_at) << row.what;
        EXPECT_EQ(call.caller_id(), "a") << row.what;
        EXPECT_FALSE(call.is_participant("a")) << "the caller had left: " << row.what;
        EXPECT_TRUE(call.is_participant("b") && call.is_participant("c")) << row.what;
        EXPECT_TRUE(call.ringing().empty()) << row.what;
    }
    EXPECT_FALSE(Call("call-2", "chat-1", Kind::voice, false, device("a"), {"b"}, t0).failed());
}

TEST(Calls, TurnCredentialsFollowTheTurnRestApi) {
    // The username is "<expiry>:<user>"; the credential base64(HMAC-SHA1(secret, username)),
    // as `echo -n "$username" | openssl dgst -sha1 -hmac secret -binary | base64` gives.
    const auto credentials =
        turn_credentials("north-wind-secret", "user-1", model::Timestamp{std::chrono::seconds(1700000000)},
                         std::chrono::seconds(3600));
    EXPECT_EQ(credentials.username, "1700003600:user-1");
    EXPECT_EQ(credentials.credential, "a9dBIv/s5rGdWcwGN3QSqPeD0jE=");
    EXPECT_EQ(credentials.expires_at, model::Timestamp{std::chrono::seconds(1700003600)});
}

}  // namespace
}  // namespace confab::domain::calls
