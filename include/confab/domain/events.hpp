#pragma once

#include "confab/domain/model.hpp"
#include "confab/model/member_roles.hpp"
#include "confab/model/report.hpp"
#include "confab/model/scheduled.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace confab::domain {

// The server events of PROTOCOL.md, as values. The domain decides who receives each one;
// the EventSink (api layer) serializes it once and hands it to their live connections.
struct MessageCreated {
    Message message;
};  // message.new
struct MessageUpdated {
    Message message;
};  // message.updated
struct MessageDeleted {
    std::string message_id, chat_id;
    std::int64_t version = 0;
};
struct MessageHidden {
    std::string message_id, chat_id;
    std::int64_t version = 0;
};  // to the user who hid it only
struct MentionCreated {
    std::string chat_id, message_id;
    std::optional<std::string> sender_id;
    std::int64_t seq = 0;
};  // mention.new: to the members a message newly mentions
struct TypingUpdated {
    std::string chat_id, user_id;
    bool is_typing = false;
};
struct ReadUpdated {
    std::string chat_id, user_id;
    std::int64_t last_read_seq = 0;
};
struct ChatCreated {
    ChatView view;
};  // one per recipient: `me` is theirs
struct ChatUpdated {
    ChatView view;
};
struct ChatDeleted {
    std::string chat_id;
};
struct MemberAdded {
    Member member;
};
struct MemberUpdated {
    Member member;
};
struct MemberRemoved {
    std::string chat_id, user_id;
};
struct PresenceUpdated {
    std::string user_id;
    Presence presence;
};
struct UserUpdated {
    User user;
};  // to the user and their contacts
struct InvitationCreated {
    Invitation invitation;
};  // to the invitee only
struct InvitationDeleted {
    std::string invitation_id, chat_id;
};  // accepted or declined
struct ScheduledUpdated {
    ScheduledMessage scheduled;
};  // scheduled_message.updated: scheduled, changed, sent or cancelled by the server
struct ScheduledDeleted {
    std::string scheduled_id, chat_id;
};  // scheduled_message.deleted: cancelled by its author
struct PollUpdated {
    std::string chat_id, message_id;
    std::int64_t version = 0;
    Poll poll;                         // as the voter reads it (address() keeps my_votes for them alone)
    std::optional<std::string> voter;  // who voted; none for a close
};                                     // poll.updated
struct BlockChanged {
    std::string user_id;  // the user blocked or unblocked
    bool blocked = false;
};  // user.blocked / user.unblocked: to the blocker's own sessions
struct ReportChanged {
    Report report;  // open: just made; resolved: just resolved
};                  // report.created / report.resolved: to the chat's members who handle reports

struct CustomRoleChanged {
    enum class Change { created, updated, deleted };
    Change change = Change::created;
    CustomRole role;
};  // role.created / role.updated / role.deleted: to every member

using Event =
    std::variant<MessageCreated, MessageUpdated, MessageDeleted, MessageHidden, TypingUpdated, ReadUpdated, ChatCreated,
                 ChatUpdated, ChatDeleted, MemberAdded, MemberUpdated, MemberRemoved, PresenceUpdated, UserUpdated,
                 InvitationCreated, InvitationDeleted, ScheduledUpdated, ScheduledDeleted, PollUpdated, MentionCreated,
                 BlockChanged, ReportChanged, CustomRoleChanged>;

// A chat's message by its seq, which a write's other events follow: the chat's latest when the
// write committed, or a message.new the write published before them.
struct AfterMessage {
    std::string chat_id;
    std::int64_t seq = 0;  // 0: before the chat's first message
};

class EventSink {
public:
    virtual ~EventSink() = default;
    // Thread-safe; a chat's events arrive in commit order (ChatWrites::commit publishes them
    // after the COMMIT, still under the chat's order mutex). On a cluster a write's events
    // other than message.new (which has its seq) name the message they follow, for the other
    // nodes to put them back in that order; none for an event no write committed (typing,
    // presence), and none on a single node, where commit order is already delivery order.
    virtual void publish(const Event& event, const std::vector<std::string>& user_ids,
                         const std::optional<AfterMessage>& after) = 0;
    // Those of a chat's members whom events can reach now, when no others need naming (a
    // single node: the members connected to it); none when every member must be named (a
    // cluster tells the other nodes whom a frame is for). A channel's or large group's
    // events are addressed to these rather than to every member.
    virtual std::optional<std::vector<std::string>> reachable_members(const model::MemberRoles& members) const {
        (void)members;
        return std::nullopt;
    }
};

}  // namespace confab::domain
