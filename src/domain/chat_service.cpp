#include "confab/domain/chat_service.hpp"
#include "confab/domain/media_service.hpp"

#include "confab/domain/validation.hpp"
#include "confab/realtime/hub.hpp"
#include "confab/store/messages.hpp"
#include "confab/store/users.hpp"

#include <algorithm>
#include <set>

namespace confab::domain {
namespace {

constexpr std::size_t max_avatar_url = 2048;

void validate_title(const std::string& title, const config::Limits& limits) {
    const auto length = code_points(title);
    if (length < 1 || length > limits.title_chars)
        throw bad_request("title must be 1-" + std::to_string(limits.title_chars) + " characters", "title");
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

void require_users_exist(pqxx::transaction_base& tx, const std::vector<std::string>& ids) {
    if (ids.empty()) return;
    if (store::users::existing(tx, ids).size() != ids.size()) throw not_found("user");
}

std::string name_of(pqxx::transaction_base& tx, const std::string& user_id) {
    const auto user = store::users::find(tx, user_id);
    return user ? user->display_name : std::string("someone");
}

// metadata of a system message; event names and UUIDs need no JSON escaping.
std::string system_metadata(const std::string& event, const std::optional<std::string>& user_id = std::nullopt) {
    std::string text = R"({"event":")" + event + '"';
    if (user_id) text += R"(,"user_id":")" + *user_id + '"';
    return text + "}";
}

Message write_system(pqxx::transaction_base& tx, const std::string& chat_id, const std::string& actor,
                     std::string content, const std::string& event, const std::optional<std::string>& user_id = {}) {
    store::NewMessage message{chat_id, actor, MessageType::system, std::move(content), std::nullopt,
                              system_metadata(event, user_id), std::nullopt, std::nullopt};
    auto stored = store::messages::insert(tx, message);
    if (!stored) throw std::runtime_error("system message was not stored");
    return std::move(*stored);
}

ChatView viewed_by(ChatView view, const Membership& me) {
    view.me = me;
    return view;
}

// chat.created or chat.updated for each member, each with their own `me`.
template <class ChatEvent>
void deliver_views(Effects& effects, const ChatView& view,
                   const std::vector<std::pair<std::string, Membership>>& standings) {
    for (const auto& [user, me] : standings)
        effects.deliveries.push_back({ChatEvent{viewed_by(view, me)}, std::nullopt, {user}});
}

void deliver_message(Effects& effects, Message message) {
    const auto chat_id = message.chat_id;
    effects.deliveries.push_back({MessageCreated{std::move(message)}, chat_id, {}});
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

// Who may change whose role or mute (docs/api.md, Members).
void check_member_update(ChatType type, Role actor, Role target, bool self, const MemberUpdate& update) {
    if (update.is_muted && !self) throw forbidden("only members themselves can mute a chat");
    if (!update.role) return;
    if (type == ChatType::direct) throw forbidden("a direct chat has no roles");
    if (*update.role == Role::owner) {
        if (actor != Role::owner) throw forbidden("only the owner can transfer ownership");
        return;
    }
    if (target == Role::owner) throw forbidden("the owner's role cannot be changed");
    if (actor == Role::member) throw forbidden("only admins can change roles");
    if (actor == Role::admin && target == Role::admin && !self) throw forbidden("admins cannot change other admins");
}

// Who may remove whom; anyone may leave a group.
void check_removal(ChatType type, Role actor, Role target, bool self) {
    if (type == ChatType::direct) throw forbidden("use DELETE /chats/{id} to leave a direct chat");
    if (self) return;
    if (actor == Role::member) throw forbidden("only admins can remove members");
    if (target == Role::owner) throw forbidden("the owner cannot be removed");
    if (actor == Role::admin && target == Role::admin) throw forbidden("admins cannot remove other admins");
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

boost::asio::awaitable<Role> ChatService::member_role(const std::string& actor, const std::string& chat_id) {
    require_uuid(chat_id, "chat_id");
    const auto access = co_await writes_.access(chat_id);
    co_return require_member(access.get(), actor);
}

void ChatService::fill_presence(Member& member) const {
    if (!member.presence) member.presence = Presence{};
    member.presence->online = hub_.connections_of(member.user.id) > 0;
}

boost::asio::awaitable<Created> ChatService::create_direct(std::string actor, std::string other) {
    require_uuid(other, "member_ids");
    if (other == actor) throw bad_request("a direct chat needs another user", "member_ids");
    const auto key = std::min(actor, other) + ":" + std::max(actor, other);
    auto created = co_await writes_.commit(key, [actor, other, key](pqxx::transaction_base& tx) {
        require_users_exist(tx, {other});
        Outcome<Created> outcome;
        auto chat_id = store::chats::find_direct(tx, key);
        if (chat_id) {
            store::chats::set_hidden(tx, *chat_id, actor, false);
            outcome.value = {*store::chats::view(tx, *chat_id, actor), false};
            return outcome;
        }
        store::NewChat chat;
        chat.type = ChatType::direct;
        chat.created_by = actor;
        chat.direct_key = key;
        chat_id = store::chats::insert(tx, chat);
        if (!chat_id) {  // the other side created it at the same moment: theirs is the one
            chat_id = *store::chats::find_direct(tx, key);
            store::chats::set_hidden(tx, *chat_id, actor, false);
            outcome.value = {*store::chats::view(tx, *chat_id, actor), false};
            return outcome;
        }
        store::members::insert(tx, *chat_id, actor, Role::member);
        store::members::insert(tx, *chat_id, other, Role::member);
        auto view = *store::chats::view(tx, *chat_id, actor);
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
    auto invited = others(group.member_ids, actor);
    if (invited.size() + 1 > limits_.group_members) throw Error(ErrorCode::conflict, "too many members", "member_ids");
    store::NewChat chat;
    chat.type = ChatType::group;
    chat.title = group.title;
    chat.avatar_url = group.avatar_url;
    chat.settings = group.settings.applied_to({});
    chat.metadata = group.metadata ? group.metadata->text : "{}";
    chat.created_by = actor;
    auto view = co_await writes_.commit(actor, [actor, invited, chat](pqxx::transaction_base& tx) {
        require_users_exist(tx, invited);
        const auto chat_id = *store::chats::insert(tx, chat);
        store::members::insert(tx, chat_id, actor, Role::owner);
        for (const auto& user : invited) store::members::insert(tx, chat_id, user, Role::member);
        Outcome<ChatView> outcome{*store::chats::view(tx, chat_id, actor), {}};
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
    auto chats = co_await writes_.pool().run([actor, before_activity, limit](pqxx::transaction_base& tx) {
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
    co_await member_role(actor, chat_id);
    auto view = co_await writes_.pool().run(
        [actor, chat_id](pqxx::transaction_base& tx) { return store::chats::view(tx, chat_id, actor); });
    if (!view) throw not_found("chat");
    co_return std::move(*view);
}

boost::asio::awaitable<ChatView> ChatService::update(std::string actor, std::string chat_id, ChatUpdate update) {
    if (update.title) validate_title(*update.title, limits_);
    if (update.avatar_url) validate_avatar(*update.avatar_url);
    const auto role = co_await member_role(actor, chat_id);
    const auto access = co_await writes_.access(chat_id);
    if (access->type == ChatType::direct) throw forbidden("a direct chat has no editable info");
    if (role == Role::member && access->settings.only_admins_can_edit_info)
        throw forbidden("only admins can edit this group");
    if (role == Role::member && !update.settings.empty()) throw forbidden("only admins can change group settings");
    const auto settings = update.settings.applied_to(access->settings);
    co_return co_await writes_.commit(chat_id, [actor, chat_id, update, settings, old = access->settings](pqxx::transaction_base& tx) {
        store::chats::lock(tx, chat_id);
        auto before = store::chats::view(tx, chat_id, actor);
        if (!before) throw not_found("chat");
        store::chats::update(tx, chat_id,
                             {update.title, update.avatar_url, settings,
                              update.metadata ? std::optional<std::string>(update.metadata->text) : std::nullopt});
        Outcome<ChatView> outcome;
        const auto actor_name = name_of(tx, actor);
        if (update.title && update.title != before->chat.title)
            deliver_message(outcome.effects, write_system(tx, chat_id, actor,
                                                          actor_name + " changed the title to \"" + *update.title + "\"",
                                                          "chat.title_changed"));
        if (update.avatar_url && *update.avatar_url != before->chat.avatar_url)
            deliver_message(outcome.effects, write_system(tx, chat_id, actor, actor_name + " changed the group photo",
                                                          "chat.avatar_changed"));
        if (!(settings.only_admins_can_post == old.only_admins_can_post &&
              settings.only_admins_can_edit_info == old.only_admins_can_edit_info &&
              settings.only_admins_can_add_members == old.only_admins_can_add_members))
            deliver_message(outcome.effects,
                            write_system(tx, chat_id, actor, actor_name + " changed the group settings (" +
                                                                 settings_summary(settings) + ")",
                                         "chat.settings_changed"));
        outcome.value = *store::chats::view(tx, chat_id, actor);
        deliver_views<ChatUpdated>(outcome.effects, outcome.value, store::members::standings(tx, chat_id));
        outcome.effects.cache_change = [chat_id, settings](AccessCache& cache) {
            cache.update(chat_id, [&](ChatAccess& a) { a.settings = settings; });
        };
        return outcome;
    });
}

boost::asio::awaitable<void> ChatService::remove(std::string actor, std::string chat_id) {
    const auto role = co_await member_role(actor, chat_id);
    const auto access = co_await writes_.access(chat_id);
    if (access->type == ChatType::direct) {
        co_await writes_.commit(chat_id, [actor, chat_id](pqxx::transaction_base& tx) {
            store::chats::set_hidden(tx, chat_id, actor, true);
            Outcome<bool> outcome{true, {}};
            outcome.effects.deliveries.push_back({ChatDeleted{chat_id}, std::nullopt, {actor}});
            return outcome;
        });
        co_return;
    }
    if (role != Role::owner) throw forbidden("only the owner can delete the group");
    auto released = co_await writes_.commit(chat_id, [chat_id](pqxx::transaction_base& tx) {
        if (!store::chats::lock(tx, chat_id)) throw not_found("chat");
        Outcome<std::vector<std::string>> outcome;
        outcome.effects.deliveries.push_back({ChatDeleted{chat_id}, std::nullopt, store::members::user_ids(tx, chat_id)});
        outcome.value = store::chats::remove(tx, chat_id);
        outcome.effects.cache_change = [chat_id](AccessCache& cache) { cache.erase(chat_id); };
        return outcome;
    });
    co_await release_bytes(writes_.pool(), storage_, std::move(released));
}

boost::asio::awaitable<MemberPage> ChatService::members(std::string actor, std::string chat_id,
                                                        std::optional<std::int64_t> after_position, int limit) {
    co_await member_role(actor, chat_id);
    auto rows = co_await writes_.pool().run([chat_id, after_position, limit](pqxx::transaction_base& tx) {
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

boost::asio::awaitable<std::vector<Member>> ChatService::add_members(std::string actor, std::string chat_id,
                                                                     std::vector<std::string> user_ids) {
    if (user_ids.empty()) throw bad_request("user_ids must not be empty", "user_ids");
    for (const auto& id : user_ids) require_uuid(id, "user_ids");
    const auto role = co_await member_role(actor, chat_id);
    const auto access = co_await writes_.access(chat_id);
    if (access->type == ChatType::direct) throw forbidden("members cannot be added to a direct chat");
    if (role == Role::member && access->settings.only_admins_can_add_members)
        throw forbidden("only admins can add members");
    std::vector<std::string> joining;
    for (const auto& id : user_ids)
        if (!access->members.contains(id) && std::find(joining.begin(), joining.end(), id) == joining.end())
            joining.push_back(id);
    if (access->members.size() + joining.size() > limits_.group_members)
        throw Error(ErrorCode::conflict, "the group is full", "user_ids");
    auto added = co_await writes_.commit(chat_id, [actor, chat_id, joining, max = limits_.group_members](pqxx::transaction_base& tx) {
        if (!store::chats::lock(tx, chat_id)) throw not_found("chat");
        require_users_exist(tx, joining);
        if (store::members::user_ids(tx, chat_id).size() + joining.size() > max)
            throw Error(ErrorCode::conflict, "the group is full", "user_ids");
        Outcome<std::vector<Member>> outcome;
        const auto actor_name = name_of(tx, actor);
        std::vector<Message> notes;
        for (const auto& user : joining) {
            if (!store::members::insert(tx, chat_id, user, Role::member)) continue;
            auto member = *store::members::find(tx, chat_id, user);
            notes.push_back(write_system(tx, chat_id, actor, actor_name + " added " + member.user.display_name,
                                         "member.added", user));
            outcome.value.push_back(std::move(member));
        }
        const auto view = *store::chats::view(tx, chat_id, actor);
        for (const auto& member : outcome.value)
            outcome.effects.deliveries.push_back(
                {ChatCreated{viewed_by(view, {Role::member, 0, false})}, std::nullopt, {member.user.id}});
        for (const auto& member : outcome.value)
            outcome.effects.deliveries.push_back({MemberAdded{member}, chat_id, {}});
        for (auto& note : notes) deliver_message(outcome.effects, std::move(note));
        outcome.effects.cache_change = [chat_id, added = outcome.value](AccessCache& cache) {
            cache.update(chat_id, [&](ChatAccess& a) {
                for (const auto& member : added) a.members.emplace(member.user.id, Role::member);
            });
        };
        return outcome;
    });
    for (auto& member : added) fill_presence(member);
    co_return added;
}

boost::asio::awaitable<Member> ChatService::update_member(std::string actor, std::string chat_id, std::string user_id,
                                                          MemberUpdate update) {
    require_uuid(user_id, "user_id");
    if (!update.role && !update.is_muted) throw bad_request("nothing to update");
    co_await member_role(actor, chat_id);
    const auto type = (co_await writes_.access(chat_id))->type;
    auto member = co_await writes_.commit(chat_id, [actor, chat_id, user_id, update, type](pqxx::transaction_base& tx) {
        // Roles are read after the chat lock: the rules judge the state this change applies to.
        if (!store::chats::lock(tx, chat_id)) throw not_found("chat");
        const auto actor_row = store::members::find(tx, chat_id, actor);
        if (!actor_row) throw not_found("chat");
        const auto target_row = store::members::find(tx, chat_id, user_id);
        if (!target_row) throw not_found("member");
        check_member_update(type, actor_row->role, target_row->role, actor == user_id, update);
        const bool role_changes = update.role && *update.role != target_row->role;
        Outcome<Member> outcome;
        std::vector<std::pair<std::string, Role>> roles;
        if (role_changes) {
            const auto& actor_name = actor_row->user.display_name;
            const auto& target_name = target_row->user.display_name;
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
            outcome.effects.deliveries.push_back({MemberUpdated{*store::members::find(tx, chat_id, user)}, chat_id, {}});
        outcome.value = *store::members::find(tx, chat_id, user_id);
        if (!role_changes) outcome.effects.deliveries.push_back({MemberUpdated{outcome.value}, std::nullopt, {user_id}});
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
    co_await member_role(actor, chat_id);
    const auto type = (co_await writes_.access(chat_id))->type;
    // The chat ends when its last member, the owner, leaves: its media bytes are released.
    auto released = co_await writes_.commit(chat_id, [actor, chat_id, user_id, type](pqxx::transaction_base& tx) {
        if (!store::chats::lock(tx, chat_id)) throw not_found("chat");
        const auto actor_row = store::members::find(tx, chat_id, actor);
        if (!actor_row) throw not_found("chat");
        const auto target_row = store::members::find(tx, chat_id, user_id);
        if (!target_row) throw not_found("member");
        const bool leaving = user_id == actor;
        check_removal(type, actor_row->role, target_row->role, leaving);
        Outcome<std::vector<std::string>> outcome;
        store::members::remove(tx, chat_id, user_id);
        const bool owner_leaves = target_row->role == Role::owner;
        const auto heir = owner_leaves ? store::members::successor(tx, chat_id, user_id) : std::nullopt;
        outcome.effects.deliveries.push_back({MemberRemoved{chat_id, user_id}, chat_id, {user_id}});
        if (owner_leaves && !heir) {
            outcome.value = store::chats::remove(tx, chat_id);
            outcome.effects.cache_change = [chat_id](AccessCache& cache) { cache.erase(chat_id); };
            return outcome;
        }
        const auto& actor_name = actor_row->user.display_name;
        deliver_message(outcome.effects,
                        leaving ? write_system(tx, chat_id, actor, actor_name + " left", "member.left", user_id)
                                : write_system(tx, chat_id, actor, actor_name + " removed " + target_row->user.display_name,
                                               "member.removed", user_id));
        if (heir) {
            store::members::set_role(tx, chat_id, *heir, Role::owner);
            auto heir_row = *store::members::find(tx, chat_id, *heir);
            deliver_message(outcome.effects, write_system(tx, chat_id, actor, heir_row.user.display_name + " is now the owner",
                                                          "chat.owner_changed", *heir));
            outcome.effects.deliveries.push_back({MemberUpdated{std::move(heir_row)}, chat_id, {}});
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
