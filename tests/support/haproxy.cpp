#include "support/haproxy.hpp"

#include "support/client.hpp"
#include "support/server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <utility>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace confab::test {

using namespace std::chrono_literals;

namespace {

std::string config_for(const std::vector<std::uint16_t>& node_ports) {
    std::ostringstream out;
    out << "global\n  maxconn 4096\n"
           "defaults\n  mode http\n  timeout connect 1s\n  timeout client 60s\n  timeout server 60s\n"
           "  timeout tunnel 1h\n  option http-server-close\n  option redispatch\n  retries 3\n"
           "  default-server check inter 100ms fall 1 rise 1\n"
           "frontend confab\n  bind fd@3\n  default_backend nodes\n"
           "backend nodes\n  balance roundrobin\n  option httpchk GET /readyz\n  http-check expect status 200\n";
    for (std::size_t i = 0; i < node_ports.size(); ++i)
        out << "  server node" << i + 1 << " 127.0.0.1:" << node_ports[i] << "\n";
    return out.str();
}

// A TCP socket bound to a loopback port the system picks, and that port.
std::pair<int, std::uint16_t> loopback_listener() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof(address);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), size) != 0 || ::listen(fd, 128) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
        const std::string error = std::strerror(errno);
        ::close(fd);
        throw std::runtime_error("loopback listener: " + error);
    }
    return {fd, ntohs(address.sin_port)};
}

}  // namespace

bool HaProxy::installed() { return std::system("command -v haproxy >/dev/null 2>&1") == 0; }

HaProxy::HaProxy(const std::vector<std::uint16_t>& node_ports) {
    char tmpl[] = "/tmp/confab-haproxy-XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
    dir_ = tmpl;
    std::ofstream(dir_ / "haproxy.cfg") << config_for(node_ports);
    const auto [listener, port] = loopback_listener();
    port_ = port;
    pid_ = spawn_logged("haproxy", {"-db", "-f", (dir_ / "haproxy.cfg").string()}, {}, dir_ / "haproxy.log", listener);
    ::close(listener);
    // Connections queue on the listener from the start: ready once one is answered.
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
        if (int status = 0; ::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            break;
        }
        try {
            if (http(port_, "GET", "/readyz", {}, {}, 1s).status == 200) return;
        } catch (const std::exception&) {  // haproxy closed it while starting: again
        }
        std::this_thread::sleep_for(10ms);
    }
    throw std::runtime_error("haproxy did not come up; its log ends with:\n" + log_tail());
}

HaProxy::~HaProxy() {
    if (pid_ > 0) {
        ::kill(pid_, SIGTERM);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

std::string HaProxy::log_tail() const {
    std::ifstream in(dir_ / "haproxy.log");
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    return text.size() > 4096 ? text.substr(text.size() - 4096) : text;
}

}  // namespace confab::test
