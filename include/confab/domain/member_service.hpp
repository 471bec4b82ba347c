#pragma once

#include "confab/config/config.hpp"
#include "confab/domain/commit.hpp"
#include "confab/model/ban.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace confab::media {
class Storage;
}

namespace confab::domain {

struct MemberUpdate {
    std::optional<Role> role;
    std::optional<std::string> custom_role_id;  // a custom role given (a built-in `role` takes it away)
    std::optional<bool> is_muted;
    std::optional<std::optional<Timestamp>> muted_until;  // engaged: a moderator's mute set, or lifted (null)
};

// A custom role's definition, whole (defining one) or in part (changing one).
struct CustomRoleDefinition {
    std::optional<std::string> name;
    std::optional<Role> rank;
    std::optional<std::vector<Permission>> permissions;
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

// A group's members and how users come into it: listing, adding (or inviting, by consent),
// changing roles and mutes, removing and leaving; and the invitee's side of invitations.
class MemberService {
public:
    MemberService(ChatWrites& writes, media::Storage& storage, const config::Limits& limits)
        : writes_(writes), storage_(storage), limits_(limits) {}

    // `prefix` (1-64 code points; bad_request, field q, otherwise): only members whose username
    // or display name starts with it, whatever its case (docs/api.md, Large groups).
    boost::asio::awaitable<MemberPage> members(std::string actor, std::string chat_id,
                                               std::optional<std::int64_t> after_position, int limit,
                                               std::optional<std::string> prefix = std::nullopt);
    boost::asio::awaitable<Additions> add_members(std::string actor, std::string chat_id,
                                                  std::vector<std::string> user_ids);
    boost::asio::awaitable<Member> update_member(std::string actor, std::string chat_id, std::string user_id,
                                                 MemberUpdate update);
    boost::asio::awaitable<void> remove_member(std::string actor, std::string chat_id, std::string user_id);

    // Moderation: banning removes the user if a member, drops their invitation, and keeps
    // them out until `until` (none: for good); lifting it lets them be added again.
    boost::asio::awaitable<Ban> ban(std::string actor, std::string chat_id, std::string user_id,
                                    std::optional<Timestamp> until);
    boost::asio::awaitable<void> unban(std::string actor, std::string chat_id, std::string user_id);
    // The bans in force, newest first (by when each was made, then by user id), `limit` after
    // `after` (a uuid, else bad_request naming cursor).
    boost::asio::awaitable<ListPage<Ban>> bans(std::string actor, std::string chat_id, std::optional<ListPlace> after,
                                               int limit);

    // Custom roles (docs/api.md, Custom roles): any member lists them; the owner defines,
    // changes and deletes them (role.created / role.updated / role.deleted to every member,
    // and member.updated for each holder a change or deletion touches).
    boost::asio::awaitable<std::vector<CustomRole>> custom_roles(std::string actor, std::string chat_id);
    boost::asio::awaitable<CustomRole> define_role(std::string actor, std::string chat_id,
                                                   CustomRoleDefinition definition);
    boost::asio::awaitable<CustomRole> change_role(std::string actor, std::string chat_id, std::string role_id,
                                                   CustomRoleDefinition change);
    boost::asio::awaitable<void> delete_role(std::string actor, std::string chat_id, std::string role_id);

    // The invitee's side of consent: their pending invitations, newest first; accepting one
    // joins its group (the chat as they now see it); declining drops it.
    boost::asio::awaitable<ListPage<Invitation>> invitations(std::string actor, std::optional<ListPlace> after,
                                                             int limit);
    boost::asio::awaitable<ChatView> accept(std::string actor, std::string invitation_id);
    boost::asio::awaitable<void> decline(std::string actor, std::string invitation_id);

private:
    boost::asio::awaitable<Invitation> find_invitation(const std::string& actor, const std::string& invitation_id);

    ChatWrites& writes_;
    media::Storage& storage_;  // the bytes of a group its last member left are released
    const config::Limits& limits_;
};

}  // namespace confab::domain
