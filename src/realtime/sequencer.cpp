#include "confab/realtime/sequencer.hpp"

#include <algorithm>
#include <set>
#include <utility>

namespace confab::realtime {
namespace {

// How many arrivals between two sweeps for idle chats: the sweep walks every known chat.
constexpr std::size_t kArrivalsPerSweep = 4096;

}  // namespace

Sequencer::Sequencer(Clock::duration wait, Clock::duration forget_after) : wait_(wait), forget_after_(forget_after) {}

Sequencer::Arrival Sequencer::arrive(std::string_view chat_id, std::int64_t seq,
                                     const std::vector<std::string>& user_ids, const Frame& frame,
                                     Clock::time_point now, const Deliver& deliver) {
    if (++arrivals_ % kArrivalsPerSweep == 0) forget_idle(now);
    auto found = chats_.find(std::string(chat_id));
    if (found == chats_.end()) {
        // The first of this chat since the node started or forgot it: nothing to order it after.
        found = chats_.emplace(std::string(chat_id), Chat{}).first;
        auto& chat = found->second;
        chat.touched = now;
        if (seq == 1) {
            chat.last = seq;
            deliver(user_ids, frame);
            return Arrival::delivered;
        }
        chat.settled = false;
        hold(found->first, chat, seq, user_ids, frame, now);
        return Arrival::unsettled;
    }
    auto& chat = found->second;
    chat.touched = now;
    if (!chat.settled) {
        hold(found->first, chat, seq, user_ids, frame, now);
        return Arrival::held;
    }
    if (seq < chat.last) return Arrival::late;
    if (seq == chat.last || seq == chat.last + 1) {
        // Another part of the last message, or the next one: out now, then what it unblocks.
        deliver(user_ids, frame);
        chat.last = seq;
        if (!chat.held.empty()) {
            release(chat, deliver);
            if (chat.held.empty()) holding_.erase(found->first);
        }
        return Arrival::delivered;
    }
    hold(found->first, chat, seq, user_ids, frame, now);
    return Arrival::held;
}

void Sequencer::hold(const std::string& chat_id, Chat& chat, std::int64_t seq, const std::vector<std::string>& user_ids,
                     const Frame& frame, Clock::time_point now) {
    if (chat.held.empty()) {
        chat.held_since = now;
        holding_.insert(chat_id);
    }
    chat.held[seq].push_back({user_ids, frame});
}

void Sequencer::settle(std::string_view chat_id, std::int64_t settled, const Deliver& deliver) {
    const auto found = chats_.find(std::string(chat_id));
    if (found == chats_.end() || found->second.settled) return;
    auto& chat = found->second;
    chat.settled = true;
    // Nothing held has gone out here yet: all of it goes, once nothing before it is awaited.
    chat.last = chat.held.empty() ? settled : std::min(settled, chat.held.begin()->first - 1);
    release(chat, deliver);
    if (chat.held.empty()) holding_.erase(found->first);
}

void Sequencer::release(Chat& chat, const Deliver& deliver) {
    while (!chat.held.empty() && chat.held.begin()->first == chat.last + 1) {
        auto next = chat.held.extract(chat.held.begin());
        for (const auto& part : next.mapped()) deliver(part.user_ids, part.frame);
        chat.last = next.key();
    }
}

std::size_t Sequencer::expire(Clock::time_point now, const std::function<void(const std::string& user_id)>& resync) {
    std::size_t given_up = 0;
    std::set<std::string> recipients;
    for (auto id = holding_.begin(); id != holding_.end();) {
        auto& chat = chats_.at(*id);
        if (now < chat.held_since + wait_) {
            ++id;
            continue;
        }
        for (const auto& [seq, parts] : chat.held)
            for (const auto& part : parts) recipients.insert(part.user_ids.begin(), part.user_ids.end());
        chat.last = chat.held.rbegin()->first;
        chat.settled = true;
        chat.held.clear();
        id = holding_.erase(id);
        ++given_up;
    }
    for (const auto& user_id : recipients) resync(user_id);
    return given_up;
}

void Sequencer::reset() {
    chats_.clear();
    holding_.clear();
}

std::optional<Sequencer::Clock::time_point> Sequencer::next_deadline() const {
    std::optional<Clock::time_point> earliest;
    for (const auto& id : holding_) {
        const auto deadline = chats_.at(id).held_since + wait_;
        if (!earliest || deadline < *earliest) earliest = deadline;
    }
    return earliest;
}

void Sequencer::forget_idle(Clock::time_point now) {
    std::erase_if(chats_, [&](const auto& entry) {
        return entry.second.held.empty() && now - entry.second.touched >= forget_after_;
    });
}

}  // namespace confab::realtime
