#pragma once

#include "confab/model/user.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace confab::model {

// A code that lets whoever holds it join a group (docs/api.md, Invite links): open while it
// is not revoked, not expired and not used up.
struct InviteLink {
    std::string code;
    std::string chat_id;
    std::optional<std::string> created_by;  // null once that account is gone
    std::optional<Timestamp> expires_at;    // none: never expires
    std::optional<std::int64_t> max_uses;   // none: no limit
    std::int64_t uses = 0;                  // joins through the link so far
    bool revoked = false;
    Timestamp created_at;
};

// What an open link shows of its group before joining.
struct InvitePreview {
    std::string code;
    std::string chat_id;
    std::optional<std::string> title;
    std::optional<std::string> avatar_url;
    std::int64_t member_count = 0;
    std::optional<Timestamp> expires_at;
};

}  // namespace confab::model
