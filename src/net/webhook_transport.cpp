#include "confab/net/webhook_transport.hpp"

#include "confab/net/http_client.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <charconv>
#include <initializer_list>

namespace confab::net {
namespace {

namespace asio = boost::asio;

bool in_v4(const asio::ip::address_v4& address, std::uint32_t network, int prefix) {
    const std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
    return (address.to_uint() & mask) == network;
}

constexpr std::uint32_t v4(std::uint8_t a, std::uint8_t b) {
    return (std::uint32_t{a} << 24) | (std::uint32_t{b} << 16);
}

// RFC 6890's special-purpose blocks that are neither this host's nor a private network's: IETF
// protocol assignments, the documentation networks, benchmarking, 6to4 relays, multicast and
// the reserved 240/4 (the broadcast address with it).
bool is_reserved_v4(const asio::ip::address_v4& address) {
    constexpr auto v4c = [](std::uint8_t a, std::uint8_t b, std::uint8_t c) {
        return (std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8);
    };
    return in_v4(address, v4c(192, 0, 0), 24) || in_v4(address, v4c(192, 0, 2), 24) ||
           in_v4(address, v4c(192, 88, 99), 24) || in_v4(address, v4(198, 18), 15) ||
           in_v4(address, v4c(198, 51, 100), 24) || in_v4(address, v4c(203, 0, 113), 24) ||
           in_v4(address, v4(224, 0), 4) || in_v4(address, v4(240, 0), 4);
}

AddressKind classify_v4(const asio::ip::address_v4& address) {
    if (in_v4(address, v4(0, 0), 8) || address.is_loopback()) return AddressKind::loopback;
    if (in_v4(address, v4(10, 0), 8) || in_v4(address, v4(172, 16), 12) || in_v4(address, v4(192, 168), 16) ||
        in_v4(address, v4(100, 64), 10) || in_v4(address, v4(169, 254), 16))
        return AddressKind::private_network;
    return is_reserved_v4(address) ? AddressKind::never : AddressKind::public_internet;
}

// The IPv4 address in bytes [from, from + 4) of an IPv6 one.
asio::ip::address_v4 embedded_v4(const asio::ip::address_v6::bytes_type& bytes, std::size_t from) {
    return asio::ip::address_v4({bytes[from], bytes[from + 1], bytes[from + 2], bytes[from + 3]});
}

AddressKind classify_v6(const asio::ip::address_v6& address) {
    if (address.is_v4_mapped()) return classify_v4(asio::ip::make_address_v4(asio::ip::v4_mapped, address));
    if (address.is_loopback() || address.is_unspecified()) return AddressKind::loopback;
    const auto bytes = address.to_bytes();
    const auto starts = [&bytes](std::initializer_list<std::uint8_t> prefix) {
        return std::equal(prefix.begin(), prefix.end(), bytes.begin());
    };
    // NAT64 (64:ff9b::/96), 6to4 (2002::/16) and the deprecated IPv4-compatible form (::/96,
    // RFC 4291 2.5.5.1, still routed to the IPv4 address by some stacks) reach the IPv4
    // address they carry.
    if (starts({0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0}) || starts({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}))
        return classify_v4(embedded_v4(bytes, 12));
    if (starts({0x20, 0x02})) return classify_v4(embedded_v4(bytes, 2));
    // Documentation (2001:db8::/32) and discard (100::/64).
    if (starts({0x20, 0x01, 0x0d, 0xb8}) || starts({0x01, 0x00, 0, 0, 0, 0, 0, 0})) return AddressKind::never;
    if ((bytes[0] & 0xfe) == 0xfc || address.is_link_local()) return AddressKind::private_network;
    if (address.is_multicast()) return AddressKind::never;
    return AddressKind::public_internet;
}

bool is_port(std::string_view digits) {
    unsigned long port = 0;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    return error == std::errc() && end == digits.data() + digits.size() && port >= 1 && port <= 65535;
}

model::Error refused_url(const std::string& message, const std::string& field) {
    return model::with_reason(model::ErrorCode::bad_request, message, "url_refused", field);
}

}  // namespace

AddressKind classify(const asio::ip::address& address) {
    return address.is_v4() ? classify_v4(address.to_v4()) : classify_v6(address.to_v6());
}

bool HttpWebhookTransport::allows(const asio::ip::address& address) const {
    switch (classify(address)) {
        case AddressKind::public_internet: return true;
        case AddressKind::loopback: return settings_.allow_loopback;
        case AddressKind::private_network: return settings_.allow_private_networks;
        case AddressKind::never: return false;
    }
    return false;
}

asio::awaitable<void> HttpWebhookTransport::check_destination(std::string url, std::string field) {
    const auto parsed = boost::urls::parse_absolute_uri(url);
    // In any case, as the scheme and the host are (RFC 3986 3.1, 3.2.2): "HTTP://Example.COM".
    if (!parsed || parsed->scheme_id() != boost::urls::scheme::http || parsed->host().empty())
        throw model::bad_request(field + " must be an absolute http:// URL", field);
    if (parsed->has_fragment()) throw model::bad_request(field + " must have no fragment", field);
    // The resolver would take "99999" (modulo 65536) or "0": a port is 1-65535.
    if (!parsed->port().empty() && !is_port(parsed->port()))
        throw model::bad_request(field + "'s port must be 1-65535", field);
    const auto port = parsed->port().empty() ? std::string("80") : std::string(parsed->port());
    asio::ip::tcp::resolver resolver(co_await asio::this_coro::executor);
    asio::ip::tcp::resolver::results_type resolved;
    try {
        // An IPv6 address is resolved bare, without the URL's brackets.
        resolved = co_await resolver.async_resolve(std::string(parsed->host_address()), port, asio::use_awaitable);
    } catch (const boost::system::system_error&) {
        throw refused_url(field + "'s host does not resolve", field);
    }
    for (const auto& entry : resolved)
        if (!allows(entry.endpoint().address()))
            throw refused_url(field + "'s host resolves to a loopback, private, link-local or reserved address", field);
}

asio::awaitable<std::optional<std::string>> HttpWebhookTransport::post(domain::WebhookPost post) {
    OutgoingRequest request{.method = "POST",
                            .url = std::move(post.url),
                            .headers = std::move(post.headers),
                            .body = std::move(post.body),
                            .timeout = settings_.timeout,
                            .max_response_bytes = 64 * 1024,
                            .allow_address = [this](const asio::ip::address& address) { return allows(address); }};
    try {
        const auto response = co_await send_request(std::move(request));
        if (response.status >= 200 && response.status < 300) co_return std::nullopt;
        co_return "the receiver answered " + std::to_string(response.status);
    } catch (const HttpClientError& e) {
        co_return std::string(e.what());
    }
}

}  // namespace confab::net
