#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace confab::domain {

// Whether a background loop's tick (push, webhooks, scheduled messages) needs to look in the
// database. A look is a transaction whether or not anything is there: five loops a second cost
// an idle server and its PostgreSQL about 1.3 % of a core each, a fixed cost spread over however
// few messages come (docs/performance.md, Idle). So a tick looks only when something may be
// waiting: the last look left work, this node has changed something since (a commit, a
// scheduling), a time the last look learned of has come, or `fallback` has passed since the
// last look, for what no change here announces (another node's work it did not finish, being
// killed meanwhile).
class PollGate {
public:
    using Clock = std::chrono::steady_clock;

    static constexpr auto default_fallback = std::chrono::seconds(5);

    explicit PollGate(Clock::duration fallback = default_fallback) : fallback_(fallback) {}

    // `changes`: this node's count of changes, read before the look it decides on.
    bool due(std::uint64_t changes, Clock::time_point now) const {
        return !looked_ || work_left_ || changes != changes_ || now >= next_due_ || now - last_look_ >= fallback_;
    }
    // After a look that began when `changes` was read: whether it left work for the next tick,
    // and when what it found waiting comes due.
    void looked(std::uint64_t changes, Clock::time_point now, bool work_left,
                Clock::time_point next_due = Clock::time_point::max()) {
        looked_ = true;
        changes_ = changes;
        last_look_ = now;
        work_left_ = work_left;
        next_due_ = next_due;
    }

private:
    Clock::duration fallback_;
    bool looked_ = false;
    bool work_left_ = false;
    std::uint64_t changes_ = 0;
    Clock::time_point last_look_{};
    Clock::time_point next_due_ = Clock::time_point::max();
};

// When a loop that mostly looks at the chats this node changed (ChatWrites::watch_changed_chats)
// looks at every chat, for what no change here announces: at the start, then `every` after the
// last full look ended, or twenty times as long as it took when that is longer, so that reading
// every chat costs PostgreSQL a bounded share of its time however many chats there are.
class FullLooks {
public:
    using Clock = std::chrono::steady_clock;
    static constexpr int share_of_time = 20;

    explicit FullLooks(Clock::duration every = PollGate::default_fallback) : every_(every) {}

    bool due(Clock::time_point now) const { return now >= next_; }
    // A full look that did not get through every chat (`finished` false) goes on at the next tick.
    void looked(Clock::time_point began, Clock::time_point ended, bool finished = true) {
        next_ = finished ? ended + std::max(every_, (ended - began) * share_of_time) : Clock::time_point{};
    }

private:
    Clock::duration every_;
    Clock::time_point next_{};
};

}  // namespace confab::domain
