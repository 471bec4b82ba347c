#include "support/nats_server.hpp"

#include "support/server.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <thread>

namespace confab::test {

using namespace std::chrono_literals;

bool NatsServer::installed() { return std::system("command -v nats-server >/dev/null 2>&1") == 0; }

NatsServer::NatsServer() {
    char tmpl[] = "/tmp/confab-nats-XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
    dir_ = tmpl;
    start();
}

NatsServer::~NatsServer() {
    stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

void NatsServer::start() {
    const auto ports = dir_ / "ports";
    std::filesystem::remove_all(ports);
    std::filesystem::create_directories(ports);
    pid_ = spawn_logged("nats-server", {"-a", "127.0.0.1", "-p", port_, "--ports_file_dir", ports.string()}, {},
                        dir_ / "nats.log");
    // The server writes {"nats":["nats://127.0.0.1:PORT"]} once it listens.
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    const std::string marker = "nats://127.0.0.1:";
    while (std::chrono::steady_clock::now() < deadline) {
        for (const auto& entry : std::filesystem::directory_iterator(ports)) {
            std::ifstream in(entry.path());
            const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
            const auto at = text.find(marker);
            const auto end = at == std::string::npos ? at : text.find('"', at);
            if (end == std::string::npos) continue;
            url_ = text.substr(at, end - at);
            port_ = url_.substr(marker.size());
            return;
        }
        if (int status = 0; ::waitpid(pid_, &status, WNOHANG) == pid_) break;
        std::this_thread::sleep_for(10ms);
    }
    throw std::runtime_error("nats-server did not come up; its log ends with:\n" + log_tail());
}

void NatsServer::stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGCONT);  // a paused server would never act on the SIGTERM
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
}

void NatsServer::kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
}

void NatsServer::pause() {
    if (pid_ > 0) ::kill(pid_, SIGSTOP);
}

void NatsServer::resume() {
    if (pid_ > 0) ::kill(pid_, SIGCONT);
}

std::string NatsServer::log_tail() const {
    std::ifstream in(dir_ / "nats.log");
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    return text.size() > 4096 ? text.substr(text.size() - 4096) : text;
}

}  // namespace confab::test
