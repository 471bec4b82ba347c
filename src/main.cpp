// confab: the chat server. `confab [--config FILE]` serves until SIGINT/SIGTERM.

#include "confab/api/event_publisher.hpp"
#include "confab/api/routes.hpp"
#include "confab/api/ws_events.hpp"
#include "confab/config/config.hpp"
#include "confab/domain/access_cache.hpp"
#include "confab/domain/analytics.hpp"
#include "confab/domain/auth_service.hpp"
#include "confab/domain/chat_service.hpp"
#include "confab/domain/media_service.hpp"
#include "confab/domain/commit.hpp"
#include "confab/domain/message_service.hpp"
#include "confab/domain/presence_service.hpp"
#include "confab/domain/user_service.hpp"
#include "confab/net/server.hpp"
#include "confab/media/storage.hpp"
#include "confab/obs/log.hpp"
#include "confab/realtime/hub.hpp"
#include "confab/store/database.hpp"
#include "confab/store/migrations.hpp"
#include "confab/store/pool.hpp"

#include <boost/asio/thread_pool.hpp>
#include <pqxx/except>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <thread>

namespace {

constexpr auto migration_retry_window = std::chrono::seconds(30);
constexpr std::size_t analytics_queue_capacity = 100000;

struct Arguments {
    std::optional<std::filesystem::path> config_file;
};

void print_usage() {
    std::puts("usage: confab [--config FILE]\n"
              "  Serves the Confab chat API. Settings come from FILE (TOML), then CONFAB_* variables.");
}

std::optional<Arguments> parse_arguments(int argc, char** argv) {
    Arguments arguments;
    for (int i = 1; i < argc; ++i) {
        const std::string argument = argv[i];
        if (argument == "--config" && i + 1 < argc) {
            arguments.config_file = argv[++i];
        } else if (argument == "--help" || argument == "-h") {
            print_usage();
            std::exit(0);
        } else {
            std::fprintf(stderr, "confab: unknown argument %s\n", argument.c_str());
            return std::nullopt;
        }
    }
    return arguments;
}

// The database may still be starting (docker compose, a fresh cluster): retry for a while.
void migrate(const std::string& url) {
    const auto give_up = std::chrono::steady_clock::now() + migration_retry_window;
    for (;;) {
        try {
            const int applied = confab::store::apply_migrations(url, confab::store::embedded_migrations());
            spdlog::info("database schema at version {} ({} applied now)",
                         confab::store::latest_version(confab::store::embedded_migrations()), applied);
            return;
        } catch (const pqxx::broken_connection& e) {
            if (std::chrono::steady_clock::now() > give_up) throw;
            spdlog::warn("database not reachable yet ({}); retrying", e.what());
            std::this_thread::sleep_for(std::chrono::seconds(1));
        }
    }
}

// SIGHUP: the log level is read again from the same file and environment; the other
// settings need a restart (they size threads, pools and sockets).
void reload_log_level(const std::optional<std::filesystem::path>& config_file) {
    try {
        const auto fresh = confab::config::load(config_file, confab::config::process_env());
        confab::obs::set_log_level(fresh.log.level);
        spdlog::info("log level is now {}", fresh.log.level);
    } catch (const std::exception& e) {
        spdlog::error("reload refused, keeping the running settings: {}", e.what());
    }
}

int serve(const confab::config::Config& config, const std::optional<std::filesystem::path>& config_file) {
    using namespace confab;
    migrate(config.database.url);
    store::Pool pool(config.database.url, config.database.pool_size, config.database.connect_timeout,
                     store::prepare_statements);
    boost::asio::thread_pool workers(config.auth.hash_threads);  // Argon2id, sniffing, hashing, fsync
    media::LocalStorage storage(config.media.dir);
    realtime::Hub hub;
    domain::AuthService auth(pool, workers, hub, config.auth, config.limits);
    domain::UserService users(pool, hub);
    api::EventPublisher publisher(hub);
    domain::AccessCache access;
    domain::Analytics analytics(config.database.url, analytics_queue_capacity);
    domain::ChatWrites writes(pool, access, publisher, analytics);
    domain::ChatService chats(writes, hub, config.limits);
    domain::MessageService messages(writes, storage, config.limits);
    domain::PresenceService presence(writes, hub);
    domain::MediaService media(writes, storage, workers, config.media);
    api::Services services{config, pool, auth, users, chats, messages, presence, media};
    const auto router = api::make_router(services);
    api::WsEvents events(services);
    net::Server server(config, router, events, hub,
                       {[&storage] { return storage.temporary_path(); }, [&config_file] { reload_log_level(config_file); }});
    media.start_cleanup();
    server.run();
    // The I/O threads have stopped; jobs still queued are failed, then the threads joined.
    media.stop();
    analytics.stop();
    pool.stop();
    workers.stop();
    workers.join();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const auto arguments = parse_arguments(argc, argv);
    if (!arguments) {
        print_usage();
        return 2;
    }
    confab::config::Config config;
    try {
        config = confab::config::load(arguments->config_file, confab::config::process_env());
        confab::obs::init_logging(config.log.level, config.log.format);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "confab: configuration error: %s\n", e.what());
        return 2;
    }
    try {
        return serve(config, arguments->config_file);
    } catch (const std::exception& e) {
        spdlog::critical("confab stopped: {}", e.what());
        spdlog::shutdown();
        return 1;
    }
}
