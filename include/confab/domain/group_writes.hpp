#pragma once

#include "confab/config/config.hpp"
#include "confab/domain/commit.hpp"

#include <optional>
#include <string>
#include <vector>

// What chat writes and member writes share inside their transactions (chat_service,
// member_service): reading back the rows just written, system messages, consent and
// invitations, and what joining a group tells.
namespace confab::domain {

std::string name_of(store::Tx& tx, const std::string& user_id);

// Whether the chat, locked in `tx`, has room for `joining` more members: rules::check_room
// against its member count (a counter in a channel or large group, never a count of its rows).
void check_room(store::Tx& tx, const std::string& chat_id, const store::ChatKind& kind, std::size_t joining,
                const config::Limits& limits, std::optional<std::string> field = std::nullopt);

// Stores a system message (metadata {"event", "user_id"}) written by `actor`.
Message write_system(store::Tx& tx, const std::string& chat_id, const std::string& actor, std::string content,
                     const std::string& event, const std::optional<std::string>& user_id = std::nullopt);

// Stores a system message with this metadata (a JSON object's text).
Message write_system_note(store::Tx& tx, const std::string& chat_id, const std::string& actor, std::string content,
                          std::string metadata);

// message.new for the message, to every member of its chat.
void deliver_message(Effects& effects, Message message);

// Rows a transaction has just locked, written or found a standing for: missing means the
// database broke an invariant, refused as not_found rather than dereferenced.
ChatView view_of(store::Tx& tx, const std::string& chat_id, const std::string& user_id);
// The message as `viewer` reads it (its reactions, poll and own votes); not_found when it is
// gone or hidden by the viewer.
Message message_of(store::Tx& tx, const std::string& message_id, const std::string& viewer);
// The message as the event of a change by the actor carries it to every member: the
// actor's own read of it where reactors and voters are named to others, else read by no one
// (rules::names_reactors: a channel's subscribers do not see each other).
Message as_members_see(store::Tx& tx, const Message& read_by_actor, const Standing& actor);
// The member as stored, privacy not yet applied; not_found when they are not a member.
Member stored_member(store::Tx& tx, const std::string& chat_id, const std::string& user_id);
// The member as the other members see them (for events that go to all of them).
Member member_of(store::Tx& tx, const std::string& chat_id, const std::string& user_id);

// The member as a viewer sees them: presence and read position only where the member's
// privacy lets the viewer see them (`self`: the viewer is the member; `contact`: the chat makes
// its members contacts, rules::makes_contacts); no presence for a viewer in a block with the
// member (`blocked`).
Member seen_by(Member member, bool self, bool contact, bool blocked = false);
// Whether the chat makes its members contacts (rules::makes_contacts).
bool makes_contacts(store::Tx& tx, const std::string& chat_id);
// The members (as stored) as the actor reads them: presence where each one's privacy admits
// the actor (a contact: the chat makes contacts, or a small chat shared elsewhere does) and no
// block stands between them; the actor's own read position.
std::vector<Member> as_the_actor_sees(store::Tx& tx, const std::string& actor, bool chat_makes_contacts,
                                      std::vector<Member> stored);
// The facts of an event about the member (member.added, member.updated): the member as its
// subject, and those in a block with the member, who get it without the member's presence.
Facts about_member(store::Tx& tx, const Member& member, std::string actor = {});
// member.updated about a member (as stored) to the chat on the occasion (a role given, a mute
// by a moderator): the chat's view of them to the others, their own view to themself.
void announce_member(store::Tx& tx, Effects& effects, Occasion occasion, const Member& stored,
                     const std::string& actor);

// The users an actor puts into a group, split by consent: those who join now, and those who
// are asked first (rules::admits). not_found when any of them is not a user.
struct Consent {
    std::vector<std::string> joining;
    std::vector<std::string> asked;
};

Consent consent_of(store::Tx& tx, const std::string& actor, const std::vector<std::string>& users);

// Invites each user and tells them; a pending invitation stays as it was, untold again.
void invite(store::Tx& tx, Effects& effects, const std::string& chat_id, const std::string& inviter,
            const std::vector<std::string>& users);

// Deletes the group with all it holds (store::chats::remove), its pending invitees told that
// their invitation is gone as a decline tells them; returns the storage keys its media used.
std::vector<std::string> delete_group(store::Tx& tx, Effects& effects, const std::string& chat_id);

// A direct chat a member deleted from their list comes back with the next message in it, or
// as they open it again (docs/api.md, Chats): each of `users` gets chat.created with the
// chat on every device, as their list shows it again (before that message's message.new, so
// a client has the chat before its message).
void announce_shown_again(store::Tx& tx, Effects& effects, const std::string& chat_id,
                          const std::vector<std::string>& users);

// Whom the next message stored in a chat of `type` shows it to again, read before it is stored
// (storing it clears their hiding): the members who deleted the direct chat from their list,
// nobody in another chat. Every write of a message announces them (announce_shown_again).
std::vector<std::string> shown_again_by_next_message(store::Tx& tx, ChatType type, const std::string& chat_id);

// What members joining a group tells (`view` as of after they joined): chat.created to each
// of them with their own fresh `me`, then member.added and their system messages to every
// member; and the cache learns them.
void announce_joins(store::Tx& tx, Effects& effects, const std::string& chat_id, const ChatView& view,
                    const std::vector<Member>& joined, std::vector<Message> notes);

}  // namespace confab::domain
