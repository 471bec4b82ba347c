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

Sequencer::Found Sequencer::find(std::string_view chat_id, Clock::time_point now) {
    if (++arrivals_ % kArrivalsPerSweep == 0) forget_idle(now);
    auto found = chats_.find(std::string(chat_id));
    const bool first = found == chats_.end();
    if (first) found = chats_.emplace(std::string(chat_id), Chat{}).first;
    found->second.touched = now;
    return {found, first};
}

Sequencer::Arrival Sequencer::arrive(std::string_view chat_id, std::int64_t seq,
                                     const std::vector<std::string>& user_ids, const Frame& frame,
                                     Clock::time_point now, const Deliver& deliver) {
    const auto [entry, first] = find(chat_id, now);
    auto& chat = entry->second;
    if (first && seq != 1) {
        // The first of this chat since the node started or forgot it: nothing to order it after.
        chat.settled = false;
        hold(entry->first, chat, seq, now).message.push_back({user_ids, frame});
        return Arrival::unsettled;
    }
    if (!chat.settled) {
        hold(entry->first, chat, seq, now).message.push_back({user_ids, frame});
        return Arrival::held;
    }
    if (seq < chat.last) return Arrival::late;
    if (seq == chat.last || seq == chat.last + 1) {
        // Another part of the last message, or the next one: out now, then what it unblocks.
        deliver(user_ids, frame);
        chat.last = seq;
        if (!chat.held.empty()) release(entry->first, chat, deliver);
        return Arrival::delivered;
    }
    hold(entry->first, chat, seq, now).message.push_back({user_ids, frame});
    return Arrival::held;
}

Sequencer::Arrival Sequencer::arrive_after(std::string_view chat_id, std::int64_t after_seq,
                                           const std::vector<std::string>& user_ids, const Frame& frame,
                                           Clock::time_point now, const Deliver& deliver) {
    const auto [entry, first] = find(chat_id, now);
    auto& chat = entry->second;
    if (first && after_seq > 0) {
        chat.settled = false;
        hold(entry->first, chat, after_seq, now).after.push_back({user_ids, frame});
        return Arrival::unsettled;
    }
    if (chat.settled && after_seq <= chat.last) {
        // What was held after that message went out with it: this one follows.
        deliver(user_ids, frame);
        return Arrival::delivered;
    }
    hold(entry->first, chat, after_seq, now).after.push_back({user_ids, frame});
    return Arrival::held;
}

Sequencer::Held& Sequencer::hold(const std::string& chat_id, Chat& chat, std::int64_t seq, Clock::time_point now) {
    if (chat.held.empty()) {
        chat.held_since = now;
        holding_.insert(chat_id);
    }
    return chat.held[seq];
}

void Sequencer::settle(std::string_view chat_id, std::int64_t settled, const Deliver& deliver) {
    const auto found = chats_.find(std::string(chat_id));
    if (found == chats_.end() || found->second.settled) return;
    auto& chat = found->second;
    chat.settled = true;
    // No message held has gone out here yet: all of them go, once nothing before them is
    // awaited. An event held after a seq settled goes now.
    const auto first_message = std::find_if(chat.held.begin(), chat.held.end(),
                                            [](const auto& waiting) { return !waiting.second.message.empty(); });
    chat.last = first_message == chat.held.end() ? settled : std::min(settled, first_message->first - 1);
    release(found->first, chat, deliver);
}

void Sequencer::release(const std::string& chat_id, Chat& chat, const Deliver& deliver) {
    while (!chat.held.empty()) {
        const auto next = chat.held.begin();
        const auto& [seq, waiting] = *next;
        if (seq > chat.last) {
            // Its message first, once every seq before it has gone; nothing held goes past a gap.
            if (seq != chat.last + 1 || waiting.message.empty()) break;
            for (const auto& part : waiting.message) deliver(part.user_ids, part.frame);
            chat.last = seq;
        }
        for (const auto& part : waiting.after) deliver(part.user_ids, part.frame);
        chat.held.erase(next);
    }
    if (chat.held.empty()) holding_.erase(chat_id);
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
        for (const auto& [seq, waiting] : chat.held)
            for (const auto* parts : {&waiting.message, &waiting.after})
                for (const auto& part : *parts) recipients.insert(part.user_ids.begin(), part.user_ids.end());
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
