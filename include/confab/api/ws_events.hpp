#pragma once

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
    boost::asio::awaitable<domain::Principal> authenticate(http::Context& context);

    // A connection joined or left the hub: presence (and typing on the last close).
    boost::asio::awaitable<void> opened(const domain::Principal& principal);
    boost::asio::awaitable<void> closed(const domain::Principal& principal);

    // nullopt when the frame asks for no reply (an event without "id" that succeeded).
    boost::asio::awaitable<std::optional<std::string>> handle(const domain::Principal& principal,
                                                              std::string_view frame);

private:
    using Handler = std::function<boost::asio::awaitable<Json>(const domain::Principal&, const Json& data)>;

    void add(std::string type, Handler handler);

    Services& services_;
    std::map<std::string, Handler, std::less<>> handlers_;
};

// The error frame for a request (id may be absent): {"type":"error","id"?,"error":{...}}.
std::string error_frame(const std::optional<std::string>& id, std::exception_ptr error);

}  // namespace confab::api
