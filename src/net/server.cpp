#include "confab/net/server.hpp"

#include "confab/http/cors.hpp"
#include "confab/net/admission.hpp"
#include "confab/net/http_session.hpp"
#include "confab/realtime/hub.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <sys/resource.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace confab::net {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr auto drain_poll = std::chrono::milliseconds(20);
// Leaves room under the grace period for closing the database pool and exiting.
constexpr auto exit_margin = std::chrono::milliseconds(750);
// Out of descriptors, accepts pause this long at first, doubling up to the longest pause.
constexpr auto first_accept_pause = std::chrono::milliseconds(10);
constexpr auto longest_accept_pause = std::chrono::seconds(1);
// Answers up to this size go out outside the response budget (limits.response_buffer_bytes).
constexpr std::uint64_t small_response_bytes = 64 * 1024;

// Written beside the target and renamed over it, so a reader never sees a partial number.
void write_port_file(const std::filesystem::path& file, std::uint16_t port) {
    std::filesystem::path partial = file;
    partial += ".partial";
    std::ofstream out(partial, std::ios::trunc);
    out << port << '\n';
    out.close();
    if (!out) throw std::runtime_error("cannot write the port file " + partial.string());
    std::filesystem::rename(partial, file);
}

// One event loop per I/O thread, each run by that thread alone: a connection lives on one,
// so what its handlers post (a completed send, a resumed coroutine) stays on its thread,
// waking no other and taking no lock another thread contends for.
class EventLoops {
public:
    explicit EventLoops(unsigned threads) {
        for (unsigned i = 0; i < threads; ++i) {
            loops_.push_back(std::make_unique<asio::io_context>(1));
            kept_running_.push_back(asio::make_work_guard(*loops_.back()));
        }
    }

    // Runs the acceptor, the signals and the hub's drain.
    asio::io_context& first() { return *loops_.front(); }

    // Round robin over the loops, for the accept loop alone.
    asio::io_context& next() { return *loops_[next_++ % loops_.size()]; }

    // Runs every loop, the first on the calling thread, until stop().
    void run() {
        std::vector<std::thread> threads;
        for (std::size_t i = 1; i < loops_.size(); ++i) threads.emplace_back([loop = loops_[i].get()] { loop->run(); });
        first().run();
        for (auto& thread : threads) thread.join();
    }

    void stop() {
        for (auto& loop : loops_) loop->stop();
    }

private:
    std::vector<std::unique_ptr<asio::io_context>> loops_;
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> kept_running_;
    std::size_t next_ = 0;
};

std::size_t total_connection_cap(const config::Config& config) {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) throw std::runtime_error("getrlimit(RLIMIT_NOFILE) failed");
    return connection_cap(config.overload.connections_total, limit.rlim_cur, config.database.pool_size);
}
}  // namespace

struct Server::Impl {
    Impl(const config::Config& cfg, const http::Router& router, api::WsEvents& events, realtime::Hub& hub,
         domain::Workers& files, Hooks hooks)
        : config(cfg),
          cors(cfg.server.allowed_origins),
          reload(std::move(hooks.reload)),
          loops(cfg.server.io_threads),
          acceptor(loops.first()),
          signals(loops.first(), SIGINT, SIGTERM),
          hangups(loops.first(), SIGHUP),
          connections_per_address("connections_per_ip", cfg.limits.connections_per_ip),
          connections_per_user("connections_per_user", cfg.limits.connections_per_user),
          connection_cap(total_connection_cap(cfg)),
          connections_total("connections_total", connection_cap),
          responses(cfg.limits.response_buffer_bytes, cfg.limits.response_buffer_bytes_per_user, small_response_bytes),
          accept_backoff(first_accept_pause, longest_accept_pause),
          context{config,
                  router,
                  cors,
                  events,
                  hub,
                  registry,
                  std::move(hooks.upload_path),
                  std::move(hooks.admit_upload),
                  connections_per_address,
                  connections_per_user,
                  files,
                  responses} {
        hub.deliver_on(loops.first().get_executor());
    }

    asio::awaitable<void> reload_on_hangup() {
        for (;;) {
            auto [ec, signal] = co_await hangups.async_wait(use_tuple);
            if (ec) co_return;
            spdlog::info("SIGHUP received; reloading");
            if (reload) reload();
        }
    }

    void listen() {
        const tcp::endpoint endpoint(asio::ip::make_address(config.server.listen_address), config.server.port);
        acceptor.open(endpoint.protocol());
        acceptor.set_option(asio::socket_base::reuse_address(true));
        acceptor.bind(endpoint);
        acceptor.listen(asio::socket_base::max_listen_connections);
        const auto bound_port = acceptor.local_endpoint().port();
        spdlog::info("listening on http://{}:{}", config.server.listen_address, bound_port);
        if (!config.server.port_file.empty()) write_port_file(config.server.port_file, bound_port);
    }

