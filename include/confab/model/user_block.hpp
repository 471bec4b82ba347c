#pragma once

#include "confab/model/user.hpp"

namespace confab::model {

// A user the owner of the list blocks (docs/api.md, Blocking), as listed to them.
struct BlockedUser {
    User user;
    Timestamp blocked_at;
};

}  // namespace confab::model
