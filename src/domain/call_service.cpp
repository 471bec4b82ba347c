#include "confab/domain/call_service.hpp"

#include "confab/domain/group_writes.hpp"
#include "confab/domain/rules.hpp"
#include "confab/realtime/hub.hpp"
#include "confab/domain/validation.hpp"
#include "confab/store/calls.hpp"
#include "confab/store/chats.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

namespace confab::domain {
namespace {

std::string random_uuid() {
    unsigned char raw[16];
    randombytes_buf(raw, sizeof raw);
    raw[6] = static_cast<unsigned char>((raw[6] & 0x0f) | 0x40);  // version 4
    raw[8] = static_cast<unsigned char>((raw[8] & 0x3f) | 0x80);  // RFC 4122 variant
    char hex[sizeof raw * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
    const std::string text(hex);
    return text.substr(0, 8) + '-' + text.substr(8, 4) + '-' + text.substr(12, 4) + '-' + text.substr(16, 4) + '-' +
           text.substr(20);
}

model::Error refused(const std::string& message, const char* reason) {
    return model::with_reason(model::ErrorCode::conflict, message, reason);
}

std::string minutes_and_seconds(std::int64_t milliseconds) {
    const auto seconds = milliseconds / 1000;
    const auto hours = seconds / 3600;
    const auto two_digits = [](std::int64_t n) { return (n < 10 ? "0" : "") + std::to_string(n); };
    if (hours > 0) return std::to_string(hours) + ":" + two_digits(seconds / 60 % 60) + ":" + two_digits(seconds % 60);
    return std::to_string(seconds / 60) + ":" + two_digits(seconds % 60);
}

// metadata of the system message; names, UUIDs and numbers need no JSON escaping.
std::string summary_metadata(const calls::Call& call) {
    return R"({"event":"call.)" + std::string(calls::to_string(*call.outcome())) + R"(","user_id":")" +
           call.caller_id() + R"(","call_id":")" + call.id() + R"(","kind":")" +
           std::string(calls::to_string(call.kind())) + R"(","duration_ms":)" + std::to_string(call.duration_ms()) +
           "}";
}

std::vector<std::string> members_of(const store::ChatAccess& chat) {
    std::vector<std::string> members;
    members.reserve(chat.members.size());
    for (const auto& [member, role] : chat.members) members.push_back(member);
    return members;
}

// One step for transitions made together: every ring they stopped, and whether one ended the call.
calls::Step together(const std::vector<calls::Step>& steps) {
    calls::Step all;
    for (const auto& step : steps) {
        all.rings_stopped.insert(all.rings_stopped.end(), step.rings_stopped.begin(), step.rings_stopped.end());
        all.ended = all.ended || step.ended;
    }
    return all;
}

}  // namespace

std::string call_summary(const calls::Call& call) {
    const std::string kind(calls::to_string(call.kind()));
    switch (call.outcome().value_or(calls::Outcome::missed)) {
        case calls::Outcome::missed: return "Missed " + kind + " call";
        case calls::Outcome::declined: return "Declined " + kind + " call";
        case calls::Outcome::completed: break;
    }
    auto capitalized = kind;
    capitalized.front() = static_cast<char>(std::toupper(static_cast<unsigned char>(capitalized.front())));
    return capitalized + " call, " + minutes_and_seconds(call.duration_ms());
}

CallService::CallService(ChatWrites& writes, realtime::Hub& hub, CallNotices& notices, Workers& workers,
                         const config::Calls& settings)
    : writes_(writes),
      hub_(hub),
      notices_(notices),
      settings_(settings),
      strand_(boost::asio::make_strand(workers.pool())),
      timer_(strand_) {}

void CallService::start_sweeper() { boost::asio::co_spawn(strand_, loop(), boost::asio::detached); }

void CallService::stop_sweeper() {
    boost::asio::post(strand_, [this] { timer_.cancel(); });
}

IceServers CallService::ice_servers(const std::string& user_id) const {
    IceServers servers{settings_.turn_urls, std::nullopt, settings_.turn_ttl};
    if (!servers.urls.empty() && !settings_.turn_secret.empty())
        servers.credentials = calls::turn_credentials(settings_.turn_secret, user_id, model::now(), settings_.turn_ttl);
    return servers;
}

