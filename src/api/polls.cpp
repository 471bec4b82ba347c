#include "confab/api/json.hpp"
#include "confab/api/message_input.hpp"
#include "confab/api/routes.hpp"
#include "confab/domain/poll_service.hpp"

namespace confab::api {

void add_poll_routes(http::Router& router, Services& services) {
    using boost::asio::awaitable;
    using http::Method;
    router.add(Method::put, "/api/v1/messages/{id}/votes", [&services](http::Context& c) -> awaitable<http::Response> {
        const auto principal = co_await authenticate(services, c);
        const auto body = parse_object(c.request.body);
        reject_unknown_fields(body, {"options"});
        const auto message = co_await services.polls.vote(principal.user_id, c.path_params.at("id"), parse_vote(body));
        co_return http::json_response(200, dump(to_json(message)));
    });
    router.add(Method::post, "/api/v1/messages/{id}/poll/close",
               [&services](http::Context& c) -> awaitable<http::Response> {
                   const auto principal = co_await authenticate(services, c);
                   const auto message = co_await services.polls.close(principal.user_id, c.path_params.at("id"));
                   co_return http::json_response(200, dump(to_json(message)));
               });
}

}  // namespace confab::api
