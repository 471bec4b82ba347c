#include "confab/domain/commit.hpp"

#include "confab/domain/rules.hpp"
#include "confab/domain/validation.hpp"
#include "confab/store/messages.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <unordered_map>

namespace confab::domain {

boost::asio::awaitable<std::shared_ptr<const ChatAccess>> ChatWrites::cached_access(const std::string& chat_id) {
    if (auto hit = cache_.find(chat_id)) co_return hit;
    co_return co_await pool_.run([this, chat_id](store::Tx& tx) { return cache_.find_or_load(tx, chat_id); });
}

boost::asio::awaitable<std::shared_ptr<const ChatAccess>> ChatWrites::access(const std::string& chat_id) {
    if (!other_nodes_) co_return co_await cached_access(chat_id);
    const auto version =
        co_await pool_.read([chat_id](store::Tx& tx) { return store::chats::access_version(tx, chat_id); });
    if (!version) co_return nullptr;
    if (auto hit = cache_.find(chat_id); hit && hit->version == *version) co_return hit;
    co_return co_await pool_.run(
        [this, chat_id, version](store::Tx& tx) { return cache_.find_or_load(tx, chat_id, version); });
}

boost::asio::awaitable<Standing> ChatWrites::standing(const std::string& chat_id, const std::string& actor) {
    require_uuid(chat_id, "chat_id");
    co_return standing_in((co_await access(chat_id)).get(), actor);
}

boost::asio::awaitable<std::pair<Message, Standing>> ChatWrites::visible_message(const std::string& actor,
                                                                                 const std::string& message_id) {
    require_uuid(message_id, "message_id");
    auto message =
        co_await pool_.run([actor, message_id](store::Tx& tx) { return store::messages::find(tx, message_id, actor); });
    if (!message) throw not_found("message");
    const auto standing = standing_in((co_await access(message->chat_id)).get(), actor, "message");
    co_return std::pair<Message, Standing>{std::move(*message), standing};
}

ChatWrites::CaughtUp ChatWrites::catch_up(store::Tx& tx, const std::string& chat_id) {
    const auto locked = store::chats::lock(tx, chat_id);
    if (!locked) return {};
    return {cache_.seen_in(tx, chat_id, locked->access_version), locked->last_seq};
}

namespace {

// The staff of a chat whose members do not hear of each other (rules::hears_each_member):
// drawn from the few members above `member`, not from all of a large group's.
std::vector<std::string> staff_of(const ChatAccess& access) {
    std::vector<std::string> staff;
    for (const auto& [user, role] : access.members.promoted())
        if (rules::is_staff(role)) staff.push_back(user);
    return staff;
}

}  // namespace

// The chats' members and staff as cached now, each chat's looked at once however many of
// its events a write publishes: adding 1,000 members to a large group publishes 1,000
// member events, and walking its 100,000 members for each cost seconds.
class ChatWrites::Circles {
public:
    Circles(AccessCache& cache, const EventSink& events) : cache_(cache), events_(events) {}

    // The facts of an event among the chat's members: the members, when the occasion's
    // audience is drawn from them, and the staff of a chat whose members are kept apart.
    Facts around(Occasion occasion, const std::string& chat_id, Facts facts) {
        auto [found, first_look] = circles_.try_emplace(chat_id);
        auto& circle = found->second;
        if (first_look) {
            circle.access = cache_.find(chat_id);
            if (circle.access && !rules::hears_each_member(circle.access->type, circle.access->large))
                circle.staff = staff_of(*circle.access);
        }
        if (!circle.access) return facts;
        facts.staff = circle.staff;
        if (draws_on_members(circle.staff ? audience_in_channel(occasion) : audience_of(occasion)))
            facts.members = addressed(*circle.access, circle.staff.has_value());
        return facts;
    }

private:
    struct Circle {
        std::shared_ptr<const ChatAccess> access;
        std::optional<std::vector<std::string>> staff;
    };

    // The members an event is addressed to: in a chat whose members are kept apart (a
    // channel, a large group: up to 100,000 of them) those the sink can reach, when it can
    // tell; else all of them.
    std::vector<std::string> addressed(const ChatAccess& access, bool kept_apart) const {
        if (kept_apart)
            if (auto reachable = events_.reachable_members(access.members)) return std::move(*reachable);
        std::vector<std::string> members;
        members.reserve(access.members.size());
        for (const auto& [user, role] : access.members) members.push_back(user);
        return members;
    }

