#pragma once

#include "confab/domain/access_cache.hpp"
#include "confab/domain/analytics.hpp"
#include "confab/domain/audience.hpp"
#include "confab/domain/model.hpp"
#include "confab/domain/events.hpp"
#include "confab/domain/validation.hpp"
#include "confab/store/pool.hpp"

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

// The shape every chat write takes: load the chat's access (cached), run one transaction,
// and after its commit -- still under the chat's order mutex -- update the cache and
// publish the events, so that every connection sees a chat's events in commit order.
//
// The ordering path, step by step (docs/architecture.md, "Ordering and the write path"):
// 1. Stripe: ChatWrites::commit (or commit_batched) pins the chat in the cache and names
//    its order mutex, AccessCache::order_of: one of 64 stripes picked by the chat id's hash.
// 2. Lane: store::Pool::run(fn, order, after_commit) queues the write in the lane that
//    mutex maps to (Pool::lane_of), so a chat's writes keep their order; a lane runs one
//    group at a time, lanes run side by side (Pool::worker, src/store/pool.cpp). A heavy
//    write (weight_for) commits alone, its chat set aside from its lane meanwhile.
// 3. Commit: Pool::commit runs the group in one transaction, takes the order mutexes of
//    its committed writes (Pool::lock_orders), COMMITs, and under them runs each write's
//    after_commit, then resumes its caller.
// 4. Publish: after_commit is ChatWrites::apply (commit.cpp): the cache change, then each
//    event to its recipients through EventSink, api::EventPublisher
//    (src/api/event_publisher.cpp), which serializes it once for realtime::Hub::send_to_users.
// 5. Hand-off: the hub only queues, under its own lock; one drain at a time on an I/O
//    thread hands each connection its frames as one batch (src/realtime/hub.cpp), which
//    net::WsSession queues on its CoalescingStream in that order, one write per burst.
namespace confab::domain {

// An event of a write, published once the write has committed (audience.hpp says to whom).
struct Delivery {
    Occasion occasion;
    Event event;
    Facts facts;
    // The chat whose members, as the cache knows them after the cache change, are the
    // facts' members; unset when the write gives them itself.
    std::optional<std::string> members_of;
};

struct Effects {
    std::function<void(AccessCache&)> cache_change;
    std::vector<Delivery> deliveries;
    // On a cluster: the seq of the chat's latest message when the write committed, as its
    // transaction read it under the chat's row lock (ChatWrites::commit). The write's events go
    // out after that message on every node, and after each message.new it publishes before them.
    std::optional<std::int64_t> order_after;

    // The write's transaction loaded the chat's access (AccessCache::seen_in): it goes into the
    // cache once committed, before the write's own change and its events.
    void keep_seen(const std::string& chat_id, const AccessCache::Seen& seen) {
        if (!seen.loaded || !seen.access) return;
        cache_change = [chat_id, access = seen.access, then = std::move(cache_change)](AccessCache& cache) {
            cache.keep(chat_id, access);
            if (then) then(cache);
        };
    }

    // The event to the occasion's audience among the chat's members (as the cache knows
    // them after cache_change).
    void in_chat(Occasion occasion, Event event, const std::string& chat_id, Facts facts = {}) {
        deliveries.push_back({occasion, std::move(event), std::move(facts), chat_id});
    }
    // The event to the occasion's audience under the facts alone.
    void deliver(Occasion occasion, Event event, Facts facts) {
        deliveries.push_back({occasion, std::move(event), std::move(facts), std::nullopt});
    }
};

// The chats this node's writes changed since a loop that acts on committed changes (push,
// webhooks) last took them: it looks at those between its full looks (FullLooks).
class ChangedChats {
public:
    void add(const std::string& chat_id);
    // Takes them into `chats`, the loop's own set of chats to look at.
    void move_into(std::set<std::string>& chats);

private:
    std::mutex mutex_;
    std::set<std::string> chats_;
};

template <class T>
struct Outcome {
    T value;
    Effects effects;
};

class ChatWrites {
public:
    ChatWrites(store::Pool& pool, AccessCache& cache, EventSink& events, Analytics& analytics)
        : pool_(pool), cache_(cache), events_(events), analytics_(analytics) {}

    // The chat's access as committed now, loaded from the database on a miss; nullptr when no
    // such chat. On a node that shares its chats with others, the cached entry is first checked
    // against the chat's access version: another node's change (a member removed or added, a
    // role given) may not have crossed NATS yet, and a check or a typing event's recipients
    // must not go by the chat as it was.
    boost::asio::awaitable<std::shared_ptr<const ChatAccess>> access(const std::string& chat_id);

    // The actor's standing in the chat, from the cached access: bad_request for a malformed
    // id, not_found for a non-member.
    boost::asio::awaitable<Standing> standing(const std::string& chat_id, const std::string& actor);

    // A message and the caller's standing in its chat: bad_request for a malformed id,
    // not_found for an unknown message or a caller who is not a member (who learns nothing).
    boost::asio::awaitable<std::pair<Message, Standing>> visible_message(const std::string& actor,
                                                                         const std::string& message_id);

