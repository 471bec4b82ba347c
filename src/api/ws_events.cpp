#include "confab/api/ws_events.hpp"

#include "confab/api/call_router.hpp"
#include "confab/api/envelope.hpp"
#include "confab/api/message_input.hpp"
#include "confab/api/query.hpp"
#include "confab/domain/auth_service.hpp"
#include "confab/domain/message_service.hpp"
#include "confab/domain/poll_service.hpp"
#include "confab/domain/presence_service.hpp"
#include "confab/model/error.hpp"
#include "confab/http/errors.hpp"
#include "confab/obs/metrics.hpp"

#include <algorithm>

namespace confab::api {
namespace {

std::int64_t required_integer(const Json& data, const char* field) {
    const auto value = optional_integer(data, field);
    if (!value) throw model::bad_request(std::string(field) + " is required", field);
    return *value;
}

domain::calls::Device device_of(const model::Principal& principal) { return {principal.user_id, principal.token_hash}; }

}  // namespace

std::string error_frame(const std::optional<std::string>& id, std::exception_ptr error, std::string_view what) {
    const auto wire = http::describe(std::move(error));
    http::log_failure(wire, what);
    Json frame{{"type", "error"}};
    if (id) frame["id"] = *id;
    frame["error"] = http::error_object(wire);
    return dump(frame);
}

void WsEvents::add(std::string type, Handler handler, bool overlaps) {
    routes_.emplace(std::move(type), Route{std::move(handler), overlaps});
}

// The client events of PROTOCOL.md; each calls the same service as its REST twin.
WsEvents::WsEvents(Services& services) : services_(services) {
    using boost::asio::awaitable;
    using model::Principal;
    auto& messages = services_.messages;
    constexpr bool overlaps = true;
    add(
        "ping", [](const Principal&, const Json&) -> awaitable<Json> { co_return Json::object(); }, overlaps);
    add(
        "message.send",
        [&messages](const Principal& p, const Json& data) -> awaitable<Json> {
            auto command = parse_send(data, required_string(data, "chat_id"), p.user_id);
            co_return Json{{"message", to_json((co_await messages.send(std::move(command))).message)}};
        },
        overlaps);
    // The events whose REST twin refuses unknown fields in its body refuse them in `data` too:
    // the twin's fields plus the id its path carries.
    add("message.edit", [&messages](const Principal& p, const Json& data) -> awaitable<Json> {
        reject_unknown_fields(data, {"message_id", "content", "entities"});
        auto edited = co_await messages.edit(p.user_id, required_string(data, "message_id"),
                                             required_string(data, "content"), parse_entities(data));
        co_return Json{{"message", to_json(edited)}};
    });
    add("message.delete", [&messages](const Principal& p, const Json& data) -> awaitable<Json> {
        co_await messages.remove(p.user_id, required_string(data, "message_id"));
        co_return Json::object();
    });
    for (const bool adding : {true, false}) {
        add(adding ? "reaction.add" : "reaction.remove",
            [&messages, adding](const Principal& p, const Json& data) -> awaitable<Json> {
                co_await messages.react(p.user_id, required_string(data, "message_id"), required_string(data, "emoji"),
                                        adding);
                co_return Json::object();
            });
    }
    for (const bool pinning : {true, false}) {
        add(pinning ? "message.pin" : "message.unpin",
            [&messages, pinning](const Principal& p, const Json& data) -> awaitable<Json> {
                co_await messages.pin(p.user_id, required_string(data, "message_id"), pinning);
                co_return Json::object();
            });
    }
    add("message.hide", [&messages](const Principal& p, const Json& data) -> awaitable<Json> {
        co_await messages.hide(p.user_id, required_string(data, "message_id"));
        co_return Json::object();
    });
    add("message.forward", [&messages](const Principal& p, const Json& data) -> awaitable<Json> {
        reject_unknown_fields(data, {"message_id", "chat_id", "client_id"});
        auto forward = parse_forward(data, required_string(data, "message_id"), p.user_id);
        co_return Json{{"message", to_json((co_await messages.forward(std::move(forward))).message)}};
    });
    add("poll.vote", [this](const Principal& p, const Json& data) -> awaitable<Json> {
        reject_unknown_fields(data, {"message_id", "options"});
        auto voted = co_await services_.polls.vote(p.user_id, required_string(data, "message_id"), parse_vote(data));
        co_return Json{{"message", to_json(voted)}};
    });
    add("poll.close", [this](const Principal& p, const Json& data) -> awaitable<Json> {
        co_return Json{
            {"message", to_json(co_await services_.polls.close(p.user_id, required_string(data, "message_id")))}};
    });
    for (const bool typing : {true, false}) {
        add(typing ? "typing.start" : "typing.stop",
            [this, typing](const Principal& p, const Json& data) -> awaitable<Json> {
                co_await services_.presence.typing(p.user_id, required_string(data, "chat_id"), typing);
                co_return Json::object();
            });
    }
    add("read.mark", [&messages](const Principal& p, const Json& data) -> awaitable<Json> {
        co_await messages.mark_read(p.user_id, required_string(data, "chat_id"), required_integer(data, "seq"));
        co_return Json::object();
    });
    add("sync", [&messages](const Principal& p, const Json& data) -> awaitable<Json> {
        const auto since = required_integer(data, "since_version");
        if (since < 0) throw model::bad_request("since_version must be a non-negative integer", "since_version");
        const auto limit = optional_integer(data, "limit").value_or(50);
        if (limit < 1 || limit > 200) throw model::bad_request("limit must be from 1 to 200", "limit");
        co_return to_json(
            co_await messages.sync(p.user_id, required_string(data, "chat_id"), since, static_cast<int>(limit)));
    });
    add_call_events();
}

// docs/api.md, Calls: run by the node that owns the call (api::CallRouter).
void WsEvents::add_call_events() {
    auto& router = services_.call_router;
    for (const auto& type : CallRouter::commands())
        add(type, [&router, type](const model::Principal& p, const Json& data) -> boost::asio::awaitable<Json> {
            co_return co_await router.run(type, device_of(p), data);
        });
}

boost::asio::awaitable<void> WsEvents::opened(const model::Principal& principal) {
    services_.call_router.connected(device_of(principal));
    co_await services_.presence.connected(principal.user_id);
}

boost::asio::awaitable<void> WsEvents::closed(const model::Principal& principal) {
    services_.call_router.disconnected(device_of(principal));
    co_await services_.presence.disconnected(principal.user_id);
}

boost::asio::awaitable<model::Principal> WsEvents::authenticate(http::Context& context) {
    const auto& allowed = services_.config.server.allowed_origins;
    if (const auto* origin = context.request.header("origin");
        origin && !allowed.empty() && std::find(allowed.begin(), allowed.end(), *origin) == allowed.end()) {
        throw model::Error(model::ErrorCode::forbidden, "origin not allowed");
    }
    std::optional<std::string> token;
    if (auto header = bearer_token(context.request)) {
        token = std::string(*header);
    } else {
        token = Query::parse(context.request.query).get("access_token");
    }
    if (!token) throw model::unauthorized("missing bearer token");
    auto principal = co_await services_.auth.authenticate(*token, context.request.remote_address);
    context.user_id = principal.user_id;
    services_.auth.admit(principal.user_id);
    co_return principal;
}

boost::asio::awaitable<std::optional<model::Timestamp>> WsEvents::signed_in_until(const model::Principal& principal) {
    co_return co_await services_.auth.valid_until(principal);
}

WsEvents::Request WsEvents::read(const model::Principal& principal, std::string_view frame) {
    Request request;
    try {
        std::exception_ptr malformed;
        try {
            request.envelope_ = parse_envelope(frame, request.id_);
        } catch (...) {
            malformed = std::current_exception();
        }
        // Malformed frames spend the budget too; the id, when readable, goes on the refusal.
        services_.auth.admit(principal.user_id);
        if (malformed) std::rethrow_exception(malformed);
        const auto route = routes_.find(request.envelope_.type);
        obs::metrics().ws_frames_in.with({route == routes_.end() ? "unknown" : request.envelope_.type}).inc();
        if (route == routes_.end()) throw model::bad_request("unknown event type", "type");
        request.route_ = &route->second;
    } catch (...) {
        request.refused_ = std::current_exception();
    }
    return request;
}

boost::asio::awaitable<std::optional<std::string>> WsEvents::handle(const model::Principal& principal,
                                                                    Request request) {
    std::exception_ptr failure = request.refused_;
    if (!failure) {
        try {
            auto result = co_await request.route_->handler(principal, request.envelope_.data);
            if (!request.envelope_.id) co_return std::nullopt;
            co_return dump(Json{{"type", "ack"}, {"id", *request.envelope_.id}, {"data", std::move(result)}});
        } catch (...) {
            failure = std::current_exception();
        }
    }
    co_return error_frame(request.id_, failure,
                          "websocket event=" + request.envelope_.type + " user_id=" + principal.user_id);
}

}  // namespace confab::api