    AccessCache& cache_;
    const EventSink& events_;
    std::unordered_map<std::string, Circle> circles_;
};

void ChangedChats::add(const std::string& chat_id) {
    const std::scoped_lock lock(mutex_);
    chats_.insert(chat_id);
}

void ChangedChats::move_into(std::set<std::string>& chats) {
    const std::scoped_lock lock(mutex_);
    chats.merge(chats_);
    chats_.clear();  // those `chats` held already
}

void ChatWrites::changed(const std::string& chat_id) {
    if (watchers_.empty() || !is_uuid(chat_id)) return;
    for (const auto& watcher : watchers_) watcher->add(chat_id);
}

void ChatWrites::apply(Effects& effects, const std::string& chat_id) {
    ++commits_;
    changed(chat_id);
    if (effects.cache_change) effects.cache_change(cache_);
    Circles circles(cache_, events_);
    // On a cluster each event follows the chat's latest message before it: the one the write's
    // transaction saw, then each message.new of the chat the write publishes (a removal's system
    // message, a send's own message before its mentions). A single node needs no order: its
    // commit order is already every connection's.
    std::optional<AfterMessage> after;
    if (other_nodes_ && effects.order_after) after = AfterMessage{chat_id, *effects.order_after};
    for (auto& delivery : effects.deliveries) {
        auto facts = std::move(delivery.facts);
        if (delivery.members_of) facts = circles.around(delivery.occasion, *delivery.members_of, std::move(facts));
        const auto* created = std::get_if<MessageCreated>(&delivery.event);
        const auto seq = created && created->message.chat_id == chat_id ? created->message.seq : std::int64_t{0};
        // A direct chat's first message is written under its users' pair, not the chat's id.
        if (created && created->message.chat_id != chat_id) changed(created->message.chat_id);
        publish_after(delivery.occasion, std::move(delivery.event), std::move(facts), after);
        if (other_nodes_ && seq > 0 && (!after || after->seq < seq)) after = AfterMessage{chat_id, seq};
    }
}

void ChatWrites::publish(Occasion occasion, Event event, Facts facts) {
    publish_after(occasion, std::move(event), std::move(facts), std::nullopt);
}

void ChatWrites::publish_after(Occasion occasion, Event event, Facts facts, const std::optional<AfterMessage>& after) {
    for (const auto& parcel : address(occasion, std::move(event), std::move(facts)))
        events_.publish(parcel.event, parcel.recipients, after);
}

void ChatWrites::publish_in_chat(Occasion occasion, Event event, const std::string& chat_id, Facts facts) {
    publish(occasion, std::move(event), Circles(cache_, events_).around(occasion, chat_id, std::move(facts)));
}

store::Weight weight_for(std::size_t rows) {
    constexpr std::size_t most_rows_grouped = 32;
    return rows > most_rows_grouped ? store::Weight::heavy : store::Weight::light;
}

Standing standing_in(const ChatAccess* access, const std::string& user_id, const std::string& what) {
    if (access) {
        if (const auto* role = access->members.find(user_id)) {
            const auto muted = access->muted_until.find(user_id);
            const auto& blockers = access->blockers;
            const bool blocks_other = std::find(blockers.begin(), blockers.end(), user_id) != blockers.end();
            Standing standing{access->type, access->settings, *role,
                              muted != access->muted_until.end() && muted->second > model::now(),
                              direct_block(blocks_other, blocks_other ? blockers.size() > 1 : !blockers.empty())};
            if (const auto custom = access->custom_grants.find(user_id); custom != access->custom_grants.end())
                standing.custom_grants = custom->second;
            standing.large = access->large;
            return standing;
        }
    }
    throw not_found(what);
}

Standing lock_standing(store::Tx& tx, const std::string& chat_id, const std::string& user_id, const std::string& what) {
    if (!store::chats::lock(tx, chat_id)) throw not_found(what);
    auto standing = store::members::standing(tx, chat_id, user_id);
    if (!standing) throw not_found(what);
    return *standing;
}

}  // namespace confab::domain
