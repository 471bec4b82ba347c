#include "confab/domain/push_service.hpp"

#include "confab/domain/rules.hpp"
#include "confab/domain/validation.hpp"
#include "confab/model/base64url.hpp"
#include "confab/obs/metrics.hpp"
#include "confab/realtime/hub.hpp"
#include "confab/store/pool.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>
#include <unordered_set>

namespace confab::domain {
namespace {

constexpr std::size_t max_token_bytes = 4096;
constexpr std::size_t max_key_bytes = 256;

// A Web Push subscription as PushSubscription.toJSON() gives it (RFC 8291 §3): an http(s)
// endpoint, p256dh an uncompressed P-256 point (65 bytes), auth a 16-byte secret.
void check_subscription(const DeviceRegistration& registration) {
    if (!registration.token.starts_with("https://") && !registration.token.starts_with("http://"))
        throw bad_request("token must be the subscription's endpoint URL", "token");
    const auto point = model::from_base64url(*registration.p256dh);
    if (!point || point->size() != 65 || point->front() != '\x04')
        throw bad_request("p256dh must be the base64url uncompressed P-256 public key (65 bytes)", "p256dh");
    const auto secret = model::from_base64url(*registration.auth);
    if (!secret || secret->size() != 16) throw bad_request("auth must be the base64url 16-byte auth secret", "auth");
}

// At most `limit` bytes, cut before a UTF-8 continuation byte so that no character is split.
std::string shortened(const std::string& text, std::size_t limit) {
    if (text.size() <= limit) return text;
    std::size_t end = limit;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    return text.substr(0, end);
}

// What each reachable member is told of a chat's new messages, by the push rule.
std::vector<store::push::Notice> notices_for(const std::vector<store::push::NewMessage>& messages,
                                             const std::vector<store::push::Reachable>& members,
                                             const realtime::Hub& hub) {
    const auto at = model::now();
    std::vector<store::push::Notice> notices;
    for (const auto& member : members) {
        const bool connected = hub.connections_of(member.user_id) > 0;
        store::push::Notice notice{.user_id = member.user_id, .message_id = {}, .count = 0, .first_at = {}};
        for (const auto& message : messages) {
            if (!message.pushable) continue;
            const rules::PushCandidate candidate{
                .is_sender = message.sender_id == member.user_id,
                .connected = connected,
                .mentioned = std::find(message.mentioned.begin(), message.mentioned.end(), member.user_id) !=
                             message.mentioned.end(),
                .settings = member.settings,
            };
            if (!rules::should_push(candidate, at)) continue;
            if (notice.count == 0) notice.first_at = message.created_at;
            notice.message_id = message.id;
            ++notice.count;
        }
        if (notice.count > 0) notices.push_back(std::move(notice));
    }
    return notices;
}

// One derivation step: the notices of up to chats_per_tick chats, their cursors advanced in
// the same transaction, so a crash leaves either both or neither. A few statements whatever
// the number of chats, and the messages are read only of chats where a member has a device:
// the cursor of a chat nobody can be pushed in moves straight to its last seq.
// Of every chat, or of those named.
struct Derived {
    bool caught_up = false;         // not when another node was deriving (one at a time)
    std::vector<std::string> done;  // the chats it caught up with
};

Derived derive_in(store::Tx& tx, const realtime::Hub& hub, std::chrono::milliseconds collapse,
                  const std::optional<std::vector<std::string>>& among) {
    Derived derived;
    if (!store::push::lead_derivation(tx)) return derived;  // another node is at it
    const auto behind = store::push::chats_behind(tx, PushService::chats_per_tick, among);
    derived.caught_up = static_cast<int>(behind.size()) < PushService::chats_per_tick;
    if (behind.empty()) return derived;
    std::vector<std::string> chat_ids;
    chat_ids.reserve(behind.size());
    for (const auto& chat : behind) chat_ids.push_back(chat.chat_id);
    const auto reachable = store::push::reachable_members(tx, chat_ids);
    std::vector<store::push::ChatBehind> watched;
    for (const auto& chat : behind)
        if (reachable.contains(chat.chat_id)) watched.push_back(chat);
    const auto news = store::push::messages_after(tx, watched, PushService::messages_per_chat);

    std::vector<store::push::Cursor> cursors;
    for (const auto& chat : behind) {
        const auto found = news.find(chat.chat_id);
        const auto* messages = found == news.end() ? nullptr : &found->second;
        if (messages)
            store::push::collect(tx, chat.chat_id, notices_for(*messages, reachable.at(chat.chat_id), hub), collapse);
        // All up to last_seq were committed when it was read; a longer backlog continues next tick.
        const bool whole = !messages || static_cast<int>(messages->size()) < PushService::messages_per_chat;
        const auto reached = messages ? messages->back().seq : chat.cursor;
        cursors.push_back({chat.chat_id, whole ? std::max(chat.last_seq, reached) : reached});
        if (whole) derived.done.push_back(chat.chat_id);
        else derived.caught_up = false;
    }
    store::push::set_cursors(tx, cursors);
    return derived;
}

}  // namespace

PushService::PushService(ChatWrites& writes, realtime::Hub& hub, PushSender* sender, Workers& workers,
                         const config::Push& settings)
    : writes_(writes),
      pool_(writes.pool()),
      hub_(hub),
      sender_(sender),
      settings_(settings),
      strand_(boost::asio::make_strand(workers.pool().get_executor())),
      timer_(strand_),
      changed_(writes.watch_changed_chats()) {}

void PushService::check(const DeviceRegistration& registration) const {
    if (!sender_ || !sender_->serves(registration.provider))
        throw model::with_reason(ErrorCode::bad_request, "this server does not push through that provider",
                                 "provider_not_configured", "provider");
    if (registration.token.empty() || registration.token.size() > max_token_bytes || !is_valid_utf8(registration.token))
        throw bad_request("token must be 1 to 4096 bytes of text", "token");
    const bool webpush = registration.provider == model::PushProvider::webpush;
    for (const auto& [key, name] : {std::pair{&registration.p256dh, "p256dh"}, std::pair{&registration.auth, "auth"}}) {
        if (webpush && (!*key || (*key)->empty() || (*key)->size() > max_key_bytes))
            throw bad_request(std::string(name) + " is required for webpush", name);
        if (!webpush && *key) throw bad_request(std::string(name) + " is for webpush devices only", name);
    }
    if (webpush) check_subscription(registration);
}

boost::asio::awaitable<model::PushDevice> PushService::register_device(model::Principal principal,
                                                                       DeviceRegistration registration) {
    check(registration);
    model::PushDevice device{.id = {},
                             .provider = registration.provider,
                             .token = registration.token,
                             .p256dh = registration.p256dh,
                             .auth = registration.auth,
                             .session_id = {},
                             .created_at = {}};
    auto [stored, removed] = co_await pool_.run([principal, device](store::Tx& tx) {
        store::push::lock_devices(tx, principal.user_id);
        auto registered = store::push::register_device(tx, principal.user_id, principal.token_hash, device);
        std::vector<std::string> oldest;
        if (registered)
            oldest = store::push::keep_newest_devices(tx, principal.user_id, registered->id, max_devices_per_user);
        return std::pair{std::move(registered), std::move(oldest)};
    });
    if (!stored) throw model::unauthorized("the session has ended");
    spdlog::info("push device {} registered ({})", stored->id, model::name_of(stored->provider));
    for (const auto& id : removed)
        spdlog::info("push device {} removed: its user registered more than {}", id, max_devices_per_user);
    co_return std::move(*stored);
}

boost::asio::awaitable<model::ListPage<model::PushDevice>> PushService::devices(std::string user_id,
                                                                                std::optional<model::ListPlace> after,
                                                                                int limit) {
    if (after) require_uuid(after->id, "cursor");
    auto rows = co_await pool_.run(
        [user_id, after, limit](store::Tx& tx) { return store::push::devices_of(tx, user_id, after, limit + 1); });
    co_return model::list_page(std::move(rows), limit);
}

boost::asio::awaitable<void> PushService::remove_device(std::string user_id, std::string device_id) {
    require_uuid(device_id, "device_id");
    const bool removed = co_await pool_.run(
        [user_id, device_id](store::Tx& tx) { return store::push::remove_device(tx, user_id, device_id); });
    if (!removed) throw not_found("device");
}

boost::asio::awaitable<model::NotificationSettings> PushService::settings(std::string user_id, std::string chat_id) {
    require_uuid(chat_id, "chat_id");
    auto found =
        co_await pool_.run([user_id, chat_id](store::Tx& tx) { return store::push::settings(tx, chat_id, user_id); });
    if (!found) throw not_found("chat");
    co_return *found;
}

boost::asio::awaitable<model::NotificationSettings> PushService::change_settings(std::string user_id,
                                                                                 std::string chat_id,
                                                                                 model::NotifyLevel level,
                                                                                 std::optional<Timestamp> muted_until) {
    require_uuid(chat_id, "chat_id");
    auto changed = co_await pool_.run([user_id, chat_id, level, muted_until](store::Tx& tx) {
        if (!store::push::settings(tx, chat_id, user_id)) throw not_found("chat");
        store::push::set_settings(tx, chat_id, user_id, level, muted_until);
        return *store::push::settings(tx, chat_id, user_id);
    });
    co_return changed;
}

void PushService::start() { boost::asio::co_spawn(strand_, loop(), boost::asio::detached); }

void PushService::stop() {
    boost::asio::post(strand_, [this] { timer_.cancel(); });
}

boost::asio::awaitable<void> PushService::loop() {
    for (;;) {
        timer_.expires_after(tick);
        auto [ec] = co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
        if (ec) co_return;  // stopped
        const auto commits = writes_.commits();
        const auto began = PollGate::Clock::now();
        const bool full = full_looks_.due(began);
        if (!full && !gate_.due(commits, began)) continue;
        try {
            const auto [caught_up, jobs_queued] = co_await derive(full);
            co_await send_due();
            const auto ended = PollGate::Clock::now();
            if (full) full_looks_.looked(began, ended, caught_up);
            gate_.looked(commits, ended, !caught_up || jobs_queued || sending_.in_flight() > 0);
        } catch (const std::exception& e) {
            spdlog::warn("push: a step of the delivery loop failed, will retry: {}", e.what());
        }
    }
}

boost::asio::awaitable<std::pair<bool, bool>> PushService::derive(bool full) {
    std::optional<std::vector<std::string>> among;
    if (!full) {
        changed_.move_into(behind_);
        among.emplace(behind_.begin(), behind_.end());
    }
    auto [derived, state] = co_await pool_.run([this, &among](store::Tx& tx) {
        auto result = derive_in(tx, hub_, settings_.collapse, among);
        return std::pair{std::move(result), store::push::queue_state(tx)};
    });
    obs::metrics().push_queue_depth.only().set(state.depth);
    obs::metrics().push_oldest_age.only().set(static_cast<std::int64_t>(state.oldest_seconds));
    // What was not derived is looked at again: the changed chats another node's derivation kept
    // this one from, or the rest past this step's share.
    if (derived.caught_up) behind_.clear();
    for (const auto& chat_id : derived.done) behind_.erase(chat_id);
    co_return std::pair{derived.caught_up, state.depth > 0};
}

// On the strand, as every delivery: sending_ is the strand's. The claim leaves each user no
// more than their share; their other due jobs stay unclaimed, for a later tick.
boost::asio::awaitable<void> PushService::send_due() {
    const auto room = sending_.room();
    if (room == 0) co_return;
    const auto lease = settings_.timeout * 2 + std::chrono::seconds(1);
    auto due = co_await pool_.run(
        [limit = static_cast<int>(room), lease, share = static_cast<int>(sending_.share()),
         busy = sending_.by_owner()](store::Tx& tx) { return store::push::claim_due(tx, limit, lease, share, busy); });
    for (auto& job : due) {
        sending_.started(job.user_id);
        boost::asio::co_spawn(strand_, deliver(std::move(job)), boost::asio::detached);
    }
}

PushNotification PushService::notification_of(const store::push::Job& job) const {
    PushNotification notification{.dedupe_key = job.id,
                                  .chat_id = job.chat_id,
                                  .message_id = job.message_id,
                                  .count = job.count,
                                  .sender_id = {},
                                  .sender_name = {},
                                  .chat_title = {},
                                  .message_type = {},
                                  .body = {}};
    if (settings_.content_free) return notification;
    notification.sender_id = job.sender_id;
    notification.sender_name = job.sender_name;
    notification.chat_title = job.chat_title;
    notification.message_type = job.message_type;
    if (job.content && !job.content->empty()) notification.body = shortened(*job.content, body_bytes);
    return notification;
}

// Exponential from push.retry_min_ms, capped at push.retry_max_ms, with jitter so that the
// retries of one outage do not all arrive together: a wait in [half, whole].
std::chrono::milliseconds PushService::backoff(int attempts) const {
    const auto exponent = std::min(attempts - 1, 30);
    const auto whole = std::min<long long>(settings_.retry_max.count(), settings_.retry_min.count() << exponent);
    thread_local std::mt19937_64 random{std::random_device{}()};
    return std::chrono::milliseconds(std::uniform_int_distribution<long long>(whole / 2, whole)(random));
}

boost::asio::awaitable<void> PushService::deliver(store::push::Job job) {
    const auto provider = std::string(model::name_of(job.device.provider));
    auto outcome = PushOutcome::retry;
    if (sender_ && sender_->serves(job.device.provider))
        outcome = co_await sender_->send(job.device, notification_of(job));
    const bool dropped = outcome == PushOutcome::retry && job.attempts >= settings_.max_attempts;
    const char* result = outcome == PushOutcome::delivered    ? "delivered"
                         : outcome == PushOutcome::dead_token ? "dead_token"
                         : dropped                            ? "dropped"
                                                              : "retried";
    auto& metrics = obs::metrics();
    metrics.push_attempts.with({provider, result}).inc();
    if (outcome != PushOutcome::delivered) metrics.push_failures.with({provider}).inc();
    if (outcome == PushOutcome::delivered)
        metrics.push_latency.only().observe(std::chrono::duration<double>(model::now() - job.first_at).count());
    if (outcome == PushOutcome::dead_token) spdlog::info("push device {} is gone: removed", job.device.id);
    if (dropped) spdlog::warn("push {} dropped after {} attempts", job.id, job.attempts);
    try {
        const auto wait = backoff(job.attempts);
        co_await pool_.run([&job, outcome, dropped, wait](store::Tx& tx) {
            if (outcome == PushOutcome::dead_token) return store::push::remove_device(tx, job.device.id);
            if (outcome == PushOutcome::delivered || dropped) return store::push::finish(tx, job.id);
            store::push::retry_after(tx, job.id, wait);
        });
    } catch (const std::exception& e) {
        // The lease runs out and the job is sent again, with the same dedupe key.
        spdlog::warn("push {}: recording its outcome failed: {}", job.id, e.what());
    }
    sending_.finished(job.user_id);
}

}  // namespace confab::domain
