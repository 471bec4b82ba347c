#include "confab/api/json.hpp"
#include "confab/api/routes.hpp"
#include "confab/model/error.hpp"
#include "confab/obs/metrics.hpp"
#include "confab/realtime/hub.hpp"
#include "confab/store/database.hpp"

#include <sodium.h>

#include <memory>

namespace confab::api {

namespace {

bool is_loopback(const std::string& address) {
    return address == "::1" || address.starts_with("127.") || address.starts_with("::ffff:127.");
}

// With a token configured, only requests bearing it; otherwise loopback clients only.
void require_metrics_access(const Services& services, const http::Request& request) {
    const auto& token = services.config.metrics.token;
    if (token.empty()) {
        if (!is_loopback(request.remote_address))
            throw model::Error(model::ErrorCode::forbidden, "metrics are served to loopback clients only");
        return;
    }
    const auto offered = bearer_token(request);
    if (!offered) throw model::unauthorized("metrics need the metrics token");
    if (offered->size() != token.size() || sodium_memcmp(offered->data(), token.data(), token.size()) != 0)
        throw model::Error(model::ErrorCode::forbidden, "wrong metrics token");
}

}  // namespace

void add_health_routes(http::Router& router, Services& services) {
    router.add(http::Method::get, "/api/v1/openapi.yaml", [](http::Context&) -> boost::asio::awaitable<http::Response> {
        http::Response response;
        response.content_type = "application/yaml; charset=utf-8";
        response.body = std::string(openapi_document());
        co_return response;
    });
    // An upgrade to the WebSocket is taken before the router (net/http_session.cpp); a plain GET
    // gets here, and another method is 405 as on any known path.
    router.add(http::Method::get, "/api/v1/ws", [](http::Context&) -> boost::asio::awaitable<http::Response> {
        throw model::Error(model::ErrorCode::not_found, "this path answers only a WebSocket upgrade");
    });
    router.add(http::Method::get, "/metrics",
               [&services](http::Context& context) -> boost::asio::awaitable<http::Response> {
                   require_metrics_access(services, context.request);
                   http::Response response;
                   response.content_type = "text/plain; version=0.0.4; charset=utf-8";
                   response.body = obs::metrics().expose();
                   co_return response;
               });
    const auto healthz = [](http::Context&) -> boost::asio::awaitable<http::Response> {
        co_return http::json_response(200, R"({"status":"ok"})");
    };
    auto readiness =
        std::make_shared<store::ReadinessProbe>(services.pool, services.config.overload.ready_probe_interval);
    // A node away from NATS stays ready: NATS down would otherwise take every node out at once,
    // and its clients are told to resync when it is back (docs/architecture.md, Cluster).
    const auto readyz = [readiness, &hub = services.hub](http::Context&) -> boost::asio::awaitable<http::Response> {
        // The reason goes to the log only: it may name hosts and ports.
        if (auto problem = co_await readiness->problem()) throw store::Unavailable(*problem);
        const auto* relay = hub.relay();
        if (!relay) co_return http::json_response(200, R"({"status":"ready"})");
        co_return http::json_response(200, relay->linked() ? R"({"status":"ready","nats":"connected"})"
                                                           : R"({"status":"ready","nats":"reconnecting"})");
    };
    // PROTOCOL.md names them beside a base path of /api/v1 without saying which they are under;
    // probes expect the root, and a client reading them under the base path gets them too.
    for (const std::string prefix : {"", "/api/v1"}) {
        router.add(http::Method::get, prefix + "/healthz", healthz);
        router.add(http::Method::get, prefix + "/readyz", readyz);
    }
}

}  // namespace confab::api
