#include "support/tcp_relay.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <list>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace confab::test {
namespace {

[[noreturn]] void fail(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
}

// Writes all of it, or gives up when the other end is gone (the pair is then closed).
bool write_all(int fd, const char* data, std::size_t size) {
    while (size > 0) {
        const auto written = ::send(fd, data, size, MSG_NOSIGNAL);
        if (written <= 0) return false;
        data += written;
        size -= static_cast<std::size_t>(written);
    }
    return true;
}

}  // namespace

struct TcpRelay::Impl {
    // One relayed connection: the client's end and the target's (-1 when made while cut).
    struct Pair {
        int client = -1;
        int target = -1;
        bool cut = false;
    };

    std::uint16_t target_port;
    int listener = -1;
    std::uint16_t port = 0;
    std::array<int, 2> wake{-1, -1};  // a pipe: 0 written to stop the thread, 1 to poll afresh
    std::atomic<bool> cutting{false};
    std::atomic<bool> holding{false};
    std::mutex pairs_mutex;
    std::list<Pair> pairs;
    std::jthread thread;

    explicit Impl(std::uint16_t target) : target_port(target) {
        listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (listener < 0) fail("socket");
        auto address = loopback(0);
        socklen_t length = sizeof address;
        if (::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
            ::listen(listener, 16) != 0 || ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0)
            fail("listen");
        port = ntohs(address.sin_port);
        if (::pipe2(wake.data(), O_CLOEXEC) != 0) fail("pipe");
        thread = std::jthread([this] { run(); });
    }

    void wake_up(char why) const { (void)!::write(wake[1], &why, 1); }

    ~Impl() {
        wake_up(0);
        thread.join();
        for (const auto& pair : pairs) close_pair(pair);
        for (const int fd : {listener, wake[0], wake[1]}) ::close(fd);
    }

    static void close_pair(const Pair& pair) {
        ::close(pair.client);
        if (pair.target >= 0) ::close(pair.target);
    }

    void accept_one() {
        const int client = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        if (client < 0) return;
        Pair pair{client, -1, cutting.load()};
        if (!pair.cut) {
            pair.target = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            const auto address = loopback(target_port);
            if (pair.target < 0 ||
                ::connect(pair.target, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
                close_pair(pair);
                return;
            }
        }
        std::lock_guard lock(pairs_mutex);
        pairs.push_back(pair);
    }

    // What came on `from` goes to `to`, unless the pair is cut; false when `from` closed.
    static bool relay(const Pair& pair, int from, int to) {
        std::array<char, 16384> buffer{};
        const auto got = ::recv(from, buffer.data(), buffer.size(), 0);
        if (got <= 0) return false;
        return pair.cut || write_all(to, buffer.data(), static_cast<std::size_t>(got));
    }

    void run() {
        for (;;) {
            std::vector<pollfd> polled{{wake[0], POLLIN, 0}, {listener, POLLIN, 0}};
            std::vector<std::list<Pair>::iterator> of;  // the pair of each polled socket past the first two
            if (!holding) {
                std::lock_guard lock(pairs_mutex);
                for (auto it = pairs.begin(); it != pairs.end(); ++it)
                    for (const int fd : {it->client, it->target})
                        if (fd >= 0) {
                            polled.push_back({fd, POLLIN, 0});
                            of.push_back(it);
                        }
            }
            if (::poll(polled.data(), polled.size(), -1) < 0 && errno != EINTR) return;
            if (polled[0].revents != 0) {
                char why = 0;
                if (::read(wake[0], &why, 1) != 1 || why == 0) return;
                continue;  // held or released: poll the pairs afresh
            }
            if (polled[1].revents != 0) accept_one();
            std::lock_guard lock(pairs_mutex);
            std::vector<std::list<Pair>::iterator> closed;
            for (std::size_t i = 2; i < polled.size() && !holding; ++i) {
                if (polled[i].revents == 0) continue;
                const auto& pair = *of[i - 2];
                const int from = polled[i].fd;
                if (!relay(pair, from, from == pair.client ? pair.target : pair.client)) closed.push_back(of[i - 2]);
            }
            for (const auto& it : closed)
                if (it->client >= 0) {
                    close_pair(*it);
                    it->client = -1;  // both its sockets may have reported; closed once
                }
            pairs.remove_if([](const Pair& pair) { return pair.client < 0; });
        }
    }
};

TcpRelay::TcpRelay(std::uint16_t target_port) : impl_(std::make_unique<Impl>(target_port)) {}
TcpRelay::~TcpRelay() = default;

std::uint16_t TcpRelay::port() const { return impl_->port; }

void TcpRelay::cut() {
    std::lock_guard lock(impl_->pairs_mutex);
    impl_->cutting = true;
    for (auto& pair : impl_->pairs) pair.cut = true;
}

void TcpRelay::mend() { impl_->cutting = false; }

void TcpRelay::hold() {
    impl_->holding = true;
    impl_->wake_up(1);
}

void TcpRelay::release() {
    impl_->holding = false;
    impl_->wake_up(1);
}

}  // namespace confab::test
