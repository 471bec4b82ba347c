#pragma once

#include "confab/api/envelope.hpp"
#include "confab/api/json.hpp"
#include "confab/api/services.hpp"

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace confab::api {

// The WebSocket event protocol: the upgrade's authentication, and one client frame in,
// at most one reply frame (ack or error) out. Server pushes go through realtime::Hub.
class WsEvents {
public:
    explicit WsEvents(Services& services);

    // Token from "Authorization: Bearer" or ?access_token=; the Origin allow-list.
    boost::asio::awaitable<model::Principal> authenticate(http::Context& context);

    // Asked once the connection is in the hub and when its token's expiry passes
    // (domain::AuthService::valid_until).
    boost::asio::awaitable<std::optional<model::Timestamp>> signed_in_until(const model::Principal& principal);

    // A connection joined or left the hub: presence (and typing on the last close), and a
    // call's reconnect grace.
    boost::asio::awaitable<void> opened(const model::Principal& principal);
    boost::asio::awaitable<void> closed(const model::Principal& principal);

private:
    using Handler = std::function<boost::asio::awaitable<Json>(const model::Principal&, const Json& data)>;
    struct Route {
        Handler handler;
        bool overlaps = false;
    };

public:
    // One client frame, parsed and admitted: what handle() answers.
    class Request {
    public:
        // Whether it may run while the connection's earlier requests still run. Only events
        // that queue their write before they first wait (message.send: the order of a
        // connection's sends is the order they were read in) or change nothing (ping, a
        // refused frame) do; any other request runs alone, after those before it and before
        // those after it.
        bool overlaps() const { return refused_ || (route_ && route_->overlaps); }

    private:
        friend class WsEvents;
        std::optional<std::string> id_;  // when readable, also on a refusal
        Envelope envelope_;
        const Route* route_ = nullptr;
        std::exception_ptr refused_;
    };

    // Parses one frame and spends the user's request budget on it (malformed frames too).
    // Never throws: a frame that is refused becomes a request answered with its error.
    Request read(const model::Principal& principal, std::string_view frame);

    // The reply: nullopt when the request asks for none (an event without "id" that succeeded).
    boost::asio::awaitable<std::optional<std::string>> handle(const model::Principal& principal, Request request);

private:
    void add(std::string type, Handler handler, bool overlaps = false);
    void add_call_events();

    Services& services_;
    std::map<std::string, Route, std::less<>> routes_;
};

// The error frame for a request (id may be absent): {"type":"error","id"?,"error":{...}}; a
// failure that is a bug is logged as `what` (the event and its user).
std::string error_frame(const std::optional<std::string>& id, std::exception_ptr error, std::string_view what);

}  // namespace confab::api
