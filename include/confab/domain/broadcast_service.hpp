#pragma once

#include "confab/domain/commit.hpp"
#include "confab/domain/send_writer.hpp"
#include "confab/model/broadcast_list.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace confab::domain {

class ChatService;
class MessageService;

struct BroadcastListPage {
    std::vector<BroadcastList> lists;
    std::optional<std::int64_t> next_before_position;  // none: the last page
};

// What one recipient of a broadcast got: the copy in their direct chat with the sender (new,
// or the one an earlier broadcast with the same client_id posted), or why not.
struct BroadcastCopy {
    std::string recipient_id;
    std::optional<std::string> chat_id;  // none when the chat could not be opened
    std::optional<Sent> sent;            // none: refused
    std::optional<Error> refusal;
};

// Broadcast lists (docs/api.md, Broadcast lists): a user's named lists of recipients, seen and
// changed by the owner alone. Sending to a list posts a copy of the message into the owner's
// direct chat with each recipient, opened if need be, through the same send path as any
// message: the recipient gets an ordinary direct message and every rule of a send (blocks,
// rate limit, idempotency) applies to each copy.
class BroadcastService {
public:
    BroadcastService(ChatWrites& writes, ChatService& chats, MessageService& messages)
        : writes_(writes), chats_(chats), messages_(messages) {}

    boost::asio::awaitable<BroadcastList> create(std::string actor, std::string name,
                                                 std::vector<std::string> recipient_ids);
    boost::asio::awaitable<BroadcastListPage> list(std::string actor, std::optional<std::int64_t> before_position,
                                                   int limit);
    boost::asio::awaitable<BroadcastList> get(std::string actor, std::string list_id);
    boost::asio::awaitable<BroadcastList> rename(std::string actor, std::string list_id, std::string name);
    boost::asio::awaitable<void> remove(std::string actor, std::string list_id);
    // Adding a recipient already on the list, or removing one not on it, changes nothing.
    boost::asio::awaitable<BroadcastList> add_recipient(std::string actor, std::string list_id, std::string user_id);
    boost::asio::awaitable<BroadcastList> remove_recipient(std::string actor, std::string list_id, std::string user_id);
    // One copy per recipient, in the list's order; `message` names no chat. A refusal of one
    // copy leaves the others be; once the sender's sends run out, the remaining recipients are
    // refused with that rate_limited error, and a repeat with the same client_id posts just
    // the copies still missing.
    boost::asio::awaitable<std::vector<BroadcastCopy>> send(std::string list_id, SendMessage message);

private:
    // The list, refused (not found) unless the actor owns it.
    boost::asio::awaitable<BroadcastList> owned(const std::string& actor, const std::string& list_id);
    boost::asio::awaitable<BroadcastCopy> post_copy(const std::string& recipient_id, SendMessage copy);

    ChatWrites& writes_;
    ChatService& chats_;
    MessageService& messages_;
};

}  // namespace confab::domain
