#include "confab/domain/chat_service.hpp"
#include "confab/domain/media_service.hpp"

#include "confab/domain/rules.hpp"
#include "confab/domain/validation.hpp"
#include "confab/realtime/hub.hpp"
#include "confab/store/chats.hpp"
#include "confab/store/messages.hpp"
#include "confab/store/users.hpp"

#include <algorithm>
#include <set>

namespace confab::domain {
namespace {

constexpr std::size_t max_avatar_url = 2048;
constexpr int max_invitations_listed = 200;

void validate_title(const std::string& title, const config::Limits& limits) {
    const auto length = code_points(title);
    if (length < 1 || length > limits.title_chars)
        throw bad_request("title must be 1-" + std::to_string(limits.title_chars) + " characters", "title");
    if (!is_plain_text(title))
        throw bad_request("title must not contain control or bidirectional formatting characters", "title");
}

void validate_avatar(const std::optional<std::string>& url) {
    if (url && (url->empty() || url->size() > max_avatar_url))
        throw bad_request("avatar_url must be 1-2048 characters", "avatar_url");
}

// Members other than the actor, deduplicated, in the order given.
std::vector<std::string> others(const std::vector<std::string>& ids, const std::string& actor) {
    std::vector<std::string> out;
    for (const auto& id : ids) {
        require_uuid(id, "member_ids");
        if (id != actor && std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
    }
    return out;
}

void require_users_exist(store::Tx& tx, const std::vector<std::string>& ids) {
    if (ids.empty()) return;
    if (store::users::existing(tx, ids).size() != ids.size()) throw not_found("user");
}

std::string name_of(store::Tx& tx, const std::string& user_id) {
    const auto user = store::users::find(tx, user_id);
    return user ? user->display_name : std::string("someone");
}

// metadata of a system message; event names and UUIDs need no JSON escaping.
std::string system_metadata(const std::string& event, const std::optional<std::string>& user_id = std::nullopt) {
    std::string text = R"({"event":")" + event + '"';
    if (user_id) text += R"(,"user_id":")" + *user_id + '"';
    return text + "}";
}

Message write_system(store::Tx& tx, const std::string& chat_id, const std::string& actor, std::string content,
                     const std::string& event, const std::optional<std::string>& user_id = {}) {
    store::NewMessage message{chat_id,
                              actor,
                              MessageType::system,
                              std::move(content),
                              std::nullopt,
                              system_metadata(event, user_id),
                              std::nullopt,
                              std::nullopt};
    auto stored = store::messages::insert(tx, message);
    if (!stored) throw std::runtime_error("system message was not stored");
    return std::move(*stored);
}

// Rows a transaction has just locked, written or found a standing for: missing means the
// database broke an invariant, refused as not_found rather than dereferenced.
ChatView view_of(store::Tx& tx, const std::string& chat_id, const std::string& user_id) {
    auto view = store::chats::view(tx, chat_id, user_id);
    if (!view) throw not_found("chat");
    return std::move(*view);
}

Member member_of(store::Tx& tx, const std::string& chat_id, const std::string& user_id) {
    auto member = store::members::find(tx, chat_id, user_id);
    if (!member) throw not_found("member");
    return std::move(*member);
}

// The users an actor puts into a group, split by consent: those who join now, and those who
// are asked first (rules::adds_without_asking). not_found when any of them is not a user.
struct Consent {
    std::vector<std::string> joining;
    std::vector<std::string> asked;
};

Consent consent_of(store::Tx& tx, const std::string& actor, const std::vector<std::string>& users) {
    const auto policies = store::users::add_policies(tx, users);
    if (policies.size() != users.size()) throw not_found("user");
    std::vector<std::string> guarded;
    for (const auto& [user, policy] : policies)
        if (policy == AddPolicy::contacts) guarded.push_back(user);
    const auto contacts = store::members::contacts_among(tx, actor, guarded);
    Consent consent;
    for (const auto& user : users)
        (rules::adds_without_asking(policies.at(user), contacts.contains(user)) ? consent.joining : consent.asked)
            .push_back(user);
    return consent;
}

// Invites each user and tells them; a pending invitation stays as it was, untold again.
void invite(store::Tx& tx, Effects& effects, const std::string& chat_id, const std::string& inviter,
            const std::vector<std::string>& users) {
    for (const auto& user : users) {
        const auto id = store::invitations::insert(tx, chat_id, user, inviter);
        if (!id) continue;
        if (auto invitation = store::invitations::find(tx, *id, user))
            effects.to_users(InvitationCreated{std::move(*invitation)}, {user});
    }
}

// The pair's existing direct chat, shown again to the actor who had hidden it.
Outcome<Created> reopened(store::Tx& tx, const std::string& chat_id, const std::string& actor) {
    store::chats::set_hidden(tx, chat_id, actor, false);
    return {{view_of(tx, chat_id, actor), false}, {}};
}

ChatView viewed_by(ChatView view, const Membership& me) {
    view.me = me;
    return view;
}

// chat.created or chat.updated for each member, each with their own `me`.
template <class ChatEvent>
void deliver_views(Effects& effects, const ChatView& view,
                   const std::vector<std::pair<std::string, Membership>>& standings) {
    for (const auto& [user, me] : standings) effects.to_users(ChatEvent{viewed_by(view, me)}, {user});
}

void deliver_message(Effects& effects, Message message) {
    const auto chat_id = message.chat_id;
    effects.to_members(MessageCreated{std::move(message)}, chat_id);
}

ChatAccess access_of(ChatType type, const ChatSettings& settings,
                     const std::vector<std::pair<std::string, Membership>>& standings) {
    ChatAccess access{type, settings, {}};
    for (const auto& [user, me] : standings) access.members.emplace(user, me.role);
    return access;
}

std::string settings_summary(const ChatSettings& settings) {
    auto flag = [](bool on) { return on ? "on" : "off"; };
    return std::string("only admins can post: ") + flag(settings.only_admins_can_post) +
           ", only admins can edit info: " + flag(settings.only_admins_can_edit_info) +
           ", only admins can add members: " + flag(settings.only_admins_can_add_members);
}

// What members joining a group tells (`view` as of after they joined): chat.created to each
// of them with their own fresh `me`, then member.added and their system messages to every
// member; and the cache learns them.
void announce_joins(Effects& effects, const std::string& chat_id, const ChatView& view,
                    const std::vector<Member>& joined, std::vector<Message> notes) {
    for (const auto& member : joined)
        effects.to_users(ChatCreated{viewed_by(view, {Role::member, 0, false})}, {member.user.id});
    for (const auto& member : joined) effects.to_members(MemberAdded{member}, chat_id);
    for (auto& note : notes) deliver_message(effects, std::move(note));
    effects.cache_change = [chat_id, joined](AccessCache& cache) {
        cache.update(chat_id, [&](ChatAccess& a) {
            for (const auto& member : joined) a.members.emplace(member.user.id, Role::member);
        });
    };
}

}  // namespace

