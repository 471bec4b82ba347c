#include "confab/domain/rules.hpp"
#include "confab/domain/validation.hpp"

#include <algorithm>
#include <cctype>
#include <array>
#include <chrono>
#include <string>
#include <utility>

namespace confab::domain::rules {
namespace {

using enum Permission;

// What each built-in role grants in a group, before the group's settings.
std::vector<Permission> grants_of(Role role) {
    switch (role) {
        case Role::restricted: return {};
        case Role::member: return {post, post_media, react, mention_all, add_members, edit_info, pin};
        case Role::moderator:
            return {post, post_media,     react,           mention_all, add_members,   edit_info,
                    pin,  remove_members, delete_messages, ban,         handle_reports};
        case Role::admin:
        case Role::owner: break;
    }
    return every_permission();
}

// What the actor's role grants before the settings: a custom role replaces its rank's grants.
std::vector<Permission> grants_of(const Standing& actor) {
    return actor.custom_grants ? *actor.custom_grants : grants_of(actor.role);
}

// The permissions a group's only_admins_can_* settings withdraw from every role below admin.
// What a group withdraws from the roles below admin. In a large group everyone-mentions are
// always the admins' and the owner's: one costs a stored mention and a mention.new per member
// (tens of thousands), and a plain member's @all ten times a second held every send of the
// node for seconds.
bool withdrawn(const Standing& actor, Permission permission) {
    const auto& settings = actor.settings;
    switch (permission) {
        case post:
        case post_media: return settings.only_admins_can_post;
        case edit_info: return settings.only_admins_can_edit_info;
        case add_members: return settings.only_admins_can_add_members;
        case pin: return settings.only_admins_can_pin;
        case mention_all: return settings.only_admins_can_mention_all || actor.large;
        default: return false;
    }
}

// What each built-in role grants in a channel (granted_in_channel).
std::vector<Permission> channel_grants_of(Role role) {
    switch (role) {
        case Role::restricted: return {};
        case Role::member: return {react};
        case Role::moderator: return {react, remove_members, delete_messages, ban, handle_reports};
        case Role::admin:
        case Role::owner: break;
    }
    return grants_of(Role::owner);
}

bool in_channel(Role role, Permission permission) {
    const auto grants = channel_grants_of(role);
    return std::find(grants.begin(), grants.end(), permission) != grants.end();
}

bool in_direct_chat(Permission permission) {
    return permission == post || permission == post_media || permission == react || permission == pin ||
           permission == mention_all;
}

void require(const Standing& actor, Permission permission, const char* refusal) {
    if (!permits(actor, permission)) throw forbidden(refusal);
}

bool is_sender_or_may(const Standing& actor, const std::string& actor_id, const Message& message) {
    return message.sender_id == actor_id || permits(actor, delete_messages);
}

// Who acts on another member must stand above them: roles are ordered by power.
void require_above(const Standing& actor, Role target, const char* refusal) {
    if (target >= actor.role) throw forbidden(refusal);
}

bool carries_media(MessageType type) {
    return type == MessageType::image || type == MessageType::voice || type == MessageType::video ||
           type == MessageType::file;
}

// A poll message that is not deleted: what voting and closing refuse otherwise.
const Poll& poll_of(const Message& message) {
    if (message.type != MessageType::poll) throw bad_request("the message is not a poll", "message_id");
    if (message.is_deleted || !message.poll) throw conflict("message is deleted");
    return *message.poll;
}

}  // namespace

std::vector<Permission> granted(Role role, const std::optional<CustomRole>& custom) {
    const auto grants = custom ? custom->permissions : grants_of(role);
    std::vector<Permission> in_order;
    for (const auto permission : every_permission())
        if (std::find(grants.begin(), grants.end(), permission) != grants.end()) in_order.push_back(permission);
    return in_order;
}

bool permits(const Standing& actor, Permission permission) {
    if (actor.type == ChatType::direct) return in_direct_chat(permission);
    if (actor.type == ChatType::channel && !actor.custom_grants) return in_channel(actor.role, permission);
    const auto grants = grants_of(actor);
    if (std::find(grants.begin(), grants.end(), permission) == grants.end()) return false;
    // A channel's roles decide alone: its only_admins_can_* settings withdraw nothing.
    return actor.role >= Role::admin || actor.type == ChatType::channel || !withdrawn(actor, permission);
}

Standing standing_of(ChatType type, const ChatSettings& settings, bool large, const Membership& me) {
    Standing standing{type, settings, me.role, false};
    standing.large = large;
    if (me.custom_role) standing.custom_grants = me.custom_role->permissions;
    return standing;
}

std::vector<Permission> permissions(const Standing& actor) {
    std::vector<Permission> held;
    for (const auto permission : every_permission())
        if (permits(actor, permission)) held.push_back(permission);
    return held;
}

void may_post(const Standing& actor, MessageType type) {
    may_message_directly(actor.block);
    if (actor.role == Role::restricted && !actor.custom_grants) throw forbidden("restricted members cannot post");
    require(actor, post, "only admins can post in this chat");
    if (carries_media(type)) require(actor, post_media, "you may not post media in this chat");
    if (actor.muted) throw forbidden("you are muted in this chat");
}

void check_slow_mode_seconds(std::int64_t seconds) {
    if (seconds < 0 || seconds > max_slow_mode_seconds)
        throw bad_request("slow_mode_seconds must be 0 to " + std::to_string(max_slow_mode_seconds),
                          "slow_mode_seconds");
}

bool slowed(const Standing& actor) {
    return actor.type == ChatType::group && actor.settings.slow_mode_seconds > 0 && actor.role < Role::moderator;
}

void may_post_after(const Standing& actor, std::optional<Timestamp> last_posted, Timestamp now) {
    if (!slowed(actor) || !last_posted) return;
    const auto wait = *last_posted + std::chrono::seconds(actor.settings.slow_mode_seconds) - now;
    if (wait <= std::chrono::milliseconds::zero()) return;
    auto error = with_reason(ErrorCode::rate_limited, "slow mode: wait before posting again", "slow_mode");
    error.retry_after_ms = wait.count();
    error.amounts.emplace_back("retry_after_seconds", std::chrono::ceil<std::chrono::seconds>(wait).count());
    throw error;
}

void may_start_call(const Standing& actor) {
    // A call rings every other member: no channel rings its subscribers, and no large group
    // its (up to limits.large_group_members) members for a mesh of calls.mesh_limit.
    if (actor.type == ChatType::channel) throw forbidden("a channel has no calls");
    if (actor.large) throw forbidden("a large group has no calls");
    may_post(actor, MessageType::text);
}

void may_react(const Standing& actor) { require(actor, react, "you may not react or vote in this chat"); }

void may_update_chat(const Standing& actor, bool changes_info, bool changes_settings) {
    if (actor.type == ChatType::direct) throw forbidden("a direct chat has no editable info");
    if (changes_info) require(actor, edit_info, "only admins can edit this chat");
    if (changes_settings) require(actor, change_settings, "only admins can change group settings");
}

void may_have_settings(const Standing& chat) {
    if (chat.type == ChatType::channel) throw bad_request("a channel has no settings", "settings");
}

void may_delete_chat(const Standing& actor) {
    if (actor.type != ChatType::direct && actor.role != Role::owner)
        throw forbidden("only the owner can delete the group");
}

void may_add_members(const Standing& actor) {
    if (actor.type == ChatType::direct) throw forbidden("members cannot be added to a direct chat");
    require(actor, add_members, "only admins can add members");
}

void may_add_bot(const std::string& actor, const std::string& bot_owner) {
    if (actor != bot_owner)
        throw with_reason(ErrorCode::forbidden, "only its owner can add a bot to a group", "not_bot_owner");
}

void may_manage_bot(const std::string& actor, const std::optional<std::string>& bot_owner) {
    if (bot_owner != actor) throw not_found("bot");
}

bool admits(Circle circle, bool contact) {
    return circle == Circle::everyone || (circle == Circle::contacts && contact);
}

bool sees_presence(const Privacy& user, bool self, bool contact, bool blocked) {
    return self || (!blocked && admits(user.who_can_see_presence, contact));
}

void may_block(bool self) {
    if (self) throw bad_request("you cannot block yourself", "user_id");
}

void may_message_directly(DirectBlock block) {
    switch (block) {
        case DirectBlock::none: return;
        case DirectBlock::blocked: throw with_reason(ErrorCode::forbidden, "this user has blocked you", "blocked");
        case DirectBlock::you_blocked:
            throw with_reason(ErrorCode::forbidden, "you have blocked this user", "you_blocked");
    }
}

void may_use_broadcast_list(bool owner) {
    if (!owner) throw not_found("broadcast list");
}

void check_broadcast_recipients(std::size_t count, bool includes_owner, const char* field) {
    if (includes_owner)
        throw with_reason(ErrorCode::bad_request, "you cannot be a recipient of your own list", "self_recipient",
                          field);
    if (count > max_broadcast_recipients) {
        auto refusal =
            with_reason(ErrorCode::conflict,
                        "a broadcast list has at most " + std::to_string(max_broadcast_recipients) + " recipients",
                        "too_many_recipients", field);
        refusal.amounts.emplace_back("limit", static_cast<std::int64_t>(max_broadcast_recipients));
        throw refusal;
    }
}

void may_broadcast(bool has_client_id, bool has_media, bool has_reply, bool in_thread) {
    if (!has_client_id) throw bad_request("client_id is required", "client_id");
    if (has_media) throw bad_request("a broadcast carries no upload", "media_id");
    if (has_reply) throw bad_request("a broadcast replies to nothing", "reply_to_id");
    if (in_thread) throw bad_request("a broadcast is in no thread", "thread_root_id");
}

bool sees_reads(const Privacy& user, bool self) { return self || user.send_read_receipts; }

bool sees_mute(bool self) { return self; }

namespace {

// Giving a role of that rank, whatever it grants: `manage_roles`, on a member below the actor
// (an admin may step down themself), to a rank no higher than the actor's.
void may_give_rank(const Standing& actor, std::optional<Role> target, bool self, Role rank) {
    if (actor.type == ChatType::direct) throw forbidden("a direct chat has no roles");
    require(actor, manage_roles, "only admins can change roles");
    if (target == Role::owner) throw forbidden("the owner's role cannot be changed");
    if (self && actor.role != Role::admin) throw forbidden("only an admin can change their own role");
    if (target && !self) require_above(actor, *target, "you can only change the roles of members below you");
    if (rank > actor.role) throw forbidden("you cannot give a role above your own");
}

// What a role grants in a chat of that type before its settings: a custom role its own
// permissions, a built-in role its rank's (a channel's own, grants_in_channel).
std::vector<Permission> grants_in(ChatType type, Role role, const std::optional<std::vector<Permission>>& custom) {
    if (custom) return *custom;
    return type == ChatType::channel ? channel_grants_of(role) : grants_of(role);
}

// Nobody hands out powers they lack: the actor's role grants whatever the role given grants.
// Compared before the settings, which withdraw the same from every role below admin (and
// nothing from the actor at admin), so that whatever the settings become, the member holds
// nothing the actor does not.
void may_give_powers(const Standing& actor, Role rank, const std::optional<std::vector<Permission>>& custom_grants) {
    const auto held = grants_in(actor.type, actor.role, actor.custom_grants);
    for (const auto permission : grants_in(actor.type, rank, custom_grants))
        if (std::find(held.begin(), held.end(), permission) == held.end())
            throw forbidden("you cannot give a permission you do not hold");
}

}  // namespace

void may_update_member(const Standing& actor, std::optional<Role> target, bool self, std::optional<Role> new_role,
                       bool changes_mute) {
    if (changes_mute && !self) throw forbidden("only members themselves can mute a chat");
    if (!new_role) return;
    if (actor.type == ChatType::direct) throw forbidden("a direct chat has no roles");
    if (*new_role == Role::owner) {
        if (actor.role != Role::owner) throw forbidden("only the owner can transfer ownership");
        return;
    }
    may_give_rank(actor, target, self, *new_role);
    may_give_powers(actor, *new_role, std::nullopt);
}

bool names_reactors(ChatType type) { return type != ChatType::channel; }

void may_manage_custom_roles(const Standing& actor) {
    if (actor.type == ChatType::direct) throw forbidden("a direct chat has no roles");
    if (actor.role != Role::owner) throw forbidden("only the owner can define roles");
}

void check_custom_role_name(std::string_view name) {
    if (name.empty() || !is_plain_text(name) || code_points(name) > max_custom_role_name)
        throw bad_request("name must be 1 to 32 characters of plain text", "name");
    std::string lowered;
    for (const char c : name) lowered += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (model::role_from(lowered)) throw bad_request("name is a built-in role's", "name");
}

void check_custom_role_rank(Role rank) {
    if (rank == Role::owner) throw bad_request("rank must be admin, moderator, member or restricted", "rank");
}

namespace {

struct Cap {
    std::size_t most;
    const char* held_by;  // ends "already has the most ..." in the refusal
    const char* things;
    const char* reason;
};

Cap cap(Capped what) {
    switch (what) {
        case Capped::custom_roles: return {20, "the group", "custom roles", "too_many_roles"};
        case Capped::bots: return {20, "you", "bots", "too_many_bots"};
        case Capped::pending_scheduled:
            return {100, "you", "pending scheduled messages in this chat", "too_many_scheduled"};
        case Capped::live_invite_links:
            return {100, "the chat", "invite links in use (revoke one)", "too_many_invite_links"};
        case Capped::broadcast_lists: return {100, "you", "broadcast lists", "too_many_broadcast_lists"};
    }
    throw std::logic_error("unknown cap");
}

}  // namespace

std::size_t cap_of(Capped what) { return cap(what).most; }

void check_room_for_another(Capped what, std::size_t existing) {
    const auto [most, held_by, things, reason] = cap(what);
    if (existing < most) return;
    auto refusal =
        with_reason(ErrorCode::conflict,
                    std::string(held_by) + " already " + (std::string_view(held_by) == "you" ? "have" : "has") +
                        " the most " + things + " allowed: " + std::to_string(most),
                    reason);
    refusal.amounts.emplace_back("limit", static_cast<std::int64_t>(most));
    throw refusal;
}

void may_assign_custom_role(const Standing& actor, std::optional<Role> target, bool self, const CustomRole& role) {
    may_give_rank(actor, target, self, role.rank);
    may_give_powers(actor, role.rank, role.permissions);
}

void may_mute_member(const Standing& actor, std::optional<Role> target, bool self) {
    if (actor.type == ChatType::direct) throw forbidden("a direct chat has no moderators");
    if (self) throw forbidden("you cannot mute yourself");
    require(actor, ban, "only moderators and admins can mute members");
    if (target) require_above(actor, *target, "you can only mute members below you");
}

void may_ban(const Standing& actor, std::optional<Role> target, bool self) {
    if (actor.type == ChatType::direct) throw forbidden("a direct chat has no bans");
    if (self) throw forbidden("you cannot ban yourself");
    require(actor, ban, "only moderators and admins can ban");
    if (target) require_above(actor, *target, "you can only ban members below you");
}

void may_join(bool banned) {
    if (banned) throw Error(ErrorCode::forbidden, "a user is banned from this chat", "user_ids");
}

void may_manage_invite_links(const Standing& actor) {
    if (actor.type == ChatType::direct) throw forbidden("a direct chat has no invite links");
    require(actor, manage_invite_links, "only admins can manage invite links");
}

void may_use_invite_link(const InviteLink& link, Timestamp now) {
    if (link.revoked) throw with_reason(ErrorCode::forbidden, "the invite link was revoked", "revoked");
    if (link.expires_at && *link.expires_at <= now)
        throw with_reason(ErrorCode::forbidden, "the invite link has expired", "expired");
    if (link.max_uses && link.uses >= *link.max_uses)
        throw with_reason(ErrorCode::forbidden, "the invite link is used up", "used_up");
}

void may_join_by_link(const InviteLink& link, Timestamp now, bool banned) {
    may_use_invite_link(link, now);
    if (banned) throw with_reason(ErrorCode::forbidden, "you are banned from this chat", "banned");
}

void may_remove_member(const Standing& actor, std::optional<Role> target, bool self) {
    if (actor.type == ChatType::direct) throw forbidden("use DELETE /chats/{id} to leave a direct chat");
    if (self) return;
    require(actor, remove_members, "only admins can remove members");
    if (target == Role::owner) throw forbidden("the owner cannot be removed");
    if (target) require_above(actor, *target, "you can only remove members below you");
}

void may_report(const std::string& actor_id, const Message& message) {
    if (message.is_deleted) throw conflict("message is deleted");
    if (message.type == MessageType::system || !message.sender_id)
        throw bad_request("a system message cannot be reported", "message_id");
    if (message.sender_id == actor_id) throw bad_request("you cannot report your own message", "message_id");
}

void may_handle_reports(const Standing& actor) {
    require(actor, handle_reports, "only moderators and admins can handle reports");
}

bool handles_report(const Standing& actor, const std::string& actor_id,
                    const std::optional<std::string>& reported_sender) {
    return permits(actor, handle_reports) && reported_sender != actor_id;
}

void may_handle_report(const Standing& actor, const std::string& actor_id,
                       const std::optional<std::string>& reported_sender) {
    may_handle_reports(actor);
    if (reported_sender == actor_id)
        throw with_reason(ErrorCode::forbidden, "a report of your own message is for the server's operators",
                          "own_message");
}

void may_resolve_report(bool resolved) {
    if (resolved) throw conflict("the report is resolved already");
}

void may_edit_message(const std::string& actor_id, const Message& message) {
    if (message.sender_id != actor_id) throw forbidden("only the sender can edit a message");
    if (message.is_deleted) throw conflict("message is deleted");
    if (message.type == MessageType::location || message.type == MessageType::system ||
        message.type == MessageType::poll)
        throw bad_request("only text messages and captions can be edited", "content");
    // A forward carries its original's words under its author's name, and so does a forward of it.
    if (message.forwarded_from) throw bad_request("a forwarded message cannot be edited", "content");
}

void may_delete_message(const Standing& actor, const std::string& actor_id, const Message& message) {
    if (!is_sender_or_may(actor, actor_id, message))
        throw forbidden("only the sender or an admin can delete a message");
    if (message.is_deleted) throw conflict("message is already deleted");
}

void may_manage_chat_templates(const Standing& actor) {
    if (actor.type == ChatType::direct) throw forbidden("a direct chat has no shared templates");
    require(actor, manage_templates, "only admins can manage the group's templates");
}

void may_manage_webhooks(const Standing& actor) {
    if (actor.type == ChatType::direct) throw forbidden("a direct chat has no webhooks");
    if (actor.role < Role::admin) throw forbidden("only admins can manage the group's webhooks");
}

void may_remove_media(const Standing& actor, const std::string& actor_id, const Message& message) {
    if (message.is_deleted || !message.media) throw not_found("media");
    if (!is_sender_or_may(actor, actor_id, message)) throw forbidden("only the sender or an admin can remove media");
}

void may_pin(const Standing& actor, const Message& message, bool pin) {
    // A restricted member's role grants no pin, whatever only_admins_can_pin says.
    if (actor.role == Role::restricted && !actor.custom_grants)
        throw forbidden("restricted members cannot pin messages");
    require(actor, Permission::pin, "only admins can pin messages in this chat");
    if (pin && message.is_deleted) throw conflict("message is deleted");
}

void may_mention_all(const Standing& actor) {
    require(actor, mention_all, "only admins can mention everyone in this chat");
}

void may_forward(const Message& message) {
    if (message.is_deleted) throw conflict("message is deleted");
    switch (message.type) {
        case MessageType::system: throw bad_request("system messages cannot be forwarded", "message_id");
        case MessageType::poll: throw bad_request("polls cannot be forwarded", "message_id");
        case MessageType::text:
        case MessageType::location: return;
        default:
            if (!message.media) throw conflict("the message's media was removed");
    }
}

void may_vote(const Message& message) {
    if (poll_of(message).closed_at) throw conflict("the poll is closed");
}

void may_close_poll(const Standing& actor, const std::string& actor_id, const Message& message) {
    poll_of(message);
    if (!is_sender_or_may(actor, actor_id, message)) throw forbidden("only the sender or an admin can close a poll");
}

void may_quote_in_thread(const std::string& root_id, const std::string& quoted_id,
                         const std::optional<std::string>& quoted_root_id) {
    if (quoted_id != root_id && quoted_root_id != root_id)
        throw bad_request("a thread reply's reply_to_id must be its root or a reply in its thread", "reply_to_id");
}

void may_reply_in_thread(const Message& root) {
    if (root.is_deleted) throw conflict("the thread's root message is deleted");
    if (root.type == MessageType::system) throw bad_request("system messages have no thread", "thread_root_id");
    if (root.thread_root_id) throw bad_request("a thread reply has no thread of its own", "thread_root_id");
}

void may_translate(const Message& message) {
    if (message.is_deleted) throw conflict("message is deleted");
    if (message.type == MessageType::location || message.type == MessageType::system ||
        message.type == MessageType::poll)
        throw bad_request("only text messages and captions can be translated");
    if (message.content.empty()) throw bad_request("the message has no text to translate");
}

void may_delete_account(bool has_password, std::optional<bool> password_matches) {
    if (!has_password) return;
    if (!password_matches) throw bad_request("password is required to delete a password account", "password");
    if (!*password_matches) throw Error(ErrorCode::forbidden, "password is wrong", "password");
}

void may_set_avatar(const std::optional<Media>& media, const std::string& actor_id) {
    if (!media || media->uploader_id != actor_id || !media->chat_id.empty() || media->kind != MediaKind::image)
        throw bad_request("media_id must be your image upload with purpose avatar", "media_id");
    if (media->attached) throw conflict("this upload is already attached");
}

void may_start_export(bool one_in_progress) {
    if (one_in_progress) throw conflict("an export is already in progress");
}

void may_download_export(ExportStatus status) {
    if (status != ExportStatus::ready) throw conflict("the export is not ready");
}

std::vector<Permission> granted_in_channel(Role role) {
    std::vector<Permission> in_order;
    for (const auto permission : every_permission())
        if (in_channel(role, permission)) in_order.push_back(permission);
    return in_order;
}

bool is_staff(Role role) { return role >= Role::moderator; }

bool sees_members(const Standing& actor) { return actor.type != ChatType::channel || is_staff(actor.role); }

bool hears_each_member(ChatType type, bool large) { return type != ChatType::channel && !large; }

bool makes_contacts(ChatType type, bool large) { return type != ChatType::channel && !large; }

bool notes_membership(ChatType type, bool large) { return type != ChatType::channel && !large; }

std::optional<std::size_t> member_cap(ChatType type, bool large, MemberCaps caps) {
    if (type == ChatType::channel) return std::nullopt;
    return large ? caps.large_group : caps.group;
}

void check_room(ChatType type, bool large, std::size_t members, MemberCaps caps, std::optional<std::string> field) {
    const auto cap = member_cap(type, large, caps);
    if (cap && members > *cap) throw Error(ErrorCode::conflict, "the group is full", std::move(field));
}

void may_make_large(const Standing& actor, bool asked) {
    if (actor.type != ChatType::group) throw bad_request("only a group can be made large", "large");
    if (asked == actor.large) return;  // as it is: nothing to decide (a client echoing the chat back)
    if (actor.role != Role::owner) throw forbidden("only the owner makes a group large");
    if (actor.large && !asked) throw bad_request("a large group stays large", "large");
}

void check_users_per_add(std::size_t count) {
    if (count > max_users_per_add)
        throw bad_request("at most " + std::to_string(max_users_per_add) + " user_ids per request", "user_ids");
}

void may_list_members(const Standing& actor) {
    if (!sees_members(actor))
        throw with_reason(ErrorCode::forbidden, "a channel's subscribers are listed to its admins only",
                          "subscribers_hidden");
}

bool is_handle(const std::string& text) {
    const auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
    const auto word = [&letter](char c) { return letter(c) || (c >= '0' && c <= '9') || c == '_'; };
    return text.size() >= min_handle_chars && text.size() <= max_handle_chars && letter(text.front()) &&
           std::all_of(text.begin(), text.end(), word);
}

void check_handle(const std::string& handle) {
    if (!is_handle(handle))
        throw bad_request("handle must be 5-32 of A-Z, a-z, 0-9 and _, starting with a letter", "handle");
}

void check_channel_fields(ChatType type, bool has_handle, bool is_public) {
    if (type != ChatType::channel && has_handle) throw bad_request("only a channel has a handle", "handle");
    if (type != ChatType::channel && is_public) throw bad_request("only a channel is public", "is_public");
    if (is_public && !has_handle) throw bad_request("a public channel needs a handle", "handle");
}

void may_join_channel(ChatType type, bool is_public, bool banned) {
    if (type != ChatType::channel || !is_public) throw not_found("channel");
    if (banned) throw with_reason(ErrorCode::forbidden, "you are banned from this channel", "banned");
}

bool should_push(const PushCandidate& member, Timestamp now) {
    const auto& settings = member.settings;
    if (member.is_sender || member.connected || settings.is_muted) return false;
    if (settings.muted_until && *settings.muted_until > now) return false;
    switch (settings.level) {
        case NotifyLevel::all: return true;
        case NotifyLevel::mentions: return member.mentioned;
        case NotifyLevel::none: return false;
    }
    return false;
}

}  // namespace confab::domain::rules
