#include "confab/domain/webhook_service.hpp"

#include "confab/domain/bot_service.hpp"
#include "confab/domain/group_writes.hpp"
#include "confab/domain/rules.hpp"
#include "confab/domain/validation.hpp"
#include "confab/obs/metrics.hpp"
#include "confab/store/chats.hpp"
#include "confab/store/messages.hpp"
#include "confab/store/webhooks.hpp"
#include "confab/model/user.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <tuple>

namespace confab::domain {
namespace {

using store::webhooks::Cursor;

constexpr std::size_t max_url_chars = 2048;
constexpr std::size_t max_webhooks_per_owner = 20;
constexpr int max_skipped_changes = 200;  // changes no webhook event shows, passed in one transaction

std::string hex(const unsigned char* bytes, std::size_t size) {
    std::string text(size * 2 + 1, '\0');
    sodium_bin2hex(text.data(), text.size(), bytes, size);
    text.pop_back();
    return text;
}

// A random UUID (version 4), naming this process.
std::string new_node_id() {
    std::array<unsigned char, 16> raw{};
    randombytes_buf(raw.data(), raw.size());
    raw[6] = static_cast<unsigned char>((raw[6] & 0x0fU) | 0x40U);
    raw[8] = static_cast<unsigned char>((raw[8] & 0x3fU) | 0x80U);
    const auto text = hex(raw.data(), raw.size());
    return text.substr(0, 8) + "-" + text.substr(8, 4) + "-" + text.substr(12, 4) + "-" + text.substr(16, 4) + "-" +
           text.substr(20);
}

std::string new_secret() {
    std::array<unsigned char, 32> raw{};
    randombytes_buf(raw.data(), raw.size());
    return "whsec_" + hex(raw.data(), raw.size());
}

std::string event_name(const Event& event) {
    return std::visit(
        [](const auto& e) -> std::string {
            using T = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<T, MessageCreated>) return "message.new";
            if constexpr (std::is_same_v<T, MessageUpdated>) return "message.updated";
            if constexpr (std::is_same_v<T, MessageDeleted>) return "message.deleted";
            if constexpr (std::is_same_v<T, MemberAdded>) return "member.added";
            if constexpr (std::is_same_v<T, MemberUpdated>) return "member.updated";
            if constexpr (std::is_same_v<T, MemberRemoved>) return "member.removed";
            return "";
        },
        event);
}

// A message's message.new, and the member event its system note records: member.added while
// the member is still one (a later removal has its own note).
std::vector<Event> created_events(store::Tx& tx, const Message& message) {
    std::vector<Event> events{MessageCreated{message}};
    if (message.type != MessageType::system) return events;
    const auto change = store::webhooks::member_change(tx, message.id);
    if (!change) return events;
    if (change->event == "member.left" || change->event == "member.removed" || change->event == "member.banned") {
        events.emplace_back(MemberRemoved{message.chat_id, change->user_id});
        return events;
    }
    auto member = store::members::find(tx, message.chat_id, change->user_id);
    if (!member) return events;
    auto seen = seen_by(std::move(*member), false, makes_contacts(tx, message.chat_id));
    if (change->event == "member.role_changed") events.emplace_back(MemberUpdated{std::move(seen)});
    else events.emplace_back(MemberAdded{std::move(seen)});
    return events;
}

// The chat's next change after the cursor, as the events it shows and the cursor past it.
// New messages go out in seq order; a later change to a message already delivered as new is
// its current state (message.updated, or message.deleted), several changes between two
// deliveries coming as one. A message deleted before it went out is never shown.
struct Change {
    std::vector<Event> events;
    Cursor after;
    std::string key;  // the change's part of its delivery ids
    Timestamp changed_at;
};

std::optional<Change> next_change(store::Tx& tx, const std::string& chat_id, const Cursor& cursor) {
    const auto version = store::webhooks::chat_version(tx, chat_id);
    if (!version || *version <= cursor.version) return std::nullopt;
    const auto changed = store::messages::changed_since(tx, chat_id, cursor.version, 1, "");
    // The chat moved by changes no webhook event shows (its settings, a hiding for oneself).
    if (changed.empty()) return Change{{}, Cursor{.version = *version, .seq = cursor.seq}, "", {}};
    const auto& oldest = changed.front();
    if (oldest.seq > cursor.seq) {
        auto next = store::messages::page(tx, chat_id, {.after_seq = cursor.seq, .limit = 1}, true, "");
        const auto& created = next.empty() ? oldest : next.front();
        Change change{{},
                      Cursor{.version = created.seq == oldest.seq ? oldest.version : cursor.version,
                             .seq = created.seq},
                      "s" + std::to_string(created.seq),
                      created.created_at};
        if (!created.is_deleted) change.events = created_events(tx, created);
        return change;
    }
    Change change{{},
                  Cursor{.version = oldest.version, .seq = cursor.seq},
                  "v" + std::to_string(oldest.version),
                  oldest.updated_at};
    if (oldest.is_deleted) change.events.emplace_back(MessageDeleted{oldest.id, chat_id, oldest.version});
    else change.events.emplace_back(MessageUpdated{oldest});
    return change;
}

bool names(const WebhookSubscription& subscription, const std::string& event) {
    return std::find(subscription.events.begin(), subscription.events.end(), event) != subscription.events.end();
}

// The member a member event is about; none for a message event.
const std::string* member_concerned(const Event& event) {
    if (const auto* added = std::get_if<MemberAdded>(&event)) return &added->member.user.id;
    if (const auto* updated = std::get_if<MemberUpdated>(&event)) return &updated->member.user.id;
    if (const auto* removed = std::get_if<MemberRemoved>(&event)) return &removed->user_id;
    return nullptr;
}

// A bot's webhook hears what its connections would (docs/api.md, Bots): in a channel or a
// large group, a bot below the staff hears of no member but itself (rules::hears_each_member).
// A chat's or the server's webhook is its admins' or the operator's, who hear of everyone.
bool hears_every_member(store::Tx& tx, const WebhookSubscription& subscription, const std::string& chat_id) {
    if (!subscription.bot_id) return true;
    const auto standing = store::members::standing(tx, chat_id, *subscription.bot_id);
    return standing && (rules::hears_each_member(standing->type, standing->large) || rules::is_staff(standing->role));
}

bool shows(const WebhookSubscription& subscription, const Event& event, bool every_member) {
    if (!names(subscription, event_name(event))) return false;
    const auto* about = member_concerned(event);
    return every_member || !about || *about == subscription.bot_id;
}

// Creating and listing are a chat's or the server's: a bot has one webhook, set on the bot
// (WebhookService::set_bot_webhook).
void require_chat_or_server(const WebhookOwner& owner) {
    if (owner.bot_id) throw bad_request("a bot's webhook is set on the bot");
}

// In a creation's transaction, before it counts the owner's subscriptions: the lock that makes
// concurrent creations count one after another, so that they cannot pass the cap together. A
// chat's is the chat's row, as its writes take it; the admin's standing is read again under it
// (they may have lost their role since it was checked).
void lock_subscriptions_of(store::Tx& tx, const WebhookOwner& owner) {
    if (!owner.chat_id) store::webhooks::lock_server_wide(tx);
    else if (owner.actor) rules::may_manage_webhooks(lock_standing(tx, *owner.chat_id, *owner.actor));
    else if (!store::chats::lock(tx, *owner.chat_id)) throw not_found("chat");
}

std::string too_many_webhooks(const WebhookOwner& owner) {
    const auto most = std::to_string(max_webhooks_per_owner);
    return owner.chat_id ? "at most " + most + " webhooks per chat" : "at most " + most + " server-wide webhooks";
}

}  // namespace

