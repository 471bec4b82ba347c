#pragma once

#include "traffic.hpp"

#include <string>
#include <vector>

namespace confab::bench {

// What PostgreSQL holds after a scenario, checked against what the loadgen saw acked.
struct Verification {
    std::uint64_t acked = 0;
    std::uint64_t acked_found = 0;  // acked message ids present in `messages`
    std::uint64_t chats = 0;
    std::uint64_t contiguous_chats = 0;  // seq is exactly 1..last_seq with last_seq = chats.last_seq
    std::uint64_t stored = 0;            // messages stored in the scenario's chats
    bool ok() const { return acked_found == acked && contiguous_chats == chats; }
};

Verification verify_stored(const std::string& database_url, const std::vector<std::string>& chat_ids,
                           const std::vector<AckedMessage>& acked);

}  // namespace confab::bench
