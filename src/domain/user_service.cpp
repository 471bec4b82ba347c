#include "confab/domain/user_service.hpp"

#include "confab/domain/model.hpp"
#include "confab/domain/rules.hpp"
#include "confab/domain/validation.hpp"
#include "confab/store/chats.hpp"
#include "confab/store/pool.hpp"
#include "confab/store/user_blocks.hpp"
#include "confab/store/users.hpp"

#include <algorithm>

namespace confab::domain {
namespace {

constexpr std::size_t min_query = 2, max_query = 64, max_bio = 200;

// The users as `viewer` sees them: each with their presence where its owner's privacy admits
// the viewer (PROTOCOL.md: where the caller shares a chat, which a channel or a large group
// does not make). Three queries, however many users.
std::vector<UserProfile> as_seen_by(store::Tx& tx, const std::string& viewer, std::vector<User> users) {
    std::vector<std::string> ids;
    ids.reserve(users.size());
    for (const auto& user : users) ids.push_back(user.id);
    const auto presences = store::users::presence_of(tx, ids);
    const auto contacts = store::members::contacts_among(tx, viewer, ids);
    const auto blocks = store::user_blocks::related(tx, viewer);
    std::vector<UserProfile> seen;
    seen.reserve(users.size());
    for (auto& user : users) {
        UserProfile profile{std::move(user), std::nullopt};
        const auto& id = profile.user.id;
        const bool blocked = std::find(blocks.begin(), blocks.end(), id) != blocks.end();
        if (const auto found = presences.find(id);
            found != presences.end() &&
            rules::sees_presence(found->second.privacy, id == viewer, contacts.contains(id), blocked))
            profile.presence = found->second.presence;
        seen.push_back(std::move(profile));
    }
    return seen;
}

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
        return std::move(as_seen_by(tx, viewer, {std::move(*user)}).front());
    });
    if (!profile) throw not_found("user");
    co_return std::move(*profile);
}

boost::asio::awaitable<UserPage> UserService::search(std::string viewer, std::string query,
                                                     std::optional<std::string> after_username, int limit) {
    // Not a directory to page through: a search names at least two characters of someone.
    if (!is_valid_utf8(query) || code_points(query) < min_query || code_points(query) > max_query)
        throw bad_request("query must be 2-64 characters", "query");
    co_return co_await writes_.pool().run([&viewer, &query, &after_username, limit](store::Tx& tx) {
        auto users = store::users::search(tx, query, after_username, limit + 1);
        UserPage page;
        page.has_more = static_cast<int>(users.size()) > limit;
        if (page.has_more) users.pop_back();
        page.users = as_seen_by(tx, viewer, std::move(users));
        return page;
    });
}

boost::asio::awaitable<User> UserService::update_profile(std::string id, ProfileChange change) {
    check_profile_change(change);
    auto update = co_await writes_.pool().run([id, change](store::Tx& tx) {
        auto update = store::users::update_profile(tx, id, change);
        if (!update) throw not_found("user");
        return std::move(*update);
    });
    // A change to nothing sends nothing (docs/api.md, Accounts).
    if (update.changed) co_await announce(update.user);
    co_return std::move(update.user);
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
