#pragma once

// A stand-in for a service the server calls over HTTP (a translation provider; later webhook
// receivers): a plain HTTP/1.1 server on 127.0.0.1 and a free port, in this process, that
// records each request and answers it with the test's handler. Each connection has a thread
// of its own, so a handler may block (to hold an answer back) without stopping the others.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace confab::test {

class FakeHttpServer {
public:
    struct Request {
        std::string method;
        std::string target;
        std::map<std::string, std::string> headers;  // lower-case names
        std::string body;
    };
    struct Reply {
        int status = 200;
        std::string body;
        std::string content_type = "application/json";
    };
    using Handler = std::function<Reply(const Request&)>;

    // Listening on `address`, a loopback one: 127.0.0.1 or ::1.
    explicit FakeHttpServer(Handler handler, std::string address = "127.0.0.1");
    // Stops accepting and waits for the connections' threads (a blocked handler must have
    // been let go by then).
    ~FakeHttpServer();
    FakeHttpServer(const FakeHttpServer&) = delete;
    FakeHttpServer& operator=(const FakeHttpServer&) = delete;

    std::uint16_t port() const { return port_; }
    std::string url() const;  // http://127.0.0.1:<port>, or http://[::1]:<port>
    void set_handler(Handler handler);
    // The requests received so far, in arrival order.
    std::vector<Request> requests() const;
    std::size_t request_count() const;

private:
    struct State;
    void accept_loop();

    std::string address_;
    std::uint16_t port_ = 0;
    std::unique_ptr<State> state_;
    std::thread acceptor_;
};

// A door a handler waits at until the test opens it (or `limit` passes, so a forgotten
// door never hangs the suite).
class Gate {
public:
    void open();
    void wait(std::chrono::milliseconds limit = std::chrono::seconds(30));

private:
    std::mutex mutex_;
    std::condition_variable opened_;
    bool open_ = false;
};

}  // namespace confab::test
