#include "confab/api/json.hpp"
#include "confab/api/query.hpp"
#include "confab/api/routes.hpp"
#include "confab/domain/translation_service.hpp"

namespace confab::api {
namespace {

Json translation_json(const domain::MessageTranslation& translation) {
    return Json{{"message_id", translation.message_id},
                {"language", translation.language},
                {"source_language", translation.source_language ? Json(*translation.source_language) : Json(nullptr)},
                {"text", translation.text},
                {"message_version", translation.message_version},
                {"cached", translation.cached}};
}

}  // namespace

void add_translation_routes(http::Router& router, Services& services) {
    using boost::asio::awaitable;
    router.add(http::Method::get, "/api/v1/messages/{id}/translation",
               [&services](http::Context& c) -> awaitable<http::Response> {
                   const auto principal = co_await authenticate(services, c);
                   const auto query = Query::parse(c.request.query);
                   const auto translation =
                       co_await services.translations.translate(principal.user_id, c.path_params.at("id"),
                                                                query.get("to").value_or(""), query.get("from"));
                   co_return http::json_response(200, dump(translation_json(translation)));
               });
}

}  // namespace confab::api