CallService::Live& CallService::live(const std::string& call_id) {
    const auto found = calls_.find(call_id);
    if (found == calls_.end()) throw not_found("call");
    return found->second;
}

const CallService::Live* CallService::running_in(const std::string& chat_id) const {
    const auto found = std::find_if(calls_.begin(), calls_.end(),
                                    [&](const auto& entry) { return entry.second.call.chat_id() == chat_id; });
    return found == calls_.end() ? nullptr : &found->second;
}

void CallService::require_free(const std::string& user_id, const std::string& call_id) const {
    const auto found = in_call_.find(user_id);
    if (found != in_call_.end() && found->second != call_id) throw refused("already in another call", "in_call");
}

boost::asio::awaitable<void> CallService::require_member(const std::string& call_id, const std::string& user_id) {
    require_uuid(call_id, "call_id");
    std::string chat_id;
    {
        std::lock_guard lock(mutex_);
        chat_id = live(call_id).call.chat_id();
    }
    const auto access = co_await follow_chat(chat_id);
    standing_in(access.get(), user_id, "call");
}

boost::asio::awaitable<std::shared_ptr<const store::ChatAccess>> CallService::follow_chat(std::string chat_id) {
    auto access = co_await writes_.access(chat_id);
    std::optional<calls::Call> ended;
    {
        std::lock_guard lock(mutex_);
        const auto found = std::find_if(calls_.begin(), calls_.end(),
                                        [&](const auto& entry) { return entry.second.call.chat_id() == chat_id; });
        if (found != calls_.end()) ended = follow_members(found->second, access);
    }
    co_await remember(std::move(ended));
    co_return access;
}

std::optional<calls::Call> CallService::follow_members(Live& live, std::shared_ptr<const store::ChatAccess> access) {
    // A deleted chat has no members: everyone in the call leaves it, and nobody hears of it.
    static const auto no_members = std::make_shared<const store::ChatAccess>();
    if (!access) access = no_members;
    const auto before = std::exchange(live.chat, std::move(access));
    std::vector<calls::Step> steps;
    for (const auto& user : live.call.involved()) {
        if (live.chat->members.contains(user)) continue;
        live.grace_until.erase(user);
        steps.push_back(live.call.member_gone(user, model::now()));
    }
    if (!steps.empty()) return publish(live, together(steps));  // tells every member, the new ones too
    // Members who joined since are told of the call as a connection opening would be: a member
    // connected before their add would otherwise learn of it only at its next change.
    if (before && before != live.chat) {
        std::vector<std::string> newcomers;
        for (const auto& [member, role] : live.chat->members)
            if (!before->members.contains(member)) newcomers.push_back(member);
        if (!newcomers.empty()) notices_.changed(newcomers, live.call);
    }
    return std::nullopt;
}

std::optional<calls::Call> CallService::publish(Live& live, const calls::Step& step) {
    const auto& call = live.call;
    for (const auto& stopped : step.rings_stopped) notices_.ring_stopped(stopped.user_id, call, stopped.reason);
    notices_.changed(members_of(*live.chat), call);
    for (auto entry = in_call_.begin(); entry != in_call_.end();) {
        if (entry->second != call.id() || (!step.ended && call.is_participant(entry->first))) {
            ++entry;
            continue;
        }
        // An ended call's seats go with its row (release).
        if (process_id_ && !step.ended) depart(entry->first, call.id());
        seat_entries_.erase(entry->first);
        entry = in_call_.erase(entry);
    }
    if (!step.ended) {
        for (const auto& [user, participant] : call.participants()) in_call_[user] = call.id();
        return std::nullopt;
    }
    auto ended = std::move(live.call);
    calls_.erase(ended.id());
    return ended;
}

boost::asio::awaitable<void> CallService::remember(std::optional<calls::Call> ended) {
    if (process_id_) co_await free_seats();
    if (!ended) co_return;
    if (process_id_) co_await release(ended->id());
    co_await write_summary(std::move(*ended));
}

