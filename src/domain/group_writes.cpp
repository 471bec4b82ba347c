#include "confab/domain/group_writes.hpp"

#include "confab/domain/rules.hpp"
#include "confab/store/bots.hpp"
#include "confab/store/chats.hpp"
#include "confab/store/messages.hpp"
#include "confab/store/user_blocks.hpp"
#include "confab/store/users.hpp"

#include <algorithm>
#include <unordered_set>

namespace confab::domain {
namespace {

// metadata of a system message; event names and UUIDs need no JSON escaping.
std::string system_metadata(const std::string& event, const std::optional<std::string>& user_id = std::nullopt) {
    std::string text = R"({"event":")" + event + '"';
    if (user_id) text += R"(,"user_id":")" + *user_id + '"';
    return text + "}";
}

}  // namespace

void check_room(store::Tx& tx, const std::string& chat_id, const store::ChatKind& kind, std::size_t joining,
                const config::Limits& limits, std::optional<std::string> field) {
    const auto members = static_cast<std::size_t>(store::chats::member_count(tx, chat_id));
    rules::check_room(kind.type, kind.large, members + joining, {limits.group_members, limits.large_group_members},
                      std::move(field));
}

std::string name_of(store::Tx& tx, const std::string& user_id) {
    const auto user = store::users::find(tx, user_id);
    return user ? user->display_name : std::string("someone");
}

Message write_system(store::Tx& tx, const std::string& chat_id, const std::string& actor, std::string content,
                     const std::string& event, const std::optional<std::string>& user_id) {
    return write_system_note(tx, chat_id, actor, std::move(content), system_metadata(event, user_id));
}

Message write_system_note(store::Tx& tx, const std::string& chat_id, const std::string& actor, std::string content,
                          std::string metadata) {
    store::NewMessage message{chat_id,
                              actor,
                              MessageType::system,
                              std::move(content),
                              std::nullopt,
                              std::move(metadata),
                              std::nullopt,
                              std::nullopt,
                              std::nullopt,
                              {}};
    auto stored = store::messages::insert(tx, message);
    if (!stored) throw std::runtime_error("system message was not stored");
    return std::move(*stored);
}

ChatView view_of(store::Tx& tx, const std::string& chat_id, const std::string& user_id) {
    auto view = store::chats::view(tx, chat_id, user_id);
    if (!view) throw not_found("chat");
    return std::move(*view);
}

Message message_of(store::Tx& tx, const std::string& message_id, const std::string& viewer) {
    auto message = store::messages::find(tx, message_id, viewer);
    if (!message) throw not_found("message");
    return std::move(*message);
}

Message as_members_see(store::Tx& tx, const Message& read_by_actor, const Standing& actor) {
    return rules::names_reactors(actor.type) ? read_by_actor : message_of(tx, read_by_actor.id, "");
}

Member stored_member(store::Tx& tx, const std::string& chat_id, const std::string& user_id) {
    auto member = store::members::find(tx, chat_id, user_id);
    if (!member) throw not_found("member");
    return std::move(*member);
}

Member member_of(store::Tx& tx, const std::string& chat_id, const std::string& user_id) {
    return seen_by(stored_member(tx, chat_id, user_id), false, makes_contacts(tx, chat_id));
}

bool makes_contacts(store::Tx& tx, const std::string& chat_id) {
    const auto kind = store::chats::kind_of(tx, chat_id).value_or(store::ChatKind{});
    return rules::makes_contacts(kind.type, kind.large);
}

std::vector<Member> as_the_actor_sees(store::Tx& tx, const std::string& actor, bool chat_makes_contacts,
                                      std::vector<Member> stored) {
    const auto blocks = store::user_blocks::related(tx, actor);
    std::unordered_set<std::string> contacts;
    if (!chat_makes_contacts) {
        std::vector<std::string> ids;
        ids.reserve(stored.size());
        for (const auto& member : stored) ids.push_back(member.user.id);
        contacts = store::members::contacts_among(tx, actor, ids);
    }
    for (auto& member : stored) {
        const bool self = member.user.id == actor;
        const bool contact = chat_makes_contacts || contacts.contains(member.user.id);
        const bool blocked = std::find(blocks.begin(), blocks.end(), member.user.id) != blocks.end();
        member = seen_by(std::move(member), self, contact, blocked);
    }
    return stored;
}