const std::vector<std::string>& webhook_event_names() {
    static const std::vector<std::string> all{"message.new",  "message.updated", "message.deleted",
                                              "member.added", "member.updated",  "member.removed"};
    return all;
}

std::string webhook_signature(const std::string& secret, std::int64_t unix_seconds, const std::string& body) {
    const auto signed_text = std::to_string(unix_seconds) + "." + body;
    std::array<unsigned char, crypto_auth_hmacsha256_BYTES> mac{};
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(signed_text.data()),
                                  signed_text.size());
    crypto_auth_hmacsha256_final(&state, mac.data());
    return "t=" + std::to_string(unix_seconds) + ",v1=" + hex(mac.data(), mac.size());
}

// What one delivery of a pair sends, and where its cursor goes once the receiver took it.
struct WebhookService::Step {
    Cursor at;
    Cursor after;
    std::string delivery_id, event, body;
    Timestamp changed_at;
};

WebhookService::WebhookService(ChatWrites& writes, WebhookTransport* transport, const WebhookBodies& bodies,
                               Workers& workers, const config::Webhooks& settings)
    : writes_(writes),
      transport_(transport),
      bodies_(bodies),
      settings_(settings),
      node_(new_node_id()),
      strand_(boost::asio::make_strand(workers.pool().get_executor())),
      timer_(strand_),
      slots_(settings.concurrency),
      changed_(transport ? &writes.watch_changed_chats() : nullptr) {}

