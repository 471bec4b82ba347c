#pragma once

#include "confab/config/config.hpp"
#include "confab/realtime/cluster.hpp"

#include <functional>
#include <memory>
#include <string>
#include <string_view>

// The cluster's bus on NATS (Debian's libnats, the nats.c client): one subject,
// `<cluster.subject>.hub`, that every node publishes to and subscribes to, without echo.
namespace confab::net {

class NatsBus final : public realtime::Bus {
public:
    using Receiver = std::function<void(std::string_view bytes)>;

    // Throws on settings the client refuses.
    explicit NatsBus(const config::Cluster& settings);
    ~NatsBus() override;
    NatsBus(const NatsBus&) = delete;
    NatsBus& operator=(const NatsBus&) = delete;

    // Connects and subscribes; when NATS cannot be reached it keeps trying, as after every
    // disconnection, in the background. From then on what the other nodes publish goes to
    // `receive`, and `rejoined` runs each time the connection comes back (or first comes,
    // late), both on the client's own thread. Once, before the first publish.
    void start(Receiver receive, std::function<void()> rejoined);
    // Queued here and handed to the client on a thread of its own, in order, so that the
    // caller never waits for NATS; counted as dropped when refused (this queue or the
    // client's reconnect buffer full while NATS is away or hangs).
    void publish(std::string bytes) override;
    bool take_refused() override;
    bool connected() const override;

    // The node's name when cluster.node_id is empty: <hostname>-<pid>.
    static std::string node_id(const config::Cluster& settings);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace confab::net
