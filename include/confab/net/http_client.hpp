#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

// Outgoing HTTP/1.1 requests to services the server calls (a translation provider, webhooks,
// push providers), over TLS for https URLs. Beast stays inside http_client.cpp.
namespace confab::net {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct OutgoingRequest {
    std::string method = "GET";
    std::string url;  // http[s]://host[:port][/path][?query]; https verifies the peer against the system's roots
    HttpHeaders headers;
    std::string body;
    // The whole exchange from connecting to the last byte of the answer (the name lookup runs
    // on the resolver's own thread, before it).
    std::chrono::milliseconds timeout{5000};
    std::size_t max_response_bytes = 1024 * 1024;
    // When set, only the resolved addresses it allows are connected to (checked after the
    // name lookup, so a name cannot be made to point elsewhere between a check and the
    // connection); none allowed is a failure.
    std::function<bool(const boost::asio::ip::address&)> allow_address{};
};

struct IncomingResponse {
    int status = 0;
    HttpHeaders headers;
    std::string body;
};

// The request was not answered: a URL it cannot use, no connection, a broken or oversized
// answer, or the timeout passed. A response of any status is not a failure.
class HttpClientError : public std::runtime_error {
public:
    HttpClientError(const std::string& what, bool timed_out) : std::runtime_error(what), timed_out_(timed_out) {}
    bool timed_out() const noexcept { return timed_out_; }

private:
    bool timed_out_;
};

// One request on a connection of its own, run on the calling coroutine's executor: it waits
// for the network without holding an I/O thread. Throws HttpClientError.
boost::asio::awaitable<IncomingResponse> send_request(OutgoingRequest request);

}  // namespace confab::net