boost::asio::awaitable<void> CallService::write_summary(calls::Call ended) {
    const auto chat_id = ended.chat_id();
    try {
        co_await writes_.commit(chat_id, [call = std::move(ended)](store::Tx& tx) {
            Outcome<bool> outcome{false, {}};
            if (!store::chats::lock(tx, call.chat_id())) return outcome;  // the chat is gone
            // A direct chat's member who deleted it gets it back with the summary, as with a send.
            const auto shown_again =
                shown_again_by_next_message(tx, store::chats::kind_of(tx, call.chat_id())->type, call.chat_id());
            auto note =
                write_system_note(tx, call.chat_id(), call.caller_id(), call_summary(call), summary_metadata(call));
            announce_shown_again(tx, outcome.effects, call.chat_id(), shown_again);
            deliver_message(outcome.effects, std::move(note));
            outcome.value = true;
            return outcome;
        });
    } catch (const std::exception& e) {
        spdlog::warn("calls: the system message of a call in chat {} was not written: {}", chat_id, e.what());
    }
}

boost::asio::awaitable<calls::Call> CallService::start(calls::Device caller, std::string chat_id, calls::Kind kind) {
    const auto standing = co_await writes_.standing(chat_id, caller.user_id);
    rules::may_start_call(standing);
    auto access = co_await writes_.access(chat_id);
    if (!access) throw not_found("chat");
    const auto id = random_uuid();
    const bool group = standing.type == ChatType::group;
    if (!process_id_) {
        std::lock_guard lock(mutex_);
        co_return open(std::move(caller), id, chat_id, kind, group, std::move(access), {});
    }
    const auto busy =
        co_await claim({chat_id, id, std::string(calls::to_string(kind)), group, caller.user_id, model::now()},
                       members_of(*access));
    std::exception_ptr refused_here;
    try {
        std::lock_guard lock(mutex_);
        co_return open(std::move(caller), id, chat_id, kind, group, std::move(access), busy);
    } catch (...) {
        refused_here = std::current_exception();
    }
    co_await release(id);
    std::rethrow_exception(refused_here);
}

const calls::Call& CallService::open(calls::Device caller, const std::string& call_id, const std::string& chat_id,
                                     calls::Kind kind, bool group, std::shared_ptr<const store::ChatAccess> chat,
                                     const std::vector<std::string>& busy_elsewhere) {
    require_free(caller.user_id, {});
    if (running_in(chat_id)) throw refused("a call is running in the chat", "call_running");
    std::vector<std::string> callees;
    for (const auto& [member, role] : chat->members)
        if (member != caller.user_id && !in_call_.contains(member) &&
            std::find(busy_elsewhere.begin(), busy_elsewhere.end(), member) == busy_elsewhere.end())
            callees.push_back(member);
    if (callees.empty()) {
        if (chat->members.size() > 1) throw refused("every callee is in another call", "busy");
        throw bad_request("nobody else is in the chat", "chat_id");
    }
    const auto caller_id = caller.user_id;
    Live entry{calls::Call(call_id, chat_id, kind, group, std::move(caller), callees, model::now()),
               std::move(chat),
               Clock::now() + settings_.ring_timeout,
               {}};
    auto& live = calls_.emplace(call_id, std::move(entry)).first->second;
    in_call_[caller_id] = call_id;
    notices_.ring(callees, live.call);
    notices_.changed(members_of(*live.chat), live.call);
    return live.call;
}

boost::asio::awaitable<std::vector<std::string>> CallService::claim(const store::calls::NewCall& call,
                                                                    const std::vector<std::string>& audience) {
    auto claimed = co_await writes_.pool().run(
        [&](store::Tx& tx) { return store::calls::claim(tx, call, *process_id_, audience); });
    switch (claimed.result) {
        case store::calls::Claim::Result::caller_in_call: throw refused("already in another call", "in_call");
        case store::calls::Claim::Result::call_running: throw refused("a call is running in the chat", "call_running");
        case store::calls::Claim::Result::claimed: break;
    }
    co_return std::move(claimed.busy);
}

