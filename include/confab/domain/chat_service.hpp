#pragma once

#include "confab/config/config.hpp"
#include "confab/domain/commit.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace confab::media {
class Storage;
}

namespace confab::domain {

struct SettingsPatch {
    std::optional<bool> only_admins_can_post;
    std::optional<bool> only_admins_can_edit_info;
    std::optional<bool> only_admins_can_add_members;
    std::optional<bool> only_admins_can_pin;
    std::optional<bool> only_admins_can_mention_all;
    std::optional<std::int64_t> slow_mode_seconds;  // rules::check_slow_mode_seconds
    ChatSettings applied_to(ChatSettings settings) const;
    bool empty() const;
};

struct NewGroup {
    std::string title;
    std::optional<std::string> avatar_url;
    std::vector<std::string> member_ids;
    SettingsPatch settings;
    std::optional<OpaqueJson> metadata;
};

// A channel (docs/api.md, Channels): its creator is its owner and first subscriber.
struct NewChannel {
    std::string title;
    std::optional<std::string> avatar_url;
    std::optional<std::string> handle;
    bool is_public = false;
    std::optional<OpaqueJson> metadata;
};

struct ChatUpdate {
    std::optional<std::string> title;
    std::optional<std::optional<std::string>> avatar_url;  // engaged: set, possibly to null
    SettingsPatch settings;
    std::optional<OpaqueJson> metadata;
    std::optional<std::optional<std::string>> handle;  // a channel's; engaged: set, possibly to null
    std::optional<bool> is_public;                     // a channel's
    std::optional<bool> large;                         // a group's, by its owner (rules::may_make_large)
};

struct ChannelPage {
    std::vector<Channel> channels;
    bool has_more = false;
};

struct ChatPage {
    std::vector<ChatView> chats;
    std::optional<std::int64_t> next_before_activity;
};

struct Created {
    ChatView view;
    bool created = true;  // false: the existing direct chat of the pair
};

// Chats: creating, listing, reading, changing and deleting (or leaving) them. Their members
// are MemberService's.
class ChatService {
public:
    ChatService(ChatWrites& writes, media::Storage& storage, const config::Limits& limits)
        : writes_(writes), storage_(storage), limits_(limits) {}

    boost::asio::awaitable<Created> create_direct(std::string actor, std::string other);
    boost::asio::awaitable<ChatView> create_group(std::string actor, NewGroup group);
    boost::asio::awaitable<ChatPage> list(std::string actor, std::optional<std::int64_t> before_activity, int limit);
    boost::asio::awaitable<ChatView> get(std::string actor, std::string chat_id);
    boost::asio::awaitable<ChatView> update(std::string actor, std::string chat_id, ChatUpdate update);
    boost::asio::awaitable<void> remove(std::string actor, std::string chat_id);

    // Channels (docs/api.md, Channels).
    boost::asio::awaitable<ChatView> create_channel(std::string actor, NewChannel channel);
    // Public channels by handle or title prefix (any case), in handle order, after the
    // handle `after` (lower case).
    boost::asio::awaitable<ChannelPage> search_channels(std::string actor, std::string query,
                                                        std::optional<std::string> after, int limit);
    // A public channel, or a private one the actor is a member of: not_found otherwise.
    boost::asio::awaitable<Channel> find_channel(std::string actor, std::string handle);
    // Joins a public channel (already a member: the chat as it is).
    boost::asio::awaitable<ChatView> join_channel(std::string actor, std::string handle);

private:
    ChatWrites& writes_;
    media::Storage& storage_;  // a deleted chat's media bytes are released
    const config::Limits& limits_;
};

}  // namespace confab::domain
