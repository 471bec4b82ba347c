#pragma once

#include "confab/model/user.hpp"

#include <chrono>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

// The call state machine (docs/api.md, Calls): pure, no clock and no I/O. The caller of each
// transition (domain::CallService) passes the time it needs, keeps the deadlines, and tells
// the devices what changed.
namespace confab::domain::calls {

enum class Kind { voice, video };
enum class Phase { ringing, active, ended };
// How an ended call is remembered in its chat's system message.
enum class Outcome { missed, declined, completed };

// A signed-in session of a user: a call is taken, and its signals are relayed, per device.
struct Device {
    std::string user_id;
    std::string token_hash;

    bool operator==(const Device&) const = default;
};

struct Participant {
    std::string token_hash;  // the device in the call
    bool screen_sharing = false;
    bool connected = true;  // false while its device has no connection (the reconnect grace)

    bool operator==(const Participant&) const = default;
};

// Why a user's devices stop ringing.
enum class RingStop { answered, declined, cancelled, missed };

struct RingStopped {
    std::string user_id;
    RingStop reason;

    bool operator==(const RingStopped&) const = default;
};

// What one transition did besides changing the call.
struct Step {
    std::vector<RingStopped> rings_stopped;
    bool ended = false;  // this transition ended the call (outcome() says how)

    bool operator==(const Step&) const = default;
};

std::string_view to_string(Kind kind);
std::optional<Kind> kind_from(std::string_view text);
std::string_view to_string(Phase phase);
std::string_view to_string(Outcome outcome);
std::string_view to_string(RingStop reason);

// One call of a chat. Each member of a direct chat, or of a group, but the caller rings until
// they answer, decline, or the ring times out; a direct call is between its two members only
// (no join), a group call is a mesh of at most `mesh_limit` participants, which members may
// join while it lasts. The call ends when no callee is ringing and at most one participant is
// left (so the caller alone after every callee declined, or the last but one hanging up).
class Call {
public:
    Call(std::string id, std::string chat_id, Kind kind, bool group, Device caller, std::vector<std::string> callees,
         model::Timestamp started_at);
    // A call whose owner node was lost (docs/api.md, Calls), as the cluster recorded it: ended at
    // `lost_at` (never before its start or first answer), `failed()`, with these participants.
    static Call lost(std::string id, std::string chat_id, Kind kind, bool group, std::string caller_id,
                     const std::vector<std::string>& participants, model::Timestamp started_at,
                     std::optional<model::Timestamp> answered_at, model::Timestamp lost_at);

    const std::string& id() const { return id_; }
    const std::string& chat_id() const { return chat_id_; }
    Kind kind() const { return kind_; }
    bool group() const { return group_; }
    Phase phase() const { return phase_; }
    const std::string& caller_id() const { return caller_id_; }
    model::Timestamp started_at() const { return started_at_; }
    const std::optional<model::Timestamp>& answered_at() const { return answered_at_; }
    const std::optional<model::Timestamp>& ended_at() const { return ended_at_; }
    const std::map<std::string, Participant>& participants() const { return participants_; }
    const std::set<std::string>& ringing() const { return ringing_; }
    // Set once ended: completed (someone answered), declined (every callee declined), or
    // missed (nobody answered, and a ring timed out or the caller cancelled).
    std::optional<Outcome> outcome() const;
    // Answered until ended, in milliseconds; 0 when never answered.
    std::int64_t duration_ms() const;

    // Ended because the node running it was lost, not by its own rules.
    bool failed() const { return failed_; }

    bool is_participant(const std::string& user_id) const { return participants_.contains(user_id); }
    // The device is the one its user is in the call with (not another session of theirs).
    bool is_in_call(const Device& device) const;
    // The device of a participant.
    std::optional<Device> device_of(const std::string& user_id) const;
    // Everyone the call concerns now: its participants and the users it rings.
    std::vector<std::string> involved() const;

    // A ringing callee's device takes the call; their other devices stop ringing.
    // conflict "not_ringing" when the user is not ringing (answered, declined, never rung),
    // "call_full" when mesh_limit participants are in it.
    Step answer(const Device& device, std::size_t mesh_limit, model::Timestamp now);
    // A ringing callee says no. conflict "not_ringing" as answer.
    Step decline(const std::string& user_id, model::Timestamp now);
    // A participant's device in the call leaves it (hangs up); the caller leaving an unanswered
    // call cancels it. forbidden when the device is not in the call: its user is no participant,
    // or is one on another device.
    Step leave(const Device& device, model::Timestamp now);
    // A member who is not in it joins an answered group call (rung or not), capped by
    // mesh_limit: bad_request for a direct call, conflict "not_answered" before an answer,
    // "already_joined", or "call_full".
    Step join(const Device& device, std::size_t mesh_limit, model::Timestamp now);
    // The ring timed out: every callee still ringing has missed it.
    Step ring_timeout(model::Timestamp now);
    // A participant's screen share starts or stops, from their device in the call (forbidden
    // otherwise, as leave); false when it already was so.
    bool share_screen(const Device& device, bool sharing);
    // The participant's device lost its last connection / got one back; false when the
    // device is not in the call or nothing changed.
    bool device_dropped(const Device& device);
    bool device_back(const Device& device);
    // The reconnect grace passed: a participant still without a connection leaves.
    Step grace_over(const std::string& user_id, model::Timestamp now);
    // The user is no longer a member of the chat (left, removed, banned, deleted): they leave
    // as a participant, and a ring for them stops as `cancelled` (no decline of theirs); an
    // empty step when the call no longer concerns them or has ended.
    Step member_gone(const std::string& user_id, model::Timestamp now);
    // An offer, answer or candidate from one participant's device in the call to another
    // participant, while the call is not ended: forbidden when the sending device is not in the
    // call (as leave), not_found "participant" when the recipient is not one (or is the sender).
    void require_relay(const Device& from, const std::string& to_user_id) const;

private:
    void require_ringing(const std::string& user_id) const;
    // forbidden unless the device is in the call.
    void require_in_call(const Device& device) const;
    // The participant leaves, whichever device they are on (the grace ran out, or they left the
    // chat); the caller leaving an unanswered call cancels it.
    Step part(const std::string& user_id, model::Timestamp now);
    void require_live() const;
    void require_room(std::size_t mesh_limit) const;
    // Ends the call when no callee rings and at most one participant is left.
    void settle(Step& step, model::Timestamp now);

    std::string id_;
    std::string chat_id_;
    Kind kind_;
    bool group_;
    std::string caller_id_;
    model::Timestamp started_at_;
    Phase phase_ = Phase::ringing;
    std::optional<model::Timestamp> answered_at_;
    std::optional<model::Timestamp> ended_at_;
    std::map<std::string, Participant> participants_;
    std::set<std::string> ringing_;
    std::size_t declines_ = 0;
    bool missed_ = false;  // a callee's ring timed out, or the caller cancelled
    bool failed_ = false;
};

// TURN REST API credentials (draft-uberti-behave-turn-rest): username "<expiry>:<user_id>",
// credential base64(HMAC-SHA1(secret, username)), which coturn's use-auth-secret checks.
struct TurnCredentials {
    std::string username;
    std::string credential;
    model::Timestamp expires_at;
};

TurnCredentials turn_credentials(const std::string& secret, const std::string& user_id, model::Timestamp now,
                                 std::chrono::seconds ttl);

}  // namespace confab::domain::calls
