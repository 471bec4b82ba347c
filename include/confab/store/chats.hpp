#pragma once

#include "confab/model/chat.hpp"
#include "confab/model/list_page.hpp"
#include "confab/model/member_roles.hpp"

#include "confab/store/tx.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_set>
#include <unordered_map>
#include <vector>

namespace confab::store {

// Who may do what in a chat: what the hot path checks, cached by the domain.
struct ChatAccess {
    model::ChatType type = model::ChatType::group;
    model::ChatSettings settings;
    model::MemberRoles members;
    std::unordered_map<std::string, model::Timestamp> muted_until;  // members a moderator muted, until when
    // chats.access_version when loaded: another node's change to the chat makes it older
    // than the row's (migrations/0024_access_version.sql).
    std::int64_t version = 0;
    // A direct chat's members who block the other one (user_blocks): neither may message it.
    std::vector<std::string> blockers{};
    // Members holding a custom role: its permissions, which replace their role's grants.
    std::unordered_map<std::string, std::vector<model::Permission>> custom_grants{};
    bool large = false;  // a large group (model::Chat::large)

    // A member's built-in role, or a custom role's rank and permissions.
    void set_role(const std::string& user_id, model::Role role, const std::optional<model::CustomRole>& custom = {}) {
        members.assign(user_id, custom ? custom->rank : role);
        if (custom) {
            custom_grants[user_id] = custom->permissions;
        } else {
            custom_grants.erase(user_id);
        }
    }
    void remove(const std::string& user_id) {
        members.erase(user_id);
        muted_until.erase(user_id);
        custom_grants.erase(user_id);
    }
};

// A chat's type, and whether it is a large group (model::Chat::large).
struct ChatKind {
    model::ChatType type = model::ChatType::group;
    bool large = false;
};

struct NewChat {
    model::ChatType type = model::ChatType::group;
    std::optional<std::string> title;
    std::optional<std::string> avatar_url;
    model::ChatSettings settings;
    std::string metadata = "{}";
    std::string created_by;
    std::optional<std::string> direct_key;
    std::optional<std::string> handle;  // a channel's
    bool is_public = false;
};

struct ChatChanges {
    std::optional<std::string> title;
    std::optional<std::optional<std::string>> avatar_url;  // engaged: set (possibly to null)
    model::ChatSettings settings;                          // the full new settings
    std::optional<std::string> metadata;
};

// A channel's own fields; each engaged one is set.
struct ChannelChanges {
    std::optional<std::optional<std::string>> handle;  // engaged: set (possibly to null)
    std::optional<bool> is_public;
};

}  // namespace confab::store

namespace confab::store::chats {

void prepare(Tx& tx);

// The created chat's id, or nullopt when the direct_key is taken (the pair has a chat) or
// the handle is (another chat has it in any case).
std::optional<std::string> insert(Tx& tx, const NewChat& chat);
std::optional<std::string> find_direct(Tx& tx, const std::string& direct_key);
// A chat as its row lock finds it.
struct Locked {
    std::int64_t access_version = 0;  // ChatAccess::version
    // Its latest message: every send bumps it on the same row, so no message can commit
    // after this one while the lock is held.
    std::int64_t last_seq = 0;
};
// Locks the chat row for the rest of the transaction; nothing when the chat is gone. Every
// transaction that changes a chat takes this lock first, so they run one at a time per chat
// and always lock in the same order (chat, then members and messages).
std::optional<Locked> lock(Tx& tx, const std::string& chat_id);
// The chat's access version as committed now, without a lock; nothing when the chat is gone.
std::optional<std::int64_t> access_version(Tx& tx, const std::string& chat_id);
std::optional<ChatAccess> load_access(Tx& tx, const std::string& chat_id);
// The chat's type, and whether it is a large group; nothing when the chat is gone.
std::optional<ChatKind> kind_of(Tx& tx, const std::string& chat_id);
// Members now: a channel's or large group's counter, an ordinary chat's count.
std::int64_t member_count(Tx& tx, const std::string& chat_id);
// Makes a group large (no-op for a chat that is none, or is large already).
void make_large(Tx& tx, const std::string& chat_id);

std::optional<model::ChatView> view(Tx& tx, const std::string& chat_id, const std::string& user_id);
// The user's visible chats, most recent activity first, older than `before_activity`.
std::vector<model::ChatView> list(Tx& tx, const std::string& user_id, std::optional<std::int64_t> before_activity,
                                  int limit);

// Whether anything changed: a change to what the chat already has writes nothing.
bool update(Tx& tx, const std::string& chat_id, const ChatChanges& changes);
// Deletes the chat with its members, messages and media rows; returns the storage keys
// those media rows used (the bytes may still be used by other chats' rows).
std::vector<std::string> remove(Tx& tx, const std::string& chat_id);
// Whether it changed anything.
bool set_hidden(Tx& tx, const std::string& chat_id, const std::string& user_id, bool hidden);
// The members who hid the chat from their list (a direct chat deleted for oneself).
std::vector<std::string> hidden_by(Tx& tx, const std::string& chat_id);

// Channels (docs/api.md, Channels). Whether a chat other than `except_chat` has the handle, in any case.
bool handle_taken(Tx& tx, const std::string& handle, const std::string& except_chat);
// Whether anything changed, as update().
bool set_channel_fields(Tx& tx, const std::string& chat_id, const ChannelChanges& changes);
// Public channels whose handle or title starts with `prefix` (any case), in handle order (lower
// case), after `after_handle` (lower case); each as `viewer` finds it.
std::vector<model::Channel> search_channels(Tx& tx, const std::string& prefix,
                                            const std::optional<std::string>& after_handle, int limit,
                                            const std::string& viewer);
// The channel with the handle (any case), public or not: who may see it is the caller's question.
std::optional<model::Channel> find_channel(Tx& tx, const std::string& handle, const std::string& viewer);

}  // namespace confab::store::chats

