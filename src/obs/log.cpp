#include "confab/obs/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

namespace confab::obs {
namespace {

void append_json_escaped(std::string_view text, spdlog::memory_buf_t& out) {
    static constexpr char hex[] = "0123456789abcdef";
    for (unsigned char c : text) {
        switch (c) {
            case '"': out.append(std::string_view{"\\\""}); break;
            case '\\': out.append(std::string_view{"\\\\"}); break;
            case '\n': out.append(std::string_view{"\\n"}); break;
            case '\r': out.append(std::string_view{"\\r"}); break;
            case '\t': out.append(std::string_view{"\\t"}); break;
            default:
                if (c < 0x20) {
                    const char escaped[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
                    out.append(escaped, escaped + sizeof escaped);
                } else {
                    out.push_back(static_cast<char>(c));
                }
        }
    }
}

}  // namespace

// Our log lines carry their facts as key=value words ("request_id=... status=200"): in
// JSON each becomes a field of its own, and the rest of the text stays in "msg".
void append_json_line(std::string_view stamp, std::string_view level, std::string_view text,
                      spdlog::memory_buf_t& dest) {
    std::string message;
    std::string fields;
    std::size_t at = 0;
    while (at < text.size()) {
        auto end = text.find(' ', at);
        if (end == std::string_view::npos) end = text.size();
        const auto word = text.substr(at, end - at);
        const auto equals = word.find('=');
        const bool is_field = equals != std::string_view::npos && equals > 0 &&
                              std::all_of(word.begin(), word.begin() + static_cast<std::ptrdiff_t>(equals),
                                          [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
        if (is_field) {
            spdlog::memory_buf_t value;
            append_json_escaped(word.substr(equals + 1), value);
            fields +=
                ",\"" + std::string(word.substr(0, equals)) + "\":\"" + std::string(value.data(), value.size()) + '"';
        } else if (!word.empty()) {
            if (!message.empty()) message += ' ';
            message += word;
        }
        at = end + 1;
    }
    fmt::format_to(std::back_inserter(dest), R"({{"ts":"{}","level":"{}","msg":")", stamp, level);
    append_json_escaped(message, dest);
    dest.push_back('"');
    dest.append(fields.data(), fields.data() + fields.size());
    dest.append(std::string_view{"}\n"});
}

namespace {

// One JSON object per line; the text is escaped so any message stays valid JSON.
class JsonFormatter final : public spdlog::formatter {
public:
    explicit JsonFormatter(std::string prefix) : prefix_(std::move(prefix)) {}

    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count();
        const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
        std::tm utc{};
        gmtime_r(&seconds, &utc);
        char stamp[32];
        const auto length = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
        const auto timestamp = fmt::format("{}.{:03}Z", std::string_view(stamp, length), ms % 1000);
        const auto level = spdlog::level::to_string_view(msg.level);
        const std::string text = prefix_ + std::string(msg.payload.data(), msg.payload.size());
        append_json_line(timestamp, std::string_view(level.data(), level.size()), text, dest);
    }
    std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(prefix_); }

private:
    std::string prefix_;  // "node=<id> " on a cluster's node: a field like the message's own
};

}  // namespace

namespace {

spdlog::level::level_enum parse_level(const std::string& level) {
    const auto parsed = spdlog::level::from_str(level);
    if (parsed == spdlog::level::off && level != "off") throw std::invalid_argument("unknown log level " + level);
    return parsed;
}

}  // namespace

void set_log_level(const std::string& level) { spdlog::set_level(parse_level(level)); }

void init_logging(const std::string& level, const std::string& format, const std::string& node) {
    const auto parsed = parse_level(level);
    auto logger = std::make_shared<spdlog::logger>("confab", std::make_shared<spdlog::sinks::stdout_sink_mt>());
    const std::string prefix = node.empty() ? "" : "node=" + node + " ";
    if (format == "json") {
        logger->set_formatter(std::make_unique<JsonFormatter>(prefix));
    } else {
        std::string escaped;  // '%' starts a flag in a pattern
        for (const char c : prefix) escaped += c == '%' ? std::string("%%") : std::string(1, c);
        logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%-5l%$ " + escaped + "%v", spdlog::pattern_time_type::utc);
    }
    logger->set_level(parsed);
    logger->flush_on(spdlog::level::warn);
    spdlog::set_default_logger(std::move(logger));
    // Request logs are info; flushing each would cost a write per request.
    spdlog::flush_every(std::chrono::seconds(1));
}

}  // namespace confab::obs
