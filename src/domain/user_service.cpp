#include "confab/domain/user_service.hpp"

#include "confab/domain/model.hpp"
#include "confab/domain/validation.hpp"
#include "confab/realtime/hub.hpp"
#include "confab/store/chats.hpp"
#include "confab/store/pool.hpp"
#include "confab/store/users.hpp"

namespace confab::domain {
namespace {
constexpr std::size_t min_query = 2, max_query = 64;
}

boost::asio::awaitable<User> UserService::get(std::string id) {
    if (!is_uuid(id)) throw bad_request("invalid user id", "id");
    auto user = co_await pool_.run([id](store::Tx& tx) { return store::users::find(tx, id); });
    if (!user) throw not_found("user");
    co_return std::move(*user);
}

boost::asio::awaitable<UserProfile> UserService::profile(std::string viewer, std::string id) {
    if (!is_uuid(id)) throw bad_request("invalid user id", "id");
    auto profile = co_await pool_.run([viewer, id](store::Tx& tx) -> std::optional<UserProfile> {
        auto user = store::users::find(tx, id);
        if (!user) return std::nullopt;
        UserProfile found{std::move(*user), std::nullopt};
        if (viewer != id && store::members::share_a_chat(tx, viewer, id))
            found.presence = Presence{false, store::users::last_seen_at(tx, id)};
        return found;
    });
    if (!profile) throw not_found("user");
    if (profile->presence) profile->presence->online = hub_.connections_of(id) > 0;
    co_return std::move(*profile);
}

boost::asio::awaitable<UserPage> UserService::search(std::string query, std::optional<std::string> after_username,
                                                     int limit) {
    // Not a directory to page through: a search names at least two characters of someone.
    if (!is_valid_utf8(query) || code_points(query) < min_query || code_points(query) > max_query)
        throw bad_request("query must be 2-64 characters", "query");
    auto users = co_await pool_.run([&query, &after_username, limit](store::Tx& tx) {
        return store::users::search(tx, query, after_username, limit + 1);
    });
    UserPage page;
    page.has_more = static_cast<int>(users.size()) > limit;
    if (page.has_more) users.pop_back();
    page.users = std::move(users);
    co_return page;
}

boost::asio::awaitable<AddPolicy> UserService::add_policy(std::string id) {
    co_return co_await pool_.run([id](store::Tx& tx) {
        const auto policies = store::users::add_policies(tx, {id});
        if (policies.empty()) throw not_found("user");
        return policies.begin()->second;
    });
}

boost::asio::awaitable<AddPolicy> UserService::set_add_policy(std::string id, AddPolicy policy) {
    co_await pool_.run([id, policy](store::Tx& tx) { store::users::set_add_policy(tx, id, policy); });
    co_return policy;
}

}  // namespace confab::domain
