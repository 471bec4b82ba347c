#include "confab/api/call_router.hpp"
#include "confab/api/json.hpp"
#include "confab/api/routes.hpp"
#include "confab/domain/call_service.hpp"

namespace confab::api {

void add_call_routes(http::Router& router, Services& services) {
    router.add(http::Method::get, "/api/v1/calls/ice-servers",
               [&services](http::Context& c) -> boost::asio::awaitable<http::Response> {
                   const auto principal = co_await authenticate(services, c);
                   const auto servers = services.calls.ice_servers(principal.user_id);
                   Json list = Json::array();
                   if (!servers.urls.empty()) {
                       Json server{{"urls", servers.urls}};
                       if (servers.credentials) {
                           server["username"] = servers.credentials->username;
                           server["credential"] = servers.credentials->credential;
                       }
                       list.push_back(std::move(server));
                   }
                   Json body{{"ice_servers", std::move(list)}, {"ttl_seconds", servers.ttl.count()}};
                   body["expires_at"] =
                       servers.credentials ? Json(format_timestamp(servers.credentials->expires_at)) : Json(nullptr);
                   co_return http::json_response(200, dump(body));
               });
    router.add(http::Method::get, "/api/v1/chats/{id}/call",
               [&services](http::Context& c) -> boost::asio::awaitable<http::Response> {
                   const auto principal = co_await authenticate(services, c);
                   co_return http::json_response(200,
                                                 dump(co_await services.call_router.running(principal.user_id,
                                                                                            c.path_params.at("id"))));
               });
}

}  // namespace confab::api
