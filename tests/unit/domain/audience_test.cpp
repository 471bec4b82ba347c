// Who receives each event, as a table: every occasion against one cast, the expected
// recipients written out person by person. A new occasion, audience or person (a
// moderator, a channel subscriber) adds a row or a column here.

#include "confab/domain/audience.hpp"

#include "verdicts.hpp"

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

// An event of the kind the occasion sends, with a `me` that no recipient has. The switch
// names every occasion (-Wswitch): a new one cannot be added without coming here, next to
// the table it needs a row in.
Event event_of(Occasion occasion) {
    switch (occasion) {
        case Occasion::message_created: return MessageCreated{};
        case Occasion::message_updated: return MessageUpdated{};
        case Occasion::message_deleted: return MessageDeleted{};
        case Occasion::message_hidden: return MessageHidden{};
        case Occasion::read_updated:
        case Occasion::read_kept: return ReadUpdated{};
        case Occasion::typing_updated: return TypingUpdated{};
        case Occasion::chat_created:
        case Occasion::chat_joined: return ChatCreated{ChatView{.me = {Role::owner, 99, true}}};
        case Occasion::chat_updated: return ChatUpdated{ChatView{.me = {Role::owner, 99, true}}};
        case Occasion::chat_hidden:
        case Occasion::chat_deleted: return ChatDeleted{};
        case Occasion::member_added: return MemberAdded{};
        case Occasion::role_changed:
        case Occasion::member_muted:
        case Occasion::mute_changed: return MemberUpdated{};
        case Occasion::member_removed: return MemberRemoved{};
        case Occasion::presence_updated: return PresenceUpdated{};
        case Occasion::profile_updated: return UserUpdated{};
        case Occasion::invitation_created: return InvitationCreated{};
        case Occasion::invitation_deleted: return InvitationDeleted{};
        case Occasion::scheduled_changed: return ScheduledUpdated{};
        case Occasion::poll_updated: return PollUpdated{};
        case Occasion::mentioned: return MentionCreated{};
        case Occasion::block_changed: return BlockChanged{};
        case Occasion::report_created:
        case Occasion::report_resolved: return ReportChanged{};
        case Occasion::custom_role_changed: return CustomRoleChanged{};
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
    {Occasion::read_kept,          "read.updated (no receipts)",  "",         "...x..."},
    {Occasion::typing_updated,     "typing.update",               "",         "xxx...."},
    {Occasion::chat_created,       "chat.created (new chat)",     "",         "xxxx..."},
    {Occasion::chat_joined,        "chat.created (joined)",       "member",   "..x...."},
    {Occasion::chat_updated,       "chat.updated",                "",         "xxxx..."},
    {Occasion::chat_hidden,        "chat.deleted (direct hidden)", "",        "...x..."},
    {Occasion::chat_deleted,       "chat.deleted (group gone)",   "",         "xxxx..."},
    {Occasion::member_added,       "member.added",                "member",   "xxxx..."},
    {Occasion::role_changed,       "member.updated (role)",       "admin",    "xxxx..."},
    {Occasion::mute_changed,       "member.updated (mute)",       "actor",    "...x..."},
    {Occasion::member_muted,       "member.updated (moderated)",  "member",   "xxxx..."},
    {Occasion::member_removed,     "member.removed",              "removed",  "xxxxx.."},
    {Occasion::presence_updated,   "presence.update",             "actor",    "xxx...."},
    {Occasion::profile_updated,    "user.updated",                "actor",    "xxxx..."},
    {Occasion::invitation_created, "invitation.created",          "invitee",  ".....x."},
    {Occasion::invitation_deleted, "invitation.deleted",          "invitee",  ".....x."},
    {Occasion::scheduled_changed,  "scheduled_message.*",         "member",   "..x...."},
    {Occasion::poll_updated,       "poll.updated",                "",         "xxxx..."},
    {Occasion::mentioned,          "mention.new",                 "",         ".x....."},
    {Occasion::block_changed,      "user.blocked / unblocked",    "actor",    "...x..."},
    // The chat's report handlers are the members the report names (ReportService).
    {Occasion::report_created,     "report.created",              "",         "xxxx..."},
    {Occasion::report_resolved,    "report.resolved",             "",         "xxxx..."},
    {Occasion::custom_role_changed, "role.created / updated / deleted", "",   "xxxx..."},
};
// clang-format on

TEST(AudienceTable, EveryOccasionReachesExactlyItsAudience) {
    for (const auto& row : table)
        EXPECT_EQ(verdicts::receivers(address(row.occasion, event_of(row.occasion), facts_about(row.subject)), cast),
                  row.expected)
            << row.name << " (columns: owner admin member actor removed invitee outsider)";
}

TEST(AudienceTable, EveryOccasionHasARow) {
    for (int value = 0; value <= static_cast<int>(Occasion::custom_role_changed); ++value)
        EXPECT_TRUE(std::any_of(table.begin(), table.end(),
                                [&](const Row& row) { return static_cast<int>(row.occasion) == value; }))
            << "occasion " << value << " has no row";
}

// An audience said not to draw on the members reaches the same users when the members are
// not listed (a large group's are left unlisted for it), in an ordinary chat and in one whose
// members are kept apart.
TEST(AudienceTable, AnAudienceNotDrawnFromTheMembersNeedsNoMemberList) {
    for (const bool apart : {false, true}) {
        for (const auto& row : table) {
            auto listed = facts_about(row.subject);
            if (apart) listed.staff = std::vector<std::string>{"owner", "admin"};
            const auto audience = apart ? audience_in_channel(row.occasion) : audience_of(row.occasion);
            if (draws_on_members(audience)) continue;
            auto unlisted = listed;
            unlisted.members.clear();
            EXPECT_EQ(recipients(audience, std::move(unlisted)), recipients(audience, std::move(listed)))
                << row.name << (apart ? " (members apart)" : "");
        }
    }
    EXPECT_TRUE(draws_on_members(Audience::members_but_actor));
    EXPECT_FALSE(draws_on_members(audience_in_channel(Occasion::member_added)));
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
    EXPECT_EQ(verdicts::receivers(address(Occasion::chat_updated, event_of(Occasion::chat_updated), facts), cast),
              "x.xx...");
}

TEST(AudienceTable, ASubjectStillAMemberReceivesTheEventOnce) {
    EXPECT_EQ(verdicts::receivers(address(Occasion::member_removed, MemberRemoved{}, facts_about("member")), cast),
              "xxxx...");
}

// A block keeps the pair out of each other's ephemeral events, whatever the audience.
TEST(AudienceTable, NoEventReachesAUserItIsHiddenFrom) {
    auto facts = facts_about("actor");
    facts.hidden_from = {"admin", "outsider"};
    EXPECT_EQ(verdicts::receivers(address(Occasion::typing_updated, TypingUpdated{}, facts), cast), "x.x....");
    EXPECT_EQ(verdicts::receivers(address(Occasion::presence_updated, PresenceUpdated{}, facts), cast), "x.x....");
}

// An event about a member goes to every member, but those in a block with the member get it
// without the member's presence.
TEST(AudienceTable, AMemberEventCarriesNoPresenceToThoseInABlockWithTheMember) {
    auto facts = facts_about("member");
    facts.presence_hidden_from = {"admin", "outsider"};
    Member member;
    member.presence = Presence{.online = true};
    for (auto event : {Event{MemberAdded{member}}, Event{MemberUpdated{member}}}) {
        const auto parcels = address(Occasion::member_added, event, facts);
        ASSERT_EQ(parcels.size(), 2u);
        EXPECT_EQ(parcels[0].recipients, (std::vector<std::string>{"owner", "member", "actor"}));
        EXPECT_EQ(parcels[1].recipients, std::vector<std::string>{"admin"});
        std::visit(
            [](const auto& sent) {
                if constexpr (requires { sent.member; }) EXPECT_TRUE(sent.member.presence.has_value());
            },
            parcels[0].event);
        std::visit(
            [](const auto& sent) {
                if constexpr (requires { sent.member; }) EXPECT_FALSE(sent.member.presence.has_value());
            },
            parcels[1].event);
    }
    member.presence.reset();
    EXPECT_EQ(address(Occasion::member_added, MemberAdded{member}, facts).size(), 1u);
}

// A member event whose member sees themself otherwise (their own mute and read position, which
// the others may not see) gives them their own view, and everyone else the chat's, blocks
// and all.
TEST(AudienceTable, TheMemberAnEventIsAboutGetsTheirOwnViewOfThemself) {
    auto facts = facts_about("member");
    facts.presence_hidden_from = {"admin"};
    Member as_the_chat_sees;
    as_the_chat_sees.user.id = "member";
    as_the_chat_sees.presence = Presence{.online = true};
    auto themself = as_the_chat_sees;
    themself.is_muted = true;
    themself.last_read_seq = 7;
    facts.member_sees_themself = themself;
    const auto parcels = address(Occasion::role_changed, MemberUpdated{as_the_chat_sees}, facts);
    ASSERT_EQ(parcels.size(), 3u);
    const auto member_of = [](const Parcel& parcel) { return std::get<MemberUpdated>(parcel.event).member; };
    EXPECT_EQ(parcels[0].recipients, (std::vector<std::string>{"owner", "actor"}));
    EXPECT_FALSE(member_of(parcels[0]).is_muted);
    EXPECT_TRUE(member_of(parcels[0]).presence.has_value());
    EXPECT_EQ(parcels[1].recipients, std::vector<std::string>{"member"});
    EXPECT_TRUE(member_of(parcels[1]).is_muted);
    EXPECT_EQ(member_of(parcels[1]).last_read_seq, 7);
    EXPECT_EQ(parcels[2].recipients, std::vector<std::string>{"admin"});
    EXPECT_FALSE(member_of(parcels[2]).is_muted);
    EXPECT_FALSE(member_of(parcels[2]).presence.has_value());
}

// The last member left and the chat is gone: only they hear of it.
TEST(AudienceTable, AChatWithoutMembersReachesOnlyItsSubject) {
    auto facts = facts_about("removed");
    facts.members.clear();
    EXPECT_EQ(verdicts::receivers(address(Occasion::message_created, MessageCreated{}, facts), cast), ".......");
    EXPECT_EQ(verdicts::receivers(address(Occasion::member_removed, MemberRemoved{}, facts), cast), "....x..");
}

Poll poll_voted(std::vector<int> choice) {
    Poll poll;
    poll.options = {{"yes", 1, {}}, {"no", 0, {}}};
    poll.my_votes = std::move(choice);
    return poll;
}

// A vote's poll.updated: the voter's connections get their own choice, the other members
// the same counts without anyone's choice.
TEST(AudienceTable, AVotersChoiceGoesToTheVoterAlone) {
    const auto parcels =
        address(Occasion::poll_updated, PollUpdated{"chat", "poll", 7, poll_voted({0}), "actor"}, facts_about(""));
    ASSERT_EQ(parcels.size(), 2u);
    EXPECT_EQ(parcels[0].recipients, std::vector<std::string>{"actor"});
    EXPECT_EQ(std::get<PollUpdated>(parcels[0].event).poll.my_votes, std::vector<int>{0});
    EXPECT_EQ(parcels[1].recipients, (std::vector<std::string>{"owner", "admin", "member"}));
    EXPECT_FALSE(std::get<PollUpdated>(parcels[1].event).poll.my_votes.has_value());
    EXPECT_EQ(std::get<PollUpdated>(parcels[1].event).poll.options[0].voter_count, 1);
}

// A voter who is no longer a member gets nothing; the members get the counts.
TEST(AudienceTable, AVoterWhoLeftIsNotSentTheirChoice) {
    const auto parcels =
        address(Occasion::poll_updated, PollUpdated{"chat", "poll", 7, poll_voted({0}), "removed"}, facts_about(""));
    ASSERT_EQ(parcels.size(), 1u);
    EXPECT_EQ(verdicts::receivers(parcels, cast), "xxxx...");
    EXPECT_FALSE(std::get<PollUpdated>(parcels[0].event).poll.my_votes.has_value());
}

// Events every member gets alike never carry one reader's my_votes: a close, a new poll, a
// pin of a poll, a chat view's last message.
TEST(AudienceTable, ASharedPollCarriesNobodysChoice) {
    const auto closed =
        address(Occasion::poll_updated, PollUpdated{"chat", "poll", 7, poll_voted({1}), std::nullopt}, facts_about(""));
    ASSERT_EQ(closed.size(), 1u);
    EXPECT_FALSE(std::get<PollUpdated>(closed[0].event).poll.my_votes.has_value());
    const auto created =
        address(Occasion::message_created, MessageCreated{Message{.poll = poll_voted({})}}, facts_about(""));
    ASSERT_EQ(created.size(), 1u);
    EXPECT_FALSE(std::get<MessageCreated>(created[0].event).message.poll->my_votes.has_value());
    const auto updated =
        address(Occasion::message_updated, MessageUpdated{Message{.poll = poll_voted({1})}}, facts_about(""));
    EXPECT_FALSE(std::get<MessageUpdated>(updated[0].event).message.poll->my_votes.has_value());
    auto facts = facts_about("");
    const auto views =
        address(Occasion::chat_updated, ChatUpdated{ChatView{.last_message = Message{.poll = poll_voted({1})}}}, facts);
    ASSERT_EQ(views.size(), 4u);
    for (const auto& parcel : views)
        EXPECT_FALSE(std::get<ChatUpdated>(parcel.event).view.last_message->poll->my_votes.has_value());
}

}  // namespace
}  // namespace confab::domain
