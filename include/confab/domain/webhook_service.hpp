#pragma once

#include "confab/config/config.hpp"
#include "confab/domain/blocking.hpp"
#include "confab/domain/commit.hpp"
#include "confab/domain/events.hpp"
#include "confab/domain/fair_share.hpp"
#include "confab/domain/poll_gate.hpp"
#include "confab/model/list_page.hpp"
#include "confab/model/webhook.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace confab::domain {

struct WebhookPost {
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

// The way out to webhook receivers (the network layer implements it). Calls run on the
// caller's executor and never block it.
class WebhookTransport {
public:
    WebhookTransport() = default;
    WebhookTransport(const WebhookTransport&) = delete;
    WebhookTransport& operator=(const WebhookTransport&) = delete;
    virtual ~WebhookTransport() = default;

    // Throws bad_request naming `field` (the request's: url, webhook_url) for a URL that may
    // not be subscribed: not http://, a host that does not resolve, or one resolving to an
    // address the settings refuse.
    virtual boost::asio::awaitable<void> check_destination(std::string url, std::string field) = 0;
    // nullopt when the receiver answered 2xx; else what went wrong, for the log and the
    // parked delivery (never the body).
    virtual boost::asio::awaitable<std::optional<std::string>> post(WebhookPost post) = 0;
};

// The ids a delivery adds to its event.
struct DeliveryIds {
    std::string delivery_id, subscription_id, chat_id;
};

// Writes a delivery's body: the event as its WebSocket frame plus the ids (the api layer
// implements it; the domain knows no JSON).
class WebhookBodies {
public:
    virtual ~WebhookBodies() = default;
    virtual std::string body(const Event& event, const DeliveryIds& ids) const = 0;
};

// The events a subscription may name (docs/api.md, Webhooks).
const std::vector<std::string>& webhook_event_names();
// "t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.<body>' keyed with the secret>".
std::string webhook_signature(const std::string& secret, std::int64_t unix_seconds, const std::string& body);

struct NewWebhook {
    std::string url;
    std::vector<std::string> events;  // empty: every event
};

// Who manages a subscription: a chat's admin (actor and chat), the operator through the
// server API key (neither: server-wide subscriptions), or a bot's owner (actor and bot: the
// bot's webhook, whose parked deliveries they list and replay).
struct WebhookOwner {
    std::optional<std::string> actor;
    std::optional<std::string> chat_id;
    std::optional<std::string> bot_id;
};

// Outgoing webhooks (docs/api.md, Webhooks; docs/architecture.md, Webhooks). A subscription
// keeps a cursor per chat over the chat's committed changes (its version and seq); a loop
// finds the pairs whose chat moved past their cursor and delivers each pair's changes one
// event at a time, in order, moving the cursor only after a 2xx. A failure waits (exponential
// back-off, full jitter) and blocks that pair until it succeeds or is parked. A node leases
// each pair it delivers, so several nodes never deliver one pair at once. A node looks at the
// chats its own writes changed, those left behind and the retries come due; every chat only
// in a full look (FullLooks), so that a server-wide subscription over many chats costs
// PostgreSQL a bounded share. Of the pairs in flight
// (webhooks.concurrency) an owner of subscriptions has at most a share (fair_share), so that
// one user's receivers that never answer hold only theirs.
class WebhookService {
public:
    WebhookService(ChatWrites& writes, WebhookTransport* transport, const WebhookBodies& bodies, Workers& workers,
                   const config::Webhooks& settings);

    // The subscription with its secret (shown this once).
    boost::asio::awaitable<WebhookSubscription> create(WebhookOwner owner, NewWebhook request);
    boost::asio::awaitable<std::vector<WebhookSubscription>> list(WebhookOwner owner);
    boost::asio::awaitable<void> remove(WebhookOwner owner, std::string id);
    // The subscription's parked deliveries, oldest first, after a place (model::ListPlace: the
    // last one's of the page before, replayed since or not).
    boost::asio::awaitable<model::ListPage<WebhookFailure>> failures(WebhookOwner owner, std::string id,
                                                                     std::optional<model::ListPlace> after, int limit);
    // A bot's webhook (docs/api.md, Bots): every event of the chats the bot is a member of, from
    // its joining on. Replaces the bot's webhook with one for `url` (a new secret), or removes it
    // (nullopt). The caller has made sure the bot is the actor's, and checked the URL
    // (check_url, naming the request's field) before anything was written.
    boost::asio::awaitable<std::optional<WebhookSubscription>> set_bot_webhook(std::string bot_id,
                                                                               std::optional<std::string> url);
    // Throws bad_request naming `field` for a URL no webhook may have, unavailable when webhooks
    // are off.
    boost::asio::awaitable<void> check_url(const std::string& url, const std::string& field);
    // Sends a parked delivery again, now, once: true when the receiver took it (it is then
    // no longer listed).
    boost::asio::awaitable<std::pair<bool, std::optional<std::string>>> replay(WebhookOwner owner, std::string id,
                                                                               std::string failure_id);

    void start();
    void stop();

private:
    struct Step;
    boost::asio::awaitable<WebhookSubscription> owned(const WebhookOwner& owner, const std::string& id);
    boost::asio::awaitable<void> check_owner(const WebhookOwner& owner);
    boost::asio::awaitable<void> loop();
    // Starts the deliveries that are due: of every chat (`full`), or of the chats this node
    // changed since, those still behind after the last look, and those whose retry has come
    // due. Whether work was left: deliveries behind or under way.
    boost::asio::awaitable<bool> dispatch_due(bool full);
    // When this node's earliest retry still to come is due.
    PollGate::Clock::time_point next_retry();
    boost::asio::awaitable<void> drain(WebhookSubscription subscription, std::string chat_id,
                                       std::optional<std::string> owner);
    // One delivery of the pair; false when it is caught up or must wait for a retry.
    boost::asio::awaitable<bool> deliver_next(const WebhookSubscription& subscription, const std::string& chat_id);
    boost::asio::awaitable<std::optional<std::string>> send(const WebhookSubscription& subscription,
                                                            const std::string& delivery_id, const std::string& event,
                                                            const std::string& body);
    std::chrono::milliseconds backoff(int attempts) const;
    // How long a node holds a pair it delivers: a delivery's timeout twice, and some slack.
    std::chrono::milliseconds lease() const;

    ChatWrites& writes_;
    WebhookTransport* transport_;
    const WebhookBodies& bodies_;
    config::Webhooks settings_;
    std::string node_;  // this process, as the holder of the pairs it delivers
    boost::asio::strand<boost::asio::thread_pool::executor_type> strand_;
    boost::asio::steady_timer timer_;
    std::set<std::pair<std::string, std::string>> in_flight_;  // (subscription, chat); the strand's
    SharedSlots slots_;                                        // in_flight_ counted by owner; the strand's
    PollGate gate_;                                            // the strand's
    std::set<std::string> behind_;  // chats changed or behind, not yet seen caught up; the strand's
    std::multiset<PollGate::Clock::time_point> retries_;  // of this node's failed deliveries; the strand's
    FullLooks full_looks_;                                // the strand's
    ChangedChats* changed_;                               // when webhooks are on
};

}  // namespace confab::domain
