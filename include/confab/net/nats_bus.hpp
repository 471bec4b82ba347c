#pragma once

#include "confab/config/config.hpp"
#include "confab/realtime/cluster.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

// The cluster's bus on NATS (Debian's libnats, the nats.c client): one subject,
// `<cluster.subject>.hub`, that every node publishes to and subscribes to, without echo; and
// one request/reply subject per process, `<cluster.subject>.calls.<process id>`, on which the
// node that owns a call answers the others' commands for it (api::CallRouter).
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
    std::optional<realtime::LossTime> take_loss() override;
    bool connected() const override;

    // A request to the process's node; blocks until its reply. Nothing when no node has that
    // process's subject (the process is gone); Error{unavailable} when none came in time.
    std::optional<std::string> ask(const std::string& process_id, const std::string& request);
    using Reply = std::function<void(const std::string& reply)>;
    // From then on the other nodes' requests to this process go to `serve`, on the client's
    // thread; it replies (once, from any thread) when it is done. Once, after start().
    void answer(const std::string& process_id, std::function<void(std::string request, Reply reply)> serve);

    // The node's name when cluster.node_id is empty: <hostname>-<pid>.
    static std::string node_id(const config::Cluster& settings);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace confab::net
