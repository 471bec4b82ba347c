#pragma once

#include "confab/store/chats.hpp"

#include <array>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace confab::domain {

using ChatAccess = store::ChatAccess;

// Who belongs to each chat and with what role, plus its settings: what permission checks
// and event fan-out read, so neither queries the database per frame. The database is the
// truth: entries are loaded on demand and every write path updates them while holding the
// chat's order mutex, right after its commit. Entries are immutable snapshots; an update
// replaces the pointer, so readers never hold a lock while they work.
//
// The cache is bounded by the memberships it holds (`max_members`; a chat weighs its member
// count plus one): past it the least recently used chats are evicted, and are loaded again
// on demand. Eviction only ever drops an entry, and an update applies only to the very
// snapshot it read, so an eviction between the two drops the update with the entry instead
// of bringing back an entry nobody updates; the database, already committed, has the change
// for the next load.
class AccessCache {
public:
    static constexpr std::size_t default_max_members = 1'000'000;
    explicit AccessCache(std::size_t max_members = default_max_members) : max_members_(max_members) {}

    // The mutex that orders a chat's commits, cache updates and event publication.
    std::mutex& order_of(const std::string& chat_id);

    // Marks the entry as recently used.
    std::shared_ptr<const ChatAccess> find(const std::string& chat_id);
    // As find, loading a missing entry in `tx` (on a database thread) under the chat's order
    // mutex: every commit the load cannot see has yet to take that mutex, and will apply its
    // change to the entry put here. Given the access version the transaction locked the chat
    // at (store::chats::lock), an entry of another version is loaded again too: another node
    // changed the chat, or this node did after the entry was loaded. nullptr when no such
    // chat. The caller must not hold the order mutex.
    std::shared_ptr<const ChatAccess> find_or_load(store::Tx& tx, const std::string& chat_id,
                                                   std::optional<std::int64_t> version = std::nullopt);

    // What a write's own transaction sees of the chat: the cached entry when it is current (of
    // `version`, when given), else loaded in `tx` and NOT cached. The transaction may hold
    // changes of the writes before it in its group, uncommitted: were they cached now, the
    // events of writes committed before those changes would go to the members as changed
    // (a member removed would miss messages sent before the removal, one added get them), and
    // a group rolled back would leave them cached. A loaded entry is cached by keep(), from the
    // write's cache change, once committed and in commit order (Effects::keep_seen).
    struct Seen {
        std::shared_ptr<const ChatAccess> access;  // nullptr when no such chat
        bool loaded = false;
    };
    Seen seen_in(store::Tx& tx, const std::string& chat_id, std::optional<std::int64_t> version = std::nullopt);
    // Caches what a committed write's transaction loaded (seen_in) as the chat's entry. Nobody is
    // told: it is the chat as committed, not a change.
    void keep(const std::string& chat_id, std::shared_ptr<const ChatAccess> access);
    void put(const std::string& chat_id, ChatAccess access);
    // Applies a change to a cached entry (no-op when the chat is not cached, or is evicted
    // while the change is made).
    void update(const std::string& chat_id, const std::function<void(ChatAccess&)>& change);
    void erase(const std::string& chat_id);

    // Told of each change this node makes (put, update, erase), cached here or not: a cluster
    // tells the other nodes. Set once, before the first change.
    void on_change(std::function<void(const std::string& chat_id)> told) { on_change_ = std::move(told); }
    // Another node changed the chat: its entry goes, so the next use loads it again. One a
    // write in flight has pinned goes when the last pin does: the write locked the chat and
    // brought the entry up to date for itself (ChatWrites::catch_up), not for what follows.
    void forget(const std::string& chat_id);

    // Keeps a chat's entry from eviction while a write of it is in flight: its events are
    // published to the members in the entry after the commit, so the entry must still be
    // there (ChatWrites pins from before it reads the access until the events are out).
    class Pin {
    public:
        Pin(AccessCache& cache, std::string chat_id);
        ~Pin();
        Pin(const Pin&) = delete;
        Pin& operator=(const Pin&) = delete;

    private:
        AccessCache& cache_;
        std::string chat_id_;
    };

    std::size_t chats() const;
    std::size_t members() const;  // the weight held: members plus one per chat

private:
    struct Entry {
        std::shared_ptr<const ChatAccess> access;
        std::list<std::string>::iterator recency;
        std::size_t weight;
    };
    // The cached entry when it is of `version` (or any, without one), marked recently used.
    std::shared_ptr<const ChatAccess> find_current(const std::string& chat_id, std::optional<std::int64_t> version);
    // Under mutex_: stores `access` as the chat's entry, the most recently used, then evicts
    // the least recently used others while over the bound.
    void store_locked(const std::string& chat_id, std::shared_ptr<const ChatAccess> access);
    void erase_locked(std::unordered_map<std::string, Entry>::iterator entry);

    static constexpr std::size_t stripes = 64;
    std::array<std::mutex, stripes> order_;
    const std::size_t max_members_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Entry> entries_;
    std::list<std::string> recency_;                     // most recently used first
    std::unordered_map<std::string, std::size_t> pins_;  // chats never evicted, with their pin count
    std::unordered_set<std::string> forget_when_unpinned_;
    std::function<void(const std::string&)> on_change_;
    std::size_t weight_ = 0;
};

}  // namespace confab::domain
