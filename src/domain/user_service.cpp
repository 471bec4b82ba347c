#include "confab/domain/user_service.hpp"

#include "confab/domain/model.hpp"
#include "confab/domain/rules.hpp"
#include "confab/domain/validation.hpp"
#include "confab/store/presence.hpp"
#include "confab/store/chats.hpp"
#include "confab/store/pool.hpp"
#include "confab/store/user_blocks.hpp"
#include "confab/store/users.hpp"

namespace confab::domain {
namespace {

constexpr std::size_t min_query = 2, max_query = 64, max_bio = 200;

}  // namespace

void check_profile_change(ProfileChange& change) {
    if (change.display_name) require_name(*change.display_name, "display_name");
    // An empty bio is no bio.
    if (change.bio && *change.bio && (*change.bio)->empty()) *change.bio = std::nullopt;
    if (!change.bio || !*change.bio) return;
    const auto& bio = **change.bio;
    if (code_points(bio) > max_bio) throw bad_request("bio must be at most 200 characters", "bio");
    if (!is_plain_text(bio))
        throw bad_request("bio must not contain control or bidirectional formatting characters", "bio");
}

boost::asio::awaitable<User> UserService::get(std::string id) {
    if (!is_uuid(id)) throw bad_request("invalid user id", "id");
    auto user = co_await writes_.pool().run([id](store::Tx& tx) { return store::users::find(tx, id); });
    if (!user) throw not_found("user");
    co_return std::move(*user);
}

boost::asio::awaitable<UserProfile> UserService::profile(std::string viewer, std::string id) {
    if (!is_uuid(id)) throw bad_request("invalid user id", "id");
    auto profile = co_await writes_.pool().run([viewer, id](store::Tx& tx) -> std::optional<UserProfile> {
        auto user = store::users::find(tx, id);
        if (!user) return std::nullopt;
        UserProfile found{std::move(*user), std::nullopt};
        const bool self = viewer == id;
        const auto privacy = store::users::privacy(tx, id).value_or(Privacy{});
        const bool contact = !self && store::members::share_a_chat(tx, viewer, id);
        const bool blocked = !self && store::user_blocks::between(tx, viewer, id) != DirectBlock::none;
        if (rules::sees_presence(privacy, self, contact, blocked))
            found.presence = Presence{store::presence::online(tx, id), store::users::last_seen_at(tx, id)};
        return found;
    });
    if (!profile) throw not_found("user");
    co_return std::move(*profile);
}

boost::asio::awaitable<UserPage> UserService::search(std::string query, std::optional<std::string> after_username,
                                                     int limit) {
    // Not a directory to page through: a search names at least two characters of someone.
    if (!is_valid_utf8(query) || code_points(query) < min_query || code_points(query) > max_query)
        throw bad_request("query must be 2-64 characters", "query");
    auto users = co_await writes_.pool().run([&query, &after_username, limit](store::Tx& tx) {
        return store::users::search(tx, query, after_username, limit + 1);
    });
    UserPage page;
    page.has_more = static_cast<int>(users.size()) > limit;
    if (page.has_more) users.pop_back();
    page.users = std::move(users);
    co_return page;
}

boost::asio::awaitable<User> UserService::update_profile(std::string id, ProfileChange change) {
    check_profile_change(change);
    auto user = co_await writes_.pool().run([id, change](store::Tx& tx) {
        auto user = store::users::update_profile(tx, id, change);
        if (!user) throw not_found("user");
        return std::move(*user);
    });
    co_await announce(user);
    co_return user;
}

boost::asio::awaitable<void> UserService::announce(User user) {
    auto contacts =
        co_await writes_.pool().run([id = user.id](store::Tx& tx) { return store::members::contacts(tx, id); });
    const auto id = user.id;
    writes_.publish(Occasion::profile_updated, UserUpdated{std::move(user)},
                    {.subject = id, .contacts = std::move(contacts)});
}

boost::asio::awaitable<Privacy> UserService::privacy(std::string id) {
    co_return co_await writes_.pool().run([id](store::Tx& tx) {
        auto privacy = store::users::privacy(tx, id);
        if (!privacy) throw not_found("user");
        return *privacy;
    });
}

boost::asio::awaitable<Privacy> UserService::update_privacy(std::string id, PrivacyChange change) {
    co_return co_await writes_.pool().run([id, change](store::Tx& tx) {
        auto privacy = store::users::update_privacy(tx, id, change);
        if (!privacy) throw not_found("user");
        return *privacy;
    });
}

}  // namespace confab::domain
