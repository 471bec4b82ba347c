#pragma once

#include "confab/domain/webhook_service.hpp"

namespace confab::api {

// A webhook delivery's body: the event's WebSocket frame ({"type", "data"}) with
// delivery_id, webhook_id and chat_id beside them (docs/api.md, Webhooks).
class JsonWebhookBodies final : public domain::WebhookBodies {
public:
    std::string body(const domain::Event& event, const domain::DeliveryIds& ids) const override;
};

}  // namespace confab::api
