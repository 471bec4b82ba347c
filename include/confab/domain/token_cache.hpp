#pragma once

#include "confab/domain/model.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace confab::domain {

// Valid bearer tokens (by hash) remembered for a few seconds, so that a client's requests do
// not each cost a database query. Logout forgets a token at once, and a lookup that was
// already running when some token was forgotten cannot put its answer back: every forget
// starts a new generation, and only answers looked up within the current one are kept.
class TokenCache {
public:
    using Clock = std::chrono::steady_clock;

    // A ttl of zero remembers nothing. At most `capacity` tokens are remembered.
    TokenCache(std::chrono::milliseconds ttl, std::size_t capacity);

    std::optional<Principal> find(const std::string& token_hash, Clock::time_point now = Clock::now());
    // Read before the database lookup whose answer is then remembered.
    std::uint64_t generation() const;
    // `valid_for`: how long the token itself stays valid; it is not remembered past that.
    void remember(Principal principal, std::chrono::milliseconds valid_for, std::uint64_t looked_up_in,
                  Clock::time_point now = Clock::now());
    void forget(const std::string& token_hash);
    // Forgets every token of the user but `keep` (all when empty): sign out everywhere.
    void forget_user(const std::string& user_id, const std::string& keep);

private:
    struct Entry {
        Principal principal;
        Clock::time_point expires;
    };

    const std::chrono::milliseconds ttl_;
    const std::size_t capacity_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Entry> entries_;
    std::uint64_t generation_ = 0;
};

}  // namespace confab::domain
