#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace confab::model {

using Timestamp = std::chrono::sys_time<std::chrono::milliseconds>;

struct User {
    std::string id;
    std::string username;
    std::string display_name;
    std::optional<std::string> avatar_url;
    Timestamp created_at;
};

// Who may put a user into a group without asking them (docs/api.md, Privacy): anyone; only
// users who already share a chat with them; nobody. Anyone else's add becomes an invitation.
enum class AddPolicy { everyone, contacts, nobody };
std::string_view to_string(AddPolicy policy);
std::optional<AddPolicy> add_policy_from(std::string_view text);

// Who is calling: the user and the hash of the token they authenticated with (so that a
// logout can close exactly the connections opened with that token).
struct Principal {
    std::string user_id;
    std::string token_hash;
    Timestamp expires_at;  // open WebSockets of the token close then
};

}  // namespace confab::model
