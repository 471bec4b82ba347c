#include "support/fake_http_server.hpp"
#include "support/loopback.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>

namespace confab::test {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;

struct FakeHttpServer::State {
    asio::io_context io;
    tcp::acceptor acceptor{io};
    std::atomic<bool> stopping{false};
    mutable std::mutex mutex;
    Handler handler;
    std::vector<Request> requests;
    std::vector<std::thread> connections;
};

namespace {

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

}  // namespace

FakeHttpServer::FakeHttpServer(Handler handler, std::string address)
    : address_(std::move(address)), state_(std::make_unique<State>()) {
    state_->handler = std::move(handler);
    port_ = listen_on_loopback(state_->acceptor, address_.c_str());
    acceptor_ = std::thread([this] { accept_loop(); });
}

FakeHttpServer::~FakeHttpServer() {
    state_->stopping = true;
    // The accept blocks: a connection of our own wakes it to see `stopping`.
    boost::system::error_code ignored;
    tcp::socket wake(state_->io);
    wake.connect({asio::ip::make_address(address_), port_}, ignored);
    acceptor_.join();
    for (auto& connection : state_->connections) connection.join();
}

std::string FakeHttpServer::url() const {
    const bool v6 = address_.find(':') != std::string::npos;
    return "http://" + (v6 ? "[" + address_ + "]" : address_) + ":" + std::to_string(port_);
}

void FakeHttpServer::set_handler(Handler handler) {
    std::lock_guard lock(state_->mutex);
    state_->handler = std::move(handler);
}

std::vector<FakeHttpServer::Request> FakeHttpServer::requests() const {
    std::lock_guard lock(state_->mutex);
    return state_->requests;
}

std::size_t FakeHttpServer::request_count() const {
    std::lock_guard lock(state_->mutex);
    return state_->requests.size();
}

void FakeHttpServer::accept_loop() {
    for (;;) {
        tcp::socket socket(state_->io);
        boost::system::error_code error;
        state_->acceptor.accept(socket, error);
        if (state_->stopping) return;
        if (error) continue;
        state_->connections.emplace_back([state = state_.get(), socket = std::move(socket)]() mutable {
            boost::system::error_code ignored;
            boost::beast::flat_buffer buffer;
            http::request<http::string_body> incoming;
            http::read(socket, buffer, incoming, ignored);
            if (ignored) return;
            Request request{std::string(incoming.method_string()), std::string(incoming.target()), {}, incoming.body()};
            for (const auto& field : incoming) request.headers[lower(std::string(field.name_string()))] = field.value();
            Handler handler;
            {
                std::lock_guard lock(state->mutex);
                state->requests.push_back(request);
                handler = state->handler;
            }
            const Reply reply = handler(request);
            http::response<http::string_body> outgoing{static_cast<http::status>(reply.status), 11};
            outgoing.set(http::field::content_type, reply.content_type);
            outgoing.body() = reply.body;
            outgoing.keep_alive(false);
            outgoing.prepare_payload();
            http::write(socket, outgoing, ignored);
            socket.shutdown(tcp::socket::shutdown_both, ignored);
        });
    }
}

void Gate::open() {
    {
        std::lock_guard lock(mutex_);
        open_ = true;
    }
    opened_.notify_all();
}

void Gate::wait(std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex_);
    opened_.wait_for(lock, limit, [this] { return open_; });
}

}  // namespace confab::test
