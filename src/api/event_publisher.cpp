#include "confab/api/event_publisher.hpp"

#include "confab/api/json.hpp"
#include "confab/obs/metrics.hpp"
#include "confab/realtime/hub.hpp"

namespace confab::api {

void EventPublisher::publish(const domain::Event& event, const std::vector<std::string>& user_ids,
                             const std::optional<domain::AfterMessage>& after) {
    if (user_ids.empty()) return;
    static auto& deliveries = obs::metrics().deliveries.only();
    auto frame = std::make_shared<const std::string>(event_text(event));
    std::optional<realtime::Order> order;
    if (const auto* created = std::get_if<domain::MessageCreated>(&event))
        order = realtime::Order{created->message.chat_id, created->message.seq, realtime::Order::Place::at};
    else if (after) order = realtime::Order{after->chat_id, after->seq, realtime::Order::Place::after};
    deliveries.inc(hub_.send_to_users(user_ids, frame, order));
}

std::optional<std::vector<std::string>> EventPublisher::reachable_members(const model::MemberRoles& members) const {
    if (hub_.relay()) return std::nullopt;
    return hub_.connected_among(members);
}

}  // namespace confab::api
