#pragma once

#include "confab/domain/commit.hpp"

#include <cstddef>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

namespace confab::domain {

struct Location {
    double latitude = 0;
    double longitude = 0;
};

// A send's content from a saved template (TemplateService), filled in its transaction.
struct TemplateUse {
    std::string template_id;
    std::map<std::string, std::string> values;
};

struct SendMessage {
    std::string chat_id;
    std::string sender_id;
    MessageType type = MessageType::text;
    std::string content;
    std::optional<std::string> media_id;
    std::optional<std::string> reply_to_id;
    std::optional<std::string> thread_root_id;  // a reply in this message's thread
    OpaqueJson metadata;
    std::optional<Location> location;  // parsed from metadata.location by the edge
    std::optional<std::string> client_id;
    std::optional<TemplateUse> from_template;  // then `content` is empty
    std::optional<Poll> poll;                  // a poll message's options and settings; `content` is its question
    std::vector<TextEntity> entities;          // over `content` (rich_text::validate)
    bool by_host_backend = false;              // on the sender's behalf: may be a system message
    // A scheduled post's mentions were checked when it was scheduled: one of a user who has
    // left since stays in the text and tells nobody, rather than refusing the post.
    bool mentions_checked_before = false;
};

// Whether a message of this type must have content: a text message is its content, while a
// media message's is an optional caption (sent, edited or removed) and a location's a label.
bool needs_content(MessageType type);

// bad_request when `content` is required and empty, payload_too_large when it is longer
// than `limit` code points (field `content`).
void check_content(const std::string& content, bool required, std::size_t limit);

// In its transaction, the content of a send from a template (m.from_template), for every way a
// template is sent. The template must be the sender's own or m.chat_id's (none when the chat is
// still to be opened); any other is not_found, as is one that does not exist. Checked as a typed
// content is (check_content, `content_chars`), its length before the text is built.
std::string filled_template(store::Tx& tx, const SendMessage& m, std::size_t content_chars);

// The checks of a send that read other rows: its reply, its thread root and its upload. `claimed` holds the
// uploads of the batch's earlier sends, so one upload is attached once.
void check_references(store::Tx& tx, const SendMessage& m, std::unordered_set<std::string>& claimed);

// The members the entities mention, the sender left out: every other member for a
// mention_all (forbidden unless rules::may_mention_all), else each user mentioned. A mention
// of a user who is not a member is bad_request (field `entities`), or passed over when
// `non_members_passed_over`.
std::vector<std::string> mentioned_members(const ChatAccess& access, const std::string& sender,
                                           const std::vector<TextEntity>& entities,
                                           bool non_members_passed_over = false);

// Slow mode's check of one post outside a batch (a forward), in its transaction under the
// chat's lock: rate_limited when it comes too soon (rules::may_post_after). True when the post
// counts: the caller then calls store::members::set_posted once it is stored.
bool check_slow_mode(store::Tx& tx, const std::string& chat_id, const std::string& sender, const Standing& standing);

// mention.new to the members `mentioned`, as they are members once the write commits.
void tell_mentioned(Effects& effects, const Message& message, std::vector<std::string> mentioned);

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
    SendWriter(AccessCache& cache, std::size_t content_chars) : cache_(cache), content_chars_(content_chars) {}
    std::vector<Entry> write(store::Tx& tx, std::span<const SendMessage* const> sends) override;

private:
    AccessCache& cache_;
    std::size_t content_chars_;
};

}  // namespace confab::domain