boost::asio::awaitable<void> WebhookService::check_owner(const WebhookOwner& owner) {
    if (!owner.actor) co_return;  // the operator
    if (owner.bot_id) co_await managed_bot(writes_, *owner.actor, *owner.bot_id);
    else rules::may_manage_webhooks(co_await writes_.standing(*owner.chat_id, *owner.actor));
}

boost::asio::awaitable<WebhookSubscription> WebhookService::owned(const WebhookOwner& owner, const std::string& id) {
    require_uuid(id, "webhook_id");
    co_await check_owner(owner);
    auto found = co_await writes_.pool().run([id](store::Tx& tx) { return store::webhooks::find(tx, id); });
    if (!found || found->chat_id != owner.chat_id || found->bot_id != owner.bot_id) throw not_found("webhook");
    co_return std::move(*found);
}

boost::asio::awaitable<void> WebhookService::check_url(const std::string& url, const std::string& field) {
    if (url.size() > max_url_chars) throw bad_request(field + " is too long", field);
    if (!transport_) throw Error(ErrorCode::unavailable, "webhooks are not available");
    co_await transport_->check_destination(url, field);
}

boost::asio::awaitable<WebhookSubscription> WebhookService::create(WebhookOwner owner, NewWebhook request) {
    require_chat_or_server(owner);
    co_await check_owner(owner);
    std::vector<std::string> events;
    for (const auto& event : request.events) {
        const auto& known = webhook_event_names();
        if (std::find(known.begin(), known.end(), event) == known.end())
            throw bad_request("unknown event: " + event, "events");
        if (std::find(events.begin(), events.end(), event) == events.end()) events.push_back(event);
    }
    if (events.empty()) events = webhook_event_names();
    co_await check_url(request.url, "url");
    WebhookSubscription subscription{.id = {},
                                     .chat_id = owner.chat_id,
                                     .url = request.url,
                                     .secret = new_secret(),
                                     .events = std::move(events),
                                     .created_by = owner.actor,
                                     .created_at = {}};
    co_return co_await writes_.pool().run([owner, subscription](store::Tx& tx) {
        lock_subscriptions_of(tx, owner);
        if (store::webhooks::of_chat(tx, subscription.chat_id).size() >= max_webhooks_per_owner)
            throw conflict(too_many_webhooks(owner));
        return store::webhooks::create(tx, subscription);
    });
}

