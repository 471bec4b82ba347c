#pragma once

#include "confab/domain/commit.hpp"

#include <optional>
#include <span>
#include <string>
#include <vector>

namespace confab::domain {

struct Location {
    double latitude = 0;
    double longitude = 0;
};

struct SendMessage {
    std::string chat_id;
    std::string sender_id;
    MessageType type = MessageType::text;
    std::string content;
    std::optional<std::string> media_id;
    std::optional<std::string> reply_to_id;
    OpaqueJson metadata;
    std::optional<Location> location;  // parsed from metadata.location by the edge
    std::optional<std::string> client_id;
};

struct Sent {
    Message message;
    bool created = true;  // false: a repeat of a client_id, the stored message
};

// The sends queued together in a lane, written together: one statement locks their chats,
// one looks their client_ids up, one numbers and stores them all (store::BatchWriter). It
// checks that each sender may post, with the chat's access loaded here when it was not
// cached (MessageService::send queues a send without waiting for that load).
class SendWriter final : public store::BatchWriter<SendMessage, Outcome<Sent>> {
public:
    explicit SendWriter(AccessCache& cache) : cache_(cache) {}
    std::vector<Entry> write(store::Tx& tx, std::span<const SendMessage* const> sends) override;

private:
    AccessCache& cache_;
};

}  // namespace confab::domain
