#include "confab/domain/audience.hpp"

#include <algorithm>

namespace confab::domain {
namespace {

// The events that show the chat as their recipient sees it.
ChatView* own_view(Event& event) {
    if (auto* created = std::get_if<ChatCreated>(&event)) return &created->view;
    if (auto* updated = std::get_if<ChatUpdated>(&event)) return &updated->view;
    return nullptr;
}

// The poll in an event, which every recipient gets alike but for a vote's (split_for_voter):
// a message's, a chat view's last message's, or poll.updated's.
Poll* poll_in(Event& event) {
    Message* message = nullptr;
    if (auto* created = std::get_if<MessageCreated>(&event)) {
        message = &created->message;
    } else if (auto* updated = std::get_if<MessageUpdated>(&event)) {
        message = &updated->message;
    } else if (auto* view = own_view(event); view && view->last_message) {
        message = &*view->last_message;
    } else if (auto* poll = std::get_if<PollUpdated>(&event)) {
        return &poll->poll;
    }
    return message && message->poll ? &*message->poll : nullptr;
}

// One parcel for all of `users`, moved in: a braced list would copy them, and a large
// group's message goes to 100,000.
std::vector<Parcel> one_parcel(Event event, std::vector<std::string> users) {
    std::vector<Parcel> parcels;
    parcels.push_back({std::move(event), std::move(users)});
    return parcels;
}

// The voter's parcel with their choices, and everyone else's without.
std::vector<Parcel> split_for_voter(Event event, std::vector<std::string> users) {
    auto& updated = std::get<PollUpdated>(event);
    const auto voter = std::find(users.begin(), users.end(), *updated.voter);
    if (voter == users.end()) {
        updated.poll.my_votes.reset();
        return one_parcel(std::move(event), std::move(users));
    }
    users.erase(voter);
    std::vector<Parcel> parcels{{event, {*updated.voter}}};
    updated.poll.my_votes.reset();
    if (!users.empty()) parcels.push_back({std::move(event), std::move(users)});
    return parcels;
}

// The member whose presence an event carries: member.added's and member.updated's.
Member* member_in(Event& event) {
    if (auto* added = std::get_if<MemberAdded>(&event)) return &added->member;
    if (auto* updated = std::get_if<MemberUpdated>(&event)) return &updated->member;
    return nullptr;
}

// Everyone's parcel with the member's presence, and a parcel without it for those in a block
// with the member.
std::vector<Parcel> split_for_blocks(Event event, std::vector<std::string> users,
                                     const std::vector<std::string>& hidden) {
    const auto seen_by_all = std::stable_partition(users.begin(), users.end(), [&hidden](const std::string& user) {
        return std::find(hidden.begin(), hidden.end(), user) == hidden.end();
    });
    std::vector<std::string> blocked(std::make_move_iterator(seen_by_all), std::make_move_iterator(users.end()));
    users.erase(seen_by_all, users.end());
    std::vector<Parcel> parcels;
    if (!users.empty()) parcels.push_back({event, std::move(users)});
    if (!blocked.empty()) {
        member_in(event)->presence.reset();
        parcels.push_back({std::move(event), std::move(blocked)});
    }
    return parcels;
}

}  // namespace

Audience audience_of(Occasion occasion) {
    switch (occasion) {
        case Occasion::message_created:
        case Occasion::message_updated:
        case Occasion::message_deleted:
        case Occasion::read_updated:
        case Occasion::chat_created:
        case Occasion::chat_updated:
        case Occasion::chat_deleted:
        case Occasion::member_added:
        case Occasion::role_changed:
        case Occasion::member_muted:
        case Occasion::poll_updated:
        case Occasion::report_created:
        case Occasion::report_resolved:
        case Occasion::custom_role_changed: return Audience::members;
        case Occasion::typing_updated: return Audience::members_but_actor;
        case Occasion::message_hidden:
        case Occasion::read_kept:
        case Occasion::chat_hidden: return Audience::actor;
        case Occasion::chat_joined:
        case Occasion::mute_changed:
        case Occasion::invitation_created:
        case Occasion::invitation_deleted:
        case Occasion::scheduled_changed:
        case Occasion::block_changed: return Audience::subject;
        case Occasion::member_removed: return Audience::members_and_subject;
        case Occasion::presence_updated: return Audience::contacts_of_subject;
        case Occasion::profile_updated: return Audience::subject_and_contacts;
        case Occasion::mentioned: return Audience::mentioned;
    }
    return Audience::subject;  // unreachable: every occasion is named above
}

Audience audience_in_channel(Occasion occasion) {
    switch (occasion) {
        case Occasion::member_added:
        case Occasion::member_removed:
        case Occasion::role_changed:
        case Occasion::member_muted: return Audience::staff_and_subject;
        case Occasion::typing_updated: return Audience::staff_but_actor;
        case Occasion::read_updated: return Audience::actor;
        default: return audience_of(occasion);
    }
}

bool draws_on_members(Audience audience) {
    switch (audience) {
        case Audience::members:
        case Audience::members_and_subject:
        case Audience::members_but_actor:
        case Audience::mentioned: return true;
        case Audience::actor:
        case Audience::subject:
        case Audience::contacts_of_subject:
        case Audience::subject_and_contacts:
        case Audience::staff_and_subject:
        case Audience::staff_but_actor: return false;
    }
    return true;  // unreachable: every audience is named above
}

namespace {

std::vector<std::string> drawn(Audience audience, Facts& facts) {
    auto& members = facts.members;
    switch (audience) {
        case Audience::members: return std::move(members);
        case Audience::members_and_subject:
            if (std::find(members.begin(), members.end(), facts.subject) == members.end())
                members.push_back(std::move(facts.subject));
            return std::move(members);
        case Audience::members_but_actor: std::erase(members, facts.actor); return std::move(members);
        case Audience::actor: return {std::move(facts.actor)};
        case Audience::subject: return {std::move(facts.subject)};
        case Audience::contacts_of_subject: return std::move(facts.contacts);
        case Audience::subject_and_contacts:
            if (std::find(facts.contacts.begin(), facts.contacts.end(), facts.subject) == facts.contacts.end())
                facts.contacts.push_back(std::move(facts.subject));
            return std::move(facts.contacts);
        case Audience::mentioned:
            std::erase_if(members, [&facts](const std::string& member) {
                return member == facts.actor ||
                       std::find(facts.mentioned.begin(), facts.mentioned.end(), member) == facts.mentioned.end();
            });
            return std::move(members);
        case Audience::staff_and_subject: {
            auto staff = facts.staff.value_or(std::vector<std::string>{});
            if (std::find(staff.begin(), staff.end(), facts.subject) == staff.end())
                staff.push_back(std::move(facts.subject));
            return staff;
        }
        case Audience::staff_but_actor: {
            auto staff = facts.staff.value_or(std::vector<std::string>{});
            std::erase(staff, facts.actor);
            return staff;
        }
    }
    return {};  // unreachable: every audience is named above
}

}  // namespace

std::vector<std::string> recipients(Audience audience, Facts facts) {
    auto users = drawn(audience, facts);
    std::erase_if(users, [&facts](const std::string& user) {
        return std::find(facts.hidden_from.begin(), facts.hidden_from.end(), user) != facts.hidden_from.end();
    });
    return users;
}

namespace {

std::vector<Parcel> address_as_the_chat_sees(Occasion occasion, Event event, Facts facts) {
    const auto memberships = std::move(facts.memberships);
    const auto presence_hidden_from = std::move(facts.presence_hidden_from);
    const auto audience = facts.staff ? audience_in_channel(occasion) : audience_of(occasion);
    auto users = recipients(audience, std::move(facts));
    if (const auto* member = member_in(event); member && member->presence && !presence_hidden_from.empty())
        return split_for_blocks(std::move(event), std::move(users), presence_hidden_from);
    if (auto* poll = poll_in(event)) {
        const auto* updated = std::get_if<PollUpdated>(&event);
        if (updated && updated->voter) return split_for_voter(std::move(event), std::move(users));
        poll->my_votes.reset();
    }
    auto* view = own_view(event);
    if (!view) return one_parcel(std::move(event), std::move(users));
    std::vector<Parcel> parcels;
    for (auto& user : users) {
        const auto me = memberships.find(user);
        if (me == memberships.end()) continue;
        view->me = me->second;
        parcels.push_back({event, {std::move(user)}});
    }
    return parcels;
}

}  // namespace

std::vector<Parcel> address(Occasion occasion, Event event, Facts facts) {
    auto themself = std::move(facts.member_sees_themself);
    const auto* member = member_in(event);
    if (!themself || !member) return address_as_the_chat_sees(occasion, std::move(event), std::move(facts));
    const auto subject = member->user.id;
    Event own = event;
    *member_in(own) = std::move(*themself);
    std::vector<Parcel> parcels;
    for (auto& parcel : address_as_the_chat_sees(occasion, std::move(event), std::move(facts))) {
        const bool had_subject = std::erase(parcel.recipients, subject) > 0;
        if (!parcel.recipients.empty()) parcels.push_back(std::move(parcel));
        if (had_subject) parcels.push_back({own, {subject}});
    }
    return parcels;
}

}  // namespace confab::domain
