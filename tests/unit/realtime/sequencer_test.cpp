#include "confab/realtime/sequencer.hpp"

#include "realtime/recording_connection.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace confab::realtime {
namespace {

using namespace std::chrono_literals;
using Arrival = Sequencer::Arrival;

class SequencerTest : public ::testing::Test {
protected:
    // Message `seq` of `chat`, whose frame is its seq, for `users`.
    Arrival arrive(std::int64_t seq, std::vector<std::string> users = {"ana"}, const std::string& chat = "c") {
        return sequencer.arrive(chat, seq, users, frame(chat + std::to_string(seq)), now, deliver());
    }
    Sequencer::Deliver deliver() {
        return [this](const std::vector<std::string>& to, const Frame& what) {
            for (const auto& user : to) delivered.push_back(user + ":" + *what);
        };
    }
    std::vector<std::string> expire() {
        std::vector<std::string> resynced;
        sequencer.expire(now, [&](const std::string& user) { resynced.push_back(user); });
        return resynced;
    }

    Sequencer sequencer{1s, 10min};
    Sequencer::Clock::time_point now{};
    std::vector<std::string> delivered;
};

TEST_F(SequencerTest, MessagesInOrderGoOutAtOnce) {
    for (std::int64_t seq : {1, 2, 3}) EXPECT_EQ(arrive(seq), Arrival::delivered);
    EXPECT_EQ(delivered, (std::vector<std::string>{"ana:c1", "ana:c2", "ana:c3"}));
    EXPECT_FALSE(sequencer.next_deadline());
}

TEST_F(SequencerTest, AnUnknownChatsFirstMessageWaitsUntilSettledThenGoesOutWithWhatFollowed) {
    EXPECT_EQ(arrive(41), Arrival::unsettled);
    EXPECT_EQ(arrive(42), Arrival::held);
    EXPECT_TRUE(delivered.empty());
    EXPECT_EQ(sequencer.next_deadline(), now + 1s) << "an answer that never comes is a gap given up";
    sequencer.settle("c", 40, deliver());
    EXPECT_EQ(delivered, (std::vector<std::string>{"ana:c41", "ana:c42"}));
    EXPECT_FALSE(sequencer.next_deadline());
    EXPECT_EQ(arrive(43), Arrival::delivered);
}

TEST_F(SequencerTest, AChatsFirstSeqNeedsNoSettling) {
    EXPECT_EQ(arrive(1), Arrival::delivered);
    EXPECT_EQ(delivered, std::vector<std::string>{"ana:c1"});
}

TEST_F(SequencerTest, AnEarlierMessageNotSettledIsWaitedForAndGoesFirst) {
    EXPECT_EQ(arrive(42), Arrival::unsettled);
    EXPECT_EQ(arrive(41), Arrival::held) << "crossing from another node, it overtook the answer";
    sequencer.settle("c", 39, deliver());
    EXPECT_TRUE(delivered.empty()) << "40 was stored a moment ago: still crossing";
    EXPECT_EQ(arrive(40), Arrival::delivered);
    EXPECT_EQ(delivered, (std::vector<std::string>{"ana:c40", "ana:c41", "ana:c42"}));
}

TEST_F(SequencerTest, AnUnsettledChatGivenUpIsSettledByTheWaitAndALateAnswerChangesNothing) {
    arrive(42, {"ana", "ben"});
    now += 1s;
    EXPECT_EQ(expire(), (std::vector<std::string>{"ana", "ben"}));
    sequencer.settle("c", 41, deliver());
    EXPECT_TRUE(delivered.empty()) << "what was held was dropped with the gap";
    EXPECT_EQ(arrive(43), Arrival::delivered);
    EXPECT_EQ(delivered, std::vector<std::string>{"ana:c43"});
}

TEST_F(SequencerTest, AMessageAfterAGapWaitsForTheGapAndThenFollowsIt) {
    arrive(1);
    EXPECT_EQ(arrive(3), Arrival::held);
    EXPECT_EQ(arrive(4, {"ben"}), Arrival::held);
    EXPECT_EQ(sequencer.next_deadline(), now + 1s);
    EXPECT_EQ(delivered, std::vector<std::string>{"ana:c1"});
    EXPECT_EQ(arrive(2), Arrival::delivered);
    EXPECT_EQ(delivered, (std::vector<std::string>{"ana:c1", "ana:c2", "ana:c3", "ben:c4"}));
    EXPECT_FALSE(sequencer.next_deadline()) << "nothing is held any more";
}

TEST_F(SequencerTest, EveryPartOfAMessageGoesOutAndIsHeldWithIt) {
    arrive(1);
    arrive(1, {"ben"});
    EXPECT_EQ(arrive(3), Arrival::held);
    EXPECT_EQ(arrive(3, {"ben"}), Arrival::held);
    arrive(2);
    EXPECT_EQ(delivered, (std::vector<std::string>{"ana:c1", "ben:c1", "ana:c2", "ana:c3", "ben:c3"}));
}

TEST_F(SequencerTest, ChatsAreOrderedEachOnItsOwn) {
    arrive(1, {"ana"}, "x");
    arrive(1, {"ana"}, "y");
    EXPECT_EQ(arrive(3, {"ana"}, "x"), Arrival::held);
    EXPECT_EQ(arrive(2, {"ana"}, "y"), Arrival::delivered);
    EXPECT_EQ(delivered, (std::vector<std::string>{"ana:x1", "ana:y1", "ana:y2"}));
}

TEST_F(SequencerTest, AGapStillOpenAfterTheWaitResyncsTheHeldRecipientsOnceAndDropsWhatWasHeld) {
    arrive(1);
    arrive(3, {"ana", "ben"});
    now += 500ms;
    arrive(4, {"ana", "cy"});
    EXPECT_TRUE(expire().empty()) << "not yet: the gap opened 500 ms ago";
    now += 500ms;
    EXPECT_EQ(expire(), (std::vector<std::string>{"ana", "ben", "cy"}));
    EXPECT_EQ(delivered, std::vector<std::string>{"ana:c1"}) << "nothing after the gap goes out";
    EXPECT_FALSE(sequencer.next_deadline());
    EXPECT_EQ(arrive(2), Arrival::late) << "the missing one, when it comes after all, is behind";
    EXPECT_EQ(arrive(5), Arrival::delivered) << "the chat goes on after what was given up";
    EXPECT_EQ(delivered.back(), "ana:c5");
}

TEST_F(SequencerTest, TheNextDeadlineIsTheOldestOpenGapsAndExpiryGivesUpOnlyThatOne) {
    arrive(1, {"ana"}, "x");
    arrive(1, {"ben"}, "y");
    arrive(3, {"ana"}, "x");
    now += 400ms;
    arrive(3, {"ben"}, "y");
    EXPECT_EQ(sequencer.next_deadline(), now - 400ms + 1s);
    arrive(2, {"ana"}, "x");
    EXPECT_EQ(sequencer.next_deadline(), now + 1s) << "x's gap filled; y's is left";
    now += 1s;
    EXPECT_EQ(expire(), std::vector<std::string>{"ben"});
    EXPECT_FALSE(sequencer.next_deadline());
}

TEST_F(SequencerTest, AMessageBehindWhatWentOutIsLate) {
    arrive(7);
    sequencer.settle("c", 6, deliver());
    EXPECT_EQ(arrive(6), Arrival::late);
    EXPECT_EQ(delivered, std::vector<std::string>{"ana:c7"});
}

TEST_F(SequencerTest, AnIdleChatIsForgottenWhileOneWithAGapIsKept) {
    arrive(1, {"ana"}, "idle");
    arrive(1, {"ana"}, "gap");
    arrive(3, {"ana"}, "gap");
    now += 10min;
    // Sweeps run every few thousand arrivals: arrive in a third chat until one has run.
    for (std::int64_t seq = 1; sequencer.chats_known() == 3; ++seq) arrive(seq, {"ana"}, "busy");
    EXPECT_EQ(sequencer.chats_known(), 2u) << "the idle chat went; the one holding a message stayed";
    EXPECT_EQ(arrive(1, {"ana"}, "idle"), Arrival::delivered) << "a forgotten chat starts again";
}

}  // namespace
}  // namespace confab::realtime
