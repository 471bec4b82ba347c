#pragma once

#include "confab/api/json.hpp"
#include "confab/domain/blocking.hpp"
#include "confab/domain/calls.hpp"

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <optional>
#include <string>

namespace confab::domain {
class CallService;
}
namespace confab::realtime {
class Cluster;
class Hub;
}  // namespace confab::realtime

namespace confab::api {

// Calls across the nodes of a cluster (docs/architecture.md, Cluster): a call lives on the node
// that started it (domain::CallService); another node forwards its devices' call commands to
// that owner over a request/reply subject per process, and answers the device with the
// owner's reply, ack or error, as if the call were here. It also tells the other nodes when a
// device connects or loses its last connection here, for the owners' rings, call.updated on
// connect and reconnect graces. On a single node every command simply runs here.
class CallRouter {
public:
    // Blocking: the owner process's reply to a request; nothing when that process is gone.
    using Ask = std::function<std::optional<std::string>(const std::string& process_id, const std::string& request)>;

    CallRouter(domain::CallService& calls, realtime::Hub& hub);

    // Clustered, before the first connection: commands for calls owned elsewhere go through
    // `ask`; device connections are told through the cluster.
    void link(Ask ask, realtime::Cluster& cluster);

    // The client events call.* of docs/asyncapi.yaml.
    static const std::vector<std::string>& commands();
    // One of them, from this device: its ack's data.
    boost::asio::awaitable<Json> run(std::string type, domain::calls::Device device, Json data);
    // GET /chats/{id}/call: the CallModel of the chat's running call, on whichever node it is.
    boost::asio::awaitable<Json> running(std::string user_id, std::string chat_id);
    // A command another node forwarded to this one (the owner): the reply to send back.
    boost::asio::awaitable<std::string> answer(std::string request);

    // A connection of this device joined / left this node's hub.
    void connected(const domain::calls::Device& device);
    void disconnected(const domain::calls::Device& device);

private:
    boost::asio::awaitable<Json> run_here(const std::string& type, domain::calls::Device device, const Json& data);
    // The owner's reply, or its error thrown here as if raised here.
    boost::asio::awaitable<Json> forward(const std::string& owner, const std::string& type,
                                         const domain::calls::Device& device, const Json& data);

    domain::CallService& calls_;
    realtime::Hub& hub_;
    Ask ask_;
    realtime::Cluster* cluster_ = nullptr;
    // Blocking requests wait here, never on the threads that run the commands forwarded to
    // this node (two nodes asking each other would otherwise wait for each other).
    domain::Workers asking_{4, 1000};
};

}  // namespace confab::api