ChatSettings SettingsPatch::applied_to(ChatSettings settings) const {
    settings.only_admins_can_post = only_admins_can_post.value_or(settings.only_admins_can_post);
    settings.only_admins_can_edit_info = only_admins_can_edit_info.value_or(settings.only_admins_can_edit_info);
    settings.only_admins_can_add_members = only_admins_can_add_members.value_or(settings.only_admins_can_add_members);
    return settings;
}

bool SettingsPatch::empty() const {
    return !only_admins_can_post && !only_admins_can_edit_info && !only_admins_can_add_members;
}

boost::asio::awaitable<Standing> ChatService::standing(const std::string& actor, const std::string& chat_id) {
    require_uuid(chat_id, "chat_id");
    co_return co_await writes_.standing(chat_id, actor);
}

void ChatService::fill_presence(Member& member) const {
    if (!member.presence) member.presence = Presence{};
    member.presence->online = hub_.connections_of(member.user.id) > 0;
}

boost::asio::awaitable<Created> ChatService::create_direct(std::string actor, std::string other) {
    require_uuid(other, "member_ids");
    if (other == actor) throw bad_request("a direct chat needs another user", "member_ids");
    const auto key = std::min(actor, other) + ":" + std::max(actor, other);
    auto created = co_await writes_.commit(key, [actor, other, key](store::Tx& tx) {
        require_users_exist(tx, {other});
        if (auto existing = store::chats::find_direct(tx, key)) return reopened(tx, *existing, actor);
        store::NewChat chat;
        chat.type = ChatType::direct;
        chat.created_by = actor;
        chat.direct_key = key;
        const auto chat_id = store::chats::insert(tx, chat);
        // The other side created it at the same moment: theirs is the one.
        if (!chat_id) return reopened(tx, store::chats::find_direct(tx, key).value(), actor);
        store::members::insert(tx, *chat_id, actor, Role::member);
        store::members::insert(tx, *chat_id, other, Role::member);
        Outcome<Created> outcome;
        auto view = view_of(tx, *chat_id, actor);
        const auto standings = store::members::standings(tx, *chat_id);
        outcome.effects.cache_change = [id = *chat_id, access = access_of(ChatType::direct, {}, standings)](
                                           AccessCache& cache) { cache.put(id, access); };
        deliver_views<ChatCreated>(outcome.effects, view, standings);
        outcome.value = {std::move(view), true};
        return outcome;
    });
    if (created.created) writes_.track({"chat.created", actor, created.view.chat.id, R"({"type":"direct"})"});
    co_return created;
}