boost::asio::awaitable<std::optional<WebhookSubscription>> WebhookService::set_bot_webhook(
    std::string bot_id, std::optional<std::string> url) {
    std::optional<WebhookSubscription> subscription;
    if (url) {
        subscription = WebhookSubscription{.id = {},
                                           .chat_id = std::nullopt,
                                           .url = *url,
                                           .secret = new_secret(),
                                           .events = webhook_event_names(),
                                           .created_by = std::nullopt,
                                           .created_at = {},
                                           .bot_id = bot_id};
    }
    co_return co_await writes_.pool().run([bot_id, subscription](store::Tx& tx) -> std::optional<WebhookSubscription> {
        // One replacement at a time: two that both found none to remove would both insert one.
        store::webhooks::lock_bot(tx, bot_id);
        store::webhooks::remove_of_bot(tx, bot_id);
        if (!subscription) return std::nullopt;
        return store::webhooks::create(tx, *subscription);
    });
}

boost::asio::awaitable<std::vector<WebhookSubscription>> WebhookService::list(WebhookOwner owner) {
    require_chat_or_server(owner);
    co_await check_owner(owner);
    co_return co_await writes_.pool().run(
        [chat_id = owner.chat_id](store::Tx& tx) { return store::webhooks::of_chat(tx, chat_id); });
}

boost::asio::awaitable<void> WebhookService::remove(WebhookOwner owner, std::string id) {
    co_await owned(owner, id);
    co_await writes_.pool().run([id](store::Tx& tx) { store::webhooks::remove(tx, id); });
}

boost::asio::awaitable<model::ListPage<WebhookFailure>> WebhookService::failures(WebhookOwner owner, std::string id,
                                                                                 std::optional<model::ListPlace> after,
                                                                                 int limit) {
    if (after) require_uuid(after->id, "cursor");
    co_await owned(owner, id);
    auto rows = co_await writes_.pool().run(
        [id, after, limit](store::Tx& tx) { return store::webhooks::failures(tx, id, after, limit + 1); });
    co_return model::list_page(std::move(rows), limit);
}

boost::asio::awaitable<std::pair<bool, std::optional<std::string>>> WebhookService::replay(WebhookOwner owner,
                                                                                           std::string id,
                                                                                           std::string failure_id) {
    require_uuid(failure_id, "failure_id");
    const auto subscription = co_await owned(owner, id);
    auto failure = co_await writes_.pool().run(
        [id, failure_id](store::Tx& tx) { return store::webhooks::find_failure(tx, id, failure_id); });
    if (!failure) throw not_found("failed delivery");
    if (!transport_) throw Error(ErrorCode::unavailable, "webhooks are not available");
    const auto error = co_await send(subscription, failure->delivery_id, failure->event, failure->body);
    co_await writes_.pool().run([failure_id, error](store::Tx& tx) {
        if (error) store::webhooks::note_replay_failed(tx, failure_id, *error);
        else store::webhooks::remove_failure(tx, failure_id);
    });
    co_return std::pair{!error, error};
}

void WebhookService::start() {
    if (transport_) boost::asio::co_spawn(strand_, loop(), boost::asio::detached);
}

void WebhookService::stop() {
    boost::asio::post(strand_, [this] { timer_.cancel(); });
}

boost::asio::awaitable<void> WebhookService::loop() {
    for (;;) {
        timer_.expires_after(settings_.poll_interval);
        auto [ec] = co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
        if (ec) co_return;  // stopped
        const auto commits = writes_.commits();
        const auto began = PollGate::Clock::now();
        const bool full = full_looks_.due(began);
        if (!full && !gate_.due(commits, began)) continue;
        try {
            const bool work_left = co_await dispatch_due(full);
            const auto ended = PollGate::Clock::now();
            if (full) full_looks_.looked(began, ended);
            gate_.looked(commits, ended, work_left, next_retry());
        } catch (const std::exception& e) {
            spdlog::warn("webhooks: finding due deliveries failed: {}", e.what());
        }
    }
}

