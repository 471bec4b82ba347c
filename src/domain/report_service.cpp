#include "confab/domain/report_service.hpp"

#include "confab/domain/rules.hpp"
#include "confab/domain/validation.hpp"
#include "confab/store/chats.hpp"
#include "confab/store/messages.hpp"
#include "confab/store/reports.hpp"
#include "confab/store/stats.hpp"

#include <algorithm>

namespace confab::domain {
namespace {

void validate_comment(const std::optional<std::string>& comment) {
    if (!comment) return;
    if (!is_valid_utf8(*comment)) throw bad_request("comment must be valid UTF-8", "comment");
    if (code_points(*comment) > max_report_comment_chars)
        throw bad_request("comment is longer than " + std::to_string(max_report_comment_chars) + " characters",
                          "comment");
}

// The reported message's sender as the report keeps it (none for a report made before the
// evidence was kept, or once that account is gone).
std::optional<std::string> reported_sender(const Report& report) {
    return report.reported_message ? report.reported_message->sender_id : std::nullopt;
}

// Who hears of the report among the chat's members: those who handle it where they stand
// (rules::handles_report: `handle_reports`, but never the reported message's sender).
std::vector<std::string> report_handlers(store::Tx& tx, const Report& report, const Standing& chat) {
    std::vector<std::string> handlers;
    const auto sender = reported_sender(report);
    for (const auto& [user, me] : store::members::standings(tx, report.chat_id))
        if (rules::handles_report(rules::standing_of(chat.type, chat.settings, chat.large, me), user, sender))
            handlers.push_back(user);
    return handlers;
}

// Who resolves a report: one of its chat's handlers, or a server operator.
enum class Resolver { chat_handler, operator_ };

// The one resolution of a report, in its chat's write lane, for both routes: the chat's
// handler (who must handle this report: rules::may_handle_report) or an operator (any chat's
// report). Told to the chat's handlers of the report, and to an operator's own connections.
Outcome<Report> resolve_in(store::Tx& tx, Resolver resolver, const std::string& actor, const std::string& chat_id,
                           const std::string& report_id, ReportAction action) {
    Standing chat;
    if (resolver == Resolver::chat_handler) {
        chat = lock_standing(tx, chat_id, actor);
        rules::may_handle_reports(chat);
    } else {
        if (!store::stats::is_admin(tx, actor)) throw forbidden("server operators only");
        const auto access = store::chats::lock(tx, chat_id) ? store::chats::load_access(tx, chat_id) : std::nullopt;
        if (!access) throw not_found("report");
        chat.type = access->type;
        chat.settings = access->settings;
        chat.large = access->large;
    }
    const auto report = store::reports::find(tx, report_id);
    if (!report || report->chat_id != chat_id) throw not_found("report");
    if (resolver == Resolver::chat_handler) rules::may_handle_report(chat, actor, reported_sender(*report));
    rules::may_resolve_report(report->resolved_at.has_value());
    auto resolved = store::reports::resolve(tx, report_id, actor, action).value();
    auto told = report_handlers(tx, resolved, chat);
    if (resolver == Resolver::operator_ && std::find(told.begin(), told.end(), actor) == told.end())
        told.push_back(actor);
    Outcome<Report> outcome{resolved, {}};
    outcome.effects.deliver(Occasion::report_resolved, ReportChanged{std::move(resolved)},
                            {.members = std::move(told), .actor = actor});
    return outcome;
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
        auto handlers = report_handlers(tx, *stored, chat);
        Outcome<Report> outcome{*stored, {}};
        outcome.effects.deliver(Occasion::report_created, ReportChanged{std::move(*stored)},
                                {.members = std::move(handlers), .actor = actor});
        return outcome;
    });
}

boost::asio::awaitable<ReportPage> ReportService::open_in_chat(std::string actor, std::string chat_id,
                                                               std::optional<std::int64_t> after_position, int limit) {
    rules::may_handle_reports(co_await writes_.standing(chat_id, actor));
    // Reports of the actor's own messages are not theirs to see (rules::handles_report).
    auto reports = co_await writes_.pool().run([actor, chat_id, after_position, limit](store::Tx& tx) {
        return store::reports::open(tx, chat_id, after_position, limit + 1, actor);
    });
    co_return paged(std::move(reports), limit);
}

boost::asio::awaitable<Report> ReportService::resolve(std::string actor, std::string chat_id, std::string report_id,
                                                      ReportAction action) {
    rules::may_handle_reports(co_await writes_.standing(chat_id, actor));
    if (!is_uuid(report_id)) throw not_found("report");
    co_return co_await writes_.commit(chat_id, [actor, chat_id, report_id, action](store::Tx& tx) {
        return resolve_in(tx, Resolver::chat_handler, actor, chat_id, report_id, action);
    });
}

boost::asio::awaitable<Report> ReportService::resolve_any(std::string actor, std::string report_id,
                                                          ReportAction action) {
    // Refused before the report's existence is told; asked again in the write.
    struct Found {
        bool operator_ = false;
        std::optional<std::string> chat_id;
    };
    const auto found = co_await writes_.pool().run([actor, report_id](store::Tx& tx) {
        Found out{store::stats::is_admin(tx, actor), std::nullopt};
        if (!out.operator_ || !is_uuid(report_id)) return out;
        if (const auto report = store::reports::find(tx, report_id)) out.chat_id = report->chat_id;
        return out;
    });
    if (!found.operator_) throw forbidden("server operators only");
    if (!found.chat_id) throw not_found("report");
    const auto chat_id = *found.chat_id;
    co_return co_await writes_.commit(chat_id, [actor, chat_id, report_id, action](store::Tx& tx) {
        return resolve_in(tx, Resolver::operator_, actor, chat_id, report_id, action);
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
