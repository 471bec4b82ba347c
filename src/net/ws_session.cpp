#include "confab/net/ws_session.hpp"

#include "confab/api/ws_events.hpp"
#include "confab/net/ws_session_impl.hpp"

#include <memory>
#include <utility>

namespace confab::net {
namespace {

WsContext<api::WsEvents> ws_context(SessionContext& context) {
    return {context.config, context.events, context.hub, context.registry};
}

using ServerSession = WsSession<boost::beast::tcp_stream, api::WsEvents>;

}  // namespace

void start_websocket(boost::beast::tcp_stream stream, UpgradeRequest request, model::Principal principal,
                     std::vector<ConnectionCounter::Slot> slots, SessionContext& context) {
    std::make_shared<ServerSession>(std::move(stream), WsRole::events, std::move(principal), std::move(slots),
                                    ws_context(context))
        ->start(std::move(request));
}

void start_websocket_echo(boost::beast::tcp_stream stream, UpgradeRequest request,
                          std::vector<ConnectionCounter::Slot> slots, SessionContext& context) {
    std::make_shared<ServerSession>(std::move(stream), WsRole::echo, model::Principal{}, std::move(slots),
                                    ws_context(context))
        ->start(std::move(request));
}

}  // namespace confab::net
