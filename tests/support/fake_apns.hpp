#pragma once

// A stand-in for APNs: real HTTP/2 (an nghttp2 server session) over TLS with ALPN h2 on
// 127.0.0.1 and a free port, in this process. Its certificate is self-signed, made when it
// starts and written to ca_file() for the server under test to trust (push.apns_ca_file).
// The test's handler answers each request; the fake can also end a connection with GOAWAY.
// One thread runs every connection, so a handler must not block.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace confab::test {

class FakeApns {
public:
    struct Request {
        std::map<std::string, std::string> headers;  // pseudo-headers (":path") included
        std::string body;
        int connection = 0;  // which connection brought it, from 1
    };
    struct Reply {
        int status = 200;
        std::string reason;  // the body's {"reason": ...} when not empty
    };
    using Handler = std::function<Reply(const Request&)>;

    explicit FakeApns(Handler handler);
    ~FakeApns();
    FakeApns(const FakeApns&) = delete;
    FakeApns& operator=(const FakeApns&) = delete;

    std::string url() const;  // https://localhost:<port>
    const std::filesystem::path& ca_file() const { return ca_file_; }
    // The connections that completed the TLS handshake with h2 so far.
    int connections() const;
    // The requests answered so far, in arrival order.
    std::vector<Request> requests() const;
    // After answering its next request, the connection sends GOAWAY and closes.
    void go_away_after_next_request();

    struct State;  // public for the connections' code in fake_apns.cpp

private:
    std::unique_ptr<State> state_;
    std::uint16_t port_ = 0;
    std::filesystem::path ca_file_;
    std::thread thread_;
};

// A self-signed certificate for "localhost" and 127.0.0.1 with its P-256 key, both PEM.
struct SelfSignedCertificate {
    std::string certificate_pem;
    std::string private_key_pem;
};
SelfSignedCertificate new_self_signed_certificate();

}  // namespace confab::test
