#include "confab/domain/chat_service.hpp"

#include "confab/domain/group_writes.hpp"
#include "confab/domain/media_service.hpp"

#include "confab/domain/rules.hpp"
#include "confab/domain/validation.hpp"
#include "confab/store/bans.hpp"
#include "confab/store/chats.hpp"
#include "confab/store/messages.hpp"
#include "confab/store/user_blocks.hpp"
#include "confab/store/users.hpp"

#include <algorithm>
#include <functional>
#include <set>

namespace confab::domain {
namespace {

void validate_title(const std::string& title, const config::Limits& limits) {
    const auto length = code_points(title);
    if (length < 1 || length > limits.title_chars)
        throw bad_request("title must be 1-" + std::to_string(limits.title_chars) + " characters", "title");
    if (!is_plain_text(title))
        throw bad_request("title must not contain control or bidirectional formatting characters", "title");
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

// The pair's existing direct chat, shown again to the actor who had hidden it: on every
// device of theirs, as a message into it would.
Outcome<Created> reopened(store::Tx& tx, const std::string& chat_id, const std::string& actor) {
    Outcome<Created> outcome;
    if (store::chats::set_hidden(tx, chat_id, actor, false))
        announce_shown_again(tx, outcome.effects, chat_id, {actor});
    outcome.value = {view_of(tx, chat_id, actor), false};
    return outcome;
}

// The members a chat view goes to, each with their own `me` (chat.created, chat.updated).
Facts viewers(const std::vector<std::pair<std::string, Membership>>& standings) {
    Facts facts;
    for (const auto& [user, me] : standings) {
        facts.members.push_back(user);
        facts.memberships.emplace(user, me);
    }
    return facts;
}

// chat.updated to every member, each with their own `me`, and the chat's last message as
// members see it; a member who hid that message for themself gets the chat as their chat list
// shows it, with the newest message they have not hidden.
void announce_update(store::Tx& tx, Effects& effects, ChatView view, const Standing& actor) {
    auto standings = store::members::standings(tx, view.chat.id);
    if (view.last_message) {
        const auto hid_last = store::messages::hidden_by(tx, view.last_message->id);
        const auto hider = [&hid_last](const auto& standing) {
            return std::find(hid_last.begin(), hid_last.end(), standing.first) != hid_last.end();
        };
        const auto hiders = std::stable_partition(standings.begin(), standings.end(), std::not_fn(hider));
        for (auto it = hiders; it != standings.end(); ++it)
            effects.deliver(Occasion::chat_updated, ChatUpdated{view_of(tx, view.chat.id, it->first)}, viewers({*it}));
        standings.erase(hiders, standings.end());
        view.last_message = as_members_see(tx, *view.last_message, actor);
    }
    effects.deliver(Occasion::chat_updated, ChatUpdated{std::move(view)}, viewers(standings));
}

ChatAccess access_of(ChatType type, const ChatSettings& settings,
                     const std::vector<std::pair<std::string, Membership>>& standings) {
    ChatAccess access{type, settings, {}, {}};
    for (const auto& [user, me] : standings) access.members.emplace(user, me.role);
    return access;
}

std::string settings_summary(const ChatSettings& settings) {
    auto flag = [](bool on) { return on ? "on" : "off"; };
    return std::string("only admins can post: ") + flag(settings.only_admins_can_post) +
           ", only admins can edit info: " + flag(settings.only_admins_can_edit_info) +
           ", only admins can add members: " + flag(settings.only_admins_can_add_members) +
           ", only admins can pin: " + flag(settings.only_admins_can_pin) +
           ", only admins can mention everyone: " + flag(settings.only_admins_can_mention_all) + ", slow mode: " +
           (settings.slow_mode_seconds > 0 ? std::to_string(settings.slow_mode_seconds) + " seconds" : "off");
}

void validate_settings(const SettingsPatch& settings) {
    if (settings.slow_mode_seconds) rules::check_slow_mode_seconds(*settings.slow_mode_seconds);
}

Error handle_taken() { return with_reason(ErrorCode::conflict, "the handle is taken", "handle_taken", "handle"); }

// A channel's handle and publicity as the update leaves them, checked against its kind and
// against the other chats' handles; what the update does not name stays as it was.
store::ChannelChanges channel_changes(store::Tx& tx, const ChatView& before, const ChatUpdate& update) {
    const auto handle = update.handle.value_or(before.chat.handle);
    const bool is_public = update.is_public.value_or(before.chat.is_public);
    rules::check_channel_fields(before.chat.type, handle.has_value(), is_public);
    if (update.handle && *update.handle && store::chats::handle_taken(tx, **update.handle, before.chat.id))
        throw handle_taken();
    return {update.handle, update.is_public};
}

}  // namespace

ChatSettings SettingsPatch::applied_to(ChatSettings settings) const {
    settings.only_admins_can_post = only_admins_can_post.value_or(settings.only_admins_can_post);
    settings.only_admins_can_edit_info = only_admins_can_edit_info.value_or(settings.only_admins_can_edit_info);
    settings.only_admins_can_add_members = only_admins_can_add_members.value_or(settings.only_admins_can_add_members);
    settings.only_admins_can_pin = only_admins_can_pin.value_or(settings.only_admins_can_pin);
    settings.only_admins_can_mention_all = only_admins_can_mention_all.value_or(settings.only_admins_can_mention_all);
    settings.slow_mode_seconds = slow_mode_seconds.value_or(settings.slow_mode_seconds);
    return settings;
}

bool SettingsPatch::empty() const {
    return !only_admins_can_post && !only_admins_can_edit_info && !only_admins_can_add_members &&
           !only_admins_can_pin && !only_admins_can_mention_all && !slow_mode_seconds;
}

boost::asio::awaitable<Created> ChatService::create_direct(std::string actor, std::string other) {
    require_uuid(other, "member_ids");
    if (other == actor) throw bad_request("a direct chat needs another user", "member_ids");
    const auto key = std::min(actor, other) + ":" + std::max(actor, other);
    auto created = co_await writes_.commit(key, [actor, other, key](store::Tx& tx) {
        require_users_exist(tx, {other});
        rules::may_message_directly(store::user_blocks::between(tx, actor, other));
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
        outcome.effects.deliver(Occasion::chat_created, ChatCreated{view}, viewers(standings));
        outcome.value = {std::move(view), true};
        return outcome;
    });
    if (created.created) writes_.track({"chat.created", actor, created.view.chat.id, "direct"});
    co_return created;
}

boost::asio::awaitable<ChatView> ChatService::create_group(std::string actor, NewGroup group) {
    validate_title(group.title, limits_);
    require_avatar_url(group.avatar_url);
    validate_settings(group.settings);
    auto named = others(group.member_ids, actor);
    if (named.size() + 1 > limits_.group_members) throw Error(ErrorCode::conflict, "too many members", "member_ids");
    store::NewChat chat;
    chat.type = ChatType::group;
    chat.title = group.title;
    chat.avatar_url = group.avatar_url;
    chat.settings = group.settings.applied_to({});
    chat.metadata = group.metadata ? group.metadata->text : "{}";
    chat.created_by = actor;
    auto view = co_await writes_.commit(
        actor,
        [actor, named, chat](store::Tx& tx) {
            const auto consent = consent_of(tx, actor, named);
            const auto chat_id = store::chats::insert(tx, chat).value();  // a group has no direct_key to collide
            store::members::insert(tx, chat_id, actor, Role::owner);
            for (const auto& user : consent.joining) store::members::insert(tx, chat_id, user, Role::member);
            Outcome<ChatView> outcome{view_of(tx, chat_id, actor), {}};
            invite(tx, outcome.effects, chat_id, actor, consent.asked);
            const auto standings = store::members::standings(tx, chat_id);
            outcome.effects.cache_change = [chat_id, access = access_of(ChatType::group, chat.settings, standings)](
                                               AccessCache& cache) { cache.put(chat_id, access); };
            outcome.effects.deliver(Occasion::chat_created, ChatCreated{outcome.value}, viewers(standings));
            return outcome;
        },
        weight_for(named.size()));
    writes_.track({"chat.created", actor, view.chat.id, "group"});
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
    co_await writes_.standing(chat_id, actor);
    auto view =
        co_await writes_.pool().run([actor, chat_id](store::Tx& tx) { return store::chats::view(tx, chat_id, actor); });
    if (!view) throw not_found("chat");
    co_return std::move(*view);
}

boost::asio::awaitable<ChatView> ChatService::update(std::string actor, std::string chat_id, ChatUpdate update) {
    if (update.title) validate_title(*update.title, limits_);
    if (update.avatar_url) require_avatar_url(*update.avatar_url);
    if (update.handle && *update.handle) rules::check_handle(**update.handle);
    validate_settings(update.settings);
    // A channel's handle and publicity are its admins' to change, as settings are.
    const bool changes_settings = !update.settings.empty() || update.handle || update.is_public;
    const bool changes_info = update.title || update.avatar_url || update.metadata;
    // `large` asks only what making a group large asks (the owner), and sent back as it is nothing.
    const auto may_update = [&update, changes_info, changes_settings](const Standing& standing) {
        if (update.large) rules::may_make_large(standing, *update.large);
        if (changes_info || changes_settings) rules::may_update_chat(standing, changes_info, changes_settings);
    };
    const auto standing = co_await writes_.standing(chat_id, actor);
    if (!update.settings.empty()) rules::may_have_settings(standing);
    may_update(standing);
    co_return co_await writes_.commit(chat_id, [actor, chat_id, update, may_update](store::Tx& tx) {
        const auto now = lock_standing(tx, chat_id, actor);
        may_update(now);
        const bool becomes_large = update.large.value_or(false) && !now.large;
        const auto before = view_of(tx, chat_id, actor);
        // Settings the request leaves out keep their value as of the lock, not as cached.
        const auto settings = update.settings.applied_to(now.settings);
        const bool channel_changed = (update.handle || update.is_public) &&
                                     store::chats::set_channel_fields(tx, chat_id, channel_changes(tx, before, update));
        if (becomes_large) store::chats::make_large(tx, chat_id);
        const bool chat_changed =
            store::chats::update(tx, chat_id,
                                 {update.title, update.avatar_url, settings,
                                  update.metadata ? std::optional<std::string>(update.metadata->text) : std::nullopt});
        Outcome<ChatView> outcome;
        // What the chat already has: nothing to write or tell.
        if (!channel_changed && !becomes_large && !chat_changed) {
            outcome.value = before;
            return outcome;
        }
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
        if (becomes_large)
            deliver_message(outcome.effects, write_system(tx, chat_id, actor, actor_name + " made this a large group",
                                                          "chat.made_large"));
        outcome.value = view_of(tx, chat_id, actor);
        announce_update(tx, outcome.effects, outcome.value, now);
        outcome.effects.cache_change = [chat_id, settings, large = now.large || becomes_large](AccessCache& cache) {
            cache.update(chat_id, [&](ChatAccess& a) {
                a.settings = settings;
                a.large = large;
            });
        };
        return outcome;
    });
}

boost::asio::awaitable<void> ChatService::remove(std::string actor, std::string chat_id) {
    const auto standing = co_await writes_.standing(chat_id, actor);
    rules::may_delete_chat(standing);
    // A deleted group's media bytes are released once it is gone. Its deletion (all its
    // messages) commits alone; leaving a direct chat hides it, one row.
    const auto weight = standing.type == ChatType::direct ? store::Weight::light : store::Weight::heavy;
    auto released = co_await writes_.commit(
        chat_id,
        [actor, chat_id](store::Tx& tx) {
            const auto now = lock_standing(tx, chat_id, actor);
            rules::may_delete_chat(now);
            Outcome<std::vector<std::string>> outcome;
            if (now.type == ChatType::direct) {  // leaving a direct chat hides it until its next message
                store::chats::set_hidden(tx, chat_id, actor, true);
                outcome.effects.deliver(Occasion::chat_hidden, ChatDeleted{chat_id}, {.actor = actor});
                return outcome;
            }
            outcome.effects.deliver(Occasion::chat_deleted, ChatDeleted{chat_id},
                                    {.members = store::members::user_ids(tx, chat_id), .actor = actor});
            outcome.value = delete_group(tx, outcome.effects, chat_id);
            return outcome;
        },
        weight);
    co_await release_bytes(writes_.pool(), storage_, std::move(released));
}

boost::asio::awaitable<ChatView> ChatService::create_channel(std::string actor, NewChannel channel) {
    validate_title(channel.title, limits_);
    require_avatar_url(channel.avatar_url);
    if (channel.handle) rules::check_handle(*channel.handle);
    rules::check_channel_fields(ChatType::channel, channel.handle.has_value(), channel.is_public);
    store::NewChat chat;
    chat.type = ChatType::channel;
    chat.title = channel.title;
    chat.avatar_url = channel.avatar_url;
    chat.metadata = channel.metadata ? channel.metadata->text : "{}";
    chat.created_by = actor;
    chat.handle = channel.handle;
    chat.is_public = channel.is_public;
    auto view = co_await writes_.commit(actor, [actor, chat](store::Tx& tx) {
        const auto chat_id = store::chats::insert(tx, chat);
        if (!chat_id) throw handle_taken();  // a channel has no direct_key: its handle collided
        store::members::insert(tx, *chat_id, actor, Role::owner);
        Outcome<ChatView> outcome{view_of(tx, *chat_id, actor), {}};
        const auto standings = store::members::standings(tx, *chat_id);
        outcome.effects.cache_change = [id = *chat_id, access = access_of(ChatType::channel, chat.settings, standings)](
                                           AccessCache& cache) { cache.put(id, access); };
        outcome.effects.deliver(Occasion::chat_created, ChatCreated{outcome.value}, viewers(standings));
        return outcome;
    });
    writes_.track({"chat.created", actor, view.chat.id, "channel"});
    co_return view;
}

boost::asio::awaitable<ChannelPage> ChatService::search_channels(std::string actor, std::string query,
                                                                 std::optional<std::string> after, int limit) {
    auto found = co_await writes_.pool().run([actor, query, after, limit](store::Tx& tx) {
        return store::chats::search_channels(tx, query, after, limit + 1, actor);
    });
    ChannelPage page;
    page.has_more = static_cast<int>(found.size()) > limit;
    if (page.has_more) found.pop_back();
    page.channels = std::move(found);
    co_return page;
}

boost::asio::awaitable<Channel> ChatService::find_channel(std::string actor, std::string handle) {
    if (!rules::is_handle(handle)) throw not_found("channel");
    auto channel = co_await writes_.pool().run(
        [actor, handle](store::Tx& tx) { return store::chats::find_channel(tx, handle, actor); });
    // A private channel is not told to who is not in it.
    if (!channel || (!channel->is_public && !channel->joined)) throw not_found("channel");
    co_return std::move(*channel);
}

boost::asio::awaitable<ChatView> ChatService::join_channel(std::string actor, std::string handle) {
    const auto chat_id = (co_await find_channel(actor, handle)).id;
    co_return co_await writes_.commit(chat_id, [actor, chat_id, handle](store::Tx& tx) {
        // Whether it is still public, and the actor not yet in it, as of the chat's lock.
        const auto channel =
            store::chats::lock(tx, chat_id) ? store::chats::find_channel(tx, handle, actor) : std::nullopt;
        if (!channel || channel->id != chat_id) throw not_found("channel");
        Outcome<ChatView> outcome;
        if (channel->joined) {
            outcome.value = view_of(tx, chat_id, actor);
            return outcome;
        }
        rules::may_join_channel(ChatType::channel, channel->is_public,
                                !store::bans::banned_among(tx, chat_id, {actor}).empty());
        store::members::insert(tx, chat_id, actor, Role::member);
        store::invitations::remove_for(tx, chat_id, {actor});
        outcome.value = view_of(tx, chat_id, actor);
        announce_joins(tx, outcome.effects, chat_id, outcome.value, {member_of(tx, chat_id, actor)}, {});
        return outcome;
    });
}

}  // namespace confab::domain