    asio::awaitable<void> accept_loop() {
        asio::steady_timer pause(loops.first());
        for (;;) {
            auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(loops.next()), use_tuple);
            if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
            if (ec) {
                if (!AcceptBackoff::is_exhaustion(ec)) {
                    spdlog::debug("accept failed: {}", ec.message());  // e.g. the client gave up first
                    continue;
                }
                const auto [wait, episode_started] = accept_backoff.failed();
                if (episode_started)
                    spdlog::error("accept failed: {}; pausing accepts (up to {} ms each) until descriptors are freed",
                                  ec.message(), longest_accept_pause.count());
                pause.expires_after(wait);
                co_await pause.async_wait(use_tuple);
                continue;
            }
            if (const auto failures = accept_backoff.succeeded())
                spdlog::info("accepting again after {} failed accepts", failures);
            auto slot = connections_total.try_take({});
            if (!slot) {
                refuse_over_capacity(socket);
                continue;
            }
            if (refused_over_capacity > 0) {
                spdlog::info("below the connection cap again; {} connections were refused", refused_over_capacity);
                refused_over_capacity = 0;
            }
            socket.set_option(tcp::no_delay(true), ec);
            const auto executor = socket.get_executor();
            asio::co_spawn(executor, serve_http(std::move(socket), std::move(*slot), context),
                           [](const std::exception_ptr& error) {
                               if (!error) return;
                               try {
                                   std::rethrow_exception(error);
                               } catch (const std::exception& e) {
                                   spdlog::error("connection ended by an exception: {}", e.what());
                               }
                           });
        }
    }

    // Stop accepting, interrupt idle sessions, close WebSockets with 1001, then wait for
    // the sessions to finish, but never past the grace period.
    asio::awaitable<void> shutdown_on_signal() {
        auto [ec, signal] = co_await signals.async_wait(use_tuple);
        if (ec) co_return;
        spdlog::info("signal {} received; shutting down", signal);
        const auto deadline = std::chrono::steady_clock::now() + config.server.shutdown_grace - exit_margin;
        close_acceptor();
        boost::system::error_code ignored;
        hangups.cancel(ignored);
        registry.begin_shutdown();
        asio::steady_timer poll(loops.first());
        while (registry.alive() > 0 && std::chrono::steady_clock::now() < deadline) {
            poll.expires_after(drain_poll);
            co_await poll.async_wait(use_tuple);
        }
        if (registry.alive() > 0) spdlog::warn("{} connections still open at the deadline", registry.alive());
        loops.stop();
    }

    // Past the cap a connection costs an accept, one write and a close: nothing is read and
    // no session started. The answer is far smaller than an empty socket's send buffer, so
    // the non-blocking write never waits. Logged once per episode, not per connection.
    void refuse_over_capacity(auto& socket) {
        if (refused_over_capacity++ == 0)
            spdlog::warn("{} connections open, the cap (overload.connections_total): refusing new ones with 503",
                         connection_cap);
        boost::system::error_code ignored;
        socket.non_blocking(true, ignored);
        socket.write_some(asio::buffer(over_capacity.next()), ignored);
        socket.shutdown(tcp::socket::shutdown_send, ignored);
        socket.close(ignored);
    }

    void close_acceptor() {
        boost::system::error_code ignored;
        acceptor.close(ignored);
    }

    const config::Config& config;
    http::Cors cors;
    std::function<void()> reload;
    // Declared before the loops: sessions still suspended when a loop is destroyed leave the registry.
    SessionRegistry registry;
    EventLoops loops;
    tcp::acceptor acceptor;
    asio::signal_set signals;
    asio::signal_set hangups;
    ConnectionCounter connections_per_address;
    ConnectionCounter connections_per_user;
    const std::size_t connection_cap;
    ConnectionCounter connections_total;      // one key: every connection, HTTP or WebSocket
    ResponseBudget responses;                 // large answers held while written
    OverCapacityAnswer over_capacity;         // accept loop only
    AcceptBackoff accept_backoff;             // used by the accept loop only
    std::uint64_t refused_over_capacity = 0;  // in the current episode; accept loop only
    SessionContext context;
};

Server::Server(const config::Config& config, const http::Router& router, api::WsEvents& events, realtime::Hub& hub,
               domain::Workers& files, Hooks hooks)
    : impl_(std::make_unique<Impl>(config, router, events, hub, files, std::move(hooks))) {}

Server::~Server() = default;

void Server::run() {
    impl_->listen();
    auto& first = impl_->loops.first();
    asio::co_spawn(first, impl_->accept_loop(), asio::detached);
    asio::co_spawn(first, impl_->shutdown_on_signal(), asio::detached);
    asio::co_spawn(first, impl_->reload_on_hangup(), asio::detached);
    impl_->loops.run();
    spdlog::info("server stopped");
}

}  // namespace confab::net
