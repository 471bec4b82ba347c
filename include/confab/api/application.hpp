#pragma once

#include "confab/api/call_publisher.hpp"
#include "confab/api/call_router.hpp"
#include "confab/api/event_publisher.hpp"
#include "confab/api/routes.hpp"
#include "confab/api/services.hpp"
#include "confab/api/web_client.hpp"
#include "confab/api/webhook_bodies.hpp"
#include "confab/api/ws_events.hpp"
#include "confab/config/config.hpp"
#include "confab/domain/access_cache.hpp"
#include "confab/domain/account_service.hpp"
#include "confab/domain/analytics.hpp"
#include "confab/domain/auth_service.hpp"
#include "confab/domain/blocking.hpp"
#include "confab/domain/bot_service.hpp"
#include "confab/domain/broadcast_service.hpp"
#include "confab/domain/call_service.hpp"
#include "confab/domain/chat_service.hpp"
#include "confab/domain/member_service.hpp"
#include "confab/domain/commit.hpp"
#include "confab/domain/host_accounts.hpp"
#include "confab/domain/invite_link_service.hpp"
#include "confab/domain/user_block_service.hpp"
#include "confab/domain/export_service.hpp"
#include "confab/domain/media_service.hpp"
#include "confab/domain/message_service.hpp"
#include "confab/domain/poll_service.hpp"
#include "confab/domain/presence_service.hpp"
#include "confab/domain/push_service.hpp"
#include "confab/domain/report_service.hpp"
#include "confab/domain/stats_service.hpp"
#include "confab/domain/scheduled_service.hpp"
#include "confab/domain/template_service.hpp"
#include "confab/domain/translation_service.hpp"
#include "confab/domain/user_service.hpp"
#include "confab/domain/webhook_service.hpp"
#include "confab/media/storage.hpp"
#include "confab/realtime/hub.hpp"
#include "confab/store/page_stamps.hpp"
#include "confab/store/pool.hpp"

namespace confab::api {

// Everything below the network, wired once: the composition root that main() serves and
// tests inspect. Members are declared in dependency order, so they are built bottom-up
// and destroyed top-down. Nothing connects to the database until it is used.
class Application {
public:
    // `translator`: the translation provider (net/libre_translate.hpp), `webhook_transport` the
    // way out to webhook receivers (net/webhook_transport.hpp), `push_sender` the push providers
    // (net/push_providers.hpp), `host_tokens` the check of host applications' tokens
    // (net/jwt_verifier.hpp), each outliving the application; null when none (webhooks, pushes
    // and sign-in with host tokens are then off).
    explicit Application(const config::Config& cfg, domain::Translator* translator = nullptr,
                         domain::WebhookTransport* webhook_transport = nullptr,
                         domain::PushSender* push_sender = nullptr,
                         const domain::HostTokenVerifier* host_tokens = nullptr);
    Application(const Application&) = delete;
    Application& operator=(const Application&) = delete;

    // Background work: the cleanup of unattached uploads, posting due scheduled messages,
    // failing the exports a stopped server left unfinished, webhook deliveries, push notifications,
    // ending the calls whose ring or reconnect grace ran out.
    void start();
    // After the server stopped: fail queued jobs, flush analytics, join every thread.
    void stop();

    const config::Config& config;
    store::Pool pool;
    store::PageStamps page_stamps;
    domain::Workers hashing;     // Argon2id only
    domain::Workers workers;     // media: sniffing, hashing, fsync, cleanup
    domain::Workers thumbnails;  // thumbnails and posters made when first asked for
    domain::Workers files;       // the file reads and writes of downloads and uploads (net/file_io.hpp)
    media::LocalStorage storage;
    realtime::Hub hub;
    domain::AuthService auth;
    EventPublisher publisher;
    domain::AccessCache access;
    domain::Analytics analytics;
    domain::ChatWrites writes;
    domain::UserService users;
    domain::ChatService chats;
    domain::MemberService members;
    domain::MessageService messages;
    domain::PresenceService presence;
    domain::MediaService media;
    domain::StatsService stats;
    domain::TemplateService templates;
    domain::ScheduledService scheduled;
    domain::PollService polls;
    domain::HostAccounts host_accounts;
    domain::TranslationService translations;
    domain::ExportService exports;
    domain::AccountService accounts;
    JsonWebhookBodies webhook_bodies;
    domain::WebhookService webhooks;
    domain::PushService push;
    domain::InviteLinkService invite_links;
    CallPublisher call_publisher;
    domain::CallService calls;
    CallRouter call_router;
    domain::UserBlockService user_blocks;
    domain::ReportService reports;
    domain::BroadcastService broadcasts;
    domain::BotService bots;
    Services services;
    WebClient web_client;
    http::Router router;
    WsEvents events;
};

}  // namespace confab::api