boost::asio::awaitable<ChatView> ChatService::create_group(std::string actor, NewGroup group) {
    validate_title(group.title, limits_);
    validate_avatar(group.avatar_url);
    auto named = others(group.member_ids, actor);
    if (named.size() + 1 > limits_.group_members) throw Error(ErrorCode::conflict, "too many members", "member_ids");
    store::NewChat chat;
    chat.type = ChatType::group;
    chat.title = group.title;
    chat.avatar_url = group.avatar_url;
    chat.settings = group.settings.applied_to({});
    chat.metadata = group.metadata ? group.metadata->text : "{}";
    chat.created_by = actor;
    auto view = co_await writes_.commit(actor, [actor, named, chat](store::Tx& tx) {
        const auto consent = consent_of(tx, actor, named);
        const auto chat_id = store::chats::insert(tx, chat).value();  // a group has no direct_key to collide
        store::members::insert(tx, chat_id, actor, Role::owner);
        for (const auto& user : consent.joining) store::members::insert(tx, chat_id, user, Role::member);
        Outcome<ChatView> outcome{view_of(tx, chat_id, actor), {}};
        invite(tx, outcome.effects, chat_id, actor, consent.asked);
        const auto standings = store::members::standings(tx, chat_id);
        outcome.effects.cache_change = [chat_id, access = access_of(ChatType::group, chat.settings, standings)](
                                           AccessCache& cache) { cache.put(chat_id, access); };
        deliver_views<ChatCreated>(outcome.effects, outcome.value, standings);
        return outcome;
    });
    writes_.track({"chat.created", actor, view.chat.id,
                   R"({"type":"group","members":)" + std::to_string(view.chat.member_count) + "}"});
    co_return view;
}

boost::asio::awaitable<ChatPage> ChatService::list(std::string actor, std::optional<std::int64_t> before_activity,
                                                   int limit) {
    auto chats = co_await writes_.pool().run([actor, before_activity, limit](store::Tx& tx) {
        return store::chats::list(tx, actor, before_activity, limit + 1);
    });
    ChatPage page;
    if (static_cast<int>(chats.size()) > limit) {
        chats.pop_back();
        page.next_before_activity = chats.back().chat.activity;
    }
    page.chats = std::move(chats);
    co_return page;
}

boost::asio::awaitable<ChatView> ChatService::get(std::string actor, std::string chat_id) {
    co_await standing(actor, chat_id);
    auto view =
        co_await writes_.pool().run([actor, chat_id](store::Tx& tx) { return store::chats::view(tx, chat_id, actor); });
    if (!view) throw not_found("chat");
    co_return std::move(*view);
}

