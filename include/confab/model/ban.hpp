#pragma once

#include "confab/model/user.hpp"

#include <optional>
#include <string>

namespace confab::model {

// A user banned from a group (docs/api.md, Roles and permissions): in force while `until` is
// none or still ahead.
struct Ban {
    std::string chat_id;
    std::string user_id;
    std::optional<std::string> banned_by;  // null once that account is gone
    std::optional<Timestamp> until;        // none: for good
    Timestamp created_at;
};

}  // namespace confab::model
