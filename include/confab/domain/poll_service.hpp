#pragma once

#include "confab/config/config.hpp"
#include "confab/domain/commit.hpp"
#include "confab/domain/rate_limiter.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace confab::domain {

// Votes and closing of poll messages (docs/api.md, Polls); a poll is sent as a message
// (MessageService). Each change takes the chat's next version, as the message's, and sends
// poll.updated to the chat's members.
class PollService {
public:
    PollService(ChatWrites& writes, const config::Limits& limits)
        : writes_(writes), changes_("votes", limits.change_burst, limits.change_rate) {}

    // Sets the actor's choice (option indices; empty retracts) and returns the message as the
    // actor reads it. The same choice again changes nothing and sends nothing.
    boost::asio::awaitable<Message> vote(std::string actor, std::string message_id, std::vector<std::int64_t> options);
    // Closes the poll for good; a closed poll stays as it is.
    boost::asio::awaitable<Message> close(std::string actor, std::string message_id);

private:
    ChatWrites& writes_;
    RateLimiter changes_;  // votes and closes per user: each is fanned out to the chat
};

}  // namespace confab::domain