PollGate::Clock::time_point WebhookService::next_retry() {
    retries_.erase(retries_.begin(), retries_.upper_bound(PollGate::Clock::now()));
    return retries_.empty() ? PollGate::Clock::time_point::max() : *retries_.begin();
}

// On the strand, as every drain: in_flight_ and slots_ are the strand's. The pairs found
// leave each owner no more than their share (slots_); those past it wait for a later poll.
boost::asio::awaitable<bool> WebhookService::dispatch_due(bool full) {
    const auto room = slots_.room();
    if (room == 0) co_return true;
    std::optional<std::vector<std::string>> among;
    if (!full) {
        // Kept with those behind until a look succeeds: a failed one loses none of them.
        changed_->move_into(behind_);
        among.emplace(behind_.begin(), behind_.end());
    }
    auto [behind, due, backlog] =
        co_await writes_.pool().run([limit = static_cast<int>(room), share = static_cast<int>(slots_.share()),
                                     node = node_, in_flight = store::webhooks::InFlight{in_flight_, slots_.by_owner()},
                                     among = std::move(among)](store::Tx& tx) {
            auto chats = store::webhooks::behind(tx, node, among);
            auto found = store::webhooks::due(tx, node, limit, share, in_flight, chats);
            // The backlog reads every pair: measured with the full looks only.
            auto measured = among ? std::nullopt : std::optional{store::webhooks::backlog(tx)};
            return std::tuple{std::move(chats), std::move(found), measured};
        });
    behind_ = {std::make_move_iterator(behind.begin()), std::make_move_iterator(behind.end())};
    if (backlog) {
        auto& metrics = obs::metrics();
        metrics.webhook_pending.only().set(backlog->pending);
        metrics.webhook_oldest_pending.only().set(static_cast<std::int64_t>(backlog->oldest_seconds));
    }
    for (auto& pair : due) {
        if (!slots_.may_start(pair.owner)) continue;
        if (!in_flight_.emplace(pair.subscription.id, pair.chat_id).second) continue;
        slots_.started(pair.owner);
        boost::asio::co_spawn(strand_,
                              drain(std::move(pair.subscription), std::move(pair.chat_id), std::move(pair.owner)),
                              boost::asio::detached);
    }
    co_return !behind_.empty() || !in_flight_.empty();
}

boost::asio::awaitable<void> WebhookService::drain(WebhookSubscription subscription, std::string chat_id,
                                                   std::optional<std::string> owner) {
    try {
        while (co_await deliver_next(subscription, chat_id)) {
        }
    } catch (const std::exception& e) {
        spdlog::warn("webhook {}: delivering chat {} failed, will retry: {}", subscription.id, chat_id, e.what());
        behind_.insert(chat_id);
    }
    in_flight_.erase({subscription.id, chat_id});
    slots_.finished(owner);
}

