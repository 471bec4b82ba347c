#include "confab/domain/calls.hpp"

#include "confab/model/error.hpp"
#include "confab/model/user.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <algorithm>
#include <stdexcept>

namespace confab::domain::calls {
namespace {

model::Error refused(model::ErrorCode code, const std::string& message, std::string reason) {
    return model::with_reason(code, message, std::move(reason));
}

}  // namespace

std::string_view to_string(Kind kind) { return kind == Kind::voice ? "voice" : "video"; }

std::optional<Kind> kind_from(std::string_view text) {
    if (text == "voice") return Kind::voice;
    if (text == "video") return Kind::video;
    return std::nullopt;
}

std::string_view to_string(Phase phase) {
    switch (phase) {
        case Phase::ringing: return "ringing";
        case Phase::active: return "active";
        case Phase::ended: return "ended";
    }
    return "ended";
}

std::string_view to_string(Outcome outcome) {
    switch (outcome) {
        case Outcome::missed: return "missed";
        case Outcome::declined: return "declined";
        case Outcome::completed: return "completed";
    }
    return "missed";
}

std::string_view to_string(RingStop reason) {
    switch (reason) {
        case RingStop::answered: return "answered";
        case RingStop::declined: return "declined";
        case RingStop::cancelled: return "cancelled";
        case RingStop::missed: return "missed";
    }
    return "missed";
}

Call::Call(std::string id, std::string chat_id, Kind kind, bool group, Device caller, std::vector<std::string> callees,
           model::Timestamp started_at)
    : id_(std::move(id)),
      chat_id_(std::move(chat_id)),
      kind_(kind),
      group_(group),
      caller_id_(caller.user_id),
      started_at_(started_at),
      ringing_(callees.begin(), callees.end()) {
    participants_.emplace(caller.user_id, Participant{caller.token_hash});
}

Call Call::lost(std::string id, std::string chat_id, Kind kind, bool group, std::string caller_id,
                const std::vector<std::string>& participants, model::Timestamp started_at,
                std::optional<model::Timestamp> answered_at, model::Timestamp lost_at) {
    Call call(std::move(id), std::move(chat_id), kind, group, {std::move(caller_id), ""}, {}, started_at);
    call.participants_.clear();  // the caller may have left a group call that went on
    for (const auto& user : participants) call.participants_.try_emplace(user);
    call.phase_ = Phase::ended;
    call.answered_at_ = answered_at;
    call.ended_at_ = std::max({lost_at, started_at, answered_at.value_or(started_at)});
    call.missed_ = !answered_at;
    call.failed_ = true;
    return call;
}

std::optional<Outcome> Call::outcome() const {
    if (phase_ != Phase::ended) return std::nullopt;
    if (answered_at_) return Outcome::completed;
    return declines_ > 0 && !missed_ ? Outcome::declined : Outcome::missed;
}

std::int64_t Call::duration_ms() const {
    if (!answered_at_ || !ended_at_) return 0;
    return (*ended_at_ - *answered_at_).count();
}

std::optional<Device> Call::device_of(const std::string& user_id) const {
    const auto found = participants_.find(user_id);
    if (found == participants_.end()) return std::nullopt;
    return Device{user_id, found->second.token_hash};
}

std::vector<std::string> Call::involved() const {
    std::vector<std::string> users;
    for (const auto& [user, participant] : participants_) users.push_back(user);
    users.insert(users.end(), ringing_.begin(), ringing_.end());
    return users;
}

void Call::require_live() const {
    if (phase_ == Phase::ended) throw refused(model::ErrorCode::conflict, "the call has ended", "call_ended");
}

void Call::require_ringing(const std::string& user_id) const {
    require_live();
    if (!ringing_.contains(user_id))
        throw refused(model::ErrorCode::conflict, "the call is not ringing for this user", "not_ringing");
}

void Call::require_room(std::size_t mesh_limit) const {
    if (participants_.size() >= mesh_limit) throw refused(model::ErrorCode::conflict, "the call is full", "call_full");
}

void Call::settle(Step& step, model::Timestamp now) {
    if (!ringing_.empty() || participants_.size() > 1) return;
    phase_ = Phase::ended;
    ended_at_ = now;
    step.ended = true;
}

Step Call::answer(const Device& device, std::size_t mesh_limit, model::Timestamp now) {
    require_ringing(device.user_id);
    require_room(mesh_limit);
    Step step;
    ringing_.erase(device.user_id);
    participants_.emplace(device.user_id, Participant{device.token_hash});
    step.rings_stopped.push_back({device.user_id, RingStop::answered});
    if (!answered_at_) answered_at_ = now;
    phase_ = Phase::active;
    return step;
}

Step Call::decline(const std::string& user_id, model::Timestamp now) {
    require_ringing(user_id);
    Step step;
    ringing_.erase(user_id);
    ++declines_;
    step.rings_stopped.push_back({user_id, RingStop::declined});
    settle(step, now);
    return step;
}

bool Call::is_in_call(const Device& device) const {
    const auto found = participants_.find(device.user_id);
    return found != participants_.end() && found->second.token_hash == device.token_hash;
}

void Call::require_in_call(const Device& device) const {
    if (is_in_call(device)) return;
    // A participant's other sessions see the call but are not in it: a call is taken per device.
    throw model::forbidden(is_participant(device.user_id) ? "this device is not the one in the call"
                                                          : "not a participant of the call");
}

Step Call::leave(const Device& device, model::Timestamp now) {
    require_live();
    require_in_call(device);
    return part(device.user_id, now);
}

Step Call::part(const std::string& user_id, model::Timestamp now) {
    participants_.erase(user_id);
    Step step;
    if (user_id == caller_id_ && !answered_at_) {
        for (const auto& callee : ringing_) step.rings_stopped.push_back({callee, RingStop::cancelled});
        ringing_.clear();
        missed_ = true;
    }
    settle(step, now);
    return step;
}

Step Call::join(const Device& device, std::size_t mesh_limit, model::Timestamp now) {
    require_live();
    if (!group_) throw model::bad_request("only a group call can be joined", "call_id");
    if (!answered_at_) throw refused(model::ErrorCode::conflict, "the call has not been answered yet", "not_answered");
    if (participants_.contains(device.user_id))
        throw refused(model::ErrorCode::conflict, "already in the call", "already_joined");
    require_room(mesh_limit);
    Step step;
    if (ringing_.erase(device.user_id)) step.rings_stopped.push_back({device.user_id, RingStop::answered});
    participants_.emplace(device.user_id, Participant{device.token_hash});
    settle(step, now);
    return step;
}

Step Call::ring_timeout(model::Timestamp now) {
    Step step;
    if (phase_ == Phase::ended) return step;
    for (const auto& callee : ringing_) step.rings_stopped.push_back({callee, RingStop::missed});
    missed_ = missed_ || !ringing_.empty();
    ringing_.clear();
    settle(step, now);
    return step;
}

bool Call::share_screen(const Device& device, bool sharing) {
    require_live();
    require_in_call(device);
    auto& participant = participants_.at(device.user_id);
    if (participant.screen_sharing == sharing) return false;
    participant.screen_sharing = sharing;
    return true;
}

bool Call::device_dropped(const Device& device) {
    const auto found = participants_.find(device.user_id);
    if (phase_ == Phase::ended || found == participants_.end() || found->second.token_hash != device.token_hash ||
        !found->second.connected)
        return false;
    found->second.connected = false;
    return true;
}

bool Call::device_back(const Device& device) {
    const auto found = participants_.find(device.user_id);
    if (phase_ == Phase::ended || found == participants_.end() || found->second.token_hash != device.token_hash ||
        found->second.connected)
        return false;
    found->second.connected = true;
    return true;
}

Step Call::grace_over(const std::string& user_id, model::Timestamp now) {
    const auto found = participants_.find(user_id);
    if (phase_ == Phase::ended || found == participants_.end() || found->second.connected) return {};
    return part(user_id, now);
}

Step Call::member_gone(const std::string& user_id, model::Timestamp now) {
    if (phase_ == Phase::ended) return {};
    if (participants_.contains(user_id)) return part(user_id, now);
    Step step;
    if (!ringing_.erase(user_id)) return step;
    step.rings_stopped.push_back({user_id, RingStop::cancelled});
    missed_ = true;  // not every callee declined: this one was not asked to the end
    settle(step, now);
    return step;
}

void Call::require_relay(const Device& from, const std::string& to_user_id) const {
    require_live();
    require_in_call(from);
    if (from.user_id == to_user_id || !participants_.contains(to_user_id)) throw model::not_found("participant");
}

TurnCredentials turn_credentials(const std::string& secret, const std::string& user_id, model::Timestamp now,
                                 std::chrono::seconds ttl) {
    const auto expires_at = now + ttl;
    const auto expiry = model::unix_seconds(expires_at);
    TurnCredentials credentials{std::to_string(expiry) + ":" + user_id, {}, expires_at};
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (HMAC(EVP_sha1(), secret.data(), static_cast<int>(secret.size()),
             reinterpret_cast<const unsigned char*>(credentials.username.data()), credentials.username.size(), digest,
             &length) == nullptr)
        throw std::runtime_error("HMAC-SHA1 failed");
    const auto variant = sodium_base64_VARIANT_ORIGINAL;
    std::string encoded(sodium_base64_ENCODED_LEN(length, variant), '\0');
    sodium_bin2base64(encoded.data(), encoded.size(), digest, length, variant);
    encoded.pop_back();  // the terminating NUL
    credentials.credential = std::move(encoded);
    return credentials;
}

}  // namespace confab::domain::calls