boost::asio::awaitable<void> CallService::take_seat(const std::string& user_id, const std::string& call_id) {
    const auto seating =
        co_await writes_.pool().run([&](store::Tx& tx) { return store::calls::take_seat(tx, user_id, call_id); });
    switch (seating.seat) {
        case store::calls::Seat::taken:
        case store::calls::Seat::already_in_this_call: {
            // Whether or not the entry goes on: a later leave must free the seat as it is now.
            std::lock_guard lock(mutex_);
            seat_entries_[user_id] = seating.entries;
            co_return;
        }
        case store::calls::Seat::in_another_call: throw refused("already in another call", "in_call");
        case store::calls::Seat::call_gone: throw not_found("call");
    }
}

void CallService::depart(const std::string& user_id, const std::string& call_id) {
    const auto entries = seat_entries_.extract(user_id);
    departed_.push_back({user_id, call_id, entries ? entries.mapped() : 1});
}

boost::asio::awaitable<void> CallService::free_seats() {
    std::vector<Departure> left;
    {
        std::lock_guard lock(mutex_);
        left.swap(departed_);
    }
    if (left.empty()) co_return;
    try {
        // A seat its user entered again meanwhile (a group call left and joined again) stays.
        co_await writes_.pool().run([&](store::Tx& tx) {
            for (const auto& seat : left) store::calls::free_seat(tx, seat.user_id, seat.call_id, seat.seat_entries);
            return true;
        });
    } catch (const std::exception& e) {
        // Their seats stay until the call ends: they are busy for the cluster until then.
        spdlog::error("calls: {} participants left a call but were not freed for the cluster: {}", left.size(),
                      e.what());
    }
}

boost::asio::awaitable<void> CallService::end_lost_calls() {
    std::vector<std::string> mine;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [id, entry] : calls_) mine.push_back(id);
    }
    struct Found {
        std::vector<store::calls::Lost> lost;
        std::vector<std::string> kept;  // this process's calls still recorded
    };
    // The owner was silent for the presence timeout before it was swept: as far as anyone knows,
    // its calls ran until then.
    const auto lost_at = model::now() - presence_timeout_;
    auto found = co_await writes_.pool().run([&](store::Tx& tx) {
        return Found{store::calls::take_lost(tx), store::calls::owned_by(tx, *process_id_)};
    });
    {
        // Every call here was recorded before it opened, so one no longer recorded was ended as
        // lost while this process was silent (paused, cut off): its members were told then.
        std::lock_guard lock(mutex_);
        for (const auto& id : mine) {
            if (std::find(found.kept.begin(), found.kept.end(), id) != found.kept.end() || !calls_.erase(id)) continue;
            spdlog::warn("calls: call {} was ended as lost while this node was silent", id);
            std::erase_if(in_call_, [&](const auto& entry) {
                if (entry.second != id) return false;
                seat_entries_.erase(entry.first);
                return true;
            });
        }
    }
    for (auto& lost : found.lost) {
        auto& record = lost.call;
        auto call =
            calls::Call::lost(record.call_id, record.chat_id,
                              calls::kind_from(record.kind).value_or(calls::Kind::voice), record.group,
                              record.caller_id, lost.participants, record.started_at, lost.answered_at, lost_at);
        spdlog::warn("calls: call {} in chat {} ended: the node running it was lost", call.id(), call.chat_id());
        if (const auto access = co_await writes_.access(call.chat_id())) notices_.changed(members_of(*access), call);
        co_await write_summary(std::move(call));
    }
}

boost::asio::awaitable<void> CallService::release(const std::string& call_id) {
    try {
        co_await writes_.pool().run([&](store::Tx& tx) {
            store::calls::release(tx, call_id);
            return true;
        });
    } catch (const std::exception& e) {
        // The row stays until this process is swept as silent: its chat takes no new call here.
        spdlog::error("calls: call {} ended but its chat was not freed for the cluster: {}", call_id, e.what());
    }
}

boost::asio::awaitable<std::optional<std::string>> CallService::owner_elsewhere_of_call(std::string call_id) {
    if (!process_id_ || !is_uuid(call_id)) co_return std::nullopt;
    {
        std::lock_guard lock(mutex_);
        if (calls_.contains(call_id)) co_return std::nullopt;
    }
    const auto owner = co_await writes_.pool().run([&](store::Tx& tx) { return store::calls::of_call(tx, call_id); });
    if (!owner || owner->process_id == *process_id_) co_return std::nullopt;
    co_return owner->process_id;
}

