#pragma once

#include "confab/domain/commit.hpp"
#include "confab/domain/model.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <vector>

namespace confab::domain {

struct UserProfile {
    User user;
    std::optional<Presence> presence;  // only where the user's privacy lets the caller see it
};

struct UserPage {
    std::vector<UserProfile> users;
    bool has_more = false;
};

// Throws bad_request naming the field for a display name or bio a profile may not have; an
// empty bio becomes none.
void check_profile_change(ProfileChange& change);

class UserService {
public:
    explicit UserService(ChatWrites& writes) : writes_(writes) {}

    // Throws Error{not_found}.
    boost::asio::awaitable<User> get(std::string id);
    // The user as `viewer` may see them: with presence where the user's privacy allows.
    boost::asio::awaitable<UserProfile> profile(std::string viewer, std::string id);
    // Changes the user's own display name or bio; user.updated goes to them and their contacts.
    boost::asio::awaitable<User> update_profile(std::string id, ProfileChange change);
    // user.updated for a user changed elsewhere (a host token's new display name).
    boost::asio::awaitable<void> announce(User user);
    // Case-insensitive prefix search on username and display name, ordered by username, each
    // user as `viewer` may see them.
    boost::asio::awaitable<UserPage> search(std::string viewer, std::string query,
                                            std::optional<std::string> after_username, int limit);

    // docs/api.md, Privacy.
    boost::asio::awaitable<Privacy> privacy(std::string id);
    boost::asio::awaitable<Privacy> update_privacy(std::string id, PrivacyChange change);

private:
    ChatWrites& writes_;
};

}  // namespace confab::domain
