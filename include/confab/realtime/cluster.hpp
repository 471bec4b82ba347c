#pragma once

#include "confab/realtime/hub.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

// Several Confab nodes behind a load balancer share one PostgreSQL; each holds its own
// WebSocket connections. What a node's hub sends or closes crosses to the other nodes on a
// bus (NATS, net/nats_bus.hpp), whose hubs hand it to their own connections of the same
// users (docs/architecture.md, Cluster).
namespace confab::realtime {

// What the nodes publish to each other: a frame for some users' connections, or the closing
// of some of a user's connections.
struct SendEnvelope {
    std::vector<std::string> user_ids;
    std::string frame;

    bool operator==(const SendEnvelope&) const = default;
};
struct CloseEnvelope {
    std::string user_id;
    TokenFilter tokens;
    CloseCode code = CloseCode::token_revoked;

    bool operator==(const CloseEnvelope&) const = default;
};
using Envelope = std::variant<SendEnvelope, CloseEnvelope>;

// A compact binary encoding: a version byte, a kind byte, then length-prefixed fields.
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
    virtual bool connected() const = 0;
};

// A hub's relay to the other nodes, and the receiver of theirs.
class Cluster final : public Relay {
public:
    // Told of every close another node makes (the tokens were revoked: caches of them go),
    // before this node's connections are closed.
    using Closed = std::function<void(const std::string& user_id, const TokenFilter& tokens)>;

    Cluster(Hub& hub, Bus& bus, Closed closed = {});

    void relay_send(const std::vector<std::string>& user_ids, const Frame& frame) override;
    void relay_close(const std::string& user_id, const TokenFilter& tokens, CloseCode code) override;
    bool linked() const override { return bus_.connected(); }

    // One message from the bus, on the bus's own thread.
    void receive(std::string_view bytes);
    // The bus is back after a time away (or up for the first time after connections came):
    // what the other nodes published meanwhile never reached this node, so its connections are
    // closed with 1013 and their clients resync by since_version, rather than miss it silently.
    void rejoined();

private:
    Hub& hub_;
    Bus& bus_;
    Closed closed_;
};

}  // namespace confab::realtime
