#pragma once

#include "confab/domain/commit.hpp"
#include "confab/model/report.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace confab::domain {

// The longest comment a report carries, in code points.
constexpr std::size_t max_report_comment_chars = 1000;

struct ReportPage {
    std::vector<Report> reports;
    std::optional<std::int64_t> next_after_position;
};

// Reports of messages (docs/api.md, Reports): any member reports a message of their chat;
// those who handle the chat's reports (rules::handles_report: never the reported message's
// sender) hear of it at once (report.created), list the open ones and resolve them
// (report.resolved, to the same audience); the server's operators see and resolve every
// open report. A report keeps the reported message
// as it was when reported.
class ReportService {
public:
    explicit ReportService(ChatWrites& writes) : writes_(writes) {}

    // conflict (details.reason already_reported) while the actor's earlier report of the
    // message is open.
    boost::asio::awaitable<Report> report(std::string actor, std::string chat_id, std::string message_id,
                                          ReportReason reason, std::optional<std::string> comment);
    boost::asio::awaitable<ReportPage> open_in_chat(std::string actor, std::string chat_id,
                                                    std::optional<std::int64_t> after_position, int limit);
    // Records what was done about the report (the action itself is taken through its own
    // request: deleting the message, muting, removing or banning the member).
    boost::asio::awaitable<Report> resolve(std::string actor, std::string chat_id, std::string report_id,
                                           ReportAction action);
    // Resolves a report of any chat (a group's or a direct chat's) as resolve does: for the
    // server's operators only (forbidden otherwise, before anything of the report is told);
    // not_found for an unknown or malformed id. Told as resolve's, and to the operator.
    boost::asio::awaitable<Report> resolve_any(std::string actor, std::string report_id, ReportAction action);
    // Every chat's open reports: for the server's operators only (forbidden otherwise).
    boost::asio::awaitable<ReportPage> open_everywhere(std::string actor, std::optional<std::int64_t> after_position,
                                                       int limit);

private:
    ChatWrites& writes_;
};

}  // namespace confab::domain
