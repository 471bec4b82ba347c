#include "confab/net/nats_bus.hpp"

#include "confab/obs/metrics.hpp"

#include <nats/nats.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <array>
#include <stdexcept>
#include <utility>
#include <vector>

namespace confab::net {
namespace {

// How soon a node notices that NATS went away (no answer to two pings a second apart) and
// how often it tries again.
constexpr std::int64_t kPingIntervalMs = 1000;
constexpr int kMaxPingsOut = 2;
constexpr std::int64_t kReconnectWaitMs = 250;
// What a node keeps for NATS while it reconnects; past it a publish is refused (and counted
// as dropped) rather than held without bound.
constexpr int kReconnectBufferBytes = 32 * 1024 * 1024;
constexpr std::int64_t kFlushTimeoutMs = 2000;
constexpr std::int64_t kCloseTimeoutMs = 3000;

void check(natsStatus status, const char* what) {
    if (status != NATS_OK)
        throw std::runtime_error(std::string("cluster: ") + what + ": " + natsStatus_GetText(status));
}

obs::Counter& counted(const char* direction) { return obs::metrics().cluster_messages.with({direction}); }

}  // namespace

struct NatsBus::Impl {
    std::string subject;
    Receiver receive;
    std::function<void()> rejoined;
    natsOptions* options = nullptr;
    natsConnection* connection = nullptr;
    natsSubscription* subscription = nullptr;
    obs::Counter& published = counted("published");
    obs::Counter& dropped = counted("dropped");

    // The client's threads may be inside a callback into this object: the library is closed
    // and waited for before the object goes.
    ~Impl() {
        natsSubscription_Destroy(subscription);
        natsConnection_Destroy(connection);
        natsOptions_Destroy(options);
        if (nats_CloseAndWait(kCloseTimeoutMs) != NATS_OK) spdlog::warn("cluster: NATS client threads still running");
    }

    static void on_message(natsConnection*, natsSubscription*, natsMsg* message, void* closure) {
        const auto* self = static_cast<Impl*>(closure);
        self->receive(
            std::string_view(natsMsg_GetData(message), static_cast<std::size_t>(natsMsg_GetDataLength(message))));
        natsMsg_Destroy(message);
    }
    static void mark_connected() {
        obs::metrics().cluster_connected.only().set(1);
        spdlog::info("cluster: connected to NATS");
    }
    static void on_connected(natsConnection*, void* closure) {
        mark_connected();
        if (const auto* self = static_cast<Impl*>(closure); self->rejoined) self->rejoined();
    }
    static void on_disconnected(natsConnection*, void*) {
        obs::metrics().cluster_connected.only().set(0);
        spdlog::warn("cluster: disconnected from NATS, reconnecting");
    }
    static void on_error(natsConnection*, natsSubscription*, natsStatus status, void* closure) {
        static_cast<Impl*>(closure)->dropped.inc();
        spdlog::error("cluster: NATS: {}", natsStatus_GetText(status));
    }
};

NatsBus::NatsBus(const config::Cluster& settings) : impl_(std::make_unique<Impl>()) {
    impl_->subject = settings.subject + ".hub";
    std::vector<const char*> servers;
    for (const auto& url : settings.nats_urls) servers.push_back(url.c_str());
    const auto name = node_id(settings);
    auto& options = impl_->options;
    check(natsOptions_Create(&options), "options");
    check(natsOptions_SetServers(options, servers.data(), static_cast<int>(servers.size())), "servers");
    check(natsOptions_SetName(options, name.c_str()), "name");
    check(natsOptions_SetNoEcho(options, true), "no echo");
    check(natsOptions_SetMaxReconnect(options, -1), "reconnect");
    check(natsOptions_SetReconnectWait(options, kReconnectWaitMs), "reconnect wait");
    check(natsOptions_SetReconnectBufSize(options, kReconnectBufferBytes), "reconnect buffer");
    check(natsOptions_SetPingInterval(options, kPingIntervalMs), "ping interval");
    check(natsOptions_SetMaxPingsOut(options, kMaxPingsOut), "pings out");
    check(natsOptions_SetRetryOnFailedConnect(options, true, &Impl::on_connected, impl_.get()), "retry");
    check(natsOptions_SetReconnectedCB(options, &Impl::on_connected, impl_.get()), "reconnected callback");
    check(natsOptions_SetDisconnectedCB(options, &Impl::on_disconnected, nullptr), "disconnected callback");
    check(natsOptions_SetErrorHandler(options, &Impl::on_error, impl_.get()), "error handler");
    spdlog::info("cluster: node {} on NATS subject {}", name, impl_->subject);
}

void NatsBus::start(Receiver receive, std::function<void()> rejoined) {
    impl_->receive = std::move(receive);
    impl_->rejoined = std::move(rejoined);
    const auto status = natsConnection_Connect(&impl_->connection, impl_->options);
    if (status == NATS_OK) Impl::mark_connected();
    else if (status != NATS_NOT_YET_CONNECTED) check(status, "connect");
    check(natsConnection_Subscribe(&impl_->subscription, impl_->connection, impl_->subject.c_str(), &Impl::on_message,
                                   impl_.get()),
          "subscribe");
    // Held without a bound rather than dropped: the receiver only queues (realtime::Hub).
    check(natsSubscription_SetPendingLimits(impl_->subscription, -1, -1), "pending limits");
    // A round trip, so that NATS has the subscription before this node answers its health
    // check (a load balancer then routes to it); when NATS is away it comes with the reconnect.
    if (connected()) natsConnection_FlushTimeout(impl_->connection, kFlushTimeoutMs);
}

NatsBus::~NatsBus() = default;

void NatsBus::publish(std::string bytes) {
    const auto status =
        natsConnection_Publish(impl_->connection, impl_->subject.c_str(), bytes.data(), static_cast<int>(bytes.size()));
    if (status == NATS_OK) {
        impl_->published.inc();
        return;
    }
    impl_->dropped.inc();
    spdlog::warn("cluster: a message to the other nodes was refused: {}", natsStatus_GetText(status));
}

bool NatsBus::connected() const {
    return impl_->connection && natsConnection_Status(impl_->connection) == NATS_CONN_STATUS_CONNECTED;
}

std::string NatsBus::node_id(const config::Cluster& settings) {
    if (!settings.node_id.empty()) return settings.node_id;
    std::array<char, 256> host{};
    if (gethostname(host.data(), host.size() - 1) != 0) host = {'n', 'o', 'd', 'e'};
    return std::string(host.data()) + "-" + std::to_string(getpid());
}

}  // namespace confab::net