boost::asio::awaitable<ChatView> ChatService::update(std::string actor, std::string chat_id, ChatUpdate update) {
    if (update.title) validate_title(*update.title, limits_);
    if (update.avatar_url) validate_avatar(*update.avatar_url);
    const bool changes_settings = !update.settings.empty();
    rules::may_update_chat(co_await standing(actor, chat_id), changes_settings);
    co_return co_await writes_.commit(chat_id, [actor, chat_id, update, changes_settings](store::Tx& tx) {
        const auto now = lock_standing(tx, chat_id, actor);
        rules::may_update_chat(now, changes_settings);
        const auto before = view_of(tx, chat_id, actor);
        // Settings the request leaves out keep their value as of the lock, not as cached.
        const auto settings = update.settings.applied_to(now.settings);
        store::chats::update(tx, chat_id,
                             {update.title, update.avatar_url, settings,
                              update.metadata ? std::optional<std::string>(update.metadata->text) : std::nullopt});
        Outcome<ChatView> outcome;
        const auto actor_name = name_of(tx, actor);
        if (update.title && update.title != before.chat.title)
            deliver_message(outcome.effects,
                            write_system(tx, chat_id, actor,
                                         actor_name + " changed the title to \"" + *update.title + "\"",
                                         "chat.title_changed"));
        if (update.avatar_url && *update.avatar_url != before.chat.avatar_url)
            deliver_message(outcome.effects, write_system(tx, chat_id, actor, actor_name + " changed the group photo",
                                                          "chat.avatar_changed"));
        if (settings != now.settings)
            deliver_message(outcome.effects, write_system(tx, chat_id, actor,
                                                          actor_name + " changed the group settings (" +
                                                              settings_summary(settings) + ")",
                                                          "chat.settings_changed"));
        outcome.value = view_of(tx, chat_id, actor);
        deliver_views<ChatUpdated>(outcome.effects, outcome.value, store::members::standings(tx, chat_id));
        outcome.effects.cache_change = [chat_id, settings](AccessCache& cache) {
            cache.update(chat_id, [&](ChatAccess& a) { a.settings = settings; });
        };
        return outcome;
    });
}

boost::asio::awaitable<void> ChatService::remove(std::string actor, std::string chat_id) {
    rules::may_delete_chat(co_await standing(actor, chat_id));
    // A deleted group's media bytes are released once it is gone.
    auto released = co_await writes_.commit(chat_id, [actor, chat_id](store::Tx& tx) {
        const auto now = lock_standing(tx, chat_id, actor);
        rules::may_delete_chat(now);
        Outcome<std::vector<std::string>> outcome;
        if (now.type == ChatType::direct) {  // leaving a direct chat hides it until its next message
            store::chats::set_hidden(tx, chat_id, actor, true);
            outcome.effects.to_users(ChatDeleted{chat_id}, {actor});
            return outcome;
        }
        outcome.effects.to_users(ChatDeleted{chat_id}, store::members::user_ids(tx, chat_id));
        outcome.value = store::chats::remove(tx, chat_id);
        outcome.effects.cache_change = [chat_id](AccessCache& cache) { cache.erase(chat_id); };
        return outcome;
    });
    co_await release_bytes(writes_.pool(), storage_, std::move(released));
}

boost::asio::awaitable<MemberPage> ChatService::members(std::string actor, std::string chat_id,
                                                        std::optional<std::int64_t> after_position, int limit) {
    co_await standing(actor, chat_id);
    auto rows = co_await writes_.pool().run([chat_id, after_position, limit](store::Tx& tx) {
        return store::members::list(tx, chat_id, after_position, limit + 1);
    });
    MemberPage page;
    if (static_cast<int>(rows.size()) > limit) {
        rows.pop_back();
        page.next_after_position = rows.back().second;
    }
    for (auto& [member, position] : rows) {
        fill_presence(member);
        page.members.push_back(std::move(member));
    }
    co_return page;
}

boost::asio::awaitable<Additions> ChatService::add_members(std::string actor, std::string chat_id,
                                                           std::vector<std::string> user_ids) {
    if (user_ids.empty()) throw bad_request("user_ids must not be empty", "user_ids");
    for (const auto& id : user_ids) require_uuid(id, "user_ids");
    require_uuid(chat_id, "chat_id");
    const auto access = co_await writes_.access(chat_id);
    rules::may_add_members(standing_in(access.get(), actor));
    std::vector<std::string> named;
    for (const auto& id : user_ids)
        if (!access->members.contains(id) && std::find(named.begin(), named.end(), id) == named.end())
            named.push_back(id);
    // Whether the group has room is known only once consent has sorted joiners from invitees.
    auto added = co_await writes_.commit(chat_id, [actor, chat_id, named, max = limits_.group_members](store::Tx& tx) {
        rules::may_add_members(lock_standing(tx, chat_id, actor));
        const auto consent = consent_of(tx, actor, named);
        if (store::members::user_ids(tx, chat_id).size() + consent.joining.size() > max)
            throw Error(ErrorCode::conflict, "the group is full", "user_ids");
        Outcome<Additions> outcome;
        const auto actor_name = name_of(tx, actor);
        std::vector<Message> notes;
        for (const auto& user : consent.joining) {
            if (!store::members::insert(tx, chat_id, user, Role::member)) continue;
            store::invitations::remove_for(tx, chat_id, user);
            auto member = member_of(tx, chat_id, user);
            notes.push_back(write_system(tx, chat_id, actor, actor_name + " added " + member.user.display_name,
                                         "member.added", user));
            outcome.value.members.push_back(std::move(member));
        }
        invite(tx, outcome.effects, chat_id, actor, consent.asked);
        outcome.value.invited = consent.asked;
        announce_joins(outcome.effects, chat_id, view_of(tx, chat_id, actor), outcome.value.members, std::move(notes));
        return outcome;
    });
    for (auto& member : added.members) fill_presence(member);
    co_return added;
}

