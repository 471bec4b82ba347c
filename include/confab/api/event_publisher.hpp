#pragma once

#include "confab/domain/events.hpp"

namespace confab::realtime {
class Hub;
}

namespace confab::api {

// The domain's EventSink: serializes each event once and hands the same immutable frame
// to every live connection of its recipients.
class EventPublisher final : public domain::EventSink {
public:
    explicit EventPublisher(realtime::Hub& hub) : hub_(hub) {}
    void publish(const domain::Event& event, const std::vector<std::string>& user_ids,
                 const std::optional<domain::AfterMessage>& after) override;
    std::optional<std::vector<std::string>> reachable_members(const model::MemberRoles& members) const override;

private:
    realtime::Hub& hub_;
};

}  // namespace confab::api
