#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace confab::model {

using Timestamp = std::chrono::sys_time<std::chrono::milliseconds>;

// The present to the millisecond: every time Confab stores, compares or sends has that precision,
// and comparing against an unrounded clock overflows for far-future times.
inline Timestamp now() { return std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now()); }

// Whole seconds since 1970 (JWT claims, signatures' timestamps, TURN credentials' expiry).
inline std::int64_t unix_seconds(std::chrono::system_clock::time_point at) {
    return std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count();
}

struct User {
    std::string id;
    std::string username;
    std::string display_name;
    std::optional<std::string> avatar_url;
    std::optional<std::string> bio;
    Timestamp created_at;
    bool is_bot = false;  // made a bot by the host backend (docs/api.md, Server API)
    // A deleted account's tombstone (docs/api.md, Deleting the account): display name
    // "Deleted user", no avatar or bio, username "deleted-<id>".
    bool deleted = false;
};

// Whom a privacy setting admits (docs/api.md, Privacy): anyone; only users who already share
// a chat with the user (contacts); nobody.
enum class Circle { everyone, contacts, nobody };
std::string_view to_string(Circle circle);
std::optional<Circle> circle_from(std::string_view text);

struct Privacy {
    Circle who_can_add_me = Circle::everyone;        // anyone else's add becomes an invitation
    Circle who_can_see_presence = Circle::contacts;  // online and last_seen_at
    bool send_read_receipts = true;                  // the others learn how far the user has read
};

// A change to some of the privacy settings; what is empty stays.
struct PrivacyChange {
    std::optional<Circle> who_can_add_me;
    std::optional<Circle> who_can_see_presence;
    std::optional<bool> send_read_receipts;
};

// A change to the user's own profile; what is empty stays (bio: a nullopt inside clears it).
// Only the host backend changes is_bot.
struct ProfileChange {
    std::optional<std::string> display_name;
    std::optional<std::optional<std::string>> bio;
    std::optional<bool> is_bot;
};

// Who is calling: the user and the hash of the token they authenticated with (so that a
// logout can close exactly the connections opened with that token). The host backend acting
// on a user's behalf (docs/api.md, Server API) has no token: on_behalf, token_hash empty.
struct Principal {
    std::string user_id;
    std::string token_hash;
    Timestamp expires_at;  // open WebSockets of the token close then
    bool on_behalf = false;
};

}  // namespace confab::model
