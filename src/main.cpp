// confab: the chat server. `confab [--config FILE]` serves until SIGINT/SIGTERM.

#include "confab/api/application.hpp"
#include "confab/api/routes.hpp"
#include "confab/config/config.hpp"
#include "confab/net/jwt_verifier.hpp"
#include "confab/net/libre_translate.hpp"
#include "confab/net/nats_bus.hpp"
#include "confab/net/webhook_transport.hpp"
#include "confab/net/push_providers.hpp"
#include "confab/net/server.hpp"
#include "confab/obs/log.hpp"
#include "confab/realtime/cluster.hpp"
#include "confab/store/database.hpp"
#include "confab/store/migrations.hpp"
#include "confab/store/stats.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

constexpr auto migration_retry_window = std::chrono::seconds(30);

struct Arguments {
    std::optional<std::filesystem::path> config_file;
    std::vector<std::string> command;  // empty: serve; {"admin", "grant"|"revoke", USERNAME}
    bool help = false;
};

void print_usage() {
    std::puts(
        "usage: confab [--config FILE]                          serve the Confab chat API\n"
        "       confab [--config FILE] admin grant|revoke USERNAME   set a user's server-admin flag\n"
        "  Settings come from FILE (TOML), then CONFAB_* variables.");
}

std::optional<Arguments> parse_arguments(int argc, char** argv) {
    Arguments arguments;
    for (int i = 1; i < argc; ++i) {
        const std::string argument = argv[i];
        if (argument == "--config" && i + 1 < argc) {
            arguments.config_file = argv[++i];
        } else if (argument == "--help" || argument == "-h") {
            arguments.help = true;
        } else if (!argument.starts_with("-")) {
            arguments.command.push_back(argument);
        } else {
            std::fprintf(stderr, "confab: unknown argument %s\n", argument.c_str());
            return std::nullopt;
        }
    }
    const auto& c = arguments.command;
    if (!c.empty() && !(c.size() == 3 && c[0] == "admin" && (c[1] == "grant" || c[1] == "revoke"))) {
        std::fprintf(stderr, "confab: unknown command\n");
        return std::nullopt;
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
        } catch (const confab::store::Unavailable& e) {
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

// `confab admin grant|revoke USERNAME`: server admins may read GET /api/v1/admin/stats.
int set_admin(const confab::config::Config& config, const std::string& verb, const std::string& username) {
    migrate(config.database.url);
    const bool granted = verb == "grant";
    bool found = false;
    confab::store::run_alone(config.database.url, [&](confab::store::Tx& tx) {
        found = confab::store::stats::set_admin(tx, username, granted);
    });
    if (!found) {
        std::fprintf(stderr, "confab: no user named %s\n", username.c_str());
        return 1;
    }
    std::printf("%s is %s a server admin\n", username.c_str(), granted ? "now" : "no longer");
    return 0;
}

// Calls across nodes (api/call_router.hpp): this process answers the commands for the calls it
// owns on its own subject; they run on the media workers, apart from the threads that wait
// for other nodes' answers.
void link_calls(confab::api::Application& app, confab::net::NatsBus& bus, confab::realtime::Cluster& cluster) {
    app.call_publisher.reach_other_nodes(cluster);
    app.call_router.link([&bus](const std::string& process_id,
                                const std::string& request) { return bus.ask(process_id, request); },
                         cluster);
    bus.answer(app.presence.process_id(), [&app](std::string request, confab::net::NatsBus::Reply reply) {
        boost::asio::co_spawn(
            app.workers.pool(),
            [&app, request = std::move(request), reply = std::move(reply)]() -> boost::asio::awaitable<void> {
                reply(co_await app.call_router.answer(request));
            },
            boost::asio::detached);
    });
}

// Which earlier seqs of a chat a node sees for the first time it need not wait for, looked up
// on the media workers (a failed look-up leaves the gap to the sequencer's wait).
void settle_in_background(confab::api::Application& app, const std::string& chat_id, std::int64_t below,
                          std::chrono::milliseconds wait, std::chrono::system_clock::time_point stored_before,
                          std::function<void(std::int64_t)> answer) {
    boost::asio::co_spawn(
        app.workers.pool(),
        [&app, chat_id, below, wait, stored_before, answer = std::move(answer)]() -> boost::asio::awaitable<void> {
            try {
                answer(co_await app.messages.settled_seq(chat_id, below, wait, stored_before));
            } catch (const std::exception& e) {
                spdlog::warn("cluster: could not look up a chat's earlier messages; its gap waits: {}", e.what());
            }
        },
        boost::asio::detached);
}

int serve(const confab::config::Config& config, const std::optional<std::filesystem::path>& config_file) {
    using namespace confab;
    migrate(config.database.url);
    std::optional<net::LibreTranslate> translator;
    if (!config.translation.url.empty()) translator.emplace(config.translation);
    net::HttpWebhookTransport webhook_transport(config.webhooks);
    net::PushProviders push_providers(config.push, [&webhook_transport](const boost::asio::ip::address& at) {
        return webhook_transport.allows(at);
    });
    const net::JwtVerifier host_tokens(config.jwt);
    api::Application app(config, translator ? &*translator : nullptr, &webhook_transport, &push_providers,
                         &host_tokens);
    // Declared after the application, and the bus after its cluster: the bus flushes and stops
    // calling into the cluster before the cluster goes, and the cluster into the hub before it.
    std::optional<realtime::Cluster> cluster;
    std::optional<net::NatsBus> bus;
    if (config.cluster.clustered()) {
        bus.emplace(config.cluster);
        cluster.emplace(
            app.hub, *bus,
            realtime::Cluster::Told{
                [&auth = app.auth](const std::string& user_id, const realtime::TokenFilter& tokens) {
                    auth.revoked_elsewhere(user_id, tokens);
                },
                [&access = app.access](const std::string& chat_id) { access.forget(chat_id); },
                [&calls = app.calls](const std::string& user_id, const std::string& token_hash, bool connected) {
                    if (connected) calls.connected({user_id, token_hash});
                    else calls.disconnected({user_id, token_hash});
                },
                [&app, wait = config.cluster.order_wait](const std::string& chat_id, std::int64_t below,
                                                         std::chrono::system_clock::time_point stored_before,
                                                         std::function<void(std::int64_t)> answer) {
                    settle_in_background(app, chat_id, below, wait, stored_before, std::move(answer));
                }},
            config.cluster.order_wait);
        app.access.on_change([&node = *cluster](const std::string& chat_id) { node.relay_access_changed(chat_id); });
        bus->start([&node = *cluster](std::string_view bytes) { node.receive(bytes); },
                   [&node = *cluster] { node.rejoined(); });
        app.hub.relay_through(&*cluster);
        link_calls(app, *bus, *cluster);
    }
    net::Server server(config, app.router, app.events, app.hub, app.files,
                       {[&app] { return app.storage.temporary_path(); },
                        [&config_file] { reload_log_level(config_file); },
                        [&app](const http::Request& head) { return api::admit_upload(app.services, head); }});
    app.start();
    server.run();
    app.stop();  // the I/O threads have stopped: queued jobs fail, then every thread is joined
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const auto arguments = parse_arguments(argc, argv);
    if (!arguments || arguments->help) {
        print_usage();
        return arguments ? 0 : 2;
    }
    confab::config::Config config;
    try {
        config = confab::config::load(arguments->config_file, confab::config::process_env());
        confab::obs::init_logging(config.log.level, config.log.format,
                                  config.cluster.clustered() ? confab::net::NatsBus::node_id(config.cluster) : "");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "confab: configuration error: %s\n", e.what());
        return 2;
    }
    try {
        if (!arguments->command.empty()) return set_admin(config, arguments->command[1], arguments->command[2]);
        return serve(config, arguments->config_file);
    } catch (const std::exception& e) {
        spdlog::critical("confab stopped: {}", e.what());
        spdlog::shutdown();
        return 1;
    }
}
