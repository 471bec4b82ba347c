#include "support/haproxy.hpp"

#include "support/server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
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

std::string config_for(const std::filesystem::path& dir, const std::vector<std::uint16_t>& node_ports) {
    std::ostringstream out;
    // A check may take 2 s to be answered (a sanitized node on a busy machine answers /readyz in
    // hundreds of ms): with `fall 1` a slower answer would take the node out of the rotation. A
    // killed node still leaves it at once, its connection refused.
    out << "global\n  maxconn 4096\n  stats socket " << (dir / "admin.sock").string()
        << " level admin\n"
           "defaults\n  mode http\n  timeout connect 1s\n  timeout check 2s\n  timeout client 60s\n"
           "  timeout server 60s\n"
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

// What `command` on HAProxy's stats socket answers; empty while it is not listening yet.
std::string ask(const std::filesystem::path& socket_path, const std::string& command) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, socket_path.c_str(), sizeof(address.sun_path) - 1);
    std::string answer;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
        const auto line = command + "\n";
        if (::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size())) {
            char buffer[4096];
            ssize_t got = 0;
            while ((got = ::read(fd, buffer, sizeof(buffer))) > 0) answer.append(buffer, static_cast<std::size_t>(got));
        }
    }
    ::close(fd);
    return answer;
}

std::vector<std::string> csv_fields(const std::string& line) {
    std::vector<std::string> fields;
    std::istringstream in(line);
    for (std::string field; std::getline(in, field, ',');) fields.push_back(field);
    return fields;
}

// Whether HAProxy's last check of each of the `count` servers of backend `nodes` passed
// (`show stat`: status UP, check status L7OK).
bool every_node_up(const std::filesystem::path& socket_path, std::size_t count) {
    std::istringstream stats(ask(socket_path, "show stat"));
    std::string line;
    if (!std::getline(stats, line) || line.rfind("# ", 0) != 0) return false;
    const auto header = csv_fields(line.substr(2));
    const auto column = [&header](const std::string& name) {
        return static_cast<std::size_t>(std::find(header.begin(), header.end(), name) - header.begin());
    };
    const auto status = column("status"), check = column("check_status");
    std::size_t up = 0;
    while (std::getline(stats, line)) {
        const auto fields = csv_fields(line);
        if (fields.size() <= std::max(status, check) || fields[0] != "nodes" || fields[1] == "BACKEND") continue;
        if (fields[status] != "UP" || fields[check] != "L7OK") return false;
        ++up;
    }
    return up == count;
}

}  // namespace

bool HaProxy::installed() { return std::system("command -v haproxy >/dev/null 2>&1") == 0; }

HaProxy::HaProxy(const std::vector<std::uint16_t>& node_ports) {
    char tmpl[] = "/tmp/confab-haproxy-XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
    dir_ = tmpl;
    std::ofstream(dir_ / "haproxy.cfg") << config_for(dir_, node_ports);
    const auto [listener, port] = loopback_listener();
    port_ = port;
    pid_ = spawn_logged("haproxy", {"-db", "-f", (dir_ / "haproxy.cfg").string()}, {}, dir_ / "haproxy.log", listener);
    ::close(listener);
    // Ready once HAProxy's own checks passed on every node: a request answered through it says
    // only that one node was up, and the next could find them all out of the rotation.
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
        if (int status = 0; ::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            break;
        }
        if (every_node_up(dir_ / "admin.sock", node_ports.size())) return;
        std::this_thread::sleep_for(10ms);
    }
    throw std::runtime_error("haproxy did not see every node up; its log ends with:\n" + log_tail());
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
