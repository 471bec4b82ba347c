#include "support/contract_log.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

namespace confab::test::contract_log {
namespace {

class Log {
public:
    static Log& instance() {
        static Log log;
        return log;
    }

    bool enabled() const { return out_.is_open(); }

    // Buffered, not flushed per line: the clients log from their read loops, and a reader
    // slowed by a write per frame is one the server rightly closes (integration.backpressure).
    // The file is flushed when the process exits; the checker skips a line cut short.
    void write(const nlohmann::json& line) {
        write_raw(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    void write_raw(const std::string& line) {
        const std::lock_guard lock(mutex_);
        out_ << line << '\n';
    }

private:
    Log() {
        const char* dir = std::getenv("CONFAB_CONTRACT_LOG");  // NOLINT(concurrency-mt-unsafe)
        if (dir == nullptr || *dir == '\0') return;
        std::filesystem::create_directories(dir);
        out_.rdbuf()->pubsetbuf(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
        out_.open(std::filesystem::path(dir) / (std::to_string(::getpid()) + ".jsonl"), std::ios::app);
    }

    std::mutex mutex_;
    std::vector<char> buffer_ = std::vector<char>(std::size_t{1} << 20);
    std::ofstream out_;
};

}  // namespace

void http(const HttpExchange& exchange) {
    if (!Log::instance().enabled()) return;
    // Only JSON bodies are checked; an upload's or a download's bytes stay out of the log.
    const auto json_only = [](std::string_view content_type, std::string_view body) {
        return content_type.starts_with("application/json") ? body : std::string_view();
    };
    Log::instance().write(
        {{"kind", "http"},
         {"method", exchange.method},
         {"target", exchange.target},
         {"request_content_type", exchange.request_content_type},
         {"request_body", json_only(exchange.request_content_type, exchange.request_body)},
         {"status", exchange.status},
         {"content_type", exchange.content_type},
         {"body", json_only(exchange.content_type, exchange.body)},
         {"headers", exchange.headers ? nlohmann::json(*exchange.headers) : nlohmann::json::object()}});
}

void ws_frame(std::uint64_t connection, Direction direction, std::string_view text, bool known_json) {
    if (!Log::instance().enabled()) return;
    const std::string kind = direction == Direction::sent ? "ws_sent" : "ws";
    if (!known_json) {
        Log::instance().write({{"kind", kind}, {"connection", connection}, {"frame", text}});
        return;
    }
    Log::instance().write_raw(R"({"kind":")" + kind + R"(","connection":)" + std::to_string(connection) +
                              R"(,"frame":)" + std::string(text) + "}");
}

void webhook(std::string_view body) {
    if (Log::instance().enabled()) Log::instance().write({{"kind", "webhook"}, {"body", body}});
}

}  // namespace confab::test::contract_log
