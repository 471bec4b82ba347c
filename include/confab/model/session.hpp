#pragma once

#include "confab/model/user.hpp"

#include <optional>
#include <string>

namespace confab::model {

// A signed-in device: one bearer token, listed by id (the token and its hash never leave the
// server). last_used_at and address are those of the latest renewal (docs/api.md, Sessions).
struct Session {
    std::string id;
    std::optional<std::string> device_name;
    Timestamp created_at;
    Timestamp last_used_at;
    std::optional<std::string> address;
    bool current = false;  // the session of the token that asked
};

}  // namespace confab::model
