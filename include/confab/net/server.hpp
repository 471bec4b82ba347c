#pragma once

#include "confab/config/config.hpp"
#include "confab/domain/blocking.hpp"
#include "confab/http/message.hpp"

#include <boost/asio/awaitable.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>

namespace confab::api {
class WsEvents;
}
namespace confab::http {
class Router;
}
namespace confab::realtime {
class Hub;
}

namespace confab::net {

// The listener and its I/O threads. run() serves until SIGINT or SIGTERM, then stops
// accepting, lets in-flight requests finish, closes WebSockets with 1001 and returns
// within the configured shutdown grace. SIGHUP calls the reload hook.
class Server {
public:
    struct Hooks {
        std::function<std::filesystem::path()> upload_path;  // a fresh file for a streamed upload
        std::function<void()> reload;                        // on SIGHUP
        // Whether an upload may send its body, decided from its header: nullopt or the refusal.
        std::function<boost::asio::awaitable<std::optional<http::Response>>(const http::Request&)> admit_upload;
    };
    // `files`: the threads for the file work of downloads and uploads (net/file_io.hpp).
    Server(const config::Config& config, const http::Router& router, api::WsEvents& events, realtime::Hub& hub,
           domain::Workers& files, Hooks hooks);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    void run();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace confab::net
