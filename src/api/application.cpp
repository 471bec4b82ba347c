#include "confab/api/application.hpp"

#include "confab/store/database.hpp"

#include <limits>

namespace confab::api {
namespace {
constexpr std::size_t analytics_queue_capacity = 100000;
}

Application::Application(const config::Config& cfg, domain::Translator* translator,
                         domain::WebhookTransport* webhook_transport, domain::PushSender* push_sender,
                         const domain::HostTokenVerifier* host_tokens)
    : config(cfg),
      pool(cfg.database.url, cfg.database.pool_size, cfg.database.connect_timeout, store::prepare_statements,
           {cfg.overload.db_reconnect_min, cfg.overload.db_reconnect_max, cfg.overload.db_queue_limit,
            cfg.database.commit_gather}),
      page_stamps(cfg.database.url, pool),
      hashing(cfg.auth.hash_threads, cfg.auth.hash_queue),
      workers(cfg.media.worker_threads, cfg.overload.worker_queue_limit),
      // Apart from the media workers: one user asking for a hundred thumbnails of large images
      // at once held up everyone's uploads behind them (19 s for a 71-byte PNG).
      thumbnails(cfg.media.worker_threads, cfg.overload.worker_queue_limit),
      // As many as the media workers, apart from them so a download never waits behind a
      // thumbnail; unbounded, as a connection waits for one file job at a time (net/file_io.hpp).
      files(cfg.media.worker_threads, std::numeric_limits<std::size_t>::max()),
      storage(cfg.media.dir),
      auth(pool, hashing, hub, cfg, host_tokens),
      publisher(hub),
      access(cfg.limits.access_cache_members),
      analytics(cfg.database.url, analytics_queue_capacity),
      writes(pool, access, publisher, analytics),
      users(writes),
      chats(writes, storage, cfg.limits),
      members(writes, storage, cfg.limits),
      messages(writes, storage, cfg.limits, page_stamps),
      presence(writes, hub, workers, cfg.limits, cfg.cluster),
      media(writes, users, storage, workers, thumbnails, cfg.media, cfg.limits),
      stats(pool),
      templates(writes, cfg.limits.content_chars),
      scheduled(writes, messages, workers, cfg.limits),
      polls(writes, cfg.limits),
      host_accounts(pool, auth, users, cfg.jwt.issuer),
      translations(writes, translator),
      exports(pool, storage, workers, std::filesystem::path(cfg.media.dir) / "exports"),
      accounts(writes, auth, members, exports, storage, cfg.auth),
      webhooks(writes, webhook_transport, webhook_bodies, workers, cfg.webhooks),
      push(writes, hub, push_sender, workers, cfg.push),
      invite_links(writes, cfg.limits),
      call_publisher(hub),
      calls(writes, hub, call_publisher, workers, cfg.calls),
      call_router(calls, hub),
      user_blocks(writes),
      reports(writes),
      broadcasts(writes, chats, messages),
      bots(writes, auth, users, accounts, webhooks),
      services{cfg,          pool,    auth,       users,     chats,     members,      messages,
               presence,     media,   stats,      templates, scheduled, polls,        host_accounts,
               translations, exports, accounts,   webhooks,  push,      invite_links, calls,
               user_blocks,  reports, broadcasts, hub,       bots,      call_router},
      web_client(cfg.web.root),
      router(make_router(services)),
      events(services) {
    if (cfg.cluster.clustered()) {
        writes.shared_with_other_nodes();
        calls.share_with_other_nodes(presence.process_id(), cfg.cluster.presence_timeout);
    }
    if (web_client.enabled())
        router.set_fallback([this](http::Context& context) -> boost::asio::awaitable<http::Response> {
            co_return web_client.answer(context.request);
        });
}

void Application::start() {
    media.start_cleanup();
    scheduled.start();
    exports.start_recovery();
    accounts.resume_deletions(workers.pool().get_executor());
    webhooks.start();
    push.start();
    calls.start_sweeper();
    presence.start();
}

void Application::stop() {
    presence.stop();
    media.stop();
    scheduled.stop();
    webhooks.stop();
    push.stop();
    calls.stop_sweeper();
    analytics.stop();
    pool.stop();
    for (auto* threads : {&hashing, &workers, &thumbnails, &files}) threads->pool().stop();
    for (auto* threads : {&hashing, &workers, &thumbnails, &files}) threads->pool().join();
}

}  // namespace confab::api