boost::asio::awaitable<std::optional<std::string>> CallService::owner_elsewhere_of_chat(std::string chat_id) {
    if (!process_id_ || !is_uuid(chat_id)) co_return std::nullopt;
    {
        std::lock_guard lock(mutex_);
        if (running_in(chat_id)) co_return std::nullopt;
    }
    const auto owner = co_await writes_.pool().run([&](store::Tx& tx) { return store::calls::of_chat(tx, chat_id); });
    if (!owner || owner->process_id == *process_id_) co_return std::nullopt;
    co_return owner->process_id;
}

boost::asio::awaitable<calls::Call> CallService::running(std::string user_id, std::string chat_id) {
    co_await writes_.standing(chat_id, user_id);
    std::lock_guard lock(mutex_);
    const auto* entry = running_in(chat_id);
    if (!entry) throw model::with_reason(model::ErrorCode::not_found, "no call runs in the chat", "no_call");
    co_return entry->call;
}

boost::asio::awaitable<calls::Call> CallService::accept(calls::Device device, std::string call_id) {
    co_return co_await enter(std::move(device), call_id, &calls::Call::answer);
}

boost::asio::awaitable<calls::Call> CallService::join(calls::Device device, std::string call_id) {
    co_return co_await enter(std::move(device), call_id, &calls::Call::join);
}

// A ring is the user's, on every device: any of them declines it.
boost::asio::awaitable<void> CallService::decline(std::string user_id, std::string call_id) {
    co_await step_out(user_id, call_id,
                      [&user_id](calls::Call& call, model::Timestamp now) { return call.decline(user_id, now); });
}

boost::asio::awaitable<void> CallService::leave(calls::Device device, std::string call_id) {
    co_await step_out(device.user_id, call_id,
                      [&device](calls::Call& call, model::Timestamp now) { return call.leave(device, now); });
}

boost::asio::awaitable<calls::Call> CallService::enter(calls::Device device, const std::string& call_id, Entering how) {
    co_await require_member(call_id, device.user_id);
    if (process_id_) co_await take_seat(device.user_id, call_id);
    std::optional<calls::Call> entered;
    std::optional<model::Timestamp> first_answer;
    std::exception_ptr refused_here;
    try {
        std::lock_guard lock(mutex_);
        auto& entry = live(call_id);
        require_free(device.user_id, call_id);
        const bool answered_before = entry.call.answered_at().has_value();
        publish(entry, (entry.call.*how)(device, settings_.mesh_limit, model::now()));
        if (!answered_before) first_answer = entry.call.answered_at();
        entered = entry.call;
    } catch (...) {
        refused_here = std::current_exception();
    }
    if (refused_here) {
        if (process_id_) {
            {
                // Not in the call after all: the seat this entry took, or found and counted, goes.
                std::lock_guard lock(mutex_);
                const auto in = in_call_.find(device.user_id);
                if (in == in_call_.end() || in->second != call_id) depart(device.user_id, call_id);
            }
            co_await free_seats();
        }
        std::rethrow_exception(refused_here);
    }
    if (process_id_ && first_answer) {
        try {
            co_await writes_.pool().run([&](store::Tx& tx) {
                store::calls::answered(tx, call_id, *first_answer);
                return true;
            });
        } catch (const std::exception& e) {
            // Only the message of a call whose node dies needs it: it would read as missed.
            spdlog::warn("calls: the answer of call {} was not recorded for the cluster: {}", call_id, e.what());
        }
    }
    co_return *entered;
}

boost::asio::awaitable<void> CallService::step_out(const std::string& user_id, const std::string& call_id,
                                                   const Leaving& how) {
    co_await require_member(call_id, user_id);
    std::optional<calls::Call> ended;
    {
        std::lock_guard lock(mutex_);
        auto& entry = live(call_id);
        ended = publish(entry, how(entry.call, model::now()));
    }
    co_await remember(std::move(ended));
}