Member seen_by(Member member, bool self, bool contact, bool blocked) {
    if (!rules::sees_presence(member.privacy, self, contact, blocked)) member.presence.reset();
    if (!rules::sees_reads(member.privacy, self)) member.last_read_seq.reset();
    if (!rules::sees_mute(self)) member.is_muted = false;
    return member;
}

Facts about_member(store::Tx& tx, const Member& member, std::string actor) {
    Facts facts{.actor = std::move(actor), .subject = member.user.id};
    if (member.presence) facts.presence_hidden_from = store::user_blocks::related(tx, member.user.id);
    return facts;
}

void announce_member(store::Tx& tx, Effects& effects, Occasion occasion, const Member& stored,
                     const std::string& actor) {
    auto as_the_chat_sees = seen_by(stored, false, makes_contacts(tx, stored.chat_id));
    auto facts = about_member(tx, as_the_chat_sees, actor);
    facts.member_sees_themself = seen_by(stored, true, true);
    effects.in_chat(occasion, MemberUpdated{std::move(as_the_chat_sees)}, stored.chat_id, std::move(facts));
}

Consent consent_of(store::Tx& tx, const std::string& actor, const std::vector<std::string>& users) {
    const auto policies = store::users::add_policies(tx, users);
    if (policies.size() != users.size()) throw not_found("user");
    for (const auto& [bot, owner] : store::bots::owners(tx, users)) rules::may_add_bot(actor, owner);
    std::vector<std::string> guarded;
    for (const auto& [user, policy] : policies)
        if (policy == Circle::contacts) guarded.push_back(user);
    const auto contacts = store::members::contacts_among(tx, actor, guarded);
    Consent consent;
    for (const auto& user : users)
        (rules::admits(policies.at(user), contacts.contains(user)) ? consent.joining : consent.asked).push_back(user);
    return consent;
}

void invite(store::Tx& tx, Effects& effects, const std::string& chat_id, const std::string& inviter,
            const std::vector<std::string>& users) {
    for (const auto& user : users) {
        const auto id = store::invitations::insert(tx, chat_id, user, inviter);
        if (!id) continue;
        if (auto invitation = store::invitations::find(tx, *id, user))
            effects.deliver(Occasion::invitation_created, InvitationCreated{std::move(*invitation)},
                            {.actor = inviter, .subject = user});
    }
}

std::vector<std::string> delete_group(store::Tx& tx, Effects& effects, const std::string& chat_id) {
    for (auto& [invitation_id, invitee] : store::invitations::remove_all(tx, chat_id))
        effects.deliver(Occasion::invitation_deleted, InvitationDeleted{std::move(invitation_id), chat_id},
                        {.subject = std::move(invitee)});
    effects.cache_change = [chat_id](AccessCache& cache) { cache.erase(chat_id); };
    return store::chats::remove(tx, chat_id);
}

void announce_shown_again(store::Tx& tx, Effects& effects, const std::string& chat_id,
                          const std::vector<std::string>& users) {
    if (users.empty()) return;
    for (const auto& [user, me] : store::members::standings(tx, chat_id)) {
        if (std::find(users.begin(), users.end(), user) == users.end()) continue;
        effects.deliver(Occasion::chat_joined, ChatCreated{view_of(tx, chat_id, user)},
                        {.subject = user, .memberships = {{user, me}}});
    }
}

std::vector<std::string> shown_again_by_next_message(store::Tx& tx, ChatType type, const std::string& chat_id) {
    if (type != ChatType::direct) return {};
    return store::chats::hidden_by(tx, chat_id);
}

void deliver_message(Effects& effects, Message message) {
    const auto chat_id = message.chat_id;
    effects.in_chat(Occasion::message_created, MessageCreated{std::move(message)}, chat_id);
}

void announce_joins(store::Tx& tx, Effects& effects, const std::string& chat_id, const ChatView& view,
                    const std::vector<Member>& joined, std::vector<Message> notes) {
    for (const auto& member : joined)
        effects.deliver(Occasion::chat_joined, ChatCreated{view},
                        {.subject = member.user.id, .memberships = {{member.user.id, {Role::member, 0, false}}}});
    for (const auto& member : joined)
        effects.in_chat(Occasion::member_added, MemberAdded{member}, chat_id, about_member(tx, member));
    for (auto& note : notes) deliver_message(effects, std::move(note));
    effects.cache_change = [chat_id, joined](AccessCache& cache) {
        cache.update(chat_id, [&](ChatAccess& a) {
            for (const auto& member : joined) a.members.emplace(member.user.id, Role::member);
        });
    };
}

}  // namespace confab::domain
