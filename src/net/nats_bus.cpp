#include "confab/net/nats_bus.hpp"

#include "confab/model/error.hpp"
#include "confab/obs/metrics.hpp"

#include <nats/nats.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <thread>
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
// What waits for the client to take it (while NATS hangs); past it a publish is refused too.
constexpr std::size_t kQueueBytes = 32 * 1024 * 1024;
constexpr std::int64_t kFlushTimeoutMs = 2000;
// How soon after a publish NATS is asked to confirm it (a round trip behind it), and how long
// the confirmation may take. What a link that turns out dead swallowed is known only from this.
constexpr auto kConfirmAfter = std::chrono::milliseconds(100);
constexpr std::int64_t kConfirmTimeoutMs = 1000;
constexpr std::int64_t kCloseTimeoutMs = 3000;
// How long a node waits for the owner of a call to answer a command.
constexpr std::int64_t kRequestTimeoutMs = 2000;

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
    natsSubscription* requests = nullptr;
    std::string calls_prefix;
    std::function<void(std::string, Reply)> serve;
    obs::Counter& published = counted("published");
    obs::Counter& dropped = counted("dropped");
    // Kept here rather than asked of the client, whose lock its reconnecting thread holds
    // for as long as a hung server takes to answer.
    std::atomic<bool> up{false};
    // Set as the node stops: the link then closes on purpose, and nothing on it is lost.
    std::atomic<bool> stopping{false};
    // When something was refused or may have been lost since take_loss(): the time before which
    // its event was committed, in ms since the epoch; 0 when nothing was.
    std::atomic<std::int64_t> lost_before_ms{0};
    std::mutex queue_mutex;
    std::condition_variable_any queue_changed;
    std::deque<std::string> queue;
    std::size_t queued_bytes = 0;
    // Publishes handed to the client, and how many of them NATS has confirmed; those between
    // may have gone into a link that was already dead (cut off, not closed: the client notices
    // only after its pings go unanswered). When one such is left at a disconnection, the other
    // nodes are told to resync once this one is back, those of their connections attached
    // before the last of them was handed over (written to the link).
    std::atomic<std::uint64_t> handed{0};
    std::atomic<std::uint64_t> confirmed{0};
    std::atomic<std::int64_t> last_handed_ms{0};
    std::jthread publisher;

    // The client's threads may be inside a callback into this object: the library is closed
    // and waited for before the object goes. What the node published last (a stopping node's
    // final sends) reaches NATS first, or the other nodes' clients would miss it.
    ~Impl() {
        if (publisher.joinable()) {
            publisher.request_stop();
            publisher.join();
        }
        stopping = true;
        if (connection && up && natsConnection_FlushTimeout(connection, kFlushTimeoutMs) != NATS_OK)
            spdlog::warn("cluster: NATS did not confirm this node's last messages before it stopped");
        natsSubscription_Destroy(requests);
        natsSubscription_Destroy(subscription);
        natsConnection_Destroy(connection);
        natsOptions_Destroy(options);
        if (nats_CloseAndWait(kCloseTimeoutMs) != NATS_OK) spdlog::warn("cluster: NATS client threads still running");
    }

    void refuse(const char* why) {
        dropped.inc();
        lose_before(now_ms());
        spdlog::warn("cluster: a message to the other nodes was refused: {}", why);
    }
    static std::int64_t now_ms() {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }
    void lose_before(std::int64_t ms) {
        auto before = lost_before_ms.load();
        while (before < ms && !lost_before_ms.compare_exchange_weak(before, ms)) {
        }
    }

    // Hands the queue to the client in order, on a thread of its own: while NATS hangs, the
    // client's publish waits for its reconnecting thread, and no caller of publish() should.
    // Once stopped it hands on what is left only while NATS is there to take it.
    void publish_queued(const std::stop_token& stop) {
        std::unique_lock lock(queue_mutex);
        auto confirm_due = std::chrono::steady_clock::time_point::max();
        for (;;) {
            const auto pending = [this] { return !queue.empty(); };
            if (unconfirmed()) queue_changed.wait_until(lock, stop, confirm_due, pending);
            else queue_changed.wait(lock, stop, pending);
            if (stop.stop_requested() && (queue.empty() || !up)) return;
            lock.unlock();
            if (unconfirmed() && std::chrono::steady_clock::now() >= confirm_due) {
                confirm();
                confirm_due = std::chrono::steady_clock::now() + kConfirmAfter;
            } else if (auto bytes = take_queued()) {
                if (!unconfirmed()) confirm_due = std::chrono::steady_clock::now() + kConfirmAfter;
                hand_over(*bytes);
            }
            lock.lock();
        }
    }
    bool unconfirmed() const { return handed.load() != confirmed.load(); }
    std::optional<std::string> take_queued() {
        std::lock_guard lock(queue_mutex);
        if (queue.empty()) return std::nullopt;
        auto bytes = std::move(queue.front());
        queue.pop_front();
        queued_bytes -= bytes.size();
        return bytes;
    }
    void hand_over(const std::string& bytes) {
        const auto status =
            natsConnection_Publish(connection, subject.c_str(), bytes.data(), static_cast<int>(bytes.size()));
        if (status != NATS_OK) return refuse(natsStatus_GetText(status));
        published.inc();
        last_handed_ms = now_ms();
        ++handed;
    }
    // A round trip to NATS: once it is back, NATS has everything handed before it. Not tried
    // while the client knows the link is down: what it holds then, it sends on reconnecting.
    void confirm() {
        const auto upto = handed.load();
        if (up && natsConnection_FlushTimeout(connection, kConfirmTimeoutMs) == NATS_OK) confirmed = upto;
    }

    static void on_message(natsConnection*, natsSubscription*, natsMsg* message, void* closure) {
        const auto* self = static_cast<Impl*>(closure);
        self->receive(
            std::string_view(natsMsg_GetData(message), static_cast<std::size_t>(natsMsg_GetDataLength(message))));
        natsMsg_Destroy(message);
    }
    static void on_request(natsConnection* connection, natsSubscription*, natsMsg* message, void* closure) {
        const auto* self = static_cast<Impl*>(closure);
        const char* reply_to = natsMsg_GetReply(message);
        std::string request(natsMsg_GetData(message), static_cast<std::size_t>(natsMsg_GetDataLength(message)));
        std::string reply_subject(reply_to ? reply_to : "");
        natsMsg_Destroy(message);
        if (reply_subject.empty()) return;  // not a request: nobody waits for an answer
        self->serve(std::move(request), [connection, reply_subject](const std::string& reply) {
            if (natsConnection_Publish(connection, reply_subject.c_str(), reply.data(),
                                       static_cast<int>(reply.size())) != NATS_OK)
                spdlog::warn("cluster: the reply to another node's call request was not sent");
        });
    }
    void mark_connected() {
        up = true;
        obs::metrics().cluster_connected.only().set(1);
        spdlog::info("cluster: connected to NATS");
    }
    static void on_connected(natsConnection*, void* closure) {
        auto* self = static_cast<Impl*>(closure);
        // What the client held while away went out on the new link just now.
        if (self->unconfirmed()) self->last_handed_ms = now_ms();
        self->mark_connected();
        if (self->rejoined) self->rejoined();
    }
    static void on_disconnected(natsConnection*, void* closure) {
        auto* self = static_cast<Impl*>(closure);
        self->up = false;
        obs::metrics().cluster_connected.only().set(0);
        if (self->stopping) {
            spdlog::info("cluster: left NATS");
            return;
        }
        if (const auto unsure = self->handed.load() - self->confirmed.load()) {
            self->lose_before(self->last_handed_ms.load());
            spdlog::warn("cluster: the link to NATS died with {} of this node's messages unconfirmed", unsure);
        }
        spdlog::warn("cluster: disconnected from NATS, reconnecting");
    }
    static void on_error(natsConnection*, natsSubscription*, natsStatus status, void* closure) {
        static_cast<Impl*>(closure)->dropped.inc();
        spdlog::error("cluster: NATS: {}", natsStatus_GetText(status));
    }
};

