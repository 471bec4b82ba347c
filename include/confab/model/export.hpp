#pragma once

#include "confab/model/user.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace confab::model {

// An archive of a user's data (docs/api.md, Exporting your data), built in the background.
enum class ExportStatus { pending, running, ready, failed };

constexpr std::string_view to_string(ExportStatus status) {
    switch (status) {
        case ExportStatus::pending: return "pending";
        case ExportStatus::running: return "running";
        case ExportStatus::ready: return "ready";
        case ExportStatus::failed: return "failed";
    }
    return "failed";
}

constexpr std::optional<ExportStatus> export_status_from(std::string_view text) {
    for (auto status : {ExportStatus::pending, ExportStatus::running, ExportStatus::ready, ExportStatus::failed})
        if (to_string(status) == text) return status;
    return std::nullopt;
}

struct DataExport {
    std::string id;
    std::string user_id;
    ExportStatus status = ExportStatus::pending;
    int items_done = 0;                      // progress: the archive's parts written so far...
    int items_total = 0;                     // ...of this many (0 until the export has counted them)
    std::optional<std::int64_t> size_bytes;  // the archive's, once ready
    Timestamp created_at;
    std::optional<Timestamp> finished_at;
};

}  // namespace confab::model
