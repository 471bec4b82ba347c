#pragma once

// A TCP relay on loopback, for cutting one process's link to another as a network partition
// does: the ends stay open and hear nothing, and notice only by their own timeouts.

#include <cstdint>
#include <memory>

namespace confab::test {

// Listens on a loopback port the system picks and relays each connection to `target_port`
// on 127.0.0.1, on a thread of its own.
class TcpRelay {
public:
    explicit TcpRelay(std::uint16_t target_port);  // throws std::system_error
    ~TcpRelay();
    TcpRelay(const TcpRelay&) = delete;
    TcpRelay& operator=(const TcpRelay&) = delete;

    std::uint16_t port() const;
    // From now on every byte either way is read and dropped, on the connections open and on
    // those made while cut; nothing is closed.
    void cut();
    // Connections made from now on are relayed again; those cut stay cut.
    void mend();
    // From now on nothing is relayed either way: the bytes wait in the sockets, as on a link
    // that stalls, until release() lets them and what follows go on, in order. Nothing is
    // lost or closed.
    void hold();
    void release();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace confab::test
