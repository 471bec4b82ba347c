#pragma once

#include "confab/realtime/hub.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace confab::realtime {

// Puts each chat's events back in commit order on a clustered node. One node publishes a
// chat's events in commit order, but two nodes committing to the same chat race each other
// on the bus: seq 6 from this node may be ready before seq 5 from another has crossed. Seqs
// have no gaps (PROTOCOL.md), so a message after a gap is held until the gap fills; a gap
// still open after the wait (its node died between its commit and its publish, or the bus
// lost it) closes the held messages' recipients with 1013, and their clients resync by
// since_version rather than miss it silently. A chat's other events (a member removed or
// added, an edit, a reaction) carry the seq of the chat's latest message when they were
// committed, and go out right after that message: a member removed on one node gets no
// message committed before the removal after its member.removed, though that message was
// held here for a gap from a third node. A chat the node does not know (it just started,
// or forgot the chat) has nothing to order its first message or event after: unless it is
// seq 1 (an event after none), it waits until the caller settles which earlier seqs are not
// to be waited for (those committed long before, which went out before the node knew the
// chat, or were given up). Not thread-safe: realtime::Cluster locks it.
class Sequencer {
public:
    using Clock = std::chrono::steady_clock;
    using Deliver = std::function<void(const std::vector<std::string>& user_ids, const Frame& frame)>;

    enum class Arrival {
        delivered,  // went out now, with whatever it released
        held,       // after a gap: waits for the gap to fill
        unsettled,  // the first of an unknown chat, after seq 1: held, and the caller settles it
        late,       // a message behind what already went out (a gap given up, or a chat first
                    // seen after it): dropped, and the caller resyncs its recipients
    };

    // `forget_after`: a chat idle this long is forgotten (its next message is taken as it comes).
    explicit Sequencer(Clock::duration wait, Clock::duration forget_after = std::chrono::minutes(10));

    // A part of message `seq` of the chat (a message may go out in several parts, to different
    // recipients). What may go out now goes to `deliver`, in order.
    Arrival arrive(std::string_view chat_id, std::int64_t seq, const std::vector<std::string>& user_ids,
                   const Frame& frame, Clock::time_point now, const Deliver& deliver);

    // Another event of the chat, committed when its latest message was `after_seq`: it goes out
    // right after that message, at once when that has gone out here (or was given up), and
    // after the events held after the same message. Held, it is given up with the gap it waits
    // for, as a message is. Never late: the messages after it were committed after it, but
    // ordering it behind them would need every event to announce itself to the other nodes.
    // Unsettled for an unknown chat unless `after_seq` is 0: the caller settles the seqs up
    // to `after_seq`.
    Arrival arrive_after(std::string_view chat_id, std::int64_t after_seq, const std::vector<std::string>& user_ids,
                         const Frame& frame, Clock::time_point now, const Deliver& deliver);

    // An unsettled chat's seqs up to `settled` are not waited for: what was held after them
    // goes out from there, in order, and a gap left before it waits as any other. No-op for a
    // chat settled already (its gap given up meanwhile).
    void settle(std::string_view chat_id, std::int64_t settled, const Deliver& deliver);

    // Gives up the gaps held for the wait by `now`: their held messages are dropped and each of
    // their recipients goes to `resync` once. Returns how many gaps were given up.
    std::size_t expire(Clock::time_point now, const std::function<void(const std::string& user_id)>& resync);

    // Forgets every chat, and drops what was held (its recipients are being resynced).
    void reset();

    // When expire() next has something to do; nothing while nothing is held.
    std::optional<Clock::time_point> next_deadline() const;

    std::size_t chats_known() const { return chats_.size(); }

private:
    struct Part {
        std::vector<std::string> user_ids;
        Frame frame;
    };
    // What waits at one seq: the parts of that message, and the events that go right after it.
    struct Held {
        std::vector<Part> message;
        std::vector<Part> after;
    };
    struct Chat {
        std::int64_t last = 0;  // the highest seq delivered or given up
        bool settled = true;    // false until settle() for a chat first seen after seq 1
        std::map<std::int64_t, Held> held;
        Clock::time_point held_since{};
        Clock::time_point touched{};
    };
    using Chats = std::unordered_map<std::string, Chat>;

    // The chat, known from now on if it was not (then `first` is true).
    struct Found {
        Chats::iterator entry;
        bool first = false;
    };
    Found find(std::string_view chat_id, Clock::time_point now);
    // Where what waits at `seq` goes, the chat then waiting for its gap.
    Held& hold(const std::string& chat_id, Chat& chat, std::int64_t seq, Clock::time_point now);
    // What nothing awaited holds back any more goes out, in order.
    void release(const std::string& chat_id, Chat& chat, const Deliver& deliver);
    void forget_idle(Clock::time_point now);

    Clock::duration wait_;
    Clock::duration forget_after_;
    Chats chats_;
    std::unordered_set<std::string> holding_;  // the chats with a gap: few, and all expire() and
                                               // next_deadline() walk
    std::size_t arrivals_ = 0;
};

}  // namespace confab::realtime
