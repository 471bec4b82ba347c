#pragma once

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace confab::net {

// The accept loop's answer to running out of descriptors (EMFILE, ENFILE) or kernel memory.
// Retrying at once spins: the pending connection stays in the backlog and accept fails
// again at once, at full CPU, a warning each time. Instead the loop waits, doubling from
// `first` up to `longest`, and the episode is logged when it starts and when it ends.
class AcceptBackoff {
public:
    AcceptBackoff(std::chrono::milliseconds first, std::chrono::milliseconds longest);

    // Whether a failed accept means the process or system is out of a resource.
    static bool is_exhaustion(const boost::system::error_code& error);

    struct Pause {
        std::chrono::milliseconds wait;
        bool episode_started;  // the first failure since the last success: log it
    };
    Pause failed();
    // After an accept that worked: how many failed in the episode it ends (0: none, log nothing).
    std::uint64_t succeeded();

private:
    const std::chrono::milliseconds first_, longest_;
    std::chrono::milliseconds next_;
    std::uint64_t failures_ = 0;
};

// Descriptors kept back from client connections for what else the process opens: the
// database pool and the analytics writer, upload files, logs, the listener, epoll.
std::size_t descriptor_reserve(unsigned database_pool_size);

// The cap on open client connections: `configured`, or when 0 the soft RLIMIT_NOFILE
// (`descriptor_limit`) minus the reserve. Throws std::invalid_argument (saying which
// setting) when the cap would not fit under the limit.
std::size_t connection_cap(std::size_t configured, std::uint64_t descriptor_limit, unsigned database_pool_size);

}  // namespace confab::net