boost::asio::awaitable<bool> WebhookService::deliver_next(const WebhookSubscription& subscription,
                                                          const std::string& chat_id) {
    auto step = co_await writes_.pool().run([subscription, chat_id, node = node_, lease = lease(),
                                             &bodies = bodies_](store::Tx& tx) -> std::optional<Step> {
        auto cursor = store::webhooks::claim(tx, subscription.id, chat_id, node, lease);
        if (!cursor) return std::nullopt;  // another node delivers it
        const bool every_member = hears_every_member(tx, subscription, chat_id);
        for (int skipped = 0; skipped < max_skipped_changes; ++skipped) {
            auto change = next_change(tx, chat_id, *cursor);
            if (!change) return std::nullopt;
            std::vector<const Event*> shown;
            for (const auto& event : change->events)
                if (shows(subscription, event, every_member)) shown.push_back(&event);
            const auto part = static_cast<std::size_t>(cursor->part);
            if (part < shown.size()) {
                Cursor after = change->after;
                if (part + 1 < shown.size())
                    after = Cursor{.version = cursor->version, .seq = cursor->seq, .part = cursor->part + 1};
                const auto delivery_id =
                    subscription.id + "." + chat_id + "." + change->key + "." + std::to_string(part);
                return Step{*cursor,
                            after,
                            delivery_id,
                            event_name(*shown[part]),
                            bodies.body(*shown[part], {delivery_id, subscription.id, chat_id}),
                            change->changed_at};
            }
            store::webhooks::advance(tx, subscription.id, chat_id, node, change->after);
            cursor = change->after;
        }
        return std::nullopt;
    });
    if (!step) co_return false;
    const auto error = co_await send(subscription, step->delivery_id, step->event, step->body);
    const auto at = model::now();
    if (!error) {
        co_await writes_.pool().run([id = subscription.id, chat_id, node = node_, after = step->after](store::Tx& tx) {
            store::webhooks::advance(tx, id, chat_id, node, after);
        });
        obs::metrics().webhook_latency.only().observe(std::chrono::duration<double>(at - step->changed_at).count());
        co_return true;
    }
    Cursor failing = step->at;
    failing.attempts += 1;
    failing.failing_since = failing.failing_since.value_or(at);
    const bool expired = at - *failing.failing_since >= settings_.retry_for;
    const auto wait = backoff(failing.attempts);
    const auto next_attempt = at + wait;
    co_await writes_.pool().run([id = subscription.id, chat_id, node = node_, step = *step, error = *error, failing,
                                 expired, next_attempt](store::Tx& tx) {
        if (!expired) {
            store::webhooks::record_attempt(tx, id, chat_id, node, failing, next_attempt, error);
            return;
        }
        store::webhooks::park(tx,
                              WebhookFailure{.id = {},
                                             .subscription_id = id,
                                             .chat_id = chat_id,
                                             .delivery_id = step.delivery_id,
                                             .event = step.event,
                                             .body = step.body,
                                             .attempts = failing.attempts,
                                             .last_error = error,
                                             .failed_at = {}},
                              node);
        store::webhooks::advance(tx, id, chat_id, node, step.after);
    });
    if (!expired) {
        retries_.insert(PollGate::Clock::now() + wait);
        co_return false;
    }
    obs::metrics().webhook_parked.only().inc();
    spdlog::warn("webhook {}: delivery {} parked after {} attempts: {}", subscription.id, step->delivery_id,
                 failing.attempts, *error);
    co_return true;
}

boost::asio::awaitable<std::optional<std::string>> WebhookService::send(const WebhookSubscription& subscription,
                                                                        const std::string& delivery_id,
                                                                        const std::string& event,
                                                                        const std::string& body) {
    const auto unix_seconds = model::unix_seconds(std::chrono::system_clock::now());
    WebhookPost post{subscription.url,
                     {{"Content-Type", "application/json"},
                      {"Confab-Signature", webhook_signature(subscription.secret, unix_seconds, body)},
                      {"Confab-Delivery", delivery_id},
                      {"Confab-Event", event}},
                     body};
    std::optional<std::string> error;
    try {
        error = co_await transport_->post(std::move(post));
    } catch (const std::exception& e) {
        error = e.what();
    }
    obs::metrics().webhook_attempts.with({error ? "failed" : "delivered"}).inc();
    co_return error;
}

std::chrono::milliseconds WebhookService::lease() const { return settings_.timeout * 2 + std::chrono::seconds(5); }

// Full jitter: uniform between 0 and a ceiling that doubles per failed attempt.
std::chrono::milliseconds WebhookService::backoff(int attempts) const {
    const auto doublings = std::min(attempts - 1, 40);
    const auto ceiling = std::min<double>(static_cast<double>(settings_.backoff_min.count()) * std::pow(2.0, doublings),
                                          static_cast<double>(settings_.backoff_max.count()));
    return std::chrono::milliseconds(randombytes_uniform(static_cast<std::uint32_t>(ceiling) + 1));
}

}  // namespace confab::domain
