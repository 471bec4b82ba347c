#include "confab/api/json.hpp"
#include "confab/api/routes.hpp"
#include "confab/domain/template_service.hpp"

namespace confab::api {
namespace {

using boost::asio::awaitable;

http::Response template_response(int status, const model::Template& value) {
    return http::json_response(status, dump(to_json(value)));
}

http::Response list_response(const std::vector<model::Template>& found) {
    Json templates = Json::array();
    for (const auto& value : found) templates.push_back(to_json(value));
    return http::json_response(200, dump(Json{{"templates", std::move(templates)}}));
}

// POST /templates (the caller's own) and POST /chats/{id}/templates (the group's).
awaitable<http::Response> create_template(Services& services, http::Context& context,
                                          std::optional<std::string> chat_id) {
    const auto principal = co_await authenticate(services, context);
    const auto body = parse_object(context.request.body);
    reject_unknown_fields(body, {"name", "content"});
    co_return template_response(201, co_await services.templates.create(principal.user_id, std::move(chat_id),
                                                                        required_string(body, "name"),
                                                                        required_string(body, "content")));
}

awaitable<http::Response> update_template(Services& services, http::Context& context) {
    const auto principal = co_await authenticate(services, context);
    const auto body = parse_object(context.request.body);
    reject_unknown_fields(body, {"name", "content"});
    domain::TemplateChange change{optional_string(body, "name"), optional_string(body, "content")};
    co_return template_response(200, co_await services.templates.update(principal.user_id, context.path_params.at("id"),
                                                                        std::move(change)));
}

}  // namespace

void add_template_routes(http::Router& router, Services& services) {
    using http::Method;
    router.add(Method::get, "/api/v1/templates", [&services](http::Context& c) -> awaitable<http::Response> {
        const auto principal = co_await authenticate(services, c);
        co_return list_response(co_await services.templates.list_own(principal.user_id));
    });
    router.add(Method::post, "/api/v1/templates",
               [&services](http::Context& c) { return create_template(services, c, std::nullopt); });
    router.add(Method::get, "/api/v1/chats/{id}/templates", [&services](http::Context& c) -> awaitable<http::Response> {
        const auto principal = co_await authenticate(services, c);
        co_return list_response(co_await services.templates.list_of_chat(principal.user_id, c.path_params.at("id")));
    });
    router.add(Method::post, "/api/v1/chats/{id}/templates",
               [&services](http::Context& c) { return create_template(services, c, c.path_params.at("id")); });
    router.add(Method::patch, "/api/v1/templates/{id}",
               [&services](http::Context& c) { return update_template(services, c); });
    router.add(Method::del, "/api/v1/templates/{id}", [&services](http::Context& c) -> awaitable<http::Response> {
        const auto principal = co_await authenticate(services, c);
        co_await services.templates.remove(principal.user_id, c.path_params.at("id"));
        co_return http::no_content();
    });
}

}  // namespace confab::api
