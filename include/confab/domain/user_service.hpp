#pragma once

#include "confab/domain/user.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <vector>

namespace confab::store {
class Pool;
}

namespace confab::domain {

struct UserPage {
    std::vector<User> users;
    bool has_more = false;
};

class UserService {
public:
    explicit UserService(store::Pool& pool) : pool_(pool) {}

    // Throws Error{not_found}.
    boost::asio::awaitable<User> get(std::string id);
    // Case-insensitive prefix search on username and display name, ordered by username.
    boost::asio::awaitable<UserPage> search(std::string query, std::optional<std::string> after_username, int limit);

private:
    store::Pool& pool_;
};

}  // namespace confab::domain
