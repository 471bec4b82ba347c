#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/verb.hpp>

#include <optional>
#include <string>

namespace confab::bench {

struct HttpResponse {
    int status = 0;
    std::string body;
};

// One keep-alive HTTP/1.1 connection, used by one coroutine at a time. It reconnects by
// itself when the server has closed it between requests.
class HttpClient {
public:
    HttpClient(boost::asio::any_io_executor executor, boost::asio::ip::tcp::endpoint server);

    // Throws boost::system::system_error on transport failure (after one reconnect attempt).
    boost::asio::awaitable<HttpResponse> request(boost::beast::http::verb method, std::string target,
                                                 std::string token = {}, std::string body = {});

private:
    boost::asio::awaitable<HttpResponse> exchange(boost::beast::http::verb method, const std::string& target,
                                                  const std::string& token, const std::string& body);

    boost::asio::ip::tcp::endpoint server_;
    boost::beast::tcp_stream stream_;
    bool connected_ = false;
};

}  // namespace confab::bench
