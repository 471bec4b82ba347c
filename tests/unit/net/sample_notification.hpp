#pragma once

#include "confab/domain/push_sender.hpp"

#include <optional>

namespace confab::net {

// A notification that carries content (sender, type, body), as the providers' tests send it.
inline domain::PushNotification notification_with_content() {
    return domain::PushNotification{.dedupe_key = "k1",
                                    .chat_id = "c1",
                                    .message_id = "m1",
                                    .count = 2,
                                    .sender_id = "u1",
                                    .sender_name = "Ann",
                                    .chat_title = std::nullopt,
                                    .message_type = "text",
                                    .body = "hi"};
}

}  // namespace confab::net
