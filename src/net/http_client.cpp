#include "confab/net/http_client.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>

#include <string_view>
#include <vector>

namespace confab::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using asio::use_awaitable;

struct Target {
    std::string host;     // as in the URL, for the Host header: an IPv6 address in brackets
    std::string address;  // what is resolved and verified: the name, or the address bare
    bool named = true;    // a name, not an address literal: told in TLS's server name
    std::string port;
    std::string path;  // with the query
    bool tls = false;
};

// One client context for every https request: the system's trusted roots, peers verified.
asio::ssl::context& tls_context() {
    static asio::ssl::context context = [] {
        asio::ssl::context made(asio::ssl::context::tls_client);
        made.set_default_verify_paths();
        made.set_verify_mode(asio::ssl::verify_peer);
        return made;
    }();
    return context;
}

Target target_of(const std::string& url) {
    const auto parsed = boost::urls::parse_absolute_uri(url);
    if (!parsed) throw HttpClientError("not a URL", false);
    // scheme_id() reads the scheme in any case (RFC 3986 3.1: "HTTP://" is "http://").
    const bool tls = parsed->scheme_id() == boost::urls::scheme::https;
    if (!tls && parsed->scheme_id() != boost::urls::scheme::http)
        throw HttpClientError("only http and https URLs are supported", false);
    if (parsed->host().empty()) throw HttpClientError("the URL names no host", false);
    Target target{parsed->host(),
                  parsed->host_address(),
                  parsed->host_type() == boost::urls::host_type::name,
                  parsed->has_port() ? std::string(parsed->port()) : (tls ? "443" : "80"),
                  std::string(parsed->encoded_target()),
                  tls};
    if (target.path.empty() || target.path.front() != '/') target.path.insert(0, "/");
    return target;
}

bhttp::request<bhttp::string_body> wire_request(OutgoingRequest& request, const Target& target) {
    const auto verb = bhttp::string_to_verb(request.method);
    if (verb == bhttp::verb::unknown) throw HttpClientError("unknown method " + request.method, false);
    bhttp::request<bhttp::string_body> message{verb, target.path, 11};
    const bool default_port = target.port == (target.tls ? "443" : "80");
    message.set(bhttp::field::host, default_port ? target.host : target.host + ":" + target.port);
    message.set(bhttp::field::user_agent, "confab");
    for (const auto& [name, value] : request.headers) message.set(name, value);
    message.body() = std::move(request.body);
    message.keep_alive(false);
    message.prepare_payload();
    return message;
}

// Writes the request and reads the whole answer on a connected (and, for https, secured) stream.
template <class Stream>
asio::awaitable<IncomingResponse> exchange(Stream& stream, bhttp::request<bhttp::string_body>& message,
                                           std::size_t max_response_bytes) {
    co_await bhttp::async_write(stream, message, use_awaitable);
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(max_response_bytes);
    co_await bhttp::async_read(stream, buffer, parser, use_awaitable);
    auto response = parser.release();
    IncomingResponse answer{static_cast<int>(response.result_int()), {}, std::move(response.body())};
    for (const auto& field : response) answer.headers.emplace_back(field.name_string(), field.value());
    co_return answer;
}

}  // namespace

asio::awaitable<IncomingResponse> send_request(OutgoingRequest request) {
    const auto target = target_of(request.url);
    // What errors name: the origin, never the path or query, which may be secret (a Web Push
    // endpoint is its subscription's capability; a webhook URL may carry a token).
    const auto where = request.method + " " + (target.tls ? "https://" : "http://") + target.host + ":" + target.port;
    auto message = wire_request(request, target);
    const auto executor = co_await asio::this_coro::executor;
    try {
        asio::ip::tcp::resolver resolver(executor);
        const auto resolved = co_await resolver.async_resolve(target.address, target.port, use_awaitable);
        std::vector<asio::ip::tcp::endpoint> endpoints;
        for (const auto& entry : resolved)
            if (!request.allow_address || request.allow_address(entry.endpoint().address()))
                endpoints.push_back(entry.endpoint());
        if (endpoints.empty()) throw HttpClientError(where + ": no address it may connect to", false);
        beast::tcp_stream stream(executor);
        stream.expires_after(request.timeout);  // one deadline for every step below
        co_await stream.async_connect(endpoints, use_awaitable);
        if (!target.tls) {
            auto answer = co_await exchange(stream, message, request.max_response_bytes);
            beast::error_code ignored;
            stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
            co_return answer;
        }
        beast::ssl_stream<beast::tcp_stream> secured(std::move(stream), tls_context());
        // RFC 6066: an address literal is not a server name.
        if (target.named && !SSL_set_tlsext_host_name(secured.native_handle(), target.address.c_str()))
            throw HttpClientError(where + ": the TLS server name could not be set", false);
        secured.set_verify_callback(asio::ssl::host_name_verification(target.address));
        co_await secured.async_handshake(asio::ssl::stream_base::client, use_awaitable);
        // The answer is complete once read; the connection is not reused, so no TLS close_notify is awaited.
        co_return co_await exchange(secured, message, request.max_response_bytes);
    } catch (const boost::system::system_error& e) {
        const bool timed_out = e.code() == beast::error::timeout;
        throw HttpClientError(where + ": " + e.code().message(), timed_out);
    }
}

}  // namespace confab::net
