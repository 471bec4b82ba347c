#pragma once

#include "confab/http/cors.hpp"
#include "confab/http/message.hpp"
#include "confab/http/router.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

namespace confab::http {

// Answers CORS preflights, routes one request, runs its handler, turns any failure into
// the error shape and writes the request log line. `admit` has a last look at the answer
// (and at who asked, once known) before it is decorated and logged, and may replace it (the
// response budget's 503). Never throws.
boost::asio::awaitable<Response> dispatch(const Router& router, const Cors& cors, const Request& request,
                                          const std::function<void(Response&, const Context&)>& admit = {});

// The request log line (method, path but never the query string, status, duration,
// request id, user id) and the request metrics.
void log_request(const Request& request, const Response& response, std::string_view route, std::string_view user_id,
                 std::chrono::steady_clock::time_point started);

// The path as the request log shows it. An invite link's code is a secret whoever holds it
// may use: a path matched to a route that carries one is shown as the route, and in a path
// matched to none (a wrong method, a near miss) the segment after `invite-links` is `{code}`.
std::string loggable_path(std::string_view path, std::string_view route);

}  // namespace confab::http
