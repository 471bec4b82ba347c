#include "confab/api/call_publisher.hpp"

#include "confab/obs/metrics.hpp"
#include "confab/realtime/cluster.hpp"
#include "confab/realtime/hub.hpp"

namespace confab::api {
namespace {

Json nullable_timestamp(const std::optional<model::Timestamp>& at) {
    return at ? Json(format_timestamp(*at)) : Json(nullptr);
}

realtime::Frame frame_of(const char* type, Json data) {
    return std::make_shared<const std::string>(dump(Json{{"type", type}, {"data", std::move(data)}}));
}

}  // namespace

Json to_json(const domain::calls::Call& call) {
    Json participants = Json::array();
    for (const auto& [user, participant] : call.participants())
        participants.push_back(
            {{"user_id", user}, {"screen_sharing", participant.screen_sharing}, {"connected", participant.connected}});
    const auto outcome = call.outcome();
    return Json{{"id", call.id()},
                {"chat_id", call.chat_id()},
                {"kind", domain::calls::to_string(call.kind())},
                {"state", domain::calls::to_string(call.phase())},
                {"caller_id", call.caller_id()},
                {"started_at", format_timestamp(call.started_at())},
                {"answered_at", nullable_timestamp(call.answered_at())},
                {"ended_at", nullable_timestamp(call.ended_at())},
                {"outcome", outcome ? Json(domain::calls::to_string(*outcome)) : Json(nullptr)},
                {"duration_ms", call.duration_ms()},
                {"participants", std::move(participants)},
                {"ringing", Json(std::vector<std::string>(call.ringing().begin(), call.ringing().end()))}};
}

void CallPublisher::send(const std::vector<std::string>& users, const char* type, Json data) {
    if (users.empty()) return;
    static auto& deliveries = obs::metrics().deliveries.only();
    deliveries.inc(hub_.send_to_users(users, frame_of(type, std::move(data))));
}

void CallPublisher::send_to_device(const domain::calls::Device& device, const char* type, Json data) {
    static auto& deliveries = obs::metrics().deliveries.only();
    const auto frame = frame_of(type, std::move(data));
    deliveries.inc(hub_.send_to_token(device.user_id, device.token_hash, frame));
    if (cluster_) cluster_->relay_device_send(device.user_id, device.token_hash, frame);
}

void CallPublisher::ring(const std::vector<std::string>& users, const domain::calls::Call& call) {
    send(users, "call.ring", {{"call", to_json(call)}});
}

void CallPublisher::ring_device(const domain::calls::Device& device, const domain::calls::Call& call) {
    send_to_device(device, "call.ring", {{"call", to_json(call)}});
}

void CallPublisher::running_device(const domain::calls::Device& device, const domain::calls::Call& call) {
    send_to_device(device, "call.updated", {{"call", to_json(call)}});
}

void CallPublisher::ring_stopped(const std::string& user_id, const domain::calls::Call& call,
                                 domain::calls::RingStop reason) {
    send({user_id}, "call.ring_stopped",
         {{"call_id", call.id()}, {"chat_id", call.chat_id()}, {"reason", domain::calls::to_string(reason)}});
}

void CallPublisher::changed(const std::vector<std::string>& users, const domain::calls::Call& call) {
    if (call.phase() != domain::calls::Phase::ended) {
        send(users, "call.updated", {{"call", to_json(call)}});
        return;
    }
    // docs/api.md, Calls: "failed" when the node running the call was lost.
    send(users, "call.ended", {{"call", to_json(call)}, {"reason", call.failed() ? "failed" : "normal"}});
}

void CallPublisher::relay(const domain::calls::Device& to, const domain::calls::Call& call,
                          const std::string& from_user_id, const std::string& kind, const std::string& payload) {
    send_to_device(
        to, "call.signal",
        {{"call_id", call.id()}, {"from_user_id", from_user_id}, {"kind", kind}, {"payload", Json::parse(payload)}});
}

}  // namespace confab::api
