#pragma once

#include "confab/config/config.hpp"
#include "confab/domain/commit.hpp"
#include "confab/model/invite_link.hpp"
#include "confab/model/list_page.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace confab::domain {

// A group's invite links (docs/api.md, Invite links): its admins create, list and revoke
// them; any signed-in user holding an open link previews the group and joins it, as a
// member, exactly as if added.
class InviteLinkService {
public:
    InviteLinkService(ChatWrites& writes, const config::Limits& limits) : writes_(writes), limits_(limits) {}

    boost::asio::awaitable<InviteLink> create(std::string actor, std::string chat_id,
                                              std::optional<Timestamp> expires_at,
                                              std::optional<std::int64_t> max_uses);
    // The links not revoked, newest first (by creation, then by code), `limit` after `after`
    // (its id a link's code, else bad_request naming cursor).
    boost::asio::awaitable<ListPage<InviteLink>> links(std::string actor, std::string chat_id,
                                                       std::optional<ListPlace> after, int limit);
    boost::asio::awaitable<void> revoke(std::string actor, std::string chat_id, std::string code);

    boost::asio::awaitable<InvitePreview> preview(std::string code);
    // The chat as the joiner now sees it; a member already in the group joins nothing (their
    // role stays as it is) and spends no use of the link.
    boost::asio::awaitable<ChatView> join(std::string actor, std::string code);

private:
    boost::asio::awaitable<InviteLink> open_link(const std::string& code);

    ChatWrites& writes_;
    const config::Limits& limits_;
};

}  // namespace confab::domain
