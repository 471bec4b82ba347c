// Who receives each event, as a table: every occasion against one cast, the expected
// recipients written out person by person. A new occasion, audience or person (a
// moderator, a channel subscriber) adds a row or a column here.

#include "confab/domain/audience.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

namespace confab::domain {
namespace {

// The chat after the change has four members: an owner, an admin, a plain member and the
// actor (a plain member too). The removed user has just left it, the invitee was asked to
// join it, and the outsider has nothing to do with it.
constexpr std::array cast{"owner", "admin", "member", "actor", "removed", "invitee", "outsider"};

Facts facts_about(const std::string& subject) {
    Facts facts;
    facts.members = {"owner", "admin", "member", "actor"};
    facts.actor = "actor";
    facts.subject = subject;
    facts.contacts = {"owner", "admin", "member"};  // the actor's: they share this chat
    // A message that names the admin, its own sender, a user who has just left and one who
    // was never in the chat (a mention is resolved against the members when it is written).
    facts.mentioned = {"admin", "actor", "removed", "outsider"};
    facts.memberships = {{"owner", {Role::owner, 0, false}},
                         {"admin", {Role::admin, 0, false}},
                         {"member", {Role::member, 0, false}},
                         {"actor", {Role::member, 0, false}}};
    return facts;
}

// 'x' under each person of the cast who receives the event, '.' under the others.
std::string receivers(const std::vector<Parcel>& parcels) {
    std::string marks;
    for (const std::string person : cast) {
        const auto count = std::count_if(parcels.begin(), parcels.end(), [&](const Parcel& parcel) {
            return std::count(parcel.recipients.begin(), parcel.recipients.end(), person);
        });
        marks += count == 0 ? '.' : count == 1 ? 'x' : '2';  // '2': received twice
    }
    return marks;
}

// An event of the kind the occasion sends, with a `me` that no recipient has. The switch
// names every occasion (-Wswitch): a new one cannot be added without coming here, next to
// the table it needs a row in.
Event event_of(Occasion occasion) {
    switch (occasion) {
        case Occasion::message_created: return MessageCreated{};
        case Occasion::message_updated: return MessageUpdated{};
        case Occasion::message_deleted: return MessageDeleted{};
        case Occasion::message_hidden: return MessageHidden{};
        case Occasion::read_updated: return ReadUpdated{};
        case Occasion::typing_updated: return TypingUpdated{};
        case Occasion::chat_created:
        case Occasion::chat_joined: return ChatCreated{ChatView{.me = {Role::owner, 99, true}}};
        case Occasion::chat_updated: return ChatUpdated{ChatView{.me = {Role::owner, 99, true}}};
        case Occasion::chat_hidden:
        case Occasion::chat_deleted: return ChatDeleted{};
        case Occasion::member_added: return MemberAdded{};
        case Occasion::role_changed:
        case Occasion::mute_changed: return MemberUpdated{};
        case Occasion::member_removed: return MemberRemoved{};
        case Occasion::presence_updated: return PresenceUpdated{};
        case Occasion::invitation_created: return InvitationCreated{};
        case Occasion::invitation_deleted: return InvitationDeleted{};
        case Occasion::scheduled_changed: return ScheduledUpdated{};
        case Occasion::mentioned: return MentionCreated{};
    }
    return MessageCreated{};
}

struct Row {
    Occasion occasion;
    const char* name;
    const char* subject;   // the user the event is about, where there is one
    const char* expected;  // over the cast: owner admin member actor removed invitee outsider
};

// Expected: a mark for each of owner, admin, member, actor, removed, invitee, outsider.
// clang-format off
const std::vector<Row> table{
    {Occasion::message_created,    "message.new",                 "",         "xxxx..."},
    {Occasion::message_updated,    "message.updated",             "",         "xxxx..."},
    {Occasion::message_deleted,    "message.deleted",             "",         "xxxx..."},
    {Occasion::message_hidden,     "message.hidden",              "",         "...x..."},
    {Occasion::read_updated,       "read.updated",                "",         "xxxx..."},
    {Occasion::typing_updated,     "typing.update",               "",         "xxx...."},
    {Occasion::chat_created,       "chat.created (new chat)",     "",         "xxxx..."},
    {Occasion::chat_joined,        "chat.created (joined)",       "member",   "..x...."},
    {Occasion::chat_updated,       "chat.updated",                "",         "xxxx..."},
    {Occasion::chat_hidden,        "chat.deleted (direct hidden)", "",        "...x..."},
    {Occasion::chat_deleted,       "chat.deleted (group gone)",   "",         "xxxx..."},
    {Occasion::member_added,       "member.added",                "member",   "xxxx..."},
    {Occasion::role_changed,       "member.updated (role)",       "admin",    "xxxx..."},
    {Occasion::mute_changed,       "member.updated (mute)",       "actor",    "...x..."},
    {Occasion::member_removed,     "member.removed",              "removed",  "xxxxx.."},
    {Occasion::presence_updated,   "presence.update",             "actor",    "xxx...."},
    {Occasion::invitation_created, "invitation.created",          "invitee",  ".....x."},
    {Occasion::invitation_deleted, "invitation.deleted",          "invitee",  ".....x."},
    {Occasion::scheduled_changed,  "scheduled_message.*",         "member",   "..x...."},
    {Occasion::mentioned,          "mention.new",                 "",         ".x....."},
};
// clang-format on

TEST(AudienceTable, EveryOccasionReachesExactlyItsAudience) {
    for (const auto& row : table)
        EXPECT_EQ(receivers(address(row.occasion, event_of(row.occasion), facts_about(row.subject))), row.expected)
            << row.name << " (columns: owner admin member actor removed invitee outsider)";
}

TEST(AudienceTable, EveryOccasionHasARow) {
    for (int value = 0; value <= static_cast<int>(Occasion::mentioned); ++value)
        EXPECT_TRUE(std::any_of(table.begin(), table.end(),
                                [&](const Row& row) { return static_cast<int>(row.occasion) == value; }))
            << "occasion " << value << " has no row";
}

TEST(AudienceTable, AnEventGoesOutOnceForAllItsRecipients) {
    const auto parcels = address(Occasion::message_created, MessageCreated{}, facts_about(""));
    ASSERT_EQ(parcels.size(), 1u);
    EXPECT_TRUE(std::holds_alternative<MessageCreated>(parcels.front().event));
}

// chat.created and chat.updated show the chat as each recipient sees it.
TEST(AudienceTable, AChatViewCarriesEachRecipientsOwnMe) {
    for (const auto occasion : {Occasion::chat_created, Occasion::chat_updated}) {
        auto facts = facts_about("");
        facts.memberships["actor"] = {Role::member, 7, true};
        const auto parcels = address(occasion, event_of(occasion), facts);
        ASSERT_EQ(parcels.size(), 4u);
        for (const auto& parcel : parcels) {
            ASSERT_EQ(parcel.recipients.size(), 1u);
            const auto& user = parcel.recipients.front();
            const auto& me = occasion == Occasion::chat_created ? std::get<ChatCreated>(parcel.event).view.me
                                                                : std::get<ChatUpdated>(parcel.event).view.me;
            EXPECT_EQ(me.role, facts.memberships.at(user).role) << user;
            EXPECT_EQ(me.last_read_seq, facts.memberships.at(user).last_read_seq) << user;
            EXPECT_EQ(me.is_muted, facts.memberships.at(user).is_muted) << user;
        }
    }
}

// A view is never sent with a `me` that is not the recipient's own.
TEST(AudienceTable, AChatViewSkipsARecipientWhoseStandingIsUnknown) {
    auto facts = facts_about("");
    facts.memberships.erase("admin");
    EXPECT_EQ(receivers(address(Occasion::chat_updated, event_of(Occasion::chat_updated), facts)), "x.xx...");
}

TEST(AudienceTable, ASubjectStillAMemberReceivesTheEventOnce) {
    EXPECT_EQ(receivers(address(Occasion::member_removed, MemberRemoved{}, facts_about("member"))), "xxxx...");
}

// The last member left and the chat is gone: only they hear of it.
TEST(AudienceTable, AChatWithoutMembersReachesOnlyItsSubject) {
    auto facts = facts_about("removed");
    facts.members.clear();
    EXPECT_EQ(receivers(address(Occasion::message_created, MessageCreated{}, facts)), ".......");
    EXPECT_EQ(receivers(address(Occasion::member_removed, MemberRemoved{}, facts)), "....x..");
}

}  // namespace
}  // namespace confab::domain
