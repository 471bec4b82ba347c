#include "confab/domain/member_service.hpp"

#include "confab/domain/group_writes.hpp"
#include "confab/domain/media_service.hpp"
#include "confab/domain/rules.hpp"
#include "confab/domain/validation.hpp"
#include "confab/store/bans.hpp"
#include "confab/store/chats.hpp"
#include "confab/store/roles.hpp"
#include "confab/store/user_blocks.hpp"
#include "confab/store/users.hpp"

#include <algorithm>
#include <unordered_set>

namespace confab::domain {
namespace {

constexpr std::size_t max_member_query = 64;  // as a user search's (user_service)

// "an admin", "a member": a role as the system message of a role change names it.
std::string with_article(Role role) {
    const auto name = std::string(to_string(role));
    return (role == Role::admin ? "an " : "a ") + name;
}

// A role given to a member by one change: a built-in one, or a custom one and its rank.
struct RoleGiven {
    std::string user;
    Role role = Role::member;
    std::optional<CustomRole> custom;
};

// Each member given a role hears of it, as every member does (member.updated).
void announce_roles(store::Tx& tx, Effects& effects, const std::string& chat_id, const std::string& actor,
                    const std::vector<RoleGiven>& given) {
    for (const auto& role : given)
        announce_member(tx, effects, Occasion::role_changed, stored_member(tx, chat_id, role.user), actor);
}

// After a custom role changed (`now`) or went (none, `holders` read before), its holders
// stand as it says, or as its rank's built-in role; every member hears of each.
void regrant_holders(store::Tx& tx, Effects& effects, const std::string& actor, const CustomRole& role,
                     const std::optional<CustomRole>& now, std::vector<std::string> holders = {}) {
    if (now) holders = store::roles::holders(tx, role.id);
    std::vector<RoleGiven> given;
    given.reserve(holders.size());
    for (auto& user : holders) given.push_back({std::move(user), role.rank, now});
    announce_roles(tx, effects, role.chat_id, actor, given);
    effects.cache_change = [chat_id = role.chat_id, given](AccessCache& cache) {
        cache.update(chat_id, [&](ChatAccess& a) {
            for (const auto& holder : given) a.set_role(holder.user, holder.role, holder.custom);
        });
    };
}

Error name_taken() {
    return with_reason(ErrorCode::conflict, "the group has a role of that name", "role_name_taken", "name");
}

// Applies what a definition sets to the role, judged by the rules; permissions keep
// every_permission's order, once each.
void defined(CustomRole& role, const CustomRoleDefinition& definition) {
    if (definition.name) {
        rules::check_custom_role_name(*definition.name);
        role.name = *definition.name;
    }
    if (definition.rank) {
        rules::check_custom_role_rank(*definition.rank);
        role.rank = *definition.rank;
    }
    if (definition.permissions) {
        role.permissions.clear();
        for (const auto permission : rules::every_permission())
            if (std::find(definition.permissions->begin(), definition.permissions->end(), permission) !=
                definition.permissions->end())
                role.permissions.push_back(permission);
    }
}

}  // namespace

boost::asio::awaitable<MemberPage> MemberService::members(std::string actor, std::string chat_id,
                                                          std::optional<std::int64_t> after_position, int limit,
                                                          std::optional<std::string> prefix) {
    if (prefix && (!is_valid_utf8(*prefix) || code_points(*prefix) < 1 || code_points(*prefix) > max_member_query))
        throw bad_request("q must be 1-" + std::to_string(max_member_query) + " characters", "q");
    const auto standing = co_await writes_.standing(chat_id, actor);
    rules::may_list_members(standing);
    const bool chat_makes_contacts = rules::makes_contacts(standing.type, standing.large);
    co_return co_await writes_.pool().run(
        [actor, chat_id, after_position, limit, prefix, chat_makes_contacts](store::Tx& tx) {
            auto rows = store::members::list(tx, chat_id, after_position, limit + 1, prefix);
            MemberPage page;
            if (static_cast<int>(rows.size()) > limit) {
                rows.pop_back();
                page.next_after_position = rows.back().second;
            }
            std::vector<Member> stored;
            stored.reserve(rows.size());
            for (auto& row : rows) stored.push_back(std::move(row.first));
            page.members = as_the_actor_sees(tx, actor, chat_makes_contacts, std::move(stored));
            return page;
        });
}

boost::asio::awaitable<Additions> MemberService::add_members(std::string actor, std::string chat_id,
                                                             std::vector<std::string> user_ids) {
    if (user_ids.empty()) throw bad_request("user_ids must not be empty", "user_ids");
    rules::check_users_per_add(user_ids.size());
    for (const auto& id : user_ids) require_uuid(id, "user_ids");
    require_uuid(chat_id, "chat_id");
    const auto access = co_await writes_.access(chat_id);
    rules::may_add_members(standing_in(access.get(), actor));
    std::vector<std::string> named;
    std::unordered_set<std::string> seen;
    for (auto& id : user_ids)
        if (!access->members.contains(id) && seen.insert(id).second) named.push_back(std::move(id));
    // Whether the group has room is known only once consent has sorted joiners from invitees.
    auto added = co_await writes_.commit(
        chat_id,
        [actor, chat_id, named, &limits = limits_](store::Tx& tx) {
            const auto actor_now = lock_standing(tx, chat_id, actor);
            rules::may_add_members(actor_now);
            rules::may_join(!store::bans::banned_among(tx, chat_id, named).empty());
            const auto consent = consent_of(tx, actor, named);
            check_room(tx, chat_id, {actor_now.type, actor_now.large}, consent.joining.size(), limits, "user_ids");
            const auto inserted = store::members::insert_all(tx, chat_id, consent.joining, Role::member);
            std::vector<std::string> joined;
            for (const auto& user : consent.joining)
                if (inserted.contains(user)) joined.push_back(user);
            store::invitations::remove_for(tx, chat_id, joined);
            Outcome<Additions> outcome;
            const bool chat_makes_contacts = rules::makes_contacts(actor_now.type, actor_now.large);
            const auto stored = store::members::find_all(tx, chat_id, joined);
            std::vector<Member> as_the_chat_sees;
            as_the_chat_sees.reserve(stored.size());
            for (const auto& member : stored) as_the_chat_sees.push_back(seen_by(member, false, chat_makes_contacts));
            std::vector<Message> notes;
            if (rules::notes_membership(actor_now.type, actor_now.large)) {
                const auto actor_name = name_of(tx, actor);
                for (const auto& member : as_the_chat_sees)
                    notes.push_back(write_system(tx, chat_id, actor, actor_name + " added " + member.user.display_name,
                                                 "member.added", member.user.id));
            }
            invite(tx, outcome.effects, chat_id, actor, consent.asked);
            outcome.value.invited = consent.asked;
            outcome.value.members = as_the_actor_sees(tx, actor, chat_makes_contacts, stored);
            announce_joins(tx, outcome.effects, chat_id, view_of(tx, chat_id, actor), as_the_chat_sees,
                           std::move(notes));
            return outcome;
        },
        weight_for(named.size()));
    co_return added;
}

boost::asio::awaitable<ListPage<Invitation>> MemberService::invitations(std::string actor,
                                                                        std::optional<ListPlace> after, int limit) {
    if (after) require_uuid(after->id, "cursor");
    auto rows = co_await writes_.pool().run(
        [actor, after, limit](store::Tx& tx) { return store::invitations::of_user(tx, actor, after, limit + 1); });
    co_return list_page(std::move(rows), limit);
}

boost::asio::awaitable<ChatView> MemberService::accept(std::string actor, std::string invitation_id) {
    require_uuid(invitation_id, "invitation_id");
    const auto invitation = co_await find_invitation(actor, invitation_id);
    const auto chat_id = invitation.chat_id;
    co_return co_await writes_.commit(chat_id, [actor, chat_id, invitation_id, &limits = limits_](store::Tx& tx) {
        const auto kind = store::chats::lock(tx, chat_id) ? store::chats::kind_of(tx, chat_id) : std::nullopt;
        if (!kind || !store::invitations::find(tx, invitation_id, actor)) throw not_found("invitation");
        check_room(tx, chat_id, *kind, 1, limits);
        store::invitations::remove(tx, invitation_id);
        Outcome<ChatView> outcome;
        outcome.effects.deliver(Occasion::invitation_deleted, InvitationDeleted{invitation_id, chat_id},
                                {.subject = actor});
        std::vector<Member> joined;
        std::vector<Message> note;
        if (store::members::insert(tx, chat_id, actor, Role::member)) {  // not a member already
            joined.push_back(member_of(tx, chat_id, actor));
            if (rules::notes_membership(kind->type, kind->large))
                note.push_back(write_system(tx, chat_id, actor, joined.front().user.display_name + " joined",
                                            "member.joined", actor));
        }
        outcome.value = view_of(tx, chat_id, actor);
        if (!joined.empty()) announce_joins(tx, outcome.effects, chat_id, outcome.value, joined, std::move(note));
        return outcome;
    });
}

boost::asio::awaitable<void> MemberService::decline(std::string actor, std::string invitation_id) {
    require_uuid(invitation_id, "invitation_id");
    const auto invitation = co_await find_invitation(actor, invitation_id);
    co_await writes_.commit(invitation.chat_id, [actor, invitation_id, chat_id = invitation.chat_id](store::Tx& tx) {
        if (!store::invitations::find(tx, invitation_id, actor)) throw not_found("invitation");
        store::invitations::remove(tx, invitation_id);
        Outcome<bool> outcome{true, {}};
        outcome.effects.deliver(Occasion::invitation_deleted, InvitationDeleted{invitation_id, chat_id},
                                {.subject = actor});
        return outcome;
    });
}

boost::asio::awaitable<Invitation> MemberService::find_invitation(const std::string& actor,
                                                                  const std::string& invitation_id) {
    auto invitation = co_await writes_.pool().run(
        [actor, invitation_id](store::Tx& tx) { return store::invitations::find(tx, invitation_id, actor); });
    if (!invitation) throw not_found("invitation");
    co_return std::move(*invitation);
}

boost::asio::awaitable<Member> MemberService::update_member(std::string actor, std::string chat_id, std::string user_id,
                                                            MemberUpdate update) {
    require_uuid(user_id, "user_id");
    if (update.custom_role_id) require_uuid(*update.custom_role_id, "custom_role_id");
    if (!update.role && !update.custom_role_id && !update.is_muted && !update.muted_until)
        throw bad_request("nothing to update");
    co_await writes_.standing(chat_id, actor);
    auto member = co_await writes_.commit(chat_id, [actor, chat_id, user_id, update](store::Tx& tx) {
        // Roles are read after the chat lock: the rules judge the state this change applies to.
        const auto actor_now = lock_standing(tx, chat_id, actor);
        const bool self = actor == user_id;
        // Judged before and after the target is known: who may not act on members learns nothing
        // of who is one.
        std::optional<CustomRole> custom;
        if (update.custom_role_id) {
            custom = store::roles::find(tx, chat_id, *update.custom_role_id);
            if (!custom) throw not_found("role");
        }
        const auto judge = [&](std::optional<Role> target_role) {
            rules::may_update_member(actor_now, target_role, self, update.role, update.is_muted.has_value());
            if (update.muted_until) rules::may_mute_member(actor_now, target_role, self);
            if (custom) rules::may_assign_custom_role(actor_now, target_role, self, *custom);
        };
        judge(std::nullopt);
        const auto target = store::members::find(tx, chat_id, user_id);
        if (!target) throw not_found("member");
        judge(target->role);
        Outcome<Member> outcome;
        std::vector<RoleGiven> given;
        // "ana made ben <what>": written only when a role changes (a mute reads no names).
        const auto note_made = [&](const std::string& what, const char* event) {
            deliver_message(outcome.effects,
                            write_system(tx, chat_id, actor,
                                         name_of(tx, actor) + " made " + target->user.display_name + " " + what, event,
                                         user_id));
        };
        if (custom && !(target->custom_role && target->custom_role->id == custom->id)) {
            store::roles::assign(tx, chat_id, user_id, custom);
            given.push_back({user_id, custom->rank, custom});
            note_made(custom->name, "member.role_changed");
        } else if (update.role && (*update.role != target->role || target->custom_role)) {
            if (*update.role == Role::owner) {
                store::members::set_role(tx, chat_id, actor, Role::admin);
                store::members::set_role(tx, chat_id, user_id, Role::owner);
                given = {{actor, Role::admin, std::nullopt}, {user_id, Role::owner, std::nullopt}};
                note_made("the owner", "chat.owner_changed");
            } else {
                store::members::set_role(tx, chat_id, user_id, *update.role);
                given = {{user_id, *update.role, std::nullopt}};
                note_made(with_article(*update.role), "member.role_changed");
            }
        }
        const bool role_changes = !given.empty();
        if (update.is_muted) store::members::set_muted(tx, chat_id, user_id, *update.is_muted);
        if (update.muted_until) store::members::set_muted_until(tx, chat_id, user_id, *update.muted_until);
        announce_roles(tx, outcome.effects, chat_id, actor, given);
        // The answer is the caller's read of the member; the events carry what the member's
        // privacy shows the chat.
        const auto stored = stored_member(tx, chat_id, user_id);
        const bool chat_makes_contacts = rules::makes_contacts(actor_now.type, actor_now.large);
        outcome.value = std::move(as_the_actor_sees(tx, actor, chat_makes_contacts, {stored}).front());
        if (update.muted_until && !role_changes)
            announce_member(tx, outcome.effects, Occasion::member_muted, stored, actor);
        else if (update.is_muted && !role_changes)
            outcome.effects.deliver(Occasion::mute_changed, MemberUpdated{seen_by(stored, true, true)},
                                    {.actor = actor, .subject = user_id});
        outcome.effects.cache_change = [chat_id, user_id, given, muted_until = update.muted_until](AccessCache& cache) {
            cache.update(chat_id, [&](ChatAccess& a) {
                for (const auto& role : given) a.set_role(role.user, role.role, role.custom);
                if (!muted_until) return;
                if (*muted_until) {
                    a.muted_until[user_id] = **muted_until;
                } else {
                    a.muted_until.erase(user_id);
                }
            });
        };
        return outcome;
    });
    co_return member;
}

boost::asio::awaitable<std::vector<CustomRole>> MemberService::custom_roles(std::string actor, std::string chat_id) {
    co_await writes_.standing(chat_id, actor);
    co_return co_await writes_.pool().run([chat_id](store::Tx& tx) { return store::roles::of_chat(tx, chat_id); });
}

boost::asio::awaitable<CustomRole> MemberService::define_role(std::string actor, std::string chat_id,
                                                              CustomRoleDefinition definition) {
    if (!definition.name) throw bad_request("name is required", "name");
    if (!definition.permissions) throw bad_request("permissions is required", "permissions");
    CustomRole role{.chat_id = chat_id, .rank = definition.rank.value_or(Role::member)};
    defined(role, definition);
    rules::may_manage_custom_roles(co_await writes_.standing(chat_id, actor));
    co_return co_await writes_.commit(chat_id, [actor, chat_id, role](store::Tx& tx) {
        rules::may_manage_custom_roles(lock_standing(tx, chat_id, actor));
        rules::check_room_for_another(rules::Capped::custom_roles, store::roles::of_chat(tx, chat_id).size());
        auto created = store::roles::insert(tx, role);
        if (!created) throw name_taken();
        Outcome<CustomRole> outcome{*created, {}};
        outcome.effects.in_chat(Occasion::custom_role_changed,
                                CustomRoleChanged{CustomRoleChanged::Change::created, *created}, chat_id,
                                {.actor = actor});
        return outcome;
    });
}

boost::asio::awaitable<CustomRole> MemberService::change_role(std::string actor, std::string chat_id,
                                                              std::string role_id, CustomRoleDefinition change) {
    require_uuid(role_id, "role_id");
    if (!change.name && !change.rank && !change.permissions) throw bad_request("nothing to update");
    rules::may_manage_custom_roles(co_await writes_.standing(chat_id, actor));
    co_return co_await writes_.commit(
        chat_id,
        [actor, chat_id, role_id, change](store::Tx& tx) {
            rules::may_manage_custom_roles(lock_standing(tx, chat_id, actor));
            auto role = store::roles::find(tx, chat_id, role_id);
            if (!role) throw not_found("role");
            defined(*role, change);
            if (!store::roles::update(tx, *role)) throw name_taken();
            store::roles::rank_holders(tx, *role);
            Outcome<CustomRole> outcome{*role, {}};
            outcome.effects.in_chat(Occasion::custom_role_changed,
                                    CustomRoleChanged{CustomRoleChanged::Change::updated, *role}, chat_id,
                                    {.actor = actor});
            regrant_holders(tx, outcome.effects, actor, *role, role);
            return outcome;
        },
        store::Weight::heavy);  // every holder of the role, up to all the members
}

boost::asio::awaitable<void> MemberService::delete_role(std::string actor, std::string chat_id, std::string role_id) {
    require_uuid(role_id, "role_id");
    rules::may_manage_custom_roles(co_await writes_.standing(chat_id, actor));
    co_await writes_.commit(
        chat_id,
        [actor, chat_id, role_id](store::Tx& tx) {
            rules::may_manage_custom_roles(lock_standing(tx, chat_id, actor));
            const auto role = store::roles::find(tx, chat_id, role_id);
            if (!role) throw not_found("role");
            const auto holders = store::roles::holders(tx, role_id);
            store::roles::remove(tx, role_id);
            Outcome<bool> outcome{true, {}};
            outcome.effects.in_chat(Occasion::custom_role_changed,
                                    CustomRoleChanged{CustomRoleChanged::Change::deleted, *role}, chat_id,
                                    {.actor = actor});
            regrant_holders(tx, outcome.effects, actor, *role, std::nullopt, holders);
            return outcome;
        },
        store::Weight::heavy);  // every holder of the role, up to all the members
}

boost::asio::awaitable<void> MemberService::remove_member(std::string actor, std::string chat_id, std::string user_id) {
    require_uuid(user_id, "user_id");
    require_uuid(chat_id, "chat_id");
    const auto access = co_await writes_.access(chat_id);
    standing_in(access.get(), actor);
    // The chat ends when its last member, the owner, leaves: its media bytes are released, and
    // its deletion (all its messages) commits alone.
    const auto weight = access->members.size() <= 1 ? store::Weight::heavy : store::Weight::light;
    auto released = co_await writes_.commit(
        chat_id,
        [actor, chat_id, user_id](store::Tx& tx) {
            const auto actor_now = lock_standing(tx, chat_id, actor);
            const bool leaving = user_id == actor;
            rules::may_remove_member(actor_now, std::nullopt, leaving);  // before telling who is a member
            const auto target = store::members::find(tx, chat_id, user_id);
            if (!target) throw not_found("member");
            rules::may_remove_member(actor_now, target->role, leaving);
            Outcome<std::vector<std::string>> outcome;
            store::members::remove(tx, chat_id, user_id);
            const bool owner_leaves = target->role == Role::owner;
            const auto heir = owner_leaves ? store::members::successor(tx, chat_id, user_id) : std::nullopt;
            outcome.effects.in_chat(Occasion::member_removed, MemberRemoved{chat_id, user_id}, chat_id,
                                    {.actor = actor, .subject = user_id});
            if (owner_leaves && !heir) {
                outcome.value = delete_group(tx, outcome.effects, chat_id);
                return outcome;
            }
            const auto actor_name = name_of(tx, actor);
            if (rules::notes_membership(actor_now.type, actor_now.large))
                deliver_message(outcome.effects,
                                leaving ? write_system(tx, chat_id, actor, actor_name + " left", "member.left", user_id)
                                        : write_system(tx, chat_id, actor,
                                                       actor_name + " removed " + target->user.display_name,
                                                       "member.removed", user_id));
            if (heir) {
                store::members::set_role(tx, chat_id, *heir, Role::owner);
                const auto heir_row = stored_member(tx, chat_id, *heir);
                deliver_message(outcome.effects,
                                write_system(tx, chat_id, actor, heir_row.user.display_name + " is now the owner",
                                             "chat.owner_changed", *heir));
                announce_member(tx, outcome.effects, Occasion::role_changed, heir_row, actor);
            }
            outcome.effects.cache_change = [chat_id, user_id, heir](AccessCache& cache) {
                cache.update(chat_id, [&](ChatAccess& a) {
                    a.remove(user_id);
                    if (heir) a.set_role(*heir, Role::owner);
                });
            };
            return outcome;
        },
        weight);
    co_await release_bytes(writes_.pool(), storage_, std::move(released));
}

boost::asio::awaitable<Ban> MemberService::ban(std::string actor, std::string chat_id, std::string user_id,
                                               std::optional<Timestamp> until) {
    require_uuid(user_id, "user_id");
    // A ban that has ended already would remove the member and keep nobody out.
    if (until && *until <= model::now()) throw bad_request("until must be in the future", "until");
    rules::may_ban(co_await writes_.standing(chat_id, actor), std::nullopt, actor == user_id);
    co_return co_await writes_.commit(chat_id, [actor, chat_id, user_id, until](store::Tx& tx) {
        const auto actor_now = lock_standing(tx, chat_id, actor);
        const auto target = store::members::find(tx, chat_id, user_id);
        rules::may_ban(actor_now, target ? std::optional<Role>{target->role} : std::nullopt, actor == user_id);
        if (!target && !store::users::find(tx, user_id)) throw not_found("user");
        Outcome<Ban> outcome;
        if (target) {
            store::members::remove(tx, chat_id, user_id);
            outcome.effects.in_chat(Occasion::member_removed, MemberRemoved{chat_id, user_id}, chat_id,
                                    {.actor = actor, .subject = user_id});
            if (rules::notes_membership(actor_now.type, actor_now.large))
                deliver_message(outcome.effects,
                                write_system(tx, chat_id, actor,
                                             name_of(tx, actor) + " banned " + target->user.display_name,
                                             "member.banned", user_id));
            outcome.effects.cache_change = [chat_id, user_id](AccessCache& cache) {
                cache.update(chat_id, [&](ChatAccess& a) { a.remove(user_id); });
            };
        }
        store::invitations::remove_for(tx, chat_id, {user_id});
        outcome.value = store::bans::put(tx, chat_id, user_id, actor, until);
        return outcome;
    });
}

boost::asio::awaitable<void> MemberService::unban(std::string actor, std::string chat_id, std::string user_id) {
    require_uuid(user_id, "user_id");
    rules::may_ban(co_await writes_.standing(chat_id, actor), std::nullopt, actor == user_id);
    co_await writes_.commit(chat_id, [actor, chat_id, user_id](store::Tx& tx) {
        rules::may_ban(lock_standing(tx, chat_id, actor), std::nullopt, actor == user_id);
        if (!store::bans::remove(tx, chat_id, user_id)) throw not_found("ban");
        return Outcome<bool>{true, {}};
    });
}

boost::asio::awaitable<ListPage<Ban>> MemberService::bans(std::string actor, std::string chat_id,
                                                          std::optional<ListPlace> after, int limit) {
    if (after) require_uuid(after->id, "cursor");
    rules::may_ban(co_await writes_.standing(chat_id, actor), std::nullopt, false);
    auto rows = co_await writes_.pool().run(
        [chat_id, after, limit](store::Tx& tx) { return store::bans::in_force(tx, chat_id, after, limit + 1); });
    co_return list_page(std::move(rows), limit);
}

}  // namespace confab::domain