boost::asio::awaitable<void> CallService::share_screen(calls::Device device, std::string call_id, bool sharing) {
    co_await require_member(call_id, device.user_id);
    std::lock_guard lock(mutex_);
    auto& entry = live(call_id);
    if (entry.call.share_screen(device, sharing)) publish(entry, {});
}

boost::asio::awaitable<void> CallService::relay(calls::Device from, std::string call_id, std::string to_user_id,
                                                std::string kind, std::string payload) {
    co_await require_member(call_id, from.user_id);
    std::lock_guard lock(mutex_);
    const auto& call = live(call_id).call;
    call.require_relay(from, to_user_id);
    notices_.relay(*call.device_of(to_user_id), call, from.user_id, kind, payload);
}

void CallService::connected(const calls::Device& device) {
    std::lock_guard lock(mutex_);
    for (const auto& [id, entry] : calls_) {
        if (entry.chat->members.contains(device.user_id)) notices_.running_device(device, entry.call);
        if (entry.call.ringing().contains(device.user_id)) notices_.ring_device(device, entry.call);
    }
    const auto found = in_call_.find(device.user_id);
    if (found == in_call_.end()) return;
    auto& entry = calls_.at(found->second);
    if (!entry.call.device_back(device)) return;
    entry.grace_until.erase(device.user_id);
    publish(entry, {});
}

void CallService::disconnected(const calls::Device& device) {
    // Counted under the lock: a reconnect attaches before its connected() takes it, so either
    // this sees the new connection, or connected() comes after and takes the drop back.
    std::lock_guard lock(mutex_);
    if (hub_.connections_of(device.user_id, device.token_hash) > 0) return;
    const auto found = in_call_.find(device.user_id);
    if (found == in_call_.end()) return;
    auto& entry = calls_.at(found->second);
    if (!entry.call.device_dropped(device)) return;
    entry.grace_until[device.user_id] = Clock::now() + settings_.reconnect_grace;
    publish(entry, {});
}

CallService::Expired CallService::expire() {
    Expired expired;
    const auto now = Clock::now();
    std::lock_guard lock(mutex_);
    for (auto it = calls_.begin(); it != calls_.end();) {
        auto& entry = (it++)->second;  // publish() erases an ended call
        // This node's own member changes are in its cache at once; a chat the cache no longer
        // holds (deleted, or changed by another node) is loaded again after this pass.
        auto access = writes_.cache().find(entry.call.chat_id());
        if (!access) expired.uncached_chats.push_back(entry.call.chat_id());
        else if (auto call = follow_members(entry, std::move(access))) {
            expired.ended.push_back(std::move(*call));
            continue;
        }
        std::vector<calls::Step> steps;
        if (!entry.call.ringing().empty() && entry.ring_until <= now)
            steps.push_back(entry.call.ring_timeout(model::now()));
        for (auto grace = entry.grace_until.begin(); grace != entry.grace_until.end();) {
            if (grace->second > now || entry.call.phase() == calls::Phase::ended) {
                ++grace;
                continue;
            }
            steps.push_back(entry.call.grace_over(grace->first, model::now()));
            grace = entry.grace_until.erase(grace);
        }
        if (steps.empty()) continue;
        if (auto call = publish(entry, together(steps))) expired.ended.push_back(std::move(*call));
    }
    return expired;
}

boost::asio::awaitable<void> CallService::loop() {
    for (;;) {
        timer_.expires_after(tick);
        auto [ec] = co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
        if (ec) co_return;  // stopped
        auto [ended, uncached_chats] = expire();
        if (process_id_) co_await free_seats();
        for (auto& call : ended) co_await remember(std::move(call));
        for (auto& chat_id : uncached_chats) {
            try {
                co_await follow_chat(std::move(chat_id));
            } catch (const std::exception& e) {
                spdlog::warn("calls: loading a call's chat failed: {}", e.what());
            }
        }
        if (process_id_ && Clock::now() >= next_lost_check_) {
            next_lost_check_ = Clock::now() + presence_timeout_ / 3;
            try {
                co_await end_lost_calls();
            } catch (const std::exception& e) {
                spdlog::warn("calls: looking for calls of lost nodes failed: {}", e.what());
            }
        }
    }
}

}  // namespace confab::domain