boost::asio::awaitable<std::vector<Invitation>> ChatService::invitations(std::string actor) {
    co_return co_await writes_.pool().run(
        [actor](store::Tx& tx) { return store::invitations::of_user(tx, actor, max_invitations_listed); });
}

boost::asio::awaitable<ChatView> ChatService::accept(std::string actor, std::string invitation_id) {
    require_uuid(invitation_id, "invitation_id");
    const auto invitation = co_await find_invitation(actor, invitation_id);
    const auto chat_id = invitation.chat_id;
    co_return co_await writes_.commit(chat_id, [actor, chat_id, invitation_id,
                                                max = limits_.group_members](store::Tx& tx) {
        if (!store::chats::lock(tx, chat_id) || !store::invitations::find(tx, invitation_id, actor))
            throw not_found("invitation");
        if (store::members::user_ids(tx, chat_id).size() + 1 > max)
            throw Error(ErrorCode::conflict, "the group is full");
        store::invitations::remove(tx, invitation_id);
        Outcome<ChatView> outcome;
        outcome.effects.to_users(InvitationDeleted{invitation_id, chat_id}, {actor});
        std::vector<Member> joined;
        std::vector<Message> note;
        if (store::members::insert(tx, chat_id, actor, Role::member)) {  // not a member already
            joined.push_back(member_of(tx, chat_id, actor));
            note.push_back(
                write_system(tx, chat_id, actor, joined.front().user.display_name + " joined", "member.joined", actor));
        }
        outcome.value = view_of(tx, chat_id, actor);
        if (!joined.empty()) announce_joins(outcome.effects, chat_id, outcome.value, joined, std::move(note));
        return outcome;
    });
}

boost::asio::awaitable<void> ChatService::decline(std::string actor, std::string invitation_id) {
    require_uuid(invitation_id, "invitation_id");
    const auto invitation = co_await find_invitation(actor, invitation_id);
    co_await writes_.commit(invitation.chat_id, [actor, invitation_id, chat_id = invitation.chat_id](store::Tx& tx) {
        if (!store::invitations::find(tx, invitation_id, actor)) throw not_found("invitation");
        store::invitations::remove(tx, invitation_id);
        Outcome<bool> outcome{true, {}};
        outcome.effects.to_users(InvitationDeleted{invitation_id, chat_id}, {actor});
        return outcome;
    });
}

boost::asio::awaitable<Invitation> ChatService::find_invitation(const std::string& actor,
                                                                const std::string& invitation_id) {
    auto invitation = co_await writes_.pool().run(
        [actor, invitation_id](store::Tx& tx) { return store::invitations::find(tx, invitation_id, actor); });
    if (!invitation) throw not_found("invitation");
    co_return std::move(*invitation);
}

