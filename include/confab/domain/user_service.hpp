#pragma once

#include "confab/domain/model.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <vector>

namespace confab::store {
class Pool;
}
namespace confab::realtime {
class Hub;
}

namespace confab::domain {

struct UserProfile {
    User user;
    std::optional<Presence> presence;  // only for users who share a chat with the caller
};

struct UserPage {
    std::vector<User> users;
    bool has_more = false;
};

class UserService {
public:
    UserService(store::Pool& pool, realtime::Hub& hub) : pool_(pool), hub_(hub) {}

    // Throws Error{not_found}.
    boost::asio::awaitable<User> get(std::string id);
    // The user as `viewer` may see them: with presence when they share a chat.
    boost::asio::awaitable<UserProfile> profile(std::string viewer, std::string id);
    // Case-insensitive prefix search on username and display name, ordered by username.
    boost::asio::awaitable<UserPage> search(std::string query, std::optional<std::string> after_username, int limit);

    // Who may add the user to groups without asking them (docs/api.md, Privacy).
    boost::asio::awaitable<AddPolicy> add_policy(std::string id);
    boost::asio::awaitable<AddPolicy> set_add_policy(std::string id, AddPolicy policy);

private:
    store::Pool& pool_;
    realtime::Hub& hub_;
};

}  // namespace confab::domain
