#include "confab/api/json.hpp"
#include "confab/api/routes.hpp"
#include "confab/domain/error.hpp"
#include "confab/store/database.hpp"

namespace confab::api {

void add_health_routes(http::Router& router, Services& services) {
    router.add(http::Method::get, "/healthz", [](http::Context&) -> boost::asio::awaitable<http::Response> {
        co_return http::json_response(200, R"({"status":"ok"})");
    });
    router.add(http::Method::get, "/readyz", [&services](http::Context&) -> boost::asio::awaitable<http::Response> {
        if (!co_await store::is_ready(services.pool))
            throw domain::Error(domain::ErrorCode::unavailable, "database unreachable or not migrated");
        co_return http::json_response(200, R"({"status":"ready"})");
    });
}

}  // namespace confab::api
