#pragma once

#include "confab/domain/commit.hpp"
#include "confab/model/user_block.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace confab::domain {

struct BlockedPage {
    std::vector<BlockedUser> users;
    std::optional<std::int64_t> next_before_position;  // none: the last page
};

// Blocking a user (docs/api.md, Blocking): the pair exchange no direct messages and see
// neither each other's presence nor typing. Blocking and unblocking are idempotent; each
// change is told to the blocker's own sessions (user.blocked, user.unblocked).
class UserBlockService {
public:
    explicit UserBlockService(ChatWrites& writes) : writes_(writes) {}

    boost::asio::awaitable<void> block(std::string actor, std::string user_id);
    boost::asio::awaitable<void> unblock(std::string actor, std::string user_id);
    boost::asio::awaitable<BlockedPage> blocked(std::string actor, std::optional<std::int64_t> before_position,
                                                int limit);

private:
    boost::asio::awaitable<void> change(std::string actor, std::string user_id, bool blocked);

    ChatWrites& writes_;
};

}  // namespace confab::domain
