#include "confab/net/http_client.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>

#include <string_view>
#include <vector>

namespace confab::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::use_awaitable;

struct Target {
    std::string host;
    std::string port;
    std::string path;  // with the query
};

Target target_of(const std::string& url) {
    const auto parsed = boost::urls::parse_absolute_uri(url);
    if (!parsed) throw HttpClientError("not a URL: " + url, false);
    if (parsed->scheme() != "http") throw HttpClientError("only http:// URLs are supported: " + url, false);
    if (parsed->host().empty()) throw HttpClientError("no host in " + url, false);
    Target target{parsed->host(), parsed->has_port() ? std::string(parsed->port()) : "80",
                  std::string(parsed->encoded_target())};
    if (target.path.empty() || target.path.front() != '/') target.path.insert(0, "/");
    return target;
}

http::request<http::string_body> wire_request(OutgoingRequest& request, const Target& target) {
    const auto verb = http::string_to_verb(request.method);
    if (verb == http::verb::unknown) throw HttpClientError("unknown method " + request.method, false);
    http::request<http::string_body> message{verb, target.path, 11};
    message.set(http::field::host, target.host + ":" + target.port);
    message.set(http::field::user_agent, "confab");
    for (const auto& [name, value] : request.headers) message.set(name, value);
    message.body() = std::move(request.body);
    message.keep_alive(false);
    message.prepare_payload();
    return message;
}

}  // namespace

asio::awaitable<IncomingResponse> send_request(OutgoingRequest request) {
    const auto target = target_of(request.url);
    auto message = wire_request(request, target);
    const auto executor = co_await asio::this_coro::executor;
    try {
        asio::ip::tcp::resolver resolver(executor);
        const auto resolved = co_await resolver.async_resolve(target.host, target.port, use_awaitable);
        std::vector<asio::ip::tcp::endpoint> endpoints;
        for (const auto& entry : resolved)
            if (!request.allow_address || request.allow_address(entry.endpoint().address()))
                endpoints.push_back(entry.endpoint());
        if (endpoints.empty())
            throw HttpClientError(request.method + " " + request.url + ": no address it may connect to", false);
        beast::tcp_stream stream(executor);
        stream.expires_after(request.timeout);  // one deadline for every step below
        co_await stream.async_connect(endpoints, use_awaitable);
        co_await http::async_write(stream, message, use_awaitable);
        beast::flat_buffer buffer;
        http::response_parser<http::string_body> parser;
        parser.body_limit(request.max_response_bytes);
        co_await http::async_read(stream, buffer, parser, use_awaitable);
        auto response = parser.release();
        IncomingResponse answer{static_cast<int>(response.result_int()), {}, std::move(response.body())};
        for (const auto& field : response) answer.headers.emplace_back(field.name_string(), field.value());
        beast::error_code ignored;
        stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
        co_return answer;
    } catch (const boost::system::system_error& e) {
        const bool timed_out = e.code() == beast::error::timeout;
        throw HttpClientError(request.method + " " + request.url + ": " + e.code().message(), timed_out);
    }
}

}  // namespace confab::net