NatsBus::NatsBus(const config::Cluster& settings) : impl_(std::make_unique<Impl>()) {
    impl_->subject = settings.subject + ".hub";
    impl_->calls_prefix = settings.subject + ".calls.";
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
    check(natsOptions_SetDisconnectedCB(options, &Impl::on_disconnected, impl_.get()), "disconnected callback");
    check(natsOptions_SetErrorHandler(options, &Impl::on_error, impl_.get()), "error handler");
    spdlog::info("cluster: node {} on NATS subject {}", name, impl_->subject);
}

void NatsBus::start(Receiver receive, std::function<void()> rejoined) {
    impl_->receive = std::move(receive);
    impl_->rejoined = std::move(rejoined);
    const auto status = natsConnection_Connect(&impl_->connection, impl_->options);
    if (status == NATS_OK) impl_->mark_connected();
    else if (status != NATS_NOT_YET_CONNECTED) check(status, "connect");
    check(natsConnection_Subscribe(&impl_->subscription, impl_->connection, impl_->subject.c_str(), &Impl::on_message,
                                   impl_.get()),
          "subscribe");
    // Held without a bound rather than dropped: the receiver only queues (realtime::Hub).
    check(natsSubscription_SetPendingLimits(impl_->subscription, -1, -1), "pending limits");
    // A round trip, so that NATS has the subscription before this node answers its health
    // check (a load balancer then routes to it); when NATS is away it comes with the reconnect.
    if (connected()) natsConnection_FlushTimeout(impl_->connection, kFlushTimeoutMs);
    impl_->publisher = std::jthread([impl = impl_.get()](const std::stop_token& stop) { impl->publish_queued(stop); });
}

