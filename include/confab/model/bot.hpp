#pragma once

#include "confab/model/user.hpp"

#include <optional>
#include <string>

namespace confab::model {

// A bot account a user made and manages (docs/api.md, Bots): a user marked is_bot, signed in
// by a token of its own, told of its chats' events by webhook when it has a URL for them.
struct Bot {
    User user;
    std::string owner_id;
    // The bot's webhook, if it has one: its id is the webhook_id of each delivery.
    std::optional<std::string> webhook_id;
    std::optional<std::string> webhook_url;
};

}  // namespace confab::model
