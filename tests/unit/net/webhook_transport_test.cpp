// Which addresses a webhook may reach (docs/configuration.md, webhooks.allow_*), and the
// signature a receiver checks (docs/api.md, Webhooks).

#include "confab/net/webhook_transport.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <exception>
#include <string>

namespace confab::net {
namespace {

AddressKind kind_of(const char* text) { return classify(boost::asio::ip::make_address(text)); }

TEST(WebhookAddresses, EachRangeIsClassified) {
    const std::vector<std::pair<const char*, AddressKind>> table{
        {"93.184.216.34", AddressKind::public_internet},
        {"8.8.8.8", AddressKind::public_internet},
        {"2606:4700::1111", AddressKind::public_internet},
        {"127.0.0.1", AddressKind::loopback},
        {"127.255.1.2", AddressKind::loopback},
        {"0.0.0.0", AddressKind::loopback},
        {"::1", AddressKind::loopback},
        {"::", AddressKind::loopback},
        {"::ffff:127.0.0.1", AddressKind::loopback},
        {"10.0.0.1", AddressKind::private_network},
        {"172.16.0.1", AddressKind::private_network},
        {"172.31.255.255", AddressKind::private_network},
        {"172.32.0.1", AddressKind::public_internet},
        {"192.168.1.1", AddressKind::private_network},
        {"100.64.0.1", AddressKind::private_network},
        {"100.128.0.1", AddressKind::public_internet},
        {"169.254.169.254", AddressKind::private_network},
        {"fc00::1", AddressKind::private_network},
        {"fd12:3456::1", AddressKind::private_network},
        {"fe80::1", AddressKind::private_network},
        {"::ffff:10.0.0.1", AddressKind::private_network},
        {"224.0.0.1", AddressKind::never},
        {"255.255.255.255", AddressKind::never},
        {"ff02::1", AddressKind::never},
        // Reserved: IETF protocol assignments, documentation, benchmarking, 6to4 relays.
        {"192.0.0.1", AddressKind::never},
        {"192.0.2.7", AddressKind::never},
        {"198.18.0.1", AddressKind::never},
        {"198.19.255.255", AddressKind::never},
        {"198.20.0.1", AddressKind::public_internet},
        {"198.51.100.9", AddressKind::never},
        {"203.0.113.5", AddressKind::never},
        {"192.88.99.1", AddressKind::never},
        {"2001:db8::1", AddressKind::never},
        {"100::1", AddressKind::never},
        // IPv6 addresses that carry an IPv4 one reach it.
        {"64:ff9b::a00:1", AddressKind::private_network},
        {"64:ff9b::808:808", AddressKind::public_internet},
        {"::127.0.0.1", AddressKind::loopback},
        {"::10.0.0.1", AddressKind::private_network},
        {"::8.8.8.8", AddressKind::public_internet},
        {"2002:7f00:1::1", AddressKind::loopback},
        {"2002:c0a8:101::1", AddressKind::private_network},
    };
    for (const auto& [address, kind] : table) EXPECT_EQ(kind_of(address), kind) << address;
}

TEST(WebhookAddresses, TheSettingsOpenLoopbackAndPrivateRangesApart) {
    config::Webhooks settings;
    HttpWebhookTransport transport(settings);
    const auto allows = [&](const char* text) { return transport.allows(boost::asio::ip::make_address(text)); };
    EXPECT_TRUE(allows("93.184.216.34"));
    EXPECT_FALSE(allows("127.0.0.1"));
    EXPECT_FALSE(allows("10.0.0.1"));
    settings.allow_loopback = true;
    EXPECT_TRUE(allows("127.0.0.1"));
    EXPECT_FALSE(allows("10.0.0.1"));
    settings.allow_private_networks = true;
    EXPECT_TRUE(allows("10.0.0.1"));
    EXPECT_TRUE(allows("fe80::1"));
    EXPECT_FALSE(allows("224.0.0.1"));
}

// What check_destination makes of the URL, under settings that allow loopback: "" when it is
// accepted, else the refusal's message.
std::string destination_refusal(const std::string& url) {
    config::Webhooks settings;
    settings.allow_loopback = true;
    HttpWebhookTransport transport(settings);
    boost::asio::io_context io;
    std::string refusal;
    boost::asio::co_spawn(io, transport.check_destination(url, "url"), [&refusal](const std::exception_ptr& failure) {
        if (!failure) return;
        try {
            std::rethrow_exception(failure);
        } catch (const std::exception& e) {
            refusal = e.what();
        }
    });
    io.run();
    return refusal;
}

// The scheme and the host are case-insensitive (RFC 3986 3.1, 3.2.2).
TEST(WebhookDestinations, TheSchemeAndHostAreReadInAnyCase) {
    for (const std::string url : {"http://127.0.0.1:8080/hook", "HTTP://127.0.0.1:8080/hook", "Http://127.0.0.1/hook",
                                  "HTTP://LOCALHOST:8080/hook", "http://[::FFFF:7F00:1]/"})
        EXPECT_EQ(destination_refusal(url), "") << url;
    for (const std::string url : {"HTTPS://127.0.0.1/hook", "ftp://127.0.0.1/hook", "127.0.0.1:8080/hook"})
        EXPECT_EQ(destination_refusal(url), "url must be an absolute http:// URL") << url;
}

TEST(WebhookSignature, IsHmacSha256OfTheTimestampADotAndTheBody) {
    // Computed apart: python3 -c "import hmac,hashlib; print(hmac.new(b'whsec_test',
    //   b'1700000000.{\"type\":\"message.new\"}', hashlib.sha256).hexdigest())"
    EXPECT_EQ(domain::webhook_signature("whsec_test", 1700000000, R"({"type":"message.new"})"),
              "t=1700000000,v1=1d67e57da46178f26f06f547019d72412d8a2fa6e2aeaa7c63c8567ea2748178");
}

}  // namespace
}  // namespace confab::net