NatsBus::~NatsBus() = default;

std::optional<std::string> NatsBus::ask(const std::string& process_id, const std::string& request) {
    natsMsg* reply = nullptr;
    const auto subject = impl_->calls_prefix + process_id;
    const auto status = natsConnection_Request(&reply, impl_->connection, subject.c_str(), request.data(),
                                               static_cast<int>(request.size()), kRequestTimeoutMs);
    if (status == NATS_NO_RESPONDERS) return std::nullopt;
    if (status != NATS_OK) {
        spdlog::warn("cluster: call request to process {} failed: {}", process_id, natsStatus_GetText(status));
        throw model::Error(model::ErrorCode::unavailable, "the node holding the call did not answer");
    }
    std::string bytes(natsMsg_GetData(reply), static_cast<std::size_t>(natsMsg_GetDataLength(reply)));
    natsMsg_Destroy(reply);
    return bytes;
}

void NatsBus::answer(const std::string& process_id, std::function<void(std::string request, Reply reply)> serve) {
    impl_->serve = std::move(serve);
    const auto subject = impl_->calls_prefix + process_id;
    check(natsConnection_Subscribe(&impl_->requests, impl_->connection, subject.c_str(), &Impl::on_request,
                                   impl_.get()),
          "subscribe to call requests");
    if (connected()) natsConnection_FlushTimeout(impl_->connection, kFlushTimeoutMs);
}

void NatsBus::publish(std::string bytes) {
    {
        std::lock_guard lock(impl_->queue_mutex);
        if (impl_->queued_bytes + bytes.size() <= kQueueBytes) {
            impl_->queued_bytes += bytes.size();
            impl_->queue.push_back(std::move(bytes));
            impl_->queue_changed.notify_one();
            return;
        }
    }
    impl_->refuse("this node's queue for NATS is full");
}

std::optional<realtime::LossTime> NatsBus::take_loss() {
    if (impl_->lost_before_ms.load(std::memory_order_relaxed) == 0) return std::nullopt;
    const auto ms = impl_->lost_before_ms.exchange(0);
    if (ms == 0) return std::nullopt;
    return realtime::LossTime(std::chrono::milliseconds(ms));
}

bool NatsBus::connected() const { return impl_->up; }

std::string NatsBus::node_id(const config::Cluster& settings) {
    if (!settings.node_id.empty()) return settings.node_id;
    std::array<char, 256> host{};
    if (gethostname(host.data(), host.size() - 1) != 0) host = {'n', 'o', 'd', 'e'};
    return std::string(host.data()) + "-" + std::to_string(getpid());
}

}  // namespace confab::net
