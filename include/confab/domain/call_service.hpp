#pragma once

#include "confab/config/config.hpp"
#include "confab/domain/blocking.hpp"
#include "confab/domain/calls.hpp"
#include "confab/domain/commit.hpp"
#include "confab/store/calls.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace confab::realtime {
class Hub;
}

namespace confab::domain {

// Where a call's changes go out (api::CallPublisher): the frames of docs/asyncapi.yaml.
class CallNotices {
public:
    virtual ~CallNotices() = default;
    // call.ring to every device of these users.
    virtual void ring(const std::vector<std::string>& users, const calls::Call& call) = 0;
    // call.ring to one device that connected while the call rings for its user.
    virtual void ring_device(const calls::Device& device, const calls::Call& call) = 0;
    // call.updated to one device that connected while the call runs in one of its user's chats.
    virtual void running_device(const calls::Device& device, const calls::Call& call) = 0;
    // call.ring_stopped to every device of the user.
    virtual void ring_stopped(const std::string& user_id, const calls::Call& call, calls::RingStop reason) = 0;
    // call.updated, or call.ended once the call has ended, to every device of these users.
    virtual void changed(const std::vector<std::string>& users, const calls::Call& call) = 0;
    // call.signal to the device in the call: an offer, answer or candidate from another participant.
    virtual void relay(const calls::Device& to, const calls::Call& call, const std::string& from_user_id,
                       const std::string& kind, const std::string& payload) = 0;
};

// The ICE servers a user's client may use: the configured URLs, with TURN credentials when
// a secret is shared with the TURN server.
struct IceServers {
    std::vector<std::string> urls;
    std::optional<calls::TurnCredentials> credentials;
    std::chrono::seconds ttl;
};

// The calls this node owns (docs/api.md, Calls): held in memory only, so a restart ends them.
// In a cluster each call is owned by the node that started it, recorded in PostgreSQL so that
// one runs per chat across the nodes; the others forward their devices' commands to the owner
// (api::CallRouter), and tell it of their devices' connections. Every transition is
// calls::Call's under one mutex; the notices go out under it too, so each device sees a
// call's changes in order. A tick ends the rings and reconnect graces that ran out; each
// ended call writes its system message (missed, declined or its duration) like any message.
class CallService {
public:
    static constexpr auto tick = std::chrono::milliseconds(100);

    CallService(ChatWrites& writes, realtime::Hub& hub, CallNotices& notices, Workers& workers,
                const config::Calls& settings);

    // Rings every other member of the chat (of a group: those not in another call): not_found
    // for a non-member, conflict "in_call" when the caller is in a call, "call_running" when the
    // chat has one (join it instead), "busy" when every callee is.
    boost::asio::awaitable<calls::Call> start(calls::Device caller, std::string chat_id, calls::Kind kind);
    boost::asio::awaitable<calls::Call> accept(calls::Device device, std::string call_id);
    boost::asio::awaitable<void> decline(std::string user_id, std::string call_id);
    // Hang up, leave, or (the caller, unanswered) cancel: by the device in the call only, as
    // share_screen and relay (a call is taken per device; the user's other ones are not in it).
    boost::asio::awaitable<void> leave(calls::Device device, std::string call_id);
    boost::asio::awaitable<calls::Call> join(calls::Device device, std::string call_id);
    boost::asio::awaitable<void> share_screen(calls::Device device, std::string call_id, bool sharing);
    // An offer, answer or candidate (payload: its JSON text) to another participant's device.
    boost::asio::awaitable<void> relay(calls::Device from, std::string call_id, std::string to_user_id,
                                       std::string kind, std::string payload);

    // The call running in the chat, for a member of it (a page opened after it started offers
    // to join it): not_found "chat" for a non-member, not_found "no_call" when none runs here.
    boost::asio::awaitable<calls::Call> running(std::string user_id, std::string chat_id);

    IceServers ice_servers(const std::string& user_id) const;

    // Clustered: the calls this node starts are recorded as owned by this process
    // (store/calls.hpp), whose id names it to the other nodes, with their participants, so that
    // "in another call" holds across the nodes; a call whose owner is swept as silent (after
    // `presence_timeout`) is ended as failed by the first node to find it. Before the first call.
    void share_with_other_nodes(std::string process_id, std::chrono::milliseconds presence_timeout) {
        process_id_ = std::move(process_id);
        presence_timeout_ = presence_timeout;
    }
    boost::asio::awaitable<std::optional<std::string>> owner_elsewhere_of_call(std::string call_id);
    boost::asio::awaitable<std::optional<std::string>> owner_elsewhere_of_chat(std::string chat_id);

    // A connection of this device joined or left the hub, this node's or (clustered) another's:
    // a participant's device that lost its last connection has the reconnect grace to come
    // back; a device that connects while a call rings for its user rings too, and hears of
    // every call running in its user's chats.
    void connected(const calls::Device& device);
    void disconnected(const calls::Device& device);

    void start_sweeper();
    void stop_sweeper();

private:
    using Clock = std::chrono::steady_clock;

