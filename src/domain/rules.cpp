#include "confab/domain/rules.hpp"

namespace confab::domain::rules {
namespace {

bool is_group_admin(const Standing& actor) { return actor.type == ChatType::group && actor.role != Role::member; }

bool is_sender_or_group_admin(const Standing& actor, const std::string& actor_id, const Message& message) {
    return message.sender_id == actor_id || is_group_admin(actor);
}

// A poll message that is not deleted: what voting and closing refuse otherwise.
const Poll& poll_of(const Message& message) {
    if (message.type != MessageType::poll) throw bad_request("the message is not a poll", "message_id");
    if (message.is_deleted || !message.poll) throw conflict("message is deleted");
    return *message.poll;
}

}  // namespace

void may_post(const Standing& actor) {
    if (actor.type == ChatType::group && actor.role == Role::member && actor.settings.only_admins_can_post)
        throw forbidden("only admins can post in this group");
}

void may_update_chat(const Standing& actor, bool changes_settings) {
    if (actor.type == ChatType::direct) throw forbidden("a direct chat has no editable info");
    if (actor.role != Role::member) return;
    if (actor.settings.only_admins_can_edit_info) throw forbidden("only admins can edit this group");
    if (changes_settings) throw forbidden("only admins can change group settings");
}

void may_delete_chat(const Standing& actor) {
    if (actor.type == ChatType::group && actor.role != Role::owner)
        throw forbidden("only the owner can delete the group");
}

void may_add_members(const Standing& actor) {
    if (actor.type == ChatType::direct) throw forbidden("members cannot be added to a direct chat");
    if (actor.role == Role::member && actor.settings.only_admins_can_add_members)
        throw forbidden("only admins can add members");
}

bool admits(Circle circle, bool contact) {
    return circle == Circle::everyone || (circle == Circle::contacts && contact);
}

bool sees_presence(const Privacy& user, bool self, bool contact) {
    return self || admits(user.who_can_see_presence, contact);
}

bool sees_reads(const Privacy& user, bool self) { return self || user.send_read_receipts; }

void may_update_member(const Standing& actor, Role target, bool self, std::optional<Role> new_role, bool changes_mute) {
    if (changes_mute && !self) throw forbidden("only members themselves can mute a chat");
    if (!new_role) return;
    if (actor.type == ChatType::direct) throw forbidden("a direct chat has no roles");
    if (*new_role == Role::owner) {
        if (actor.role != Role::owner) throw forbidden("only the owner can transfer ownership");
        return;
    }
    if (target == Role::owner) throw forbidden("the owner's role cannot be changed");
    if (actor.role == Role::member) throw forbidden("only admins can change roles");
    if (actor.role == Role::admin && target == Role::admin && !self)
        throw forbidden("admins cannot change other admins");
}

void may_remove_member(const Standing& actor, Role target, bool self) {
    if (actor.type == ChatType::direct) throw forbidden("use DELETE /chats/{id} to leave a direct chat");
    if (self) return;
    if (actor.role == Role::member) throw forbidden("only admins can remove members");
    if (target == Role::owner) throw forbidden("the owner cannot be removed");
    if (actor.role == Role::admin && target == Role::admin) throw forbidden("admins cannot remove other admins");
}

void may_edit_message(const std::string& actor_id, const Message& message) {
    if (message.sender_id != actor_id) throw forbidden("only the sender can edit a message");
    if (message.is_deleted) throw conflict("message is deleted");
    if (message.type == MessageType::location || message.type == MessageType::system ||
        message.type == MessageType::poll)
        throw bad_request("only text messages and captions can be edited", "content");
}

void may_delete_message(const Standing& actor, const std::string& actor_id, const Message& message) {
    if (!is_sender_or_group_admin(actor, actor_id, message))
        throw forbidden("only the sender or an admin can delete a message");
    if (message.is_deleted) throw conflict("message is already deleted");
}

void may_manage_chat_templates(const Standing& actor) {
    if (actor.type == ChatType::direct) throw forbidden("a direct chat has no shared templates");
    if (actor.role == Role::member) throw forbidden("only admins can manage the group's templates");
}

void may_remove_media(const Standing& actor, const std::string& actor_id, const Message& message) {
    if (message.is_deleted || !message.media) throw not_found("media");
    if (!is_sender_or_group_admin(actor, actor_id, message))
        throw forbidden("only the sender or an admin can remove media");
}

void may_pin(const Standing& actor, const Message& message, bool pin) {
    if (actor.type == ChatType::group && actor.role == Role::member && actor.settings.only_admins_can_pin)
        throw forbidden("only admins can pin messages in this group");
    if (pin && message.is_deleted) throw conflict("message is deleted");
}

void may_mention_all(const Standing& actor) {
    if (actor.type == ChatType::group && actor.role == Role::member && actor.settings.only_admins_can_mention_all)
        throw forbidden("only admins can mention everyone in this group");
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
    if (!is_sender_or_group_admin(actor, actor_id, message))
        throw forbidden("only the sender or an admin can close a poll");
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
