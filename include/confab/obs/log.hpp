#pragma once

#include <string>

namespace confab::obs {

// Installs the process-wide spdlog logger: human-readable text by default, or one JSON
// object per line ("json") for log shippers. Throws std::invalid_argument on a bad level.
void init_logging(const std::string& level, const std::string& format);

// Changes the level of the installed logger (SIGHUP reload). Throws on a bad level.
void set_log_level(const std::string& level);

}  // namespace confab::obs
