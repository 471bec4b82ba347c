#include "confab/net/webhook_transport.hpp"

#include "confab/net/http_client.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/url/parse.hpp>

#include <charconv>

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

AddressKind classify_v4(const asio::ip::address_v4& address) {
    if (in_v4(address, v4(0, 0), 8) || address.is_loopback()) return AddressKind::loopback;
    if (in_v4(address, v4(10, 0), 8) || in_v4(address, v4(172, 16), 12) || in_v4(address, v4(192, 168), 16) ||
        in_v4(address, v4(100, 64), 10) || in_v4(address, v4(169, 254), 16))
        return AddressKind::private_network;
    if (in_v4(address, v4(224, 0), 4) || in_v4(address, v4(240, 0), 4)) return AddressKind::never;
    return AddressKind::public_internet;
}

AddressKind classify_v6(const asio::ip::address_v6& address) {
    if (address.is_v4_mapped()) return classify_v4(asio::ip::make_address_v4(asio::ip::v4_mapped, address));
    if (address.is_loopback() || address.is_unspecified()) return AddressKind::loopback;
    const auto bytes = address.to_bytes();
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
    if (!parsed || parsed->scheme() != "http" || parsed->host().empty())
        throw model::bad_request(field + " must be an absolute http:// URL", field);
    if (parsed->has_fragment()) throw model::bad_request(field + " must have no fragment", field);
    // The resolver would take "99999" (modulo 65536) or "0": a port is 1-65535.
    if (!parsed->port().empty() && !is_port(parsed->port()))
        throw model::bad_request(field + "'s port must be 1-65535", field);
    const auto port = parsed->port().empty() ? std::string("80") : std::string(parsed->port());
    asio::ip::tcp::resolver resolver(co_await asio::this_coro::executor);
    asio::ip::tcp::resolver::results_type resolved;
    try {
        resolved = co_await resolver.async_resolve(std::string(parsed->host()), port, asio::use_awaitable);
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
