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
        case Occasion::role_changed: return Audience::members;
        case Occasion::typing_updated: return Audience::members_but_actor;
        case Occasion::message_hidden:
        case Occasion::chat_hidden: return Audience::actor;
        case Occasion::chat_joined:
        case Occasion::mute_changed:
        case Occasion::invitation_created:
        case Occasion::invitation_deleted:
        case Occasion::scheduled_changed: return Audience::subject;
        case Occasion::member_removed: return Audience::members_and_subject;
        case Occasion::presence_updated: return Audience::contacts_of_subject;
        case Occasion::mentioned: return Audience::mentioned;
    }
    return Audience::subject;  // unreachable: every occasion is named above
}

std::vector<std::string> recipients(Audience audience, Facts facts) {
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
        case Audience::mentioned:
            std::erase_if(members, [&facts](const std::string& member) {
                return member == facts.actor ||
                       std::find(facts.mentioned.begin(), facts.mentioned.end(), member) == facts.mentioned.end();
            });
            return std::move(members);
    }
    return {};  // unreachable: every audience is named above
}

std::vector<Parcel> address(Occasion occasion, Event event, Facts facts) {
    const auto memberships = std::move(facts.memberships);
    auto users = recipients(audience_of(occasion), std::move(facts));
    auto* view = own_view(event);
    if (!view) return {{std::move(event), std::move(users)}};
    std::vector<Parcel> parcels;
    for (auto& user : users) {
        const auto me = memberships.find(user);
        if (me == memberships.end()) continue;
        view->me = me->second;
        parcels.push_back({event, {std::move(user)}});
    }
    return parcels;
}

}  // namespace confab::domain