    struct Live {
        calls::Call call;
        // The chat's access as last read (each command, each tick from the cache): its members
        // hear of the call, also those who came to the chat after it started.
        std::shared_ptr<const store::ChatAccess> chat;
        Clock::time_point ring_until;
        std::map<std::string, Clock::time_point> grace_until;  // participants without a connection
    };

    using Entering = calls::Step (calls::Call::*)(const calls::Device&, std::size_t, model::Timestamp);
    using Leaving = std::function<calls::Step(calls::Call&, model::Timestamp)>;

    // With mutex_ held: rings the callees of a new call who are in no call here nor in
    // `busy_elsewhere`, or refuses it.
    const calls::Call& open(calls::Device caller, const std::string& call_id, const std::string& chat_id,
                            calls::Kind kind, bool group, std::shared_ptr<const store::ChatAccess> chat,
                            const std::vector<std::string>& busy_elsewhere);
    // Clustered: records the new call and its caller; conflict "in_call" when the caller is in a
    // call anywhere, "call_running" when another call of the chat is recorded. Returns the
    // members in a call anywhere.
    boost::asio::awaitable<std::vector<std::string>> claim(const store::calls::NewCall& call,
                                                           const std::vector<std::string>& audience);
    boost::asio::awaitable<void> release(const std::string& call_id);
    // Clustered: the user enters the call across the cluster (taking the seat, or finding it
    // theirs already), and this node knows how many times they entered it on that seat; conflict
    // "in_call" when they are in a call anywhere else.
    boost::asio::awaitable<void> take_seat(const std::string& user_id, const std::string& call_id);
    // Under mutex_, clustered: the participant left the call; their seat is freed by free_seats.
    void depart(const std::string& user_id, const std::string& call_id);
    // Clustered: the participants who left calls here, free for calls anywhere again.
    boost::asio::awaitable<void> free_seats();
    // Clustered: ends the calls whose owner was swept as silent (this node's too, when it was
    // swept while paused), and forgets this node's calls that were ended so.
    boost::asio::awaitable<void> end_lost_calls();
    boost::asio::awaitable<void> write_summary(calls::Call ended);
    // Answer or join: the device's user, free of other calls, enters the call.
    boost::asio::awaitable<calls::Call> enter(calls::Device device, const std::string& call_id, Entering how);
    // Decline or leave (`how`, under mutex_); an ended call's system message is written after.
    boost::asio::awaitable<void> step_out(const std::string& user_id, const std::string& call_id, const Leaving& how);
    // The live call, for a member of its chat: not_found "call" otherwise. The chat's members
    // read for it become the call's audience (follow_members).
    boost::asio::awaitable<void> require_member(const std::string& call_id, const std::string& user_id);
    // The chat's access as committed now, which the call running in it follows (follow_members);
    // nullptr when the chat is gone, which ends the call.
    boost::asio::awaitable<std::shared_ptr<const store::ChatAccess>> follow_chat(std::string chat_id);
    // With mutex_ held: the chat's members as `access` has them hear of the call from now on;
    // those who are no longer members leave it and hear no more of it (calls::Call::member_gone);
    // of a deleted chat (nullptr), everyone.
    // An ended call is returned, for its system message.
    std::optional<calls::Call> follow_members(Live& live, std::shared_ptr<const store::ChatAccess> access);
    // With mutex_ held.
    Live& live(const std::string& call_id);
    // With mutex_ held: the call running in the chat, if any (start() keeps it to one).
    const Live* running_in(const std::string& chat_id) const;
    // conflict "in_call" when the user is in a call other than this one.
    void require_free(const std::string& user_id, const std::string& call_id) const;
    // With mutex_ held: tells what a step did, and forgets an ended call (returned, for its
    // system message).
    std::optional<calls::Call> publish(Live& live, const calls::Step& step);
    boost::asio::awaitable<void> remember(std::optional<calls::Call> ended);
    boost::asio::awaitable<void> loop();
    // The calls a tick ended (ring timeouts, graces over, members gone as cached), and the chats
    // of calls the cache no longer holds, to load (follow_chat).
    struct Expired {
        std::vector<calls::Call> ended;
        std::vector<std::string> uncached_chats;
    };
    Expired expire();

    ChatWrites& writes_;
    realtime::Hub& hub_;
    CallNotices& notices_;
    const config::Calls& settings_;
    boost::asio::strand<boost::asio::thread_pool::executor_type> strand_;
    boost::asio::steady_timer timer_;
    std::mutex mutex_;
    std::map<std::string, Live> calls_;
    std::map<std::string, std::string> in_call_;  // participant -> call id
    std::optional<std::string> process_id_;       // clustered: this process, as store/calls.hpp records it
    std::chrono::milliseconds presence_timeout_{};
    struct Departure {
        std::string user_id;
        std::string call_id;
        std::int64_t seat_entries = 1;
    };
    std::vector<Departure> departed_;  // clustered: left, seat not yet freed
    // Clustered: how many times each participant here entered their call on their seat, as
    // store::calls::take_seat counted (free_seat frees only up to that).
    std::map<std::string, std::int64_t> seat_entries_;
    Clock::time_point next_lost_check_;  // on strand_
};

// The system message an ended call leaves in its chat: "Missed voice call", "Declined video
// call", "Voice call, 1:05".
std::string call_summary(const calls::Call& call);

}  // namespace confab::domain
