#pragma once

#include "confab/store/chats.hpp"

#include <array>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace confab::domain {

using ChatAccess = store::ChatAccess;

// Who belongs to each chat and with what role, plus its settings: what permission checks
// and event fan-out read, so neither queries the database per frame. The database is the
// truth: entries are loaded on demand and every write path updates them while holding the
// chat's order mutex, right after its commit. Entries are immutable snapshots; an update
// replaces the pointer, so readers never hold a lock while they work.
class AccessCache {
public:
    // The mutex that orders a chat's commits, cache updates and event publication.
    std::mutex& order_of(const std::string& chat_id);

    std::shared_ptr<const ChatAccess> find(const std::string& chat_id) const;
    // As find, loading a missing entry in `tx` (on a database thread) under the chat's order
    // mutex: every commit the load cannot see has yet to take that mutex, and will apply its
    // change to the entry put here. nullptr when no such chat. The caller must not hold the
    // order mutex.
    std::shared_ptr<const ChatAccess> find_or_load(pqxx::transaction_base& tx, const std::string& chat_id);
    void put(const std::string& chat_id, ChatAccess access);
    // Applies a change to a cached entry (no-op when the chat is not cached).
    void update(const std::string& chat_id, const std::function<void(ChatAccess&)>& change);
    void erase(const std::string& chat_id);

private:
    static constexpr std::size_t stripes = 64;
    std::array<std::mutex, stripes> order_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::shared_ptr<const ChatAccess>> entries_;
};

}  // namespace confab::domain
