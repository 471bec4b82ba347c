#pragma once

#include "confab/model/chat.hpp"

#include "confab/store/tx.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

// The members each message mentions (docs/api.md, Mentions).
namespace confab::store::mentions {

void prepare(Tx& tx);

// Records that the message mentions these users; returns those it did not mention before.
std::vector<std::string> add(Tx& tx, const model::Message& message, const std::vector<std::string>& user_ids);
// Forgets the message's mentions of anyone not in `user_ids` (an edit's new set).
void keep_only(Tx& tx, const std::string& message_id, const std::vector<std::string>& user_ids);

// A user's mentions in the chats they are still in, newest first, and each one's place in
// that order (the next page's `before`).
struct Page {
    std::vector<model::Message> messages;
    std::vector<std::int64_t> positions;
};
Page of_user(Tx& tx, const std::string& user_id, std::optional<std::int64_t> before, int limit);

}  // namespace confab::store::mentions