boost::asio::awaitable<Member> ChatService::update_member(std::string actor, std::string chat_id, std::string user_id,
                                                          MemberUpdate update) {
    require_uuid(user_id, "user_id");
    if (!update.role && !update.is_muted) throw bad_request("nothing to update");
    co_await standing(actor, chat_id);
    auto member = co_await writes_.commit(chat_id, [actor, chat_id, user_id, update](store::Tx& tx) {
        // Roles are read after the chat lock: the rules judge the state this change applies to.
        const auto actor_now = lock_standing(tx, chat_id, actor);
        const auto target = store::members::find(tx, chat_id, user_id);
        if (!target) throw not_found("member");
        rules::may_update_member(actor_now, target->role, actor == user_id, update.role, update.is_muted.has_value());
        const bool role_changes = update.role && *update.role != target->role;
        Outcome<Member> outcome;
        std::vector<std::pair<std::string, Role>> roles;
        if (role_changes) {
            const auto actor_name = name_of(tx, actor);
            const auto& target_name = target->user.display_name;
            if (*update.role == Role::owner) {
                store::members::set_role(tx, chat_id, actor, Role::admin);
                store::members::set_role(tx, chat_id, user_id, Role::owner);
                roles = {{actor, Role::admin}, {user_id, Role::owner}};
                deliver_message(outcome.effects,
                                write_system(tx, chat_id, actor, actor_name + " made " + target_name + " the owner",
                                             "chat.owner_changed", user_id));
            } else {
                store::members::set_role(tx, chat_id, user_id, *update.role);
                roles = {{user_id, *update.role}};
                const auto role_name = *update.role == Role::admin ? "an admin" : "a member";
                deliver_message(outcome.effects,
                                write_system(tx, chat_id, actor, actor_name + " made " + target_name + " " + role_name,
                                             "member.role_changed", user_id));
            }
        }
        if (update.is_muted) store::members::set_muted(tx, chat_id, user_id, *update.is_muted);
        for (const auto& [user, role] : roles)
            outcome.effects.to_members(MemberUpdated{member_of(tx, chat_id, user)}, chat_id);
        outcome.value = member_of(tx, chat_id, user_id);
        if (!role_changes) outcome.effects.to_users(MemberUpdated{outcome.value}, {user_id});
        outcome.effects.cache_change = [chat_id, roles](AccessCache& cache) {
            cache.update(chat_id, [&](ChatAccess& a) {
                for (const auto& [user, role] : roles) a.members[user] = role;
            });
        };
        return outcome;
    });
    fill_presence(member);
    co_return member;
}

boost::asio::awaitable<void> ChatService::remove_member(std::string actor, std::string chat_id, std::string user_id) {
    require_uuid(user_id, "user_id");
    co_await standing(actor, chat_id);
    // The chat ends when its last member, the owner, leaves: its media bytes are released.
    auto released = co_await writes_.commit(chat_id, [actor, chat_id, user_id](store::Tx& tx) {
        const auto actor_now = lock_standing(tx, chat_id, actor);
        const auto target = store::members::find(tx, chat_id, user_id);
        if (!target) throw not_found("member");
        const bool leaving = user_id == actor;
        rules::may_remove_member(actor_now, target->role, leaving);
        Outcome<std::vector<std::string>> outcome;
        store::members::remove(tx, chat_id, user_id);
        const bool owner_leaves = target->role == Role::owner;
        const auto heir = owner_leaves ? store::members::successor(tx, chat_id, user_id) : std::nullopt;
        outcome.effects.deliveries.push_back({MemberRemoved{chat_id, user_id}, chat_id, {user_id}});
        if (owner_leaves && !heir) {
            outcome.value = store::chats::remove(tx, chat_id);
            outcome.effects.cache_change = [chat_id](AccessCache& cache) { cache.erase(chat_id); };
            return outcome;
        }
        const auto actor_name = name_of(tx, actor);
        deliver_message(outcome.effects,
                        leaving ? write_system(tx, chat_id, actor, actor_name + " left", "member.left", user_id)
                                : write_system(tx, chat_id, actor, actor_name + " removed " + target->user.display_name,
                                               "member.removed", user_id));
        if (heir) {
            store::members::set_role(tx, chat_id, *heir, Role::owner);
            auto heir_row = member_of(tx, chat_id, *heir);
            deliver_message(outcome.effects,
                            write_system(tx, chat_id, actor, heir_row.user.display_name + " is now the owner",
                                         "chat.owner_changed", *heir));
            outcome.effects.to_members(MemberUpdated{std::move(heir_row)}, chat_id);
        }
        outcome.effects.cache_change = [chat_id, user_id, heir](AccessCache& cache) {
            cache.update(chat_id, [&](ChatAccess& a) {
                a.members.erase(user_id);
                if (heir) a.members[*heir] = Role::owner;
            });
        };
        return outcome;
    });
    co_await release_bytes(writes_.pool(), storage_, std::move(released));
}

}  // namespace confab::domain
