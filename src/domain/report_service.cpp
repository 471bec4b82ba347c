#include "confab/domain/report_service.hpp"

#include "confab/domain/rules.hpp"
#include "confab/domain/validation.hpp"
#include "confab/store/chats.hpp"
#include "confab/store/messages.hpp"
#include "confab/store/reports.hpp"
#include "confab/store/stats.hpp"

namespace confab::domain {
namespace {

void validate_comment(const std::optional<std::string>& comment) {
    if (!comment) return;
    if (!is_valid_utf8(*comment)) throw bad_request("comment must be valid UTF-8", "comment");
    if (code_points(*comment) > max_report_comment_chars)
        throw bad_request("comment is longer than " + std::to_string(max_report_comment_chars) + " characters",
                          "comment");
}

// The members who hold `handle_reports` where they stand in the chat.
std::vector<std::string> report_handlers(store::Tx& tx, const std::string& chat_id, const Standing& chat) {
    std::vector<std::string> handlers;
    for (const auto& [user, me] : store::members::standings(tx, chat_id))
        if (rules::permits(rules::standing_of(chat.type, chat.settings, chat.large, me),
                           rules::Permission::handle_reports))
            handlers.push_back(user);
    return handlers;
}

ReportPage paged(std::vector<Report> reports, int limit) {
    ReportPage page;
    if (static_cast<int>(reports.size()) > limit) {
        reports.resize(static_cast<std::size_t>(limit));
        page.next_after_position = reports.back().position;
    }
    page.reports = std::move(reports);
    return page;
}

}  // namespace

boost::asio::awaitable<Report> ReportService::report(std::string actor, std::string chat_id, std::string message_id,
                                                     ReportReason reason, std::optional<std::string> comment) {
    validate_comment(comment);
    const auto [message, standing] = co_await writes_.visible_message(actor, message_id);
    if (message.chat_id != chat_id) throw not_found("message");
    rules::may_report(actor, message);
    co_return co_await writes_.commit(chat_id, [actor, chat_id, message_id, reason, comment](store::Tx& tx) {
        const auto chat = lock_standing(tx, chat_id, actor);
        const auto current = store::messages::find(tx, message_id, actor);
        if (!current || current->chat_id != chat_id) throw not_found("message");
        rules::may_report(actor, *current);
        auto stored = store::reports::insert(tx, {chat_id, message_id, actor, reason, comment});
        if (!stored)
            throw with_reason(ErrorCode::conflict, "you have an open report of this message already",
                              "already_reported");
        Outcome<Report> outcome{*stored, {}};
        outcome.effects.deliver(Occasion::report_created, ReportChanged{std::move(*stored)},
                                {.members = report_handlers(tx, chat_id, chat), .actor = actor});
        return outcome;
    });
}

boost::asio::awaitable<ReportPage> ReportService::open_in_chat(std::string actor, std::string chat_id,
                                                               std::optional<std::int64_t> after_position, int limit) {
    rules::may_handle_reports(co_await writes_.standing(chat_id, actor));
    auto reports = co_await writes_.pool().run([chat_id, after_position, limit](store::Tx& tx) {
        return store::reports::open(tx, chat_id, after_position, limit + 1);
    });
    co_return paged(std::move(reports), limit);
}

boost::asio::awaitable<Report> ReportService::resolve(std::string actor, std::string chat_id, std::string report_id,
                                                      ReportAction action) {
    rules::may_handle_reports(co_await writes_.standing(chat_id, actor));
    if (!is_uuid(report_id)) throw not_found("report");
    co_return co_await writes_.commit(chat_id, [actor, chat_id, report_id, action](store::Tx& tx) {
        const auto chat = lock_standing(tx, chat_id, actor);
        rules::may_handle_reports(chat);
        const auto report = store::reports::find(tx, report_id);
        if (!report || report->chat_id != chat_id) throw not_found("report");
        rules::may_resolve_report(report->resolved_at.has_value());
        auto resolved = store::reports::resolve(tx, report_id, actor, action).value();
        Outcome<Report> outcome{resolved, {}};
        outcome.effects.deliver(Occasion::report_resolved, ReportChanged{std::move(resolved)},
                                {.members = report_handlers(tx, chat_id, chat), .actor = actor});
        return outcome;
    });
}

boost::asio::awaitable<ReportPage> ReportService::open_everywhere(std::string actor,
                                                                  std::optional<std::int64_t> after_position,
                                                                  int limit) {
    auto reports = co_await writes_.pool().run(
        [actor, after_position, limit](store::Tx& tx) -> std::optional<std::vector<Report>> {
            if (!store::stats::is_admin(tx, actor)) return std::nullopt;
            return store::reports::open(tx, std::nullopt, after_position, limit + 1);
        });
    if (!reports) throw forbidden("server operators only");
    co_return paged(std::move(*reports), limit);
}

}  // namespace confab::domain
