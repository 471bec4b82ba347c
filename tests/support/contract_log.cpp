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

void http_response(std::string_view method, std::string_view target, int status, std::string_view content_type,
                   std::string_view body) {
    // Only JSON bodies are checked; a download's bytes stay out of the log.
    const bool json = content_type.starts_with("application/json");
    Log::instance().write({{"kind", "http"},
                           {"method", method},
                           {"target", target},
                           {"status", status},
                           {"content_type", content_type},
                           {"body", json ? body : std::string_view()}});
}

void ws_frame(std::string_view text) { Log::instance().write({{"kind", "ws"}, {"frame", text}}); }

void webhook(std::string_view body) { Log::instance().write({{"kind", "webhook"}, {"body", body}}); }

}  // namespace confab::test::contract_log
