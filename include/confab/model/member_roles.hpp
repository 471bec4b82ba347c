#pragma once

#include "confab/model/role.hpp"

#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace confab::model {

// The members of a chat and their roles: a hash map cut into shards that copies share, so a
// copy changed in one member copies that member's shard, not the whole chat. The access
// cache changes a chat by copying its entry, which made every join of a large group copy
// all of its members: O(n) per join and O(n²) to fill a group one join at a time
// (docs/performance.md, Large groups).
//
// Beside the shards it keeps the few members ranked above `member`, so that a chat's staff
// is found without walking a large group's members for every event.
//
// A copy shares the shards of the map it was copied from, which must not change afterwards:
// the access cache copies only its entries, and those are const. A map built or changed in
// place owns its shards and changes them in place.
class MemberRoles {
    using Shard = std::unordered_map<std::string, Role>;
    using Shards = std::vector<std::shared_ptr<Shard>>;

public:
    class const_iterator {
    public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = Shard::value_type;
        using difference_type = std::ptrdiff_t;
        using pointer = const value_type*;
        using reference = const value_type&;

        const_iterator() = default;
        reference operator*() const { return *member_; }
        pointer operator->() const { return &*member_; }
        const_iterator& operator++() {
            ++member_;
            settle();
            return *this;
        }
        const_iterator operator++(int) {
            auto before = *this;
            ++*this;
            return before;
        }
        bool operator==(const const_iterator& other) const {
            return shard_ == other.shard_ && (shard_ == end_ || member_ == other.member_);
        }

    private:
        friend class MemberRoles;
        const_iterator(Shards::const_iterator shard, Shards::const_iterator end);
        void settle();  // moves past the ends of shards to the next member, or to the end

        Shards::const_iterator shard_, end_;
        Shard::const_iterator member_;
    };

    MemberRoles() = default;  // no shards until the first member
    MemberRoles(std::initializer_list<std::pair<const std::string, Role>> members);
    MemberRoles(const MemberRoles& other);
    MemberRoles& operator=(const MemberRoles& other);
    MemberRoles(MemberRoles&& other) noexcept;  // leaves `other` empty
    MemberRoles& operator=(MemberRoles&& other) noexcept;
    ~MemberRoles() = default;

    const Role* find(const std::string& user_id) const;
    bool contains(const std::string& user_id) const { return find(user_id) != nullptr; }
    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    const_iterator begin() const { return {shards_.begin(), shards_.end()}; }
    const_iterator end() const { return {shards_.end(), shards_.end()}; }
    // The members whose role ranks above Role::member, by user id.
    const std::map<std::string, Role>& promoted() const;

    // Makes room for `members` without cutting the shards again while they are added.
    void reserve(std::size_t members);
    // Adds the member unless present (a present member keeps its role): whether it was added.
    bool emplace(const std::string& user_id, Role role);
    void assign(const std::string& user_id, Role role);  // adds, or changes the role
    void erase(const std::string& user_id);

    // How many shards this map has, and how many it shares with `other` (for tests: a copy
    // changed in one member shares all but one).
    std::size_t shard_count() const { return shards_.size(); }
    std::size_t shards_shared_with(const MemberRoles& other) const;

private:
    std::size_t shard_of(const std::string& user_id) const;
    Shard& owned(std::size_t shard);  // the shard, copied first if it is shared
    void cut_for(std::size_t members);
    void promote(const std::string& user_id, Role role);  // keeps promoted_ in step with a change

    Shards shards_;
    std::vector<bool> owned_;  // per shard: this map's alone, so it may change in place
    std::size_t size_ = 0;
    unsigned bits_ = 0;                                            // shards_.size() == 1 << bits_
    std::shared_ptr<const std::map<std::string, Role>> promoted_;  // shared by copies; replaced on change; null: none
};

}  // namespace confab::model
