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

// Puts each chat's message.new back in seq order on a clustered node. One node publishes a
// chat's messages in commit order, but two nodes committing to the same chat race each other
// on the bus: seq 6 from this node may be ready before seq 5 from another has crossed. Seqs
// have no gaps (PROTOCOL.md), so a message after a gap is held until the gap fills; a gap
// still open after the wait (its node died between its commit and its publish, or the bus
// lost it) closes the held messages' recipients with 1013, and their clients resync by
// since_version rather than miss it silently. A chat the node does not know (it just started,
// or forgot the chat) has nothing to order its first message after: unless it is seq 1, that
// message waits until the caller settles which earlier seqs are not to be waited for (those
// committed long before, which went out before the node knew the chat, or were given up).
// Not thread-safe: realtime::Cluster locks it.
class Sequencer {
public:
    using Clock = std::chrono::steady_clock;
    using Deliver = std::function<void(const std::vector<std::string>& user_ids, const Frame& frame)>;

    enum class Arrival {
        delivered,  // went out now, with whatever it released
        held,       // after a gap: waits for the gap to fill
        unsettled,  // the first of an unknown chat, after seq 1: held, and the caller settles it
        late,       // behind what already went out (a gap given up, or a chat first seen after
                    // it): dropped, and the caller resyncs its recipients
    };

    // `forget_after`: a chat idle this long is forgotten (its next message is taken as it comes).
    explicit Sequencer(Clock::duration wait, Clock::duration forget_after = std::chrono::minutes(10));

    // A part of message `seq` of the chat (a message may go out in several parts, to different
    // recipients). What may go out now goes to `deliver`, in order.
    Arrival arrive(std::string_view chat_id, std::int64_t seq, const std::vector<std::string>& user_ids,
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
    struct Chat {
        std::int64_t last = 0;  // the highest seq delivered or given up
        bool settled = true;    // false until settle() for a chat first seen after seq 1
        std::map<std::int64_t, std::vector<Part>> held;
        Clock::time_point held_since{};
        Clock::time_point touched{};
    };

    void hold(const std::string& chat_id, Chat& chat, std::int64_t seq, const std::vector<std::string>& user_ids,
              const Frame& frame, Clock::time_point now);
    void release(Chat& chat, const Deliver& deliver);
    void forget_idle(Clock::time_point now);

    Clock::duration wait_;
    Clock::duration forget_after_;
    std::unordered_map<std::string, Chat> chats_;
    std::unordered_set<std::string> holding_;  // the chats with a gap: few, and all expire() and
                                               // next_deadline() walk
    std::size_t arrivals_ = 0;
};

}  // namespace confab::realtime
