#pragma once

#include "confab/model/report.hpp"
#include "confab/store/tx.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

// Members' reports of messages (docs/api.md, Reports).
namespace confab::store::reports {

void prepare(Tx& tx);

struct NewReport {
    std::string chat_id;
    std::string message_id;
    std::string reporter_id;
    model::ReportReason reason = model::ReportReason::other;
    std::optional<std::string> comment;
};
// The stored report; none when the reporter has an open report of that message already.
std::optional<model::Report> insert(Tx& tx, const NewReport& report);
std::optional<model::Report> find(Tx& tx, const std::string& id);
// Open reports in report order after `after_position`, at most `limit`: of one chat, or
// (chat_id none) of the whole server; `not_of_sender`: leaving out reports of that user's
// messages (as the report keeps the message's sender).
std::vector<model::Report> open(Tx& tx, const std::optional<std::string>& chat_id,
                                std::optional<std::int64_t> after_position, int limit,
                                const std::optional<std::string>& not_of_sender = std::nullopt);
// Resolves an open report; none when it is resolved already (or gone).
std::optional<model::Report> resolve(Tx& tx, const std::string& id, const std::string& resolver,
                                     model::ReportAction action);

}  // namespace confab::store::reports
