#pragma once

#include "confab/domain/events.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

// Who receives each event, and what each of them is sent, as pure functions of plain facts
// (no cache, no database, no connections): the one table to extend when a new role, kind
// of chat or kind of change wants a different audience. tests/unit/domain/audience_test.cpp
// holds every occasion against a cast of owner, admin, member, actor and outsiders.
namespace confab::domain {

// The users an event may go to, named.
enum class Audience {
    members,               // every member of the chat
    members_and_subject,   // every member, and the subject who has just stopped being one
    members_but_actor,     // every member except the actor, who knows already
    actor,                 // the actor alone
    subject,               // the user the event is about, alone
    contacts_of_subject,   // everyone who shares a chat with the subject
    subject_and_contacts,  // the subject, and everyone who shares a chat with them
    mentioned,             // the members among the mentioned, but the actor
    staff_and_subject,     // a channel's staff (Facts::staff), and the subject
    staff_but_actor,       // a channel's staff except the actor
};

// Everything that sends an event; each occasion has one audience (audience_of).
enum class Occasion {
    message_created,      // message.new: a message sent, or a system message written
    message_updated,      // message.updated: an edit, a reaction change, a media removal
    message_deleted,      // message.deleted
    message_hidden,       // message.hidden: the actor hid a message for themself
    read_updated,         // read.updated: the actor's read position moved
    read_kept,            // read.updated: the same, for an actor who sends no read receipts
    typing_updated,       // typing.update: the actor started or stopped typing
    chat_created,         // chat.created: a new chat, to each of its members
    chat_joined,          // chat.created: the chat, to the subject who has just joined it
    chat_updated,         // chat.updated: a group's title, photo, settings or metadata
    chat_hidden,          // chat.deleted: the actor hid a direct chat from themself
    chat_deleted,         // chat.deleted: a group deleted, to its last members
    member_added,         // member.added: the subject joined
    role_changed,         // member.updated: the subject's role changed (also by succession)
    mute_changed,         // member.updated: the subject muted or unmuted the chat (private)
    member_muted,         // member.updated: a moderator muted the subject, or lifted the mute
    member_removed,       // member.removed: the subject left or was removed
    presence_updated,     // presence.update: the subject's first connection opened or last closed
                          // (facts.contacts: those the subject's privacy lets see it)
    profile_updated,      // user.updated: the subject changed their display name, bio or avatar
    invitation_created,   // invitation.created: the subject was invited
    invitation_deleted,   // invitation.deleted: the subject accepted or declined
    scheduled_changed,    // scheduled_message.updated / .deleted: the subject's own scheduled message
    poll_updated,         // poll.updated: a vote changed, or the poll was closed
    mentioned,            // mention.new: a message sent or edited mentions the mentioned
    block_changed,        // user.blocked / user.unblocked: the subject blocked or unblocked a user
    report_created,       // report.created: a member reported a message (facts.members: those
                          // who handle the chat's reports)
    report_resolved,      // report.resolved: a report was resolved (facts.members: as report_created)
    custom_role_changed,  // role.created / role.updated / role.deleted: the owner defined, changed or
                          // deleted a custom role
};

Audience audience_of(Occasion occasion);

// The audience in a channel, whose subscribers do not see each other (docs/api.md, Channels),
// and in a large group, whose members are not told of each other per member (Large groups):
// joins, leaves, role changes and mutes go to its staff and the member concerned, typing to
// its staff, a read position to the reader alone; everything else as audience_of.
Audience audience_in_channel(Occasion occasion);

// Whether the audience is drawn from Facts::members: only then must a chat's members be
// listed for it (a large group's are 100,000).
bool draws_on_members(Audience audience);

// The facts an audience is drawn from.
struct Facts {
    std::vector<std::string> members;    // the chat's members once the change is applied
                                         // (a deleted chat: its last members; a channel or
                                         // large group: those the sink can reach, when it
                                         // can tell: EventSink::reachable_members)
    std::string actor;                   // who made the change
    std::string subject;                 // the user the event is about
    std::vector<std::string> contacts;   // the subject's contacts (presence and profile only)
    std::vector<std::string> mentioned;  // the users a message newly mentions (mention.new only)
    // Each recipient's own standing, for an event that carries the recipient's `me`
    // (chat.created, chat.updated): such an event goes only to the users listed here.
    std::map<std::string, Membership> memberships;
    // Users the event never goes to, whatever the audience: those in a block with the actor
    // (typing), kept out of each other's ephemeral state (docs/api.md, Blocking).
    std::vector<std::string> hidden_from;
    // Users in a block with the member an event is about (member.added, member.updated): the
    // event goes to them without the member's presence (docs/api.md, Blocking).
    std::vector<std::string> presence_hidden_from;
    // Set in a channel or large group, whose members do not hear of each other
    // (rules::hears_each_member): its staff (rules::is_staff); the audience is then
    // audience_in_channel's.
    std::optional<std::vector<std::string>> staff;
    // The member an event is about as they see themself (their own is_muted and read position,
    // which the others may not see): their parcel carries it instead of the chat's view.
    std::optional<Member> member_sees_themself;
};

// The users, each once, of the audience under these facts. Members keep their given order.
std::vector<std::string> recipients(Audience audience, Facts facts);

// An event and the users it goes to.
struct Parcel {
    Event event;
    std::vector<std::string> recipients;
};

// The event as sent on the occasion: one parcel for all its recipients, or, for an event
// carrying the recipient's `me`, one parcel each with their own. A poll's my_votes is one
// reader's: an event sent alike to all carries none, and a vote's poll.updated carries the
// voter's to the voter alone. An event about a member with `member_sees_themself` set
// carries that to the member.
std::vector<Parcel> address(Occasion occasion, Event event, Facts facts);

}  // namespace confab::domain
