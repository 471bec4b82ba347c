#pragma once

#include "confab/obs/metrics.hpp"

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace confab::net {

// The bytes of HTTP answers held in memory while they are written to their clients. A client
// that does not read keeps its answer until the send timeout, so a few hundred stalled
// connections asking for large pages would hold gigabytes; the answers over `small` bytes
// share this budget instead, and one that does not fit is refused (503) rather than held
// (PROTOCOL.md guarantee 4). Smaller answers are never counted: they always go out.
//
// One holder (a user, or an address before sign-in) may hold at most `per_holder` of it, so
// that one account stalling its own sockets cannot have everyone else's large answers
// refused; a holder's first answer is taken whatever its size, so none is refused forever.
class ResponseBudget {
public:
    // An answer's share of the budget, given back when destroyed, however the write ends.
    class Hold {
    public:
        Hold(Hold&& other) noexcept : budget_(other.budget_), holder_(std::move(other.holder_)), bytes_(other.bytes_) {
            other.budget_ = nullptr;
        }
        Hold(const Hold&) = delete;
        Hold& operator=(const Hold&) = delete;
        Hold& operator=(Hold&&) = delete;
        ~Hold();

    private:
        friend class ResponseBudget;
        Hold(ResponseBudget* budget, std::string holder, std::uint64_t bytes)
            : budget_(budget), holder_(std::move(holder)), bytes_(bytes) {}

        ResponseBudget* budget_;
        std::string holder_;
        std::uint64_t bytes_;
    };

    ResponseBudget(std::uint64_t total, std::uint64_t per_holder, std::uint64_t small);

    // A hold for an answer of `bytes` to `holder`, or nullopt when it does not fit beside those
    // being written, or beside the holder's own. An answer of at most `small` bytes gets an
    // empty hold.
    std::optional<Hold> take(std::uint64_t bytes, std::string_view holder);
    std::uint64_t held() const;
    std::uint64_t held_by(std::string_view holder) const;

private:
    void give_back(const std::string& holder, std::uint64_t bytes);

    const std::uint64_t total_;
    const std::uint64_t per_holder_;
    const std::uint64_t small_;
    mutable std::mutex mutex_;
    std::uint64_t held_ = 0;
    std::unordered_map<std::string, std::uint64_t> holders_;  // only those holding something
    obs::Counter& refusals_;
};

}  // namespace confab::net
