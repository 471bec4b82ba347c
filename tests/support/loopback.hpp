#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <cstdint>

namespace confab::test {

// Opens the acceptor listening on a loopback address (127.0.0.1, or ::1) at a port the system
// picks: that port.
inline std::uint16_t listen_on_loopback(boost::asio::ip::tcp::acceptor& acceptor, const char* address = "127.0.0.1") {
    const boost::asio::ip::tcp::endpoint any_port(boost::asio::ip::make_address(address), 0);
    acceptor.open(any_port.protocol());
    acceptor.set_option(boost::asio::ip::tcp::acceptor::reuse_address(true));
    acceptor.bind(any_port);
    acceptor.listen();
    return acceptor.local_endpoint().port();
}

}  // namespace confab::test
