#pragma once

#include "confab/obs/metrics.hpp"

#include <atomic>
#include <cstdint>
#include <optional>

namespace confab::net {

// The bytes of HTTP answers held in memory while they are written to their clients. A client
// that does not read keeps its answer until the send timeout, so a few hundred stalled
// connections asking for large pages would hold gigabytes; the answers over `small` bytes
// share this budget instead, and one that does not fit is refused (503) rather than held
// (PROTOCOL.md guarantee 4). Smaller answers are never counted: they always go out.
class ResponseBudget {
public:
    // An answer's share of the budget, given back when destroyed, however the write ends.
    class Hold {
    public:
        Hold(Hold&& other) noexcept : budget_(other.budget_), bytes_(other.bytes_) { other.budget_ = nullptr; }
        Hold(const Hold&) = delete;
        Hold& operator=(const Hold&) = delete;
        Hold& operator=(Hold&&) = delete;
        ~Hold();

    private:
        friend class ResponseBudget;
        Hold(ResponseBudget* budget, std::uint64_t bytes) : budget_(budget), bytes_(bytes) {}

        ResponseBudget* budget_;
        std::uint64_t bytes_;
    };

    ResponseBudget(std::uint64_t total, std::uint64_t small);

    // A hold for an answer of `bytes`, or nullopt when it does not fit beside those being
    // written. An answer of at most `small` bytes gets an empty hold.
    std::optional<Hold> take(std::uint64_t bytes);
    std::uint64_t held() const { return held_.load(); }

private:
    const std::uint64_t total_;
    const std::uint64_t small_;
    std::atomic<std::uint64_t> held_{0};
    obs::Counter& refusals_;
};

}  // namespace confab::net
