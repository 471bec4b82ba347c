#include "confab/model/member_roles.hpp"

#include <cstdint>
#include <functional>
#include <utility>

namespace confab::model {
namespace {

// Members per shard before the shards are cut finer: what one change copies at most (about
// half that just after a cut), against the shard pointers every copy of the map copies.
constexpr std::size_t members_per_shard = 256;

}  // namespace

MemberRoles::const_iterator::const_iterator(Shards::const_iterator shard, Shards::const_iterator end)
    : shard_(shard), end_(end) {
    if (shard_ != end_) {
        member_ = (*shard_)->begin();
        settle();
    }
}

void MemberRoles::const_iterator::settle() {
    while (shard_ != end_ && member_ == (*shard_)->end())
        if (++shard_ != end_) member_ = (*shard_)->begin();
}

MemberRoles::MemberRoles(std::initializer_list<std::pair<const std::string, Role>> members) {
    reserve(members.size());
    for (const auto& [user_id, role] : members) emplace(user_id, role);
}

MemberRoles::MemberRoles(const MemberRoles& other)
    : shards_(other.shards_),
      owned_(other.shards_.size(), false),
      size_(other.size_),
      bits_(other.bits_),
      promoted_(other.promoted_) {}

MemberRoles& MemberRoles::operator=(const MemberRoles& other) {
    if (this != &other) *this = MemberRoles(other);
    return *this;
}

MemberRoles::MemberRoles(MemberRoles&& other) noexcept { *this = std::move(other); }

MemberRoles& MemberRoles::operator=(MemberRoles&& other) noexcept {
    if (this != &other) {
        shards_ = std::exchange(other.shards_, {});
        owned_ = std::exchange(other.owned_, {});
        size_ = std::exchange(other.size_, 0);
        bits_ = std::exchange(other.bits_, 0);
        promoted_ = std::exchange(other.promoted_, nullptr);
    }
    return *this;
}

const std::map<std::string, Role>& MemberRoles::promoted() const {
    static const std::map<std::string, Role> none;
    return promoted_ ? *promoted_ : none;
}

// The high bits of the hash, mixed (Fibonacci hashing): the shard's own buckets use its low bits.
std::size_t MemberRoles::shard_of(const std::string& user_id) const {
    if (bits_ == 0) return 0;
    const auto mixed = static_cast<std::uint64_t>(std::hash<std::string>{}(user_id)) * 0x9E3779B97F4A7C15ULL;
    return static_cast<std::size_t>(mixed >> (64 - bits_));
}

const Role* MemberRoles::find(const std::string& user_id) const {
    if (shards_.empty()) return nullptr;
    const auto& shard = *shards_[shard_of(user_id)];
    const auto found = shard.find(user_id);
    return found == shard.end() ? nullptr : &found->second;
}

MemberRoles::Shard& MemberRoles::owned(std::size_t shard) {
    if (!owned_[shard]) {
        shards_[shard] = std::make_shared<Shard>(*shards_[shard]);
        owned_[shard] = true;
    }
    return *shards_[shard];
}

// Cuts the members into as many shards as `members` needs, when that is more than now.
void MemberRoles::cut_for(std::size_t members) {
    unsigned bits = bits_;
    while ((members_per_shard << bits) < members) ++bits;
    if (bits == bits_ && !shards_.empty()) return;
    MemberRoles cut;
    cut.bits_ = bits;
    for (std::size_t i = 0; i < (std::size_t{1} << bits); ++i) cut.shards_.push_back(std::make_shared<Shard>());
    cut.owned_.assign(cut.shards_.size(), true);
    for (const auto& [user_id, role] : *this) cut.owned(cut.shard_of(user_id)).emplace(user_id, role);
    cut.size_ = size_;
    cut.promoted_ = promoted_;
    *this = std::move(cut);
}

void MemberRoles::reserve(std::size_t members) { cut_for(members); }

bool MemberRoles::emplace(const std::string& user_id, Role role) {
    if (contains(user_id)) return false;
    cut_for(size_ + 1);
    owned(shard_of(user_id)).emplace(user_id, role);
    ++size_;
    promote(user_id, role);
    return true;
}

void MemberRoles::assign(const std::string& user_id, Role role) {
    if (emplace(user_id, role)) return;
    owned(shard_of(user_id))[user_id] = role;
    promote(user_id, role);
}

void MemberRoles::erase(const std::string& user_id) {
    if (!contains(user_id)) return;
    size_ -= owned(shard_of(user_id)).erase(user_id);
    promote(user_id, Role::member);
}

// `role` is the member's now (Role::member for one who left).
void MemberRoles::promote(const std::string& user_id, Role role) {
    const auto& now = promoted();
    const auto found = now.find(user_id);
    const bool above = role > Role::member;
    if (!above && found == now.end()) return;
    if (above && found != now.end() && found->second == role) return;
    auto changed = std::make_shared<std::map<std::string, Role>>(now);
    if (above) {
        (*changed)[user_id] = role;
    } else {
        changed->erase(user_id);
    }
    promoted_ = std::move(changed);
}

std::size_t MemberRoles::shards_shared_with(const MemberRoles& other) const {
    if (shards_.size() != other.shards_.size()) return 0;
    std::size_t shared = 0;
    for (std::size_t i = 0; i < shards_.size(); ++i) shared += shards_[i] == other.shards_[i] ? 1 : 0;
    return shared;
}

}  // namespace confab::model
