#include "confab/net/admission.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace confab::net {

AcceptBackoff::AcceptBackoff(std::chrono::milliseconds first, std::chrono::milliseconds longest)
    : first_(first), longest_(longest), next_(first) {}

bool AcceptBackoff::is_exhaustion(const boost::system::error_code& error) {
    namespace errc = boost::system::errc;
    return error == errc::too_many_files_open || error == errc::too_many_files_open_in_system ||
           error == errc::no_buffer_space || error == errc::not_enough_memory;
}

AcceptBackoff::Pause AcceptBackoff::failed() {
    const Pause pause{next_, failures_ == 0};
    ++failures_;
    next_ = std::min(longest_, next_ * 2);
    return pause;
}

std::uint64_t AcceptBackoff::succeeded() {
    next_ = first_;
    const auto ended = failures_;
    failures_ = 0;
    return ended;
}

std::size_t descriptor_reserve(unsigned database_pool_size) {
    // Database connections (the pool's and the analytics writer's), and 64 for the rest:
    // files being uploaded or served, the listener, epoll, eventfds, timers, signals, logs.
    return std::size_t{database_pool_size} + 1 + 64;
}

std::size_t connection_cap(std::size_t configured, std::uint64_t descriptor_limit, unsigned database_pool_size) {
    const auto reserve = descriptor_reserve(database_pool_size);
    const auto room = descriptor_limit > reserve ? descriptor_limit - reserve : 0;
    const std::string where = "overload.connections_total (CONFAB_OVERLOAD_CONNECTIONS_TOTAL): ";
    const std::string limit = "the open-file limit (RLIMIT_NOFILE) is " + std::to_string(descriptor_limit) +
                              ", of which " + std::to_string(reserve) + " are kept for the database and files";
    if (room == 0) throw std::invalid_argument(where + "no room for any connection: " + limit);
    if (configured > room)
        throw std::invalid_argument(where + std::to_string(configured) + " is more than " + std::to_string(room) +
                                    ": " + limit + " (raise it with ulimit -n, or lower the setting)");
    return configured == 0 ? static_cast<std::size_t>(room) : configured;
}

}  // namespace confab::net
