#pragma once

#include "confab/config/config.hpp"
#include "confab/domain/blocking.hpp"
#include "confab/domain/commit.hpp"
#include "confab/domain/fair_share.hpp"
#include "confab/domain/model.hpp"
#include "confab/domain/poll_gate.hpp"
#include "confab/domain/push_sender.hpp"
#include "confab/model/push.hpp"
#include "confab/store/push.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace confab::realtime {
class Hub;
}
namespace confab::store {
class Pool;
}

namespace confab::domain {

struct DeviceRegistration {
    model::PushProvider provider = model::PushProvider::gateway;
    std::string token;
    std::optional<std::string> p256dh;
    std::optional<std::string> auth;
};

// Devices and push notifications (docs/api.md, Push notifications; docs/architecture.md).
// A loop derives notifications from committed messages, a cursor per chat, in the same
// transaction that advances the cursor; another step of the loop claims the due ones and hands
// each to its provider, retrying with back-off. The message write path does no push work.
// Of the sends in flight (sends_in_flight) one user's devices have at most a share
// (fair_share), so that one user's endpoints that never answer hold only theirs.
class PushService {
public:
    static constexpr auto tick = std::chrono::milliseconds(200);
    static constexpr int chats_per_tick = 100;
    static constexpr int messages_per_chat = 500;
    static constexpr int sends_in_flight = 200;
    static constexpr std::size_t body_bytes = 200;  // a notification's text is cut there
    // The most devices a user keeps (docs/api.md, Push notifications): every message is pushed
    // to each, so unlimited ones would let one account multiply the pushes of every message.
    // Registering another removes the oldest rather than refuse a legitimate app.
    static constexpr int max_devices_per_user = 50;

    // `sender`: the providers (net/push_providers.hpp), outliving the service; null: none.
    PushService(ChatWrites& writes, realtime::Hub& hub, PushSender* sender, Workers& workers,
                const config::Push& settings);

    // For the session of the principal's token; refuses on-behalf principals at the edge. The
    // user's devices past max_devices_per_user, oldest first, go in the same transaction (never
    // the one registered, even when it moved from another user with its earlier created_at).
    boost::asio::awaitable<model::PushDevice> register_device(model::Principal principal,
                                                              DeviceRegistration registration);
    // The user's devices, of every live session: oldest first (then by id), `limit` after
    // `after` (its id a uuid, else bad_request naming cursor).
    boost::asio::awaitable<model::ListPage<model::PushDevice>> devices(std::string user_id,
                                                                       std::optional<model::ListPlace> after,
                                                                       int limit);
    // not_found when the device is not the user's.
    boost::asio::awaitable<void> remove_device(std::string user_id, std::string device_id);

    // not_found when the user is not a member of the chat.
    boost::asio::awaitable<model::NotificationSettings> settings(std::string user_id, std::string chat_id);
    boost::asio::awaitable<model::NotificationSettings> change_settings(std::string user_id, std::string chat_id,
                                                                        model::NotifyLevel level,
                                                                        std::optional<Timestamp> muted_until);

    void start();
    void stop();

private:
    boost::asio::awaitable<void> loop();
    // Of every chat (`full`), or of the chats this node changed and those left behind by the
    // last derivation. Whether it caught up (not when another node was deriving, nor with chats
    // past this step's share), and whether jobs are queued (due or not).
    boost::asio::awaitable<std::pair<bool, bool>> derive(bool full);
    boost::asio::awaitable<void> send_due();
    boost::asio::awaitable<void> deliver(store::push::Job job);
    PushNotification notification_of(const store::push::Job& job) const;
    std::chrono::milliseconds backoff(int attempts) const;
    void check(const DeviceRegistration& registration) const;

    const ChatWrites& writes_;
    store::Pool& pool_;
    realtime::Hub& hub_;
    PushSender* sender_;
    const config::Push& settings_;
    boost::asio::strand<boost::asio::thread_pool::executor_type> strand_;
    boost::asio::steady_timer timer_;
    SharedSlots sending_{sends_in_flight};  // sends started and not finished, by user; the strand's
    PollGate gate_;                         // the strand's
    FullLooks full_looks_;                  // the strand's
    ChangedChats& changed_;
    std::set<std::string> behind_;  // changed chats not derived yet; the strand's
};

}  // namespace confab::domain
