#include "confab/http/dispatch.hpp"

#include "confab/http/errors.hpp"
#include "confab/obs/metrics.hpp"

#include <spdlog/spdlog.h>

namespace confab::http {
namespace {

std::string allow_header(const std::vector<Method>& methods) {
    std::string allow;
    for (const auto method : methods) {
        if (!allow.empty()) allow += ", ";
        allow += method_name(method);
    }
    return allow;
}

Response failure_response(const Request& request, std::exception_ptr error) {
    const auto wire = describe(std::move(error));
    log_failure(wire, "request_id=" + request.request_id);
    return error_response(wire);
}

}  // namespace

void log_request(const Request& request, const Response& response, std::string_view route, std::string_view user_id,
                 std::chrono::steady_clock::time_point started) {
    const auto elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    const std::string_view route_label = route.empty() ? "unmatched" : route;
    obs::metrics().http_requests.with({route_label, std::to_string(response.status)}).inc();
    obs::metrics().http_duration.with({route_label}).observe(elapsed / 1000.0);
    spdlog::info("request_id={} method={} path={} route={} status={} duration_ms={:.2f} user_id={}", request.request_id,
                 method_name(request.method), loggable_path(request.path, route), route.empty() ? "-" : route,
                 response.status, elapsed, user_id.empty() ? "-" : user_id);
}

std::string loggable_path(std::string_view path, std::string_view route) {
    if (route.find("{code}") != std::string_view::npos) return std::string(route);
    if (!route.empty()) return std::string(path);
    constexpr std::string_view secret_follows = "/invite-links/";
    std::string shown;
    for (;;) {
        const auto at = path.find(secret_follows);
        if (at == std::string_view::npos) break;
        shown.append(path.substr(0, at + secret_follows.size()));
        path.remove_prefix(at + secret_follows.size());
        const auto code_ends = path.find('/');
        shown += "{code}";
        path.remove_prefix(code_ends == std::string_view::npos ? path.size() : code_ends);
    }
    return shown.append(path);
}

boost::asio::awaitable<Response> dispatch(const Router& router, const Cors& cors, const Request& request,
                                          const std::function<void(Response&, const Context&)>& admit) {
    const auto started = std::chrono::steady_clock::now();
    static auto& in_flight = obs::metrics().http_in_flight.only();
    in_flight.add(1);
    const struct Answered {
        ~Answered() { in_flight.add(-1); }
    } answered;
    Context context{request, {}, {}, {}};
    Response response;
    auto match = router.match(request.method, request.path);
    auto preflight = cors.preflight(request);
    const bool answered_by_cors = preflight.has_value();  // a preflight carries its own CORS headers
    if (preflight) {
        response = std::move(*preflight);
    } else if (auto* found = std::get_if<Router::Found>(&match)) {
        context.route = found->pattern;
        context.path_params = std::move(found->params);
        std::exception_ptr failure;
        try {
            response = co_await (*found->handler)(context);
        } catch (...) {
            failure = std::current_exception();
        }
        if (failure) response = failure_response(request, failure);
    } else if (auto* malformed = std::get_if<Router::Malformed>(&match)) {
        context.route = malformed->pattern;
        response = error_response(
            describe(model::bad_request("the path's " + malformed->param + " has a malformed percent-encoding",
                                        malformed->param)));
    } else if (auto* wrong = std::get_if<Router::MethodNotAllowed>(&match)) {
        response = error_response(describe(model::Error(model::ErrorCode::method_not_allowed, "method not allowed")));
        response.headers.emplace_back("Allow", allow_header(wrong->allowed));
    } else {
        response = error_response(describe(model::not_found("route")));
    }
    if (admit) admit(response, context);
    if (!answered_by_cors) cors.decorate(request, response);
    log_request(request, response, context.route, context.user_id, started);
    co_return response;
}

}  // namespace confab::http
