#include "support/contract_log.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>

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

    void write(const nlohmann::json& line) {
        if (!out_) return;
        const std::lock_guard lock(mutex_);
        *out_ << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
        out_->flush();
    }

private:
    Log() {
        const char* dir = std::getenv("CONFAB_CONTRACT_LOG");
        if (dir == nullptr || *dir == '\0') return;
        std::filesystem::create_directories(dir);
        out_.emplace(std::filesystem::path(dir) / (std::to_string(::getpid()) + ".jsonl"), std::ios::app);
    }

    std::mutex mutex_;
    std::optional<std::ofstream> out_;
};

}  // namespace

void http(const HttpExchange& exchange) {
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

void ws_frame(std::uint64_t connection, Direction direction, std::string_view text) {
    Log::instance().write(
        {{"kind", direction == Direction::sent ? "ws_sent" : "ws"}, {"connection", connection}, {"frame", text}});
}

void webhook(std::string_view body) { Log::instance().write({{"kind", "webhook"}, {"body", body}}); }

}  // namespace confab::test::contract_log
