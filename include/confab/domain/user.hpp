#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace confab::domain {

using Timestamp = std::chrono::sys_time<std::chrono::milliseconds>;

struct User {
    std::string id;
    std::string username;
    std::string display_name;
    std::optional<std::string> avatar_url;
    Timestamp created_at;
};

// Who is calling: the user and the hash of the token they authenticated with (so that a
// logout can close exactly the connections opened with that token).
struct Principal {
    std::string user_id;
    std::string token_hash;
};

}  // namespace confab::domain
