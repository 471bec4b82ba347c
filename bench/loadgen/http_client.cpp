#include "http_client.hpp"

#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <chrono>

namespace confab::bench {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;

namespace {
constexpr auto request_timeout = std::chrono::seconds(60);
}

HttpClient::HttpClient(asio::any_io_executor executor, asio::ip::tcp::endpoint server)
    : server_(server), stream_(std::move(executor)) {}

asio::awaitable<HttpResponse> HttpClient::request(http::verb method, std::string target, std::string token,
                                                  std::string body) {
    try {
        co_return co_await exchange(method, target, token, body);
    } catch (const boost::system::system_error&) {
        // The server may close an idle keep-alive connection at any time; one fresh
        // connection tells a closed socket from a real failure.
        connected_ = false;
    }
    co_return co_await exchange(method, target, token, body);
}

asio::awaitable<HttpResponse> HttpClient::exchange(http::verb method, const std::string& target,
                                                   const std::string& token, const std::string& body) {
    if (!connected_) {
        beast::error_code ignored;
        stream_.socket().close(ignored);
        stream_.expires_after(request_timeout);
        co_await stream_.async_connect(server_, asio::use_awaitable);
        stream_.socket().set_option(asio::ip::tcp::no_delay(true));
        connected_ = true;
    }
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::user_agent, "confab-loadgen");
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    if (!body.empty()) {
        req.set(http::field::content_type, "application/json");
        req.body() = body;
    }
    req.prepare_payload();
    stream_.expires_after(request_timeout);
    co_await http::async_write(stream_, req, asio::use_awaitable);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    co_await http::async_read(stream_, buffer, res, asio::use_awaitable);
    if (!res.keep_alive()) connected_ = false;
    co_return HttpResponse{static_cast<int>(res.result_int()), std::move(res.body())};
}

}  // namespace confab::bench
