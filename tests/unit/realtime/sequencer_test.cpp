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
    // An event of `chat` committed when its latest message was `seq`, whose frame is `name`.
    Arrival after(std::int64_t seq, const std::string& name, std::vector<std::string> users = {"ana"},
                  const std::string& chat = "c") {
        return sequencer.arrive_after(chat, seq, users, frame(name), now, deliver());
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
    // Sweeps run every few thousand arrivals: arrive in a third chat until one has run (the
    // first arrival makes it known, so the loop runs at least once).
    std::int64_t busy = 0;
    do {
        arrive(++busy, {"ana"}, "busy");
    } while (sequencer.chats_known() == 3);
    EXPECT_EQ(sequencer.chats_known(), 2u) << "the idle chat went; the one holding a message stayed";
    EXPECT_EQ(arrive(1, {"ana"}, "idle"), Arrival::delivered) << "a forgotten chat starts again";
}

TEST_F(SequencerTest, AnEventAfterAHeldMessageGoesRightAfterItOnceTheGapFills) {
    arrive(1);
    EXPECT_EQ(arrive(3, {"ana", "dee"}), Arrival::held) << "3 overtook 2 from another node";
    EXPECT_EQ(after(3, "removed", {"ana", "dee"}), Arrival::held) << "dee was removed after 3 was committed";
    EXPECT_EQ(arrive(4), Arrival::held);
    EXPECT_EQ(delivered, std::vector<std::string>{"ana:c1"});
    EXPECT_EQ(arrive(2), Arrival::delivered);
    EXPECT_EQ(delivered, (std::vector<std::string>{"ana:c1", "ana:c2", "ana:c3", "dee:c3", "ana:removed", "dee:removed",
                                                   "ana:c4"}));
    EXPECT_FALSE(sequencer.next_deadline());
}

TEST_F(SequencerTest, AnEventAfterAMessageNotYetHereWaitsForItThoughNothingElseIsHeld) {
    arrive(1);
    EXPECT_EQ(after(2, "edited"), Arrival::held) << "2, committed before the edit, is still crossing";
    EXPECT_EQ(sequencer.next_deadline(), now + 1s);
    EXPECT_EQ(arrive(3), Arrival::held);
    EXPECT_EQ(arrive(2), Arrival::delivered);
    EXPECT_EQ(delivered, (std::vector<std::string>{"ana:c1", "ana:c2", "ana:edited", "ana:c3"}));
    EXPECT_FALSE(sequencer.next_deadline());
}

TEST_F(SequencerTest, AnEventAfterWhatWentOutGoesAtOnceEvenPastHeldMessages) {
    arrive(1);
    arrive(2);
    EXPECT_EQ(arrive(4), Arrival::held);
    EXPECT_EQ(after(2, "reacted"), Arrival::delivered) << "committed before 3 and 4: nothing to wait for";
    EXPECT_EQ(after(1, "older"), Arrival::delivered);
    EXPECT_EQ(delivered, (std::vector<std::string>{"ana:c1", "ana:c2", "ana:reacted", "ana:older"}));
}

TEST_F(SequencerTest, EventsAfterTheSameMessageKeepTheirOrderAndEachOfItsPartsGoesFirst) {
    arrive(1);
    arrive(3, {"ana"});
    after(3, "e1", {"ana"});
    after(3, "e2", {"ben"});
    arrive(3, {"ben"});  // another part of 3, after the events crossed
    after(2, "e0");
    after(3, "e3");
    arrive(2);
    EXPECT_EQ(delivered, (std::vector<std::string>{"ana:c1", "ana:c2", "ana:e0", "ana:c3", "ben:c3", "ana:e1", "ben:e2",
                                                   "ana:e3"}));
}

TEST_F(SequencerTest, AnEventsPartsAreHeldEachAndGoOutTogether) {
    arrive(1);
    arrive(3);
    after(2, "ev", {"ana"});
    after(2, "ev", {"ben"});
    arrive(2, {"cy"});
    EXPECT_EQ(delivered, (std::vector<std::string>{"ana:c1", "cy:c2", "ana:ev", "ben:ev", "ana:c3"}));
}

TEST_F(SequencerTest, AnEventHeldForAGapNeverFilledIsGivenUpWithItsRecipientsResynced) {
    arrive(1);
    EXPECT_EQ(after(2, "removed", {"dee"}), Arrival::held);
    arrive(3, {"ana"});
    now += 1s;
    EXPECT_EQ(expire(), (std::vector<std::string>{"ana", "dee"}));
    EXPECT_EQ(delivered, std::vector<std::string>{"ana:c1"}) << "nothing held goes out";
    EXPECT_EQ(arrive(2), Arrival::late) << "given up";
    EXPECT_EQ(after(3, "later"), Arrival::delivered);
    EXPECT_EQ(arrive(4), Arrival::delivered);
    EXPECT_EQ(delivered, (std::vector<std::string>{"ana:c1", "ana:later", "ana:c4"}));
}

