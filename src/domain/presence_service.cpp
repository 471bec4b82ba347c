#include "confab/domain/presence_service.hpp"

#include "confab/domain/rules.hpp"
#include "confab/domain/validation.hpp"
#include "confab/realtime/hub.hpp"
#include "confab/store/users.hpp"

#include <vector>

namespace confab::domain {
namespace {
constexpr auto sweep_interval = std::chrono::milliseconds(200);
}

PresenceService::PresenceService(ChatWrites& writes, realtime::Hub& hub, const config::Limits& limits)
    : writes_(writes),
      hub_(hub),
      typing_events_("typing", limits.typing_burst, limits.typing_rate),
      sweeper_([this] { expire_typing(); }) {}

PresenceService::~PresenceService() { stop(); }

void PresenceService::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (sweeper_.joinable()) sweeper_.join();
}

bool PresenceService::online(const std::string& user_id) const { return hub_.connections_of(user_id) > 0; }

void PresenceService::announce_typing(const std::string& chat_id, const std::string& user_id, bool is_typing) {
    writes_.publish_in_chat(Occasion::typing_updated, TypingUpdated{chat_id, user_id, is_typing}, chat_id,
                            {.actor = user_id});
}

boost::asio::awaitable<void> PresenceService::typing(std::string actor, std::string chat_id, bool is_typing) {
    typing_events_.require(actor, "typing events");
    require_uuid(chat_id, "chat_id");
    co_await writes_.standing(chat_id, actor);
    bool changed = false;
    {
        std::lock_guard lock(mutex_);
        const Key key{chat_id, actor};
        if (is_typing) {
            changed = !typing_.contains(key);
            typing_[key] = Clock::now() + typing_expiry;
        } else {
            changed = typing_.erase(key) > 0;
        }
    }
    if (changed) announce_typing(chat_id, actor, is_typing);
    if (changed && is_typing) writes_.track({"typing.started", actor, chat_id});
}

void PresenceService::expire_typing() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        wake_.wait_for(lock, sweep_interval);
        std::vector<Key> expired;
        const auto now = Clock::now();
        for (auto it = typing_.begin(); it != typing_.end();) {
            if (it->second <= now) {
                expired.push_back(it->first);
                it = typing_.erase(it);
            } else {
                ++it;
            }
        }
        lock.unlock();
        for (const auto& [chat, user] : expired) announce_typing(chat, user, false);
        lock.lock();
    }
}

boost::asio::awaitable<void> PresenceService::announce_presence(const std::string& user_id, bool is_online) {
    auto contacts = co_await writes_.pool().run([user_id, is_online](store::Tx& tx) {
        if (!is_online) store::users::touch_last_seen(tx, user_id);
        const auto privacy = store::users::privacy(tx, user_id).value_or(Privacy{});
        if (!rules::sees_presence(privacy, false, true)) return std::vector<std::string>{};
        return store::members::contacts(tx, user_id);
    });
    if (contacts.empty()) co_return;
    Presence presence{is_online, std::nullopt};
    if (!is_online)
        presence.last_seen_at =
            std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    writes_.publish(Occasion::presence_updated, PresenceUpdated{user_id, presence},
                    {.subject = user_id, .contacts = std::move(contacts)});
}

boost::asio::awaitable<void> PresenceService::connected(std::string user_id) {
    writes_.track({"session.started", user_id, std::nullopt});
    if (hub_.connections_of(user_id) == 1) co_await announce_presence(user_id, true);
}

boost::asio::awaitable<void> PresenceService::disconnected(std::string user_id) {
    if (hub_.connections_of(user_id) > 0) co_return;
    std::vector<Key> stopped;
    {
        std::lock_guard lock(mutex_);
        for (auto it = typing_.begin(); it != typing_.end();) {
            if (it->first.second == user_id) {
                stopped.push_back(it->first);
                it = typing_.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (const auto& [chat, user] : stopped) announce_typing(chat, user, false);
    co_await announce_presence(user_id, false);
}

}  // namespace confab::domain
