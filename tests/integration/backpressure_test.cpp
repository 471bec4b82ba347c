// Guarantee 4: a client that stops reading never slows the others or grows the server's
// memory without bound; past its outbound queue limit the server closes it.

#include "support/chat_api.hpp"
#include "support/fixture.hpp"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <thread>

namespace confab::test {
namespace {

// RFC 3339 with milliseconds, UTC ("2026-11-25T10:00:00.123Z"), as epoch milliseconds.
long long epoch_ms(const json& timestamp) {
    std::tm parts{};
    const auto text = timestamp.get<std::string>();
    ::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &parts);
    return static_cast<long long>(::timegm(&parts)) * 1000 + std::stoll(text.substr(20, 3));
}

// A WebSocket client that completes the handshake and then never reads: the support
// library's WsClient reads in the background, so this one is a bare socket with a tiny
// receive buffer, which the server fills after a few frames.
class StalledClient {
public:
    StalledClient(std::uint16_t port, const std::string& token) {
        fd_ = connect_with_receive_buffer(port, 4096);
        const std::string upgrade =
            "GET /api/v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer " +
            token + "\r\n\r\n";
        ::send(fd_, upgrade.data(), upgrade.size(), 0);
        std::string response;
        char byte = 0;
        while (response.find("\r\n\r\n") == std::string::npos && ::recv(fd_, &byte, 1, 0) == 1) response += byte;
        if (!response.starts_with("HTTP/1.1 101")) throw std::runtime_error("upgrade refused: " + response);
    }
    ~StalledClient() { ::close(fd_); }

    // Drains what the server sent; true when the server closed the connection by then.
    bool closed_by_server_within(std::chrono::seconds timeout) {
        const timeval tick{1, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof tick);
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        std::vector<char> sink(64 * 1024);
        while (std::chrono::steady_clock::now() < deadline) {
            const auto got = ::recv(fd_, sink.data(), sink.size(), 0);
            if (got == 0) return true;                                            // FIN
            if (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return true;  // reset
        }
        return false;
    }

private:
    int fd_ = -1;
};

long resident_kib(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string key;
    while (status >> key) {
        if (key == "VmRSS:") {
            long kib = 0;
            status >> kib;
            return kib;
        }
        status.ignore(4096, '\n');
    }
    return -1;
}

// The server's environment: a queue of 256 frames (about 1 MB here) overflows for the stalled
// reader long before the flood ends, yet gives the reading members, themselves slow under
// AddressSanitizer, room to keep up. ASan holds freed memory in a 256 MiB quarantine, which
// would read as growth; a 16 MiB one keeps the RSS measure about the server.
std::map<std::string, std::string> server_environment() {
    std::map<std::string, std::string> env{{"CONFAB_LIMIT_WS_OUTBOUND_QUEUE", "256"}};
    if (const char* asan = std::getenv("ASAN_OPTIONS"))
        env["ASAN_OPTIONS"] = std::string(asan) + ":quarantine_size_mb=16";
    return env;
}

TEST(BackpressureTest, AStalledReaderIsClosedWhileOthersKeepUp) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(shared_database().url(), server_environment());
    const auto port = server.port();
    auto sender = register_user(port, "bp");
    auto reader = register_user(port, "bp");
    auto stalled = register_user(port, "bp");
    const std::string chat = create_group(port, sender, {reader.id, stalled.id})["id"];

    StalledClient stalled_client(port, stalled.token);  // connected, never read from
    auto reader_ws = ws_connect(port, reader.token);
    const long rss_before = resident_kib(server.pid());

    // Enough bytes to fill the kernel's socket buffers on both sides of the stalled
    // connection (several MB on loopback) and then its 256-frame queue: about 25 MB in all.
    constexpr int senders = 4, per_sender = 1500, messages = senders * per_sender;
    const std::string padding(3900, 'x');
    std::atomic<int> received{0};
    std::atomic<long long> worst_ms{0};
    std::thread reading([&] {
        while (received < messages) {
            auto frame = reader_ws->receive(30s);
            if (!frame) break;
            if ((*frame)["type"] != "message.new") continue;
            const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
            worst_ms = std::max<long long>(worst_ms, now - epoch_ms((*frame)["data"]["message"]["created_at"]));
            ++received;
        }
    });
    std::vector<std::thread> sending;
    for (int s = 0; s < senders; ++s) {
        sending.emplace_back([&] {
            // A failure here is the test's, not a reason to abort the whole suite.
            try {
                auto sender_ws = ws_connect(port, sender.token);
                for (int i = 0; i < per_sender; ++i) {
                    sender_ws->send_json({{"type", "message.send"},
                                          {"data", {{"chat_id", chat}, {"type", "text"}, {"content", padding}}}});
                }
                // Stay connected until every frame was handled (the server answers in order).
                sender_ws->request("ping", json::object(), 60s);
            } catch (const std::exception& e) {
                ADD_FAILURE() << "sender: " << e.what();
            }
        });
    }
    for (auto& thread : sending) thread.join();
    reading.join();
    EXPECT_EQ(received, messages) << "the reading member missed messages while another stalled";
    // From commit (created_at) to arrival. Loose on purpose, this is not a benchmark: a
    // reader stuck behind the stalled one would wait out the 5 s close deadline or forever.
    EXPECT_LT(worst_ms, 3000) << "the reading member was held up";

    // The stalled connection was closed by the server (1008, dropped when the close frame
    // could not be delivered within 5 s), and the overflow was counted.
    EXPECT_TRUE(stalled_client.closed_by_server_within(30s)) << "the stalled reader was never closed";
    const auto metrics = http(port, "GET", "/metrics").body;
    EXPECT_NE(metrics.find("confab_ws_outbound_queue_overflows_total 1"), std::string::npos) << metrics.substr(0, 2000);

    const long rss_after = resident_kib(server.pid());
    EXPECT_LT(rss_after - rss_before, 150 * 1024) << "RSS grew from " << rss_before << " KiB to " << rss_after;
    EXPECT_EQ(get(port, sender.token, "/healthz").status, 200);
}

}  // namespace
}  // namespace confab::test