TEST_F(SequencerTest, AnEventAloneHeldForAGapIsGivenUpAndTheChatGoesOnAfterItsSeq) {
    arrive(1);
    after(3, "edited", {"dee"});
    now += 1s;
    EXPECT_EQ(expire(), std::vector<std::string>{"dee"});
    EXPECT_EQ(arrive(2), Arrival::late) << "what it waited for was given up with it";
    EXPECT_EQ(arrive(4), Arrival::delivered) << "the chat goes on after the seq it waited for";
}

TEST_F(SequencerTest, AnUnknownChatsEventAfterNoMessageGoesAtOnce) {
    EXPECT_EQ(after(0, "created"), Arrival::delivered);
    EXPECT_EQ(arrive(1), Arrival::delivered);
    EXPECT_EQ(delivered, (std::vector<std::string>{"ana:created", "ana:c1"}));
}

TEST_F(SequencerTest, AnUnknownChatsFirstEventWaitsUntilSettledAndThenForWhatIsStillCrossing) {
    EXPECT_EQ(after(7, "removed"), Arrival::unsettled);
    EXPECT_EQ(after(7, "second"), Arrival::held);
    EXPECT_EQ(arrive(9), Arrival::held);
    EXPECT_EQ(sequencer.next_deadline(), now + 1s);
    sequencer.settle("c", 6, deliver());
    EXPECT_TRUE(delivered.empty()) << "7 was stored a moment ago: still crossing";
    EXPECT_EQ(arrive(7), Arrival::delivered);
    EXPECT_EQ(delivered, (std::vector<std::string>{"ana:c7", "ana:removed", "ana:second"}));
    EXPECT_EQ(arrive(8), Arrival::delivered);
    EXPECT_EQ(delivered.back(), "ana:c9");
}

TEST_F(SequencerTest, AnUnknownChatsEventAfterASettledSeqGoesOnTheAnswerBeforeTheMessagesAfterIt) {
    EXPECT_EQ(arrive(9), Arrival::unsettled);
    EXPECT_EQ(after(7, "edited"), Arrival::held);
    sequencer.settle("c", 8, deliver());
    EXPECT_EQ(delivered, (std::vector<std::string>{"ana:edited", "ana:c9"}));
    EXPECT_FALSE(sequencer.next_deadline());
}

TEST_F(SequencerTest, AnUnknownChatsEventWhoseMessageIsSettledGoesOnTheAnswer) {
    EXPECT_EQ(after(7, "edited"), Arrival::unsettled);
    sequencer.settle("c", 7, deliver());
    EXPECT_EQ(delivered, std::vector<std::string>{"ana:edited"});
    EXPECT_EQ(arrive(8), Arrival::delivered);
}

TEST_F(SequencerTest, AnUnsettledChatsEventGivenUpResyncsItsRecipients) {
    after(7, "removed", {"dee"});
    now += 1s;
    EXPECT_EQ(expire(), std::vector<std::string>{"dee"});
    sequencer.settle("c", 6, deliver());
    EXPECT_TRUE(delivered.empty());
    EXPECT_EQ(after(7, "next"), Arrival::delivered) << "the chat goes on after what was given up";
}

TEST_F(SequencerTest, ResetDropsHeldEventsAndTheChatStartsAfresh) {
    arrive(1);
    after(2, "held");
    sequencer.reset();
    EXPECT_FALSE(sequencer.next_deadline());
    EXPECT_EQ(sequencer.chats_known(), 0u);
    EXPECT_EQ(after(3, "next"), Arrival::unsettled) << "a chat seen afresh is settled first";
    EXPECT_EQ(delivered, std::vector<std::string>{"ana:c1"});
}

TEST_F(SequencerTest, AChatHoldingAnEventIsNotForgottenAndAnIdleOnesNextEventIsSettledAgain) {
    arrive(1, {"ana"}, "idle");
    arrive(1, {"ana"}, "waiting");
    after(2, "held", {"ana"}, "waiting");
    now += 10min;
    std::int64_t busy = 0;
    do {
        arrive(++busy, {"ana"}, "busy");
    } while (sequencer.chats_known() == 3);
    EXPECT_EQ(sequencer.chats_known(), 2u) << "the idle chat went; the one holding an event stayed";
    EXPECT_EQ(after(1, "again", {"ana"}, "idle"), Arrival::unsettled) << "forgotten: its seqs are settled again";
    EXPECT_EQ(arrive(2, {"ana"}, "waiting"), Arrival::delivered);
    EXPECT_EQ(delivered.back(), "ana:held");
}

}  // namespace
}  // namespace confab::realtime
