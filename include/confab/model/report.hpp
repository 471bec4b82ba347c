#pragma once

#include "confab/model/user.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace confab::model {

// Why a member reports a message (docs/api.md, Reports).
enum class ReportReason { spam, abuse, illegal, other };
std::string_view to_string(ReportReason reason);
std::optional<ReportReason> report_reason_from(std::string_view text);

// What the moderator who resolved a report did about it, as they record it.
enum class ReportAction { none, message_deleted, member_muted, member_removed, member_banned };
std::string_view to_string(ReportAction action);
std::optional<ReportAction> report_action_from(std::string_view text);

// The reported message as it was when reported: the evidence, which a later edit or
// deletion of the message does not change.
struct ReportedMessage {
    std::string type;  // the MessageType's name
    std::string content;
    std::optional<std::string> sender_id;  // null once that account is gone
    Timestamp created_at;
};

// A member's report of a message to the chat's moderators and the server's operators: open
// until resolved.
struct Report {
    std::string id;
    std::string chat_id;
    std::string message_id;
    std::string reporter_id;
    ReportReason reason = ReportReason::other;
    std::optional<std::string> comment;
    std::optional<ReportAction> action;      // set once resolved
    std::optional<std::string> resolved_by;  // null once that account is gone
    std::optional<Timestamp> resolved_at;    // none: open
    Timestamp created_at;
    std::optional<ReportedMessage> reported_message;  // none for reports made before it was kept
    std::int64_t position = 0;                        // the order of reports, the key of their pages
};

}  // namespace confab::model
