// confab-send-floor: what one delivery costs the kernel of this machine, with no server in
// the loop (issue #21 item 1, docs/performance.md). It opens loopback TCP connections as
// the server's WebSockets would be, and sends one frame to each of `fan-out` of them per
// message (a message's deliveries, one send() each as the server's are), at fixed message
// rates. A second thread drains every connection through epoll, as a client would. The
// figure is the sending thread's CPU per send (CLOCK_THREAD_CPUTIME_ID): the system call,
// loopback TCP on both ends (the receiver's softirq work runs in the sender's call), and
// waking the reader.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Options {
    int connections = 1000;
    int fan_out = 10;
    std::size_t frame_bytes = 300;  // about a short text message's message.new frame
    double seconds = 5;
    std::vector<double> rates{300, 1000, 3000};
};

void check(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(std::string(what) + ": " + std::strerror(errno));
}

double thread_cpu_seconds() {
    timespec now{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

// Pairs of loopback sockets: `senders[i]` writes what `receivers[i]` reads.
struct Pairs {
    std::vector<int> senders;
    std::vector<int> receivers;

    explicit Pairs(int count) {
        const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
        check(listener >= 0, "socket");
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        check(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0, "bind");
        check(::listen(listener, 4096) == 0, "listen");
        socklen_t length = sizeof address;
        check(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) == 0, "getsockname");
        for (int i = 0; i < count; ++i) {
            const int client = ::socket(AF_INET, SOCK_STREAM, 0);
            check(client >= 0, "socket");
            check(::connect(client, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0, "connect");
            const int server = ::accept(listener, nullptr, nullptr);
            check(server >= 0, "accept");
            const int on = 1;
            ::setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);  // as the server's sockets
            senders.push_back(server);
            receivers.push_back(client);
        }
        ::close(listener);
    }
};

// Reads every receiver until told to stop; returns the frames' bytes it read.
void drain(const std::vector<int>& receivers, const std::atomic<bool>& stop, std::atomic<std::size_t>& bytes) {
    const int poller = ::epoll_create1(0);
    check(poller >= 0, "epoll_create1");
    for (const int fd : receivers) {
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.fd = fd;
        check(::epoll_ctl(poller, EPOLL_CTL_ADD, fd, &event) == 0, "epoll_ctl");
    }
    std::vector<epoll_event> ready(256);
    std::vector<char> buffer(64 * 1024);
    while (!stop.load(std::memory_order_relaxed)) {
        const int count = ::epoll_wait(poller, ready.data(), static_cast<int>(ready.size()), 50);
        for (int i = 0; i < count; ++i) {
            const auto got = ::recv(ready[i].data.fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
            if (got > 0) bytes.fetch_add(static_cast<std::size_t>(got), std::memory_order_relaxed);
        }
    }
    ::close(poller);
}

struct Step {
    double rate;
    double sends_per_s;
    double sender_us_per_send;
    double reader_us_per_send;
};

// Sends `fan_out` frames per message, the messages spaced evenly at `rate` per second.
Step run_step(const Options& options, const Pairs& pairs, double rate) {
    std::atomic<bool> stop{false};
    std::atomic<std::size_t> bytes{0};
    double reader_cpu = 0;
    std::thread reader([&] {
        const auto start = thread_cpu_seconds();
        drain(pairs.receivers, stop, bytes);
        reader_cpu = thread_cpu_seconds() - start;
    });
    const std::string frame(options.frame_bytes, 'x');
    const auto interval = std::chrono::duration<double>(1.0 / rate);
    const auto begin = std::chrono::steady_clock::now();
    const auto messages = static_cast<long>(rate * options.seconds);
    const auto cpu_start = thread_cpu_seconds();
    std::size_t next = 0;
    for (long m = 0; m < messages; ++m) {
        std::this_thread::sleep_until(begin +
                                      std::chrono::duration_cast<std::chrono::steady_clock::duration>(m * interval));
        for (int d = 0; d < options.fan_out; ++d) {
            const auto sent = ::send(pairs.senders[next], frame.data(), frame.size(), MSG_NOSIGNAL);
            check(sent == static_cast<ssize_t>(frame.size()), "send");
            next = (next + 1) % pairs.senders.size();
        }
    }
    const auto sender_cpu = thread_cpu_seconds() - cpu_start;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    const auto expected = static_cast<std::size_t>(messages) * options.fan_out * options.frame_bytes;
    while (bytes.load() < expected) std::this_thread::yield();
    stop = true;
    reader.join();
    const double sends = static_cast<double>(messages) * options.fan_out;
    return {rate, sends / elapsed, 1e6 * sender_cpu / sends, 1e6 * reader_cpu / sends};
}

std::vector<double> parse_rates(const char* list) {
    std::vector<double> rates;
    for (const char* at = list; *at != '\0';) {
        char* end = nullptr;
        rates.push_back(std::strtod(at, &end));
        if (end == at || !(rates.back() > 0)) throw std::invalid_argument("--rates takes positive messages per second");
        at = *end == ',' ? end + 1 : end;
    }
    return rates;
}

Options parse(int argc, char** argv) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (i + 1 >= argc)
            throw std::invalid_argument(
                "usage: confab-send-floor [--connections N] [--fan-out N] "
                "[--frame-bytes N] [--seconds S] [--rates R,...]");
        const char* value = argv[++i];
        if (arg == "--connections") options.connections = std::atoi(value);
        else if (arg == "--fan-out") options.fan_out = std::atoi(value);
        else if (arg == "--frame-bytes") options.frame_bytes = static_cast<std::size_t>(std::atol(value));
        else if (arg == "--seconds") options.seconds = std::atof(value);
        else if (arg == "--rates") options.rates = parse_rates(value);
        else throw std::invalid_argument("unknown option " + arg);
    }
    if (options.connections < 1 || options.fan_out < 1 || options.frame_bytes < 1 || !(options.seconds > 0))
        throw std::invalid_argument("sizes and seconds must be positive");
    return options;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const auto options = parse(argc, argv);
        const Pairs pairs(options.connections);
        std::printf("send floor: %d loopback TCP connections, %d sends of %zu bytes per message, %.0f s per rate\n",
                    options.connections, options.fan_out, options.frame_bytes, options.seconds);
        std::printf("%10s %12s %22s %22s\n", "msg/s", "sends/s", "sender us/send", "reader us/send");
        for (const auto rate : options.rates) {
            const auto step = run_step(options, pairs, rate);
            std::printf("%10.0f %12.0f %22.2f %22.2f\n", step.rate, step.sends_per_s, step.sender_us_per_send,
                        step.reader_us_per_send);
        }
        for (const int fd : pairs.senders) ::close(fd);
        for (const int fd : pairs.receivers) ::close(fd);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "confab-send-floor: %s\n", e.what());
        return 1;
    }
    return 0;
}
