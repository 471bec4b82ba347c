#include "confab/api/call_router.hpp"

#include "confab/api/call_publisher.hpp"
#include "confab/domain/call_service.hpp"
#include "confab/domain/validation.hpp"
#include "confab/http/errors.hpp"
#include "confab/model/error.hpp"
#include "confab/realtime/cluster.hpp"
#include "confab/realtime/hub.hpp"

#include <spdlog/spdlog.h>

#include <limits>

namespace confab::api {
namespace {

// Not a client event: GET /chats/{id}/call, as one node asks the owner of a chat's call.
constexpr const char* running_request = "call.running";

domain::calls::Kind call_kind(const Json& data) {
    const auto kind = domain::calls::kind_from(required_string(data, "kind"));
    if (!kind) throw model::bad_request("kind must be voice or video", "kind");
    return *kind;
}

// What call.signal relays: its kind, and the payload (an object) as JSON text.
std::pair<std::string, std::string> call_signal(const Json& data) {
    auto kind = required_string(data, "kind");
    if (kind != "offer" && kind != "answer" && kind != "candidate")
        throw model::bad_request("kind must be offer, answer or candidate", "kind");
    // Checked as metadata is, so that what is relayed is what was sent: a number no JSON reader
    // holds exactly would reach the other side changed. The frame's size bounds its size.
    auto payload = optional_object(data, "payload", std::numeric_limits<std::size_t>::max());
    if (!payload) throw model::bad_request("payload must be an object", "payload");
    return {std::move(kind), std::move(payload->text)};
}

// The owner's error, raised again on the node that forwarded the command: the same wire error.
model::Error error_from(const Json& wire) {
    auto code = model::ErrorCode::internal;
    const auto name = wire.value("code", "");
    for (auto candidate = model::ErrorCode::bad_request; candidate <= model::ErrorCode::unavailable;
         candidate = static_cast<model::ErrorCode>(static_cast<int>(candidate) + 1))
        if (model::to_string(candidate) == name) code = candidate;
    const auto details = wire.value("details", Json::object());
    model::Error error(code, wire.value("message", ""),
                       details.contains("field") ? std::optional<std::string>(details["field"].get<std::string>())
                                                 : std::nullopt);
    if (details.contains("reason")) error.reason = details["reason"].get<std::string>();
    return error;
}

}  // namespace

CallRouter::CallRouter(domain::CallService& calls, realtime::Hub& hub) : calls_(calls), hub_(hub) {}

void CallRouter::link(Ask ask, realtime::Cluster& cluster) {
    ask_ = std::move(ask);
    cluster_ = &cluster;
}

const std::vector<std::string>& CallRouter::commands() {
    static const std::vector<std::string> types{"call.start",
                                                "call.accept",
                                                "call.join",
                                                "call.decline",
                                                "call.hangup",
                                                "call.leave",
                                                "call.cancel",
                                                "call.signal",
                                                "call.screen_share.start",
                                                "call.screen_share.stop"};
    return types;
}

boost::asio::awaitable<Json> CallRouter::run(std::string type, domain::calls::Device device, Json data) {
    // A new call is this node's; the chat's row in PostgreSQL keeps it the only one.
    if (ask_ && type != "call.start") {
        if (const auto owner = co_await calls_.owner_elsewhere_of_call(required_string(data, "call_id")))
            co_return co_await forward(*owner, type, device, data);
    }
    co_return co_await run_here(type, std::move(device), data);
}

boost::asio::awaitable<Json> CallRouter::running(std::string user_id, std::string chat_id) {
    if (ask_) {
        if (const auto owner = co_await calls_.owner_elsewhere_of_chat(chat_id))
            co_return co_await forward(*owner, running_request, {std::move(user_id), ""}, {{"chat_id", chat_id}});
    }
    co_return to_json(co_await calls_.running(std::move(user_id), std::move(chat_id)));
}

// docs/api.md, Calls: each answers with the call where the caller needs its new state; the
// caller's leaving an unanswered call cancels it, under whichever name the client uses.
boost::asio::awaitable<Json> CallRouter::run_here(const std::string& type, domain::calls::Device device,
                                                  const Json& data) {
    if (type == "call.start")
        co_return Json{{"call", to_json(co_await calls_.start(std::move(device), required_string(data, "chat_id"),
                                                              call_kind(data)))}};
    if (type == running_request)
        co_return to_json(co_await calls_.running(std::move(device.user_id), required_string(data, "chat_id")));
    auto call_id = required_string(data, "call_id");
    if (type == "call.accept") co_return Json{{"call", to_json(co_await calls_.accept(std::move(device), call_id))}};
    if (type == "call.join") co_return Json{{"call", to_json(co_await calls_.join(std::move(device), call_id))}};
    if (type == "call.decline") {
        co_await calls_.decline(std::move(device.user_id), std::move(call_id));
    } else if (type == "call.hangup" || type == "call.leave" || type == "call.cancel") {
        co_await calls_.leave(std::move(device), std::move(call_id));
    } else if (type == "call.screen_share.start" || type == "call.screen_share.stop") {
        co_await calls_.share_screen(std::move(device), std::move(call_id), type == "call.screen_share.start");
    } else if (type == "call.signal") {
        auto [kind, payload] = call_signal(data);
        auto to_user_id = required_string(data, "to_user_id");
        domain::require_uuid(to_user_id, "to_user_id");
        co_await calls_.relay(std::move(device), std::move(call_id), std::move(to_user_id), std::move(kind),
                              std::move(payload));
    } else {
        throw model::bad_request("unknown call command " + type, "type");
    }
    co_return Json::object();
}

boost::asio::awaitable<Json> CallRouter::forward(const std::string& owner, const std::string& type,
                                                 const domain::calls::Device& device, const Json& data) {
    auto request =
        dump(Json{{"type", type}, {"user_id", device.user_id}, {"token_hash", device.token_hash}, {"data", data}});
    const auto reply =
        co_await domain::offload(asking_, [this, owner, request = std::move(request)] { return ask_(owner, request); });
    // The owner's process is gone, and its calls with it; its row goes once it is swept.
    if (!reply) {
        if (type == running_request)
            throw model::with_reason(model::ErrorCode::not_found, "no call runs in the chat", "no_call");
        throw model::not_found("call");
    }
    const auto answer = Json::parse(*reply);
    if (answer.contains("error")) throw error_from(answer["error"]);
    co_return answer["ok"];
}

boost::asio::awaitable<std::string> CallRouter::answer(std::string request) {
    try {
        const auto command = Json::parse(request);
        auto ack =
            co_await run_here(command.at("type").get<std::string>(),
                              {command.at("user_id").get<std::string>(), command.at("token_hash").get<std::string>()},
                              command.at("data"));
        co_return dump(Json{{"ok", std::move(ack)}});
    } catch (...) {
        const auto wire = http::describe(std::current_exception());
        if (wire.code == model::ErrorCode::internal)
            spdlog::error("calls: a command forwarded by another node failed: {}", wire.log_detail);
        co_return dump(Json{{"error", http::error_object(wire)}});
    }
}

void CallRouter::connected(const domain::calls::Device& device) {
    calls_.connected(device);
    if (cluster_) cluster_->relay_device_changed(device.user_id, device.token_hash, true);
}

void CallRouter::disconnected(const domain::calls::Device& device) {
    calls_.disconnected(device);
    if (cluster_ && hub_.connections_of(device.user_id, device.token_hash) == 0)
        cluster_->relay_device_changed(device.user_id, device.token_hash, false);
}

}  // namespace confab::api
