#pragma once

#include "confab/api/json.hpp"
#include "confab/domain/call_service.hpp"

namespace confab::realtime {
class Cluster;
class Hub;
}  // namespace confab::realtime

namespace confab::api {

// CallModel (docs/asyncapi.yaml): a call as its frames and acks carry it.
Json to_json(const domain::calls::Call& call);

// The domain's CallNotices: each serialized once, to the devices of docs/asyncapi.yaml, on
// every node (a device's own frames cross to the other nodes through the cluster).
class CallPublisher final : public domain::CallNotices {
public:
    explicit CallPublisher(realtime::Hub& hub) : hub_(hub) {}

    // Clustered, before the first call: a device may be connected to another node.
    void reach_other_nodes(realtime::Cluster& cluster) { cluster_ = &cluster; }

    void ring(const std::vector<std::string>& users, const domain::calls::Call& call) override;
    void ring_device(const domain::calls::Device& device, const domain::calls::Call& call) override;
    void running_device(const domain::calls::Device& device, const domain::calls::Call& call) override;
    void ring_stopped(const std::string& user_id, const domain::calls::Call& call,
                      domain::calls::RingStop reason) override;
    void changed(const std::vector<std::string>& users, const domain::calls::Call& call) override;
    void relay(const domain::calls::Device& to, const domain::calls::Call& call, const std::string& from_user_id,
               const std::string& kind, const std::string& payload) override;

private:
    void send(const std::vector<std::string>& users, const char* type, Json data);
    void send_to_device(const domain::calls::Device& device, const char* type, Json data);

    realtime::Hub& hub_;
    realtime::Cluster* cluster_ = nullptr;
};

}  // namespace confab::api
