#pragma once

#include "confab/config/config.hpp"
#include "confab/domain/commit.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace confab::realtime {
class Hub;
}
namespace confab::media {
class Storage;
}

namespace confab::domain {

struct SettingsPatch {
    std::optional<bool> only_admins_can_post;
    std::optional<bool> only_admins_can_edit_info;
    std::optional<bool> only_admins_can_add_members;
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

struct ChatUpdate {
    std::optional<std::string> title;
    std::optional<std::optional<std::string>> avatar_url;  // engaged: set, possibly to null
    SettingsPatch settings;
    std::optional<OpaqueJson> metadata;
};

struct MemberUpdate {
    std::optional<Role> role;
    std::optional<bool> is_muted;
};

struct ChatPage {
    std::vector<ChatView> chats;
    std::optional<std::int64_t> next_before_activity;
};

struct MemberPage {
    std::vector<Member> members;
    std::optional<std::int64_t> next_after_position;
};

// What adding users to a group did: who joined, and who was invited instead because they
// only let some people add them (rules::adds_without_asking).
struct Additions {
    std::vector<Member> members;
    std::vector<std::string> invited;
};

struct Created {
    ChatView view;
    bool created = true;  // false: the existing direct chat of the pair
};

// Chats, members and their rules: who may create, see, change and leave what.
class ChatService {
public:
    ChatService(ChatWrites& writes, realtime::Hub& hub, media::Storage& storage, const config::Limits& limits)
        : writes_(writes), hub_(hub), storage_(storage), limits_(limits) {}

    boost::asio::awaitable<Created> create_direct(std::string actor, std::string other);
    boost::asio::awaitable<ChatView> create_group(std::string actor, NewGroup group);
    boost::asio::awaitable<ChatPage> list(std::string actor, std::optional<std::int64_t> before_activity, int limit);
    boost::asio::awaitable<ChatView> get(std::string actor, std::string chat_id);
    boost::asio::awaitable<ChatView> update(std::string actor, std::string chat_id, ChatUpdate update);
    boost::asio::awaitable<void> remove(std::string actor, std::string chat_id);

    boost::asio::awaitable<MemberPage> members(std::string actor, std::string chat_id,
                                               std::optional<std::int64_t> after_position, int limit);
    boost::asio::awaitable<Additions> add_members(std::string actor, std::string chat_id,
                                                  std::vector<std::string> user_ids);
    boost::asio::awaitable<Member> update_member(std::string actor, std::string chat_id, std::string user_id,
                                                 MemberUpdate update);
    boost::asio::awaitable<void> remove_member(std::string actor, std::string chat_id, std::string user_id);

    // The invitee's side of consent: their pending invitations, newest first; accepting one
    // joins its group (the chat as they now see it); declining drops it.
    boost::asio::awaitable<std::vector<Invitation>> invitations(std::string actor);
    boost::asio::awaitable<ChatView> accept(std::string actor, std::string invitation_id);
    boost::asio::awaitable<void> decline(std::string actor, std::string invitation_id);

private:
    boost::asio::awaitable<Standing> standing(const std::string& actor, const std::string& chat_id);
    boost::asio::awaitable<Invitation> find_invitation(const std::string& actor, const std::string& invitation_id);
    void fill_presence(Member& member) const;

    ChatWrites& writes_;
    realtime::Hub& hub_;
    media::Storage& storage_;  // a deleted chat's media bytes are released
    const config::Limits& limits_;
};

}  // namespace confab::domain
