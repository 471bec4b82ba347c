#pragma once

#include "confab/domain/model.hpp"

#include <optional>
#include <string>

// The rules of chat: who may do what, as pure functions of the state they judge. Each
// write checks them twice against the same function: early, against the cached access
// (so a refusal costs no database work), and again inside its transaction, after the
// chat's row lock, against the rows it is about to change (so a member who left or lost
// a role while the write was queued is refused, docs/api.md "Rules"). Each throws the
// documented Error when the answer is no.
namespace confab::domain::rules {

// Members may post; in a group that only admins may post to, only admins.
void may_post(const Standing& actor);

// Title, avatar and metadata: admins, or any member unless only admins may edit info;
// settings: admins only. Direct chats have no editable info.
void may_update_chat(const Standing& actor, bool changes_settings);

// A direct chat is left (hidden) by either member; a group is deleted by its owner only.
void may_delete_chat(const Standing& actor);

void may_add_members(const Standing& actor);

// Whether a user with this policy may be put into a group by someone without asking them;
// if not, they get an invitation instead. `contact`: they already share a chat.
bool adds_without_asking(AddPolicy policy, bool contact);

// Who may change whose role or mute (docs/api.md, Members).
void may_update_member(const Standing& actor, Role target, bool self, std::optional<Role> new_role, bool changes_mute);

// Who may remove whom; anyone may leave a group.
void may_remove_member(const Standing& actor, Role target, bool self);

// Only the sender edits, and only text messages and captions that are not deleted.
void may_edit_message(const std::string& actor_id, const Message& message);

// The sender, or in a group an admin or the owner.
void may_delete_message(const Standing& actor, const std::string& actor_id, const Message& message);

// A group's templates are managed by its admins; a direct chat has none.
void may_manage_chat_templates(const Standing& actor);

// As deleting the message: the sender, or a group's admins.
void may_remove_media(const Standing& actor, const std::string& actor_id, const Message& message);

// Pinning and unpinning: both members of a direct chat; in a group any member, or admins
// only when only_admins_can_pin is set. A deleted message cannot be pinned (unpinning one is
// nothing to do: deleting a message unpins it).
void may_pin(const Standing& actor, const Message& message, bool pin);

// Mentioning everyone: both members of a direct chat; in a group any member, or admins only
// when only_admins_can_mention_all is set.
void may_mention_all(const Standing& actor);

// A forward needs a message with something to carry: not deleted, not a system message, and
// a media message still with its media.
void may_forward(const Message& message);

}  // namespace confab::domain::rules
