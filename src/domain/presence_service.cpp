#include "confab/domain/presence_service.hpp"

#include "confab/domain/rules.hpp"
#include "confab/domain/validation.hpp"
#include "confab/realtime/hub.hpp"
#include "confab/store/presence.hpp"
#include "confab/store/user_blocks.hpp"
#include "confab/store/users.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <random>
#include <vector>

namespace confab::domain {
namespace {

constexpr auto sweep_interval = std::chrono::milliseconds(200);

std::string random_process_id() {
    std::random_device random;
    std::string id;
    for (int i = 0; i < 4; ++i) id += fmt::format("{:08x}", random());
    return id;
}

}  // namespace

PresenceService::PresenceService(ChatWrites& writes, realtime::Hub& hub, Workers& workers, const config::Limits& limits,
                                 const config::Cluster& cluster)
    : writes_(writes),
      hub_(hub),
      presence_timeout_(cluster.presence_timeout),
      process_id_(random_process_id()),
      strand_(boost::asio::make_strand(workers.pool())),
      heartbeat_timer_(strand_),
      typing_events_("typing", limits.typing_burst, limits.typing_rate),
      sweeper_([this] { expire_typing(); }) {}

void PresenceService::start() { boost::asio::co_spawn(strand_, heartbeat(), boost::asio::detached); }

PresenceService::~PresenceService() { stop(); }

void PresenceService::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (sweeper_.joinable()) sweeper_.join();
    boost::asio::post(strand_, [this] {
        stopping_heartbeat_ = true;
        heartbeat_timer_.cancel();
    });
}

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
        auto hidden_from = co_await writes_.pool().run([this, &actor, &chat_id](store::Tx& tx) {
            store::presence::typing_started(tx, process_id_, {chat_id, actor});
            return store::user_blocks::related(tx, actor);
        });
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

std::vector<store::presence::Typist> PresenceService::typists_now() {
    std::lock_guard lock(mutex_);
    std::vector<store::presence::Typist> typists;
    typists.reserve(typing_.size());
    for (const auto& [key, typist] : typing_) typists.push_back({key.first, key.second});
    return typists;
}

PresenceService::PresenceChange PresenceService::presence_change(store::Tx& tx, const std::string& user_id,
                                                                 bool online) {
    PresenceChange change{user_id, {online, std::nullopt}, {}};
    if (!online) change.presence.last_seen_at = store::users::touch_last_seen(tx, user_id);
    const auto privacy = store::users::privacy(tx, user_id).value_or(Privacy{});
    auto seers = store::members::contacts(tx, user_id);
    const auto blocks = store::user_blocks::related(tx, user_id);
    std::erase_if(seers, [&privacy, &blocks](const std::string& contact) {
        const bool blocked = std::find(blocks.begin(), blocks.end(), contact) != blocks.end();
        return !rules::sees_presence(privacy, false, true, blocked);
    });
    change.contacts = std::move(seers);
    return change;
}

void PresenceService::announce_presence(PresenceChange change) {
    if (change.contacts.empty()) return;
    writes_.publish(Occasion::presence_updated, PresenceUpdated{change.user_id, change.presence},
                    {.subject = change.user_id, .contacts = std::move(change.contacts)});
}

boost::asio::awaitable<void> PresenceService::record(std::string user_id) {
    auto recorded = co_await writes_.pool().run([this, &user_id](store::Tx& tx) -> std::optional<PresenceChange> {
        // Read under the user's lock (set_held takes it first), so of two records of one user
        // the later one writes what the hub says last.
        const auto change = store::presence::set_held(tx, user_id, process_id_, [&] {
            const bool held = hub_.connections_of(user_id) > 0;
            std::lock_guard lock(held_mutex_);
            if (held) {
                held_.insert(user_id);
            } else {
                held_.erase(user_id);
            }
            return held;
        });
        if (change.was_online == change.is_online) return std::nullopt;
        return presence_change(tx, user_id, change.is_online);
    });
    if (recorded) announce_presence(std::move(*recorded));
}

boost::asio::awaitable<void> PresenceService::heartbeat() {
    const auto interval = presence_timeout_ / 3;
    while (!stopping_heartbeat_) {
        try {
            struct Beat {
                std::vector<PresenceChange> back, gone;
                std::vector<std::pair<store::presence::Typist, std::vector<std::string>>> stopped;
            };
            auto beat = co_await writes_.pool().run([this, typists = typists_now()](store::Tx& tx) {
                Beat found;
                if (!store::presence::heartbeat(tx, process_id_)) {
                    // Swept while silent (or the unlogged tables were lost): write our users again.
                    std::vector<std::string> held;
                    {
                        std::lock_guard lock(held_mutex_);
                        held.assign(held_.begin(), held_.end());
                    }
                    for (const auto& user : held)
                        if (!store::presence::set_held(tx, user, process_id_, [] { return true; }).was_online)
                            found.back.push_back(presence_change(tx, user, true));
                }
                store::presence::typing_now(tx, process_id_, typists);
                auto swept = store::presence::sweep(tx, presence_timeout_);
                for (const auto& user : swept.offline) found.gone.push_back(presence_change(tx, user, false));
                for (auto& typist : swept.stopped) {
                    // Told to the chat's members as cached: a chat not cached since a restart
                    // is loaded, or the stop would reach nobody.
                    writes_.cache().find_or_load(tx, typist.chat_id);
                    auto hidden_from = store::user_blocks::related(tx, typist.user_id);
                    found.stopped.emplace_back(std::move(typist), std::move(hidden_from));
                }
                return found;
            });
            for (auto& change : beat.back) announce_presence(std::move(change));
            for (auto& change : beat.gone) announce_presence(std::move(change));
            // A dead process's typists: it can no longer say they stopped.
            for (auto& [typist, hidden_from] : beat.stopped)
                announce_typing(typist.chat_id, typist.user_id, false, std::move(hidden_from));
        } catch (const std::exception& e) {
            spdlog::warn("presence: heartbeat failed: {}", e.what());
        }
        if (stopping_heartbeat_) break;
        heartbeat_timer_.expires_after(interval);
        co_await heartbeat_timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }
}

boost::asio::awaitable<void> PresenceService::connected(std::string user_id) {
    writes_.track({"session.started", user_id, std::nullopt});
    // Not "the first connection": two opened together both attach before either gets here.
    // A record that finds the user already held changes and tells nothing.
    bool held = false;
    {
        std::lock_guard lock(held_mutex_);
        held = held_.contains(user_id);
    }
    if (!held) co_await record(std::move(user_id));
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
    co_await record(std::move(user_id));
}

}  // namespace confab::domain
