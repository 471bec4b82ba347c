#pragma once

#include <spdlog/common.h>

#include <string>
#include <string_view>

namespace confab::obs {

// Installs the process-wide spdlog logger: human-readable text by default, or one JSON
// object per line ("json") for log shippers. A node of a cluster names itself on every line
// (`node=<id>`, in JSON a "node" field); `node` is empty on a single node. Throws
// std::invalid_argument on a bad level.
void init_logging(const std::string& level, const std::string& format, const std::string& node = "");

// One JSON log line: {"ts", "level", "msg", and one string field per key=value word}.
// Exposed for tests.
void append_json_line(std::string_view stamp, std::string_view level, std::string_view text,
                      spdlog::memory_buf_t& dest);

// Changes the level of the installed logger (SIGHUP reload). Throws on a bad level.
void set_log_level(const std::string& level);

}  // namespace confab::obs
