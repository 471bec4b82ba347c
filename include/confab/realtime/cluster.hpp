#pragma once

#include "confab/realtime/hub.hpp"
#include "confab/realtime/sequencer.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

// Several Confab nodes behind a load balancer share one PostgreSQL; each holds its own
// WebSocket connections. What a node's hub sends or closes crosses to the other nodes on a
// bus (NATS, net/nats_bus.hpp), whose hubs hand it to their own connections of the same
// users (docs/architecture.md, Cluster).
namespace confab::realtime {

// A chat event's place in its chat, as an envelope carries it (realtime::Order borrows it).
struct Ordering {
    std::string chat_id;
    std::int64_t seq = 0;
    Order::Place place = Order::Place::at;

    bool operator==(const Ordering&) const = default;
};

// What the nodes publish to each other: a frame for some users' connections (in its chat's
// order when it is a chat's event), or the closing of some of a user's connections.
struct SendEnvelope {
    std::vector<std::string> user_ids;
    std::string frame;
    std::optional<Ordering> ordering;

    bool operator==(const SendEnvelope&) const = default;
};
struct CloseEnvelope {
    std::string user_id;
    TokenFilter tokens;
    CloseCode code = CloseCode::token_revoked;

    bool operator==(const CloseEnvelope&) const = default;
};
// A chat's members, roles or settings changed: the other nodes drop what they cached of it.
struct AccessEnvelope {
    std::string chat_id;

    bool operator==(const AccessEnvelope&) const = default;
};
// When something a node published may have been lost, to the millisecond the envelope carries.
using LossTime = std::chrono::sys_time<std::chrono::milliseconds>;

// A node may have lost something it published (NATS refused it, or its link died before NATS
// confirmed it): the other nodes cannot know what they missed, so they close with 1013 every
// connection that could have missed it, those attached before it was committed.
struct ResyncEnvelope {
    // Everything the node may have lost was committed before this, on its clock. Absent (an
    // older node's envelope): every connection.
    std::optional<LossTime> committed_before;

    bool operator==(const ResyncEnvelope&) const = default;
};
// A frame for one device's connections (a user's connections of one token): a call's
// signalling, from the node that owns the call.
struct DeviceSendEnvelope {
    std::string user_id;
    std::string token_hash;
    std::string frame;

    bool operator==(const DeviceSendEnvelope&) const = default;
};
// A device got a connection on the sending node, or lost its last one there: the node that
// owns a call it is in, or rings in, acts on it (domain::CallService::connected).
struct DeviceEnvelope {
    std::string user_id;
    std::string token_hash;
    bool connected = false;

    bool operator==(const DeviceEnvelope&) const = default;
};
using Envelope =
    std::variant<SendEnvelope, CloseEnvelope, AccessEnvelope, ResyncEnvelope, DeviceSendEnvelope, DeviceEnvelope>;

// A compact binary encoding: a version byte, a kind byte, then length-prefixed fields. A
// message.new's place is kind `O` (its chat and seq first); an event's place after a seq rides
// in a plain send (kind `S`) as an extra first recipient no user has, which a node of the
// previous version finds no connection for: it still delivers the event to its real recipients
// during a rolling upgrade, only not in order (docs/architecture.md, Cluster).
std::string encode(const Envelope& envelope);
// Nothing for bytes that are not a whole envelope of a known version (a newer node's, or
// garbage on the subject).
std::optional<Envelope> decode(std::string_view bytes);

// The messaging system between the nodes: every node receives what the others publish on
// the cluster's subject, and never its own.
class Bus {
public:
    virtual ~Bus() = default;
    virtual void publish(std::string bytes) = 0;
    // When the bus refused a publish (it reached no other node) or may have lost one (the link
    // died before the messaging system confirmed it) since last asked: a time before which
    // every such publish's event was committed (the latest refusal, or hand-over to the link).
    virtual std::optional<LossTime> take_loss() = 0;
    virtual bool connected() const = 0;
};

// A hub's relay to the other nodes, and the receiver of theirs.
class Cluster final : public Relay {
public:
    // What this node is told of the others' changes to its caches.
    struct Told {
        // Every close another node makes (the tokens were revoked: caches of them go), before
        // this node's connections are closed.
        std::function<void(const std::string& user_id, const TokenFilter& tokens)> closed;
        // Another node changed a chat's access (domain::AccessCache::forget).
        std::function<void(const std::string& chat_id)> access_changed;
        // A device's connections changed on another node (DeviceEnvelope).
        std::function<void(const std::string& user_id, const std::string& token_hash, bool connected)> device_changed;
        // Asks which of a chat's seqs below `below` not to wait for: the highest stored before
        // `stored_before` (when this node last joined the bus: what was published before never
        // reaches it) or longer than the order wait ago (domain::MessageService::settled_seq).
        // `answer` may be called on any thread, or never (the wait then gives the gap up).
        // Unset: all of them.
        std::function<void(const std::string& chat_id, std::int64_t below,
                           std::chrono::system_clock::time_point stored_before,
                           std::function<void(std::int64_t settled)> answer)>
            settled;
    };