    // Runs fn(tx) -> Outcome<T> and applies its effects in commit order; returns the value.
    // A write whose cost grows with its caller's input is heavy (weight_for): it commits
    // alone, holding no other chat's writes for its length (store::Weight).
    template <class Fn>
    auto commit(const std::string& chat_id, Fn&& fn, store::Weight weight = store::Weight::light)
        -> boost::asio::awaitable<decltype(std::declval<std::decay_t<Fn>&>()(std::declval<store::Tx&>()).value)> {
        // Cached, and pinned until its events are published. An order key that is no chat id
        // (the user pair of a direct chat not yet created) has nothing to load.
        const AccessCache::Pin pin(cache_, chat_id);
        const bool is_chat = is_uuid(chat_id);
        if (is_chat) co_await cached_access(chat_id);
        auto outcome = co_await pool_.run(
            [this, &chat_id, is_chat, &fn](store::Tx& tx) {
                const auto caught_up = is_chat && other_nodes_ ? catch_up(tx, chat_id) : CaughtUp{};
                auto written = fn(tx);
                written.effects.keep_seen(chat_id, caught_up.seen);
                written.effects.order_after = caught_up.last_seq;
                return written;
            },
            cache_.order_of(chat_id), [this, &chat_id](auto& result) { apply(result.effects, chat_id); }, weight);
        co_return std::move(outcome.value);
    }

    // As commit, for a write that can be batched with others of its writer.
    template <class Input, class T>
    boost::asio::awaitable<T> commit_batched(const std::string& chat_id, Input input,
                                             store::BatchWriter<Input, Outcome<T>>& writer,
                                             store::Weight weight = store::Weight::light) {
        // Nothing is awaited before the write is queued (sends keep their order); the writer
        // loads the access in its transaction, after this pin.
        const AccessCache::Pin pin(cache_, chat_id);
        auto outcome = co_await pool_.run_batched(
            std::move(input), writer, cache_.order_of(chat_id),
            [this, &chat_id](auto& result) { apply(result.effects, chat_id); }, weight);
        co_return std::move(outcome.value);
    }

    // Publish outside any transaction (typing, presence): no ordering with commits needed.
    // The event to the occasion's audience under the facts alone,
    void publish(Occasion occasion, Event event, Facts facts);
    // or among the chat's members as cached now (none when the chat is not cached).
    void publish_in_chat(Occasion occasion, Event event, const std::string& chat_id, Facts facts = {});

    // A tracked product event; queued, never blocking (see Analytics).
    void track(AnalyticsEvent event) { analytics_.record(std::move(event)); }

    store::Pool& pool() { return pool_; }
    AccessCache& cache() { return cache_; }
    // How many writes this node has committed: the background loops that act on committed
    // changes (push, webhooks) look in the database when it moves (PollGate).
    std::uint64_t commits() const { return commits_.load(); }
    // The chats this node's writes change from now on, for one loop to take. Asked for before
    // the first write (each loop's constructor).
    ChangedChats& watch_changed_chats() { return *watchers_.emplace_back(std::make_unique<ChangedChats>()); }

    // Other nodes write to the same chats (a cluster): each write first locks its chat and
    // reloads the cached access if another node changed it since, so that its checks and its
    // events' recipients are the chat's as of the write. A single node's cache is never behind.
    void shared_with_other_nodes() { other_nodes_ = true; }
    bool shared_with_others() const { return other_nodes_; }

private:
    class Circles;  // commit.cpp
    // The cache change, then the events, of a write to the chat (or the order key that names no chat).
    void apply(Effects& effects, const std::string& chat_id);
    // The event to the occasion's audience under the facts, after that message of its chat when on a cluster.
    void publish_after(Occasion occasion, Event event, Facts facts, const std::optional<AfterMessage>& after);
    // The cached access, loaded on a miss: what a write's own transaction brings up to date.
    boost::asio::awaitable<std::shared_ptr<const ChatAccess>> cached_access(const std::string& chat_id);
    // In a write's transaction: locks the chat and reads its access as of that lock, loaded
    // when the cached entry is behind (for the write to cache once committed, keep_seen), and
    // its latest message's seq, which the write's events follow (Effects::order_after).
    struct CaughtUp {
        AccessCache::Seen seen;
        std::optional<std::int64_t> last_seq;
    };
    CaughtUp catch_up(store::Tx& tx, const std::string& chat_id);

    store::Pool& pool_;
    AccessCache& cache_;
    EventSink& events_;
    Analytics& analytics_;
    bool other_nodes_ = false;
    std::atomic<std::uint64_t> commits_{0};
    std::vector<std::unique_ptr<ChangedChats>> watchers_;
    // Each of the chat ids to every watcher (apply).
    void changed(const std::string& chat_id);
};

// The weight of a write of `rows` rows (members added, messages changed), each named by its
// caller: heavy past a few dozen. A row of these costs PostgreSQL a few milliseconds (a member
// added is a row, a system message and its events), so such a write in a group would hold the
// other chats' writes for tens of milliseconds or, at the limits, seconds.
store::Weight weight_for(std::size_t rows);

// The user's standing in a cached chat; a non-member learns nothing (not_found `what`).
Standing standing_in(const ChatAccess* access, const std::string& user_id, const std::string& what = "chat");

// Inside a write's transaction: locks the chat's row, then reads the user's standing as of
// that lock, which is the state the write applies to. The cached standing checked before
// the write was queued may be stale by then (the user left, or lost a role). not_found
// `what` when the chat is gone or the user is no longer a member.
Standing lock_standing(store::Tx& tx, const std::string& chat_id, const std::string& user_id,
                       const std::string& what = "chat");

}  // namespace confab::domain