namespace confab::store::members {

void prepare(Tx& tx);

// false when the user was already a member.
bool insert(Tx& tx, const std::string& chat_id, const std::string& user_id, model::Role role);
// Adds the users not yet members, in one statement, joining in the order given; returns those
// added.
std::unordered_set<std::string> insert_all(Tx& tx, const std::string& chat_id, const std::vector<std::string>& user_ids,
                                           model::Role role);
// The members among these users, in join order.
std::vector<model::Member> find_all(Tx& tx, const std::string& chat_id, const std::vector<std::string>& user_ids);
std::optional<model::Member> find(Tx& tx, const std::string& chat_id, const std::string& user_id);
// The user's standing in the chat as of this statement; nullopt when not a member (or no chat).
std::optional<model::Standing> standing(Tx& tx, const std::string& chat_id, const std::string& user_id);
// Join order, after the member at `after_position`; pairs of (member, position).
// `prefix`: only members whose username or display name starts with it, whatever its case.
std::vector<std::pair<model::Member, std::int64_t>> list(Tx& tx, const std::string& chat_id,
                                                         std::optional<std::int64_t> after_position, int limit,
                                                         const std::optional<std::string>& prefix = std::nullopt);
std::vector<std::string> user_ids(Tx& tx, const std::string& chat_id);
// Every member's own standing (ChatModel's `me` for each of them).
std::vector<std::pair<std::string, model::Membership>> standings(Tx& tx, const std::string& chat_id);
void set_role(Tx& tx, const std::string& chat_id, const std::string& user_id, model::Role role);
void set_muted(Tx& tx, const std::string& chat_id, const std::string& user_id, bool muted);
// A moderator's mute of the member until a time; none lifts it.
void set_muted_until(Tx& tx, const std::string& chat_id, const std::string& user_id,
                     std::optional<model::Timestamp> until);
void remove(Tx& tx, const std::string& chat_id, const std::string& user_id);
// The longest-standing admin, else the longest-standing member, other than `except`.
std::optional<std::string> successor(Tx& tx, const std::string& chat_id, const std::string& except);
struct ReadMark {
    std::int64_t last_read_seq = 0;
    bool send_read_receipts = true;  // the reader's privacy setting
};
// Moves last_read_seq forward to min(seq, last_seq); the new mark if it moved.
std::optional<ReadMark> advance_read(Tx& tx, const std::string& chat_id, const std::string& user_id, std::int64_t seq);
// A member as slow mode knows them: a chat and a user.
struct Poster {
    std::string chat_id;
    std::string user_id;
};
// When each of `posters` last posted while their chat's slow mode was on (none: no post
// counted), keyed by chat and user, and the database's clock now, which all nodes share.
struct LastPosts {
    std::map<std::pair<std::string, std::string>, model::Timestamp> at;
    model::Timestamp now;
};
LastPosts last_posts(Tx& tx, const std::vector<Poster>& posters);
// Counts a post of each of `posters` now.
void set_posted(Tx& tx, const std::vector<Poster>& posters);
// Users sharing at least one chat with user_id (presence audience).
std::vector<std::string> contacts(Tx& tx, const std::string& user_id);
// Those of `ids` who share at least one chat with user_id.
std::unordered_set<std::string> contacts_among(Tx& tx, const std::string& user_id, const std::vector<std::string>& ids);

}  // namespace confab::store::members

namespace confab::store::invitations {

void prepare(Tx& tx);

// The new invitation's id; nullopt when the user already has one to this chat.
std::optional<std::string> insert(Tx& tx, const std::string& chat_id, const std::string& user_id,
                                  const std::string& inviter_id);
// The user's pending invitations, newest first, after `after` when given, at most `limit`,
// each with its place (the next page's `after`).
std::vector<std::pair<model::Invitation, model::ListPlace>> of_user(Tx& tx, const std::string& user_id,
                                                                    const std::optional<model::ListPlace>& after,
                                                                    int limit);
std::optional<model::Invitation> find(Tx& tx, const std::string& id, const std::string& user_id);
void remove(Tx& tx, const std::string& id);
// Drops the user's invitation to the chat, if any (they joined another way).
void remove_for(Tx& tx, const std::string& chat_id, const std::vector<std::string>& user_ids);
// Drops every pending invitation to the chat; returns each one's id and invitee.
std::vector<std::pair<std::string, std::string>> remove_all(Tx& tx, const std::string& chat_id);

}  // namespace confab::store::invitations
