#include "confab/domain/presence_service.hpp"

#include "confab/domain/rules.hpp"
#include "confab/domain/validation.hpp"
#include "confab/realtime/hub.hpp"
#include "confab/store/user_blocks.hpp"
#include "confab/store/users.hpp"

#include <algorithm>
#include <optional>
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

void PresenceService::announce_typing(const std::string& chat_id, const std::string& user_id, bool is_typing,
                                      std::vector<std::string> hidden_from) {
    writes_.publish_in_chat(Occasion::typing_updated, TypingUpdated{chat_id, user_id, is_typing}, chat_id,
                            {.actor = user_id, .hidden_from = std::move(hidden_from)});
}

boost::asio::awaitable<void> PresenceService::typing(std::string actor, std::string chat_id, bool is_typing) {
    typing_events_.require(actor, "typing events");
    require_uuid(chat_id, "chat_id");
    co_await writes_.standing(chat_id, actor);
    const Key key{chat_id, actor};
    bool started = false;
    if (is_typing) {
        std::lock_guard lock(mutex_);
        if (const auto typist = typing_.find(key); typist != typing_.end())
            typist->second.until = Clock::now() + typing_expiry;
        else started = true;
    }
    std::optional<Typist> changed;
    if (started) {
        // Read once per start, not per keystroke: the refreshes above reach no database.
        auto hidden_from =
            co_await writes_.pool().run([actor](store::Tx& tx) { return store::user_blocks::related(tx, actor); });
        std::lock_guard lock(mutex_);
        auto [typist, inserted] = typing_.try_emplace(key, Typist{{}, std::move(hidden_from)});
        typist->second.until = Clock::now() + typing_expiry;
        if (inserted) changed = typist->second;
    } else if (!is_typing) {
        std::lock_guard lock(mutex_);
        if (auto typist = typing_.extract(key)) changed = std::move(typist.mapped());
    }
    if (changed) announce_typing(chat_id, actor, is_typing, std::move(changed->hidden_from));
    if (changed && is_typing) writes_.track({"typing.started", actor, chat_id});
}

void PresenceService::expire_typing() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        wake_.wait_for(lock, sweep_interval);
        std::vector<std::pair<Key, Typist>> expired;
        const auto now = Clock::now();
        for (auto it = typing_.begin(); it != typing_.end();) {
            if (it->second.until <= now) {
                expired.emplace_back(it->first, std::move(it->second));
                it = typing_.erase(it);
            } else {
                ++it;
            }
        }
        lock.unlock();
        for (auto& [key, typist] : expired)
            announce_typing(key.first, key.second, false, std::move(typist.hidden_from));
        lock.lock();
    }
}

boost::asio::awaitable<void> PresenceService::announce_presence(const std::string& user_id, bool is_online) {
    auto contacts = co_await writes_.pool().run([user_id, is_online](store::Tx& tx) {
        if (!is_online) store::users::touch_last_seen(tx, user_id);
        const auto privacy = store::users::privacy(tx, user_id).value_or(Privacy{});
        auto seers = store::members::contacts(tx, user_id);
        const auto blocks = store::user_blocks::related(tx, user_id);
        std::erase_if(seers, [&privacy, &blocks](const std::string& contact) {
            const bool blocked = std::find(blocks.begin(), blocks.end(), contact) != blocks.end();
            return !rules::sees_presence(privacy, false, true, blocked);
        });
        return seers;
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
    std::vector<std::pair<Key, Typist>> stopped;
    {
        std::lock_guard lock(mutex_);
        for (auto it = typing_.begin(); it != typing_.end();) {
            if (it->first.second == user_id) {
                stopped.emplace_back(it->first, std::move(it->second));
                it = typing_.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (auto& [key, typist] : stopped) announce_typing(key.first, key.second, false, std::move(typist.hidden_from));
    co_await announce_presence(user_id, false);
}

}  // namespace confab::domain
