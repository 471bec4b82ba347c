#pragma once

#include "confab/domain/model.hpp"
#include "confab/model/invite_link.hpp"
#include "confab/model/push.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The rules of chat: who may do what, as pure functions of the state they judge. Each
// write checks them twice against the same function: early, against the cached access
// (so a refusal costs no database work), and again inside its transaction, after the
// chat's row lock, against the rows it is about to change (so a member who left or lost
// a role while the write was queued is refused, docs/api.md "Rules"). Each throws the
// documented Error when the answer is no.
namespace confab::domain::rules {

// What a role may do in a chat (docs/api.md, Roles and permissions): model::Permission. Every
// rule below that asks "may this role" asks permits().
using model::Permission;
using model::to_string;

using model::every_permission;

// What a role grants in a group, before the group's only_admins_can_* settings: a built-in
// role's grants, or a custom role's own permissions (in the order of every_permission).
std::vector<Permission> granted(Role role, const std::optional<CustomRole>& custom = std::nullopt);

// Whether the actor holds the permission where they stand: a group's only_admins_can_*
// settings withdraw post (and post_media), edit_info, add_members, pin and mention_all from
// every role below admin; a direct chat's two members post, react, pin and mention everyone
// and nothing else.
bool permits(const Standing& actor, Permission permission);

// How a member stands in a chat of that type and settings as far as their membership tells
// (neither muted nor blocked): what ChatModel.me.permissions and report handling judge.
Standing standing_of(ChatType type, const ChatSettings& settings, bool large, const Membership& me);

// Every permission the actor holds where they stand (ChatModel.me.permissions).
std::vector<Permission> permissions(const Standing& actor);

// Who holds `post` posts, `post_media` too for a message with media (image, voice, video,
// file); a member muted by a moderator does not post until the mute ends; in a direct chat
// neither member posts while either blocks the other (may_message_directly).
void may_post(const Standing& actor, MessageType type);

// Slow mode (docs/api.md, Slow mode): a group's seconds between one member's posts, 0 (off)
// up to this; bad_request (field slow_mode_seconds) outside that range.
constexpr std::int64_t max_slow_mode_seconds = 3600;
void check_slow_mode_seconds(std::int64_t seconds);

// Whether the chat's slow mode holds the actor back: it is on, and the actor is below
// moderator (moderators, admins and the owner are exempt).
bool slowed(const Standing& actor);

// A member held back by slow mode posts again slow_mode_seconds after their last post
// (`last_posted`, none: no post counted yet): before then rate_limited, details.reason
// slow_mode, with the wait in retry_after_ms and, rounded up, retry_after_seconds.
void may_post_after(const Standing& actor, std::optional<Timestamp> last_posted, Timestamp now);

// Who may post (text) may start a call, which rings every other member; any member may
// answer, decline or join one. A channel and a large group have no calls (nobody rings a
// whole audience for a mesh of a few).
void may_start_call(const Standing& actor);

// Reactions and poll votes: who holds `react` (restricted members only read).
void may_react(const Standing& actor);

// Title, avatar and metadata (info): who holds `edit_info` (admins, or any member unless only
// admins may edit info); settings, and a channel's handle and publicity: who holds
// `change_settings` (admins, or a custom role granting it). Direct chats have neither.
void may_update_chat(const Standing& actor, bool changes_info, bool changes_settings);
// A channel has no settings: its roles decide what subscribers may do (bad_request, field
// settings), as when it is created.
void may_have_settings(const Standing& chat);

// A direct chat is left (hidden) by either member; a group is deleted by its owner only.
void may_delete_chat(const Standing& actor);

void may_add_members(const Standing& actor);

// A bot is put into a group by its owner only (docs/api.md, Bots): anyone else's add, or
// group creation naming it, is refused (forbidden, reason not_bot_owner). `bot_owner`: the
// added bot's owner.
void may_add_bot(const std::string& actor, const std::string& bot_owner);

// Seeing or managing a bot (its profile, token, webhook and parked deliveries): its owner only
// (docs/api.md, Bots). Anyone else's bot and an id that is no live bot (`bot_owner` empty:
// unknown, deleted, malformed) are alike not found: a bot's existence is its owner's to know.
void may_manage_bot(const std::string& actor, const std::optional<std::string>& bot_owner);

// Whether a user's privacy setting admits someone; `contact`: they already share a chat. Who
// may put the user into a group without asking them (anyone else's add becomes an
// invitation) is admits(who_can_add_me, ...).
bool admits(Circle circle, bool contact);

// Whether a viewer sees the user's presence (online, last seen): the user themself always;
// never a viewer in a block with the user, either way (as if the user hid it from everyone).
bool sees_presence(const Privacy& user, bool self, bool contact, bool blocked);

// Blocking (docs/api.md, Blocking): a user blocks any other user, never themself.
void may_block(bool self);

// A direct chat is neither opened nor written in (messages, forwards, polls, calls) while
// either of its two users blocks the other: forbidden with details.reason `blocked` for the
// one blocked, `you_blocked` for the blocker (who may unblock).
void may_message_directly(DirectBlock block);

// Broadcast lists (docs/api.md, Broadcast lists). Only its owner sees, changes or sends to a
// list: anyone else is told it is not found (not forbidden), so lists cannot be probed.
void may_use_broadcast_list(bool owner);

// A list holds at most this many recipients: more is conflict with details.reason
// `too_many_recipients`; the owner is no recipient of their own list: bad_request with
// details.reason `self_recipient` (field `field`).
constexpr std::size_t max_broadcast_recipients = 256;
void check_broadcast_recipients(std::size_t count, bool includes_owner, const char* field);

// A broadcast's copies go to different direct chats, so nothing of one chat (an upload, a
// reply, a thread) can be in it: bad_request naming the field. Its client_id is required,
// since each copy's idempotency key is made from it.
void may_broadcast(bool has_client_id, bool has_media, bool has_reply, bool in_thread);

// Whether a viewer learns how far the user has read (read.updated, a member's last_read_seq):
// the user themself always, the others unless the user stopped sending read receipts.
bool sees_reads(const Privacy& user, bool self);
// Whether a viewer learns that a member muted the chat (a member's is_muted): the member
// themself only, since muting is private; the others see false.
bool sees_mute(bool self);

// Who may change whose role or mute (docs/api.md, Members): `manage_roles`, on a member
// below the actor (an admin may step down themself), to a role no higher than the actor's
// that grants nothing the actor does not hold where they stand; the owner alone transfers
// ownership. Without a `target` it judges what needs no target:
// whoever may not act on members is refused before it is told whether the user is one.
void may_update_member(const Standing& actor, std::optional<Role> target, bool self, std::optional<Role> new_role,
                       bool changes_mute);

// Whether who reacted or voted is named to the other members: not in a channel, whose
// subscribers do not see each other (docs/api.md, Channels). There a read names the reader's
// own reactions and votes only, and the event of a change names nobody.
bool names_reactors(ChatType type);

// Custom roles (docs/api.md, Custom roles): the owner alone defines, changes and deletes a
// group's custom roles (forbidden otherwise; a direct chat has none).
void may_manage_custom_roles(const Standing& actor);

// A custom role's name: 1 to 32 code points of plain text (is_plain_text), and no built-in
// role's name in any case: bad_request with field `name`.
constexpr std::size_t max_custom_role_name = 32;
void check_custom_role_name(std::string_view name);

// A custom role ranks as admin, moderator, member or restricted (never owner): bad_request
// with field `rank`.
void check_custom_role_rank(Role rank);

// What a chat or a user holds only so many of, so that one account cannot fill the database
// at the rate limits' pace (docs/api.md, Limits): one more than the cap is conflict with
// details.reason naming it.
enum class Capped {
    custom_roles,       // a group's custom roles: 20, `too_many_roles`
    bots,               // a user's bots not deleted: 20, `too_many_bots`
    pending_scheduled,  // a user's pending scheduled messages in one chat: 100, `too_many_scheduled`
    live_invite_links,  // a chat's invite links neither revoked, expired nor used up: 100,
                        // `too_many_invite_links`
    broadcast_lists,    // a user's broadcast lists: 100, `too_many_broadcast_lists`
};
std::size_t cap_of(Capped what);
// `existing` of them are held already.
void check_room_for_another(Capped what, std::size_t existing);

// Giving a member a custom role asks what giving them its rank asks (may_update_member),
// and that the role grant nothing the actor does not hold where they stand: nobody hands out
// powers they lack (the owner holds them all).
void may_assign_custom_role(const Standing& actor, std::optional<Role> target, bool self, const CustomRole& role);

// Muting another member for a time (moderation): `ban`, on a member below the actor (no
// `target`: judged as in may_update_member).
void may_mute_member(const Standing& actor, std::optional<Role> target, bool self);

// Banning a user, lifting a ban and listing bans: `ban`, on a user below the actor (`target`:
// the member's role; none for a user who is not a member, below everyone); never oneself.
void may_ban(const Standing& actor, std::optional<Role> target, bool self);

// A user banned from a group is neither added to it nor invited.
void may_join(bool banned);

// Creating, listing and revoking a group's invite links: who holds `manage_invite_links`.
void may_manage_invite_links(const Standing& actor);

// An invite link lets users in (and shows its group) while it is not revoked, not expired
// and not used up: forbidden otherwise, with details.reason revoked, expired or used_up.
void may_use_invite_link(const InviteLink& link, Timestamp now);

// Joining by an open link: a user banned from the group is refused (reason banned).
void may_join_by_link(const InviteLink& link, Timestamp now, bool banned);

// Who may remove whom: `remove_members`, on a member below the actor; anyone may leave a group.
// No `target`: judged as in may_update_member.
void may_remove_member(const Standing& actor, std::optional<Role> target, bool self);

// Reports (docs/api.md, Reports). Any member reports a message of the chat that is not
// deleted (conflict) and not a system message (bad_request), nor their own (bad_request).
void may_report(const std::string& actor_id, const Message& message);

// A chat's reports are listed and resolved by who holds `handle_reports` (moderators, admins
// and the owner of a group; a direct chat has no moderators: its reports go to operators).
void may_handle_reports(const Standing& actor);

// Whether the member handles this report of the chat: who holds `handle_reports`, unless
// the reported message is their own (`reported_sender`: its sender as the report keeps it,
// none once that account is gone). Nobody judges a report of their own message: they hear
// nothing of it (report.created, report.resolved), do not list it, and resolving it is
// forbidden with details.reason `own_message`; the server's operators resolve it.
bool handles_report(const Standing& actor, const std::string& actor_id,
                    const std::optional<std::string>& reported_sender);
void may_handle_report(const Standing& actor, const std::string& actor_id,
                       const std::optional<std::string>& reported_sender);

// Only an open report is resolved: conflict once it is.
void may_resolve_report(bool resolved);

// Only the sender edits, and only text messages and captions that are not deleted.
void may_edit_message(const std::string& actor_id, const Message& message);

// The sender, or in a group who holds `delete_messages`.
void may_delete_message(const Standing& actor, const std::string& actor_id, const Message& message);

// A group's templates are managed by who holds `manage_templates`; a direct chat has none.
void may_manage_chat_templates(const Standing& actor);

// Subscribing a URL to a chat's events, and seeing, removing or replaying its webhooks: a
// group's admins and owner (a webhook tells an outside service everything said there).
void may_manage_webhooks(const Standing& actor);

// As deleting the message: the sender, or who holds `delete_messages`.
void may_remove_media(const Standing& actor, const std::string& actor_id, const Message& message);

// Pinning and unpinning: who holds `pin` (both members of a direct chat; in a group any
// member, or from moderator up only when only_admins_can_pin is set). A deleted message cannot be pinned (unpinning one is
// nothing to do: deleting a message unpins it).
void may_pin(const Standing& actor, const Message& message, bool pin);

// Mentioning everyone: who holds `mention_all` (both members of a direct chat; in a group
// any member, or from moderator up only when only_admins_can_mention_all is set).
void may_mention_all(const Standing& actor);

// A forward needs a message with something to carry: not deleted, not a system message or a
// poll (whose votes belong to its chat), and a media message still with its media.
void may_forward(const Message& message);

// Any member votes in an open poll, even where only admins may post: a vote answers, as a
// reaction does. Not a poll: bad_request; deleted or closed: conflict.
void may_vote(const Message& message);

// The poll's sender, or in a group who holds `delete_messages`, closes it; not a poll:
// bad_request; deleted: conflict. (Closing a closed poll changes nothing.)
void may_close_poll(const Standing& actor, const std::string& actor_id, const Message& message);

// Who may reply in a thread is who may post (may_post); a thread's root must be a message
// not deleted, not a system message, and not itself a thread reply (threads are one level).
void may_reply_in_thread(const Message& root);
// A thread reply's reply_to_id is a quote within its thread: the root or another reply to it
// (bad_request naming reply_to_id otherwise). `quoted_root_id` is the quoted message's own
// thread root, none for a main-timeline message.
void may_quote_in_thread(const std::string& root_id, const std::string& quoted_id,
                         const std::optional<std::string>& quoted_root_id);

// Any member who reads a message may have it translated (reading is standing_in's question);
// it needs text: a deleted message is conflict; a system message, a location, a poll or a
// message without content is bad_request.
void may_translate(const Message& message);

// Accounts (docs/api.md, Deleting the account, Exporting your data).

// A password account confirms its deletion with its password: none given is bad_request, a
// wrong one forbidden (`password_matches` is empty when none was given). An account of the
// host application has no password: the authenticated request alone confirms.
void may_delete_account(bool has_password, std::optional<bool> password_matches);
// An avatar is the user's own image uploaded for it (purpose=avatar: of no chat): bad_request
// otherwise, naming media_id; conflict when that upload is attached already.
void may_set_avatar(const std::optional<Media>& media, const std::string& actor_id);
// One export at a time per user: another while one is pending or running is a conflict.
void may_start_export(bool one_in_progress);
// Only a ready export downloads (conflict otherwise). Whose it is was asked before: another
// user's export is not found.
void may_download_export(ExportStatus status);

// Channels (docs/api.md, Channels). Their owner and admins post; subscribers (role member)
// read, react and vote; moderators keep order without posting.

// What a role grants in a channel, whatever the channel's only_admins_can_* settings: the
// owner and admins everything, moderators react, remove_members, delete_messages, ban and
// handle_reports, members (subscribers) react, restricted members nothing.
std::vector<Permission> granted_in_channel(Role role);

// A chat's staff: moderators and up, who keep order and hear of every member where the
// others do not (hears_each_member).
bool is_staff(Role role);

// Whether the member sees the chat's other members (the member list, their joins, leaves,
// role changes, read positions and typing): in a channel its staff; in any other chat every
// member (a large group's members list and search each other, and hear of each other as
// hears_each_member says).
bool sees_members(const Standing& actor);

// Whether every member hears each other member's join, leave, role change, mute, read
// position and typing (Occasion: audience_of): in a channel and in a large group these go to
// the staff and the member concerned, typing to the staff, a read position to the reader
// alone (audience_in_channel), so that nothing is sent to every member per member or per read.
bool hears_each_member(ChatType type, bool large);

// Whether joins, leaves, removals and bans are told to every member as system messages: in a
// group yes; a channel's subscribers do not learn of each other, nor do a large group's
// members get a message per join.
bool notes_membership(ChatType type, bool large);

// Whether sharing the chat makes its members each other's contacts (for presence under
// `contacts` and `who_can_add_me`): not in a channel, not in a large group (docs/api.md,
// Channels and Large groups). The store's CONFAB_SHARED_SMALL_CHAT says the same in SQL.
bool makes_contacts(ChatType type, bool large);

// Large groups (docs/api.md, Large groups).

// The member caps the configuration sets (limits.group_members, limits.large_group_members).
struct MemberCaps {
    std::size_t group = 0;
    std::size_t large_group = 0;
};

// The most members the chat may hold: a channel has no cap, a large group large_group, any
// other chat group.
std::optional<std::size_t> member_cap(ChatType type, bool large, MemberCaps caps);

// Whether `members` fit the chat's cap: conflict "the group is full" otherwise, naming `field`
// when given.
void check_room(ChatType type, bool large, std::size_t members, MemberCaps caps,
                std::optional<std::string> field = std::nullopt);

// Making a group large (`large` in a chat update): a group only (bad_request, field `large`,
// for a direct chat or a channel), by its owner only (forbidden), and one way: `false` on a
// large group is bad_request (field `large`); `true` on a large group or `false` on an
// ordinary one changes nothing.
void may_make_large(const Standing& actor, bool asked);

// Most users one request adds to a chat (POST /chats/{id}/members): more is bad_request, field
// `user_ids`.
constexpr std::size_t max_users_per_add = 1000;
void check_users_per_add(std::size_t count);

// The member list of a channel is its staff's: forbidden, details.reason `subscribers_hidden`,
// for a subscriber.
void may_list_members(const Standing& actor);

// A handle: 5-32 of [A-Za-z0-9_], starting with a letter; unique whatever its case
// (conflict, details.reason handle_taken, is the store's answer). bad_request (field handle)
// otherwise.
constexpr std::size_t min_handle_chars = 5;
constexpr std::size_t max_handle_chars = 32;
bool is_handle(const std::string& text);
void check_handle(const std::string& handle);

// Only a channel has a handle and is public, and a public channel needs a handle:
// bad_request naming the field otherwise.
void check_channel_fields(ChatType type, bool has_handle, bool is_public);

// Joining a channel without a link: a public one by anyone not banned from it (forbidden,
// details.reason banned); a private one, or a chat that is no channel, is not found (it is
// joined by invite link only, and its existence is not told).
void may_join_channel(ChatType type, bool is_public, bool banned);

// Push notifications (docs/api.md, Push notifications).

// A member as a new message finds them.
struct PushCandidate {
    bool is_sender = false;
    bool connected = false;  // has a live WebSocket, which receives every chat's events
    bool mentioned = false;
    NotificationSettings settings;
};
// Whether the member is pushed the message: never its sender, nor a member who is connected
// (the socket tells them), nor one who silenced the chat (is_muted, level none, or muted
// until a time still ahead); with level mentions, only when the message mentions them.
bool should_push(const PushCandidate& member, Timestamp now);

}  // namespace confab::domain::rules
