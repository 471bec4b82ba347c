#pragma once

#include "confab/model/user.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace confab::model {

// One answer of a poll: how many chose it, and who (none named in an anonymous poll;
// otherwise bounded as a reaction's users are, store::attach_polls).
struct PollOption {
    std::string text;
    std::int64_t voter_count = 0;
    std::vector<std::string> voter_ids;  // in the order they voted
};

// A poll message's poll as one reader sees it (docs/api.md, Polls).
struct Poll {
    std::string question;  // the message's content
    std::vector<PollOption> options;
    bool multiple_choice = false;
    bool anonymous = false;
    std::optional<Timestamp> closes_at;
    std::optional<Timestamp> closed_at;  // closed early, or closes_at once it has passed
    std::int64_t total_voters = 0;
    // The reader's own choices (option indices, ascending); nullopt where the poll is sent
    // alike to every member, who each know their own.
    std::optional<std::vector<int>> my_votes;
};

}  // namespace confab::model