    // `order_wait`: how long a message after a gap in its chat's seqs waits for the gap to fill.
    Cluster(Hub& hub, Bus& bus, Told told = {}, Sequencer::Clock::duration order_wait = std::chrono::seconds(1));
    ~Cluster() override;
    Cluster(const Cluster&) = delete;
    Cluster& operator=(const Cluster&) = delete;

    // NATS refuses a message past its max_payload (1 MiB unless configured otherwise), and a
    // refused publish closes the other nodes' connections to resync: a message to a large
    // group of 100,000 members (3.8 MB of user ids) did that every time. A send's recipients
    // cross in parts of at most this many (about 380 KB of ids), which the other nodes take
    // as parts of one message (Sequencer::arrive).
    static constexpr std::size_t users_per_envelope = 10'000;
    void relay_send(const std::vector<std::string>& user_ids, const Frame& frame,
                    const std::optional<Order>& order) override;
    std::size_t send_here_in_order(const std::vector<std::string>& user_ids, const Frame& frame,
                                   const Order& order) override;
    void relay_close(const std::string& user_id, const TokenFilter& tokens, CloseCode code) override;
    bool linked() const override { return bus_.connected(); }
    // This node changed a chat's access: the others' caches of it go.
    void relay_access_changed(const std::string& chat_id);
    // A frame for a device's connections on the other nodes (this node's are the caller's).
    void relay_device_send(const std::string& user_id, const std::string& token_hash, const Frame& frame);
    // A device got a connection here, or lost its last one here.
    void relay_device_changed(const std::string& user_id, const std::string& token_hash, bool connected);

    // One message from the bus, on the bus's own thread.
    void receive(std::string_view bytes);
    // The bus is back after a time away (or up for the first time after connections came):
    // what the other nodes published meanwhile never reached this node, so its connections are
    // closed with 1013 and their clients resync by since_version, rather than miss it silently,
    // and the sequencer starts afresh (what was stored before now is theirs by the resync).
    // What this node may have lost meanwhile closes the other nodes' connections the same way.
    void rejoined();

private:
    // Publishes, and when the bus may have lost something, has the other nodes resync those
    // who could have missed it (at once when the bus is up, else once it is back).
    void publish(std::string bytes);
    void tell_others_of_loss();
    // Every connection here is closed with 1013.
    void resync_everyone_here();
    // Those here that could have missed what another node lost (ResyncEnvelope).
    void resync_attached_before(const ResyncEnvelope& lost);
    // The answer to Told::settled.
    void settle(const std::string& chat_id, std::int64_t settled);
    // Gives up the gaps held past the wait, as their deadlines come.
    void expire_gaps(const std::stop_token& stop);
    void resync(const std::string& user_id);

    Hub& hub_;
    Bus& bus_;
    Told told_;
    std::mutex order_mutex_;  // the sequencer's, held while it hands frames to the hub
    std::condition_variable_any order_changed_;
    Sequencer sequencer_;
    // When this node last joined the bus (under order_mutex_): nothing published before reaches it.
    std::chrono::system_clock::time_point joined_at_ = std::chrono::system_clock::now();
    std::jthread gap_expirer_;  // last: it stops before the rest goes
};

}  // namespace confab::realtime
