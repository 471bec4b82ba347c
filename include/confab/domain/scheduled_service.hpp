#pragma once

#include "confab/config/config.hpp"
#include "confab/domain/blocking.hpp"
#include "confab/domain/commit.hpp"
#include "confab/domain/message_service.hpp"
#include "confab/domain/poll_gate.hpp"
#include "confab/domain/rate_limiter.hpp"
#include "confab/model/list_page.hpp"
#include "confab/model/scheduled.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace confab::domain {

struct ScheduleMessage {
    SendMessage message;  // its client_id makes scheduling idempotent
    Timestamp send_at;
};

struct ScheduledChange {
    std::optional<Timestamp> send_at;
    std::optional<std::string> content;
    std::optional<OpaqueJson> metadata;
    // Replaced together with the content, as a message edit does: new content without
    // entities keeps none.
    std::optional<std::vector<TextEntity>> entities;
};

struct ScheduledQuery {
    ScheduledStatus status = ScheduledStatus::pending;
    std::optional<std::string> chat_id;
    std::optional<model::ListPlace> after;  // the place of the previous page's last one
    int limit = 50;
};

// Messages scheduled by their author (docs/api.md, Scheduled messages). Each is posted, once,
// as an ordinary message when it is due: a loop claims the due ones every tick and posts each
// with a client_id of its own ("scheduled:<id>"), so a post that committed before a crash is
// found again rather than repeated, then marks it sent. A post refused for good (the author
// may no longer post there, the chat is gone) cancels it with the reason.
class ScheduledService {
public:
    static constexpr auto max_ahead = std::chrono::days(366);
    static constexpr auto tick = std::chrono::milliseconds(200);
    static constexpr auto lease = std::chrono::seconds(10);
    // A post still under way this long after its claim was made or renewed renews it.
    static constexpr auto renew_after = std::chrono::seconds(3);
    static constexpr int claim_limit = 2000;

    ScheduledService(ChatWrites& writes, MessageService& messages, Workers& workers, const config::Limits& limits);

    // Returns the scheduled message and whether it is new (false: a repeated client_id).
    boost::asio::awaitable<std::pair<ScheduledMessage, bool>> schedule(ScheduleMessage request);
    boost::asio::awaitable<model::ListPage<ScheduledMessage>> list(std::string actor, ScheduledQuery query);
    boost::asio::awaitable<ScheduledMessage> get(std::string actor, std::string id);
    boost::asio::awaitable<ScheduledMessage> update(std::string actor, std::string id, ScheduledChange change);
    boost::asio::awaitable<void> cancel(std::string actor, std::string id);

    void start();
    void stop();

private:
    boost::asio::awaitable<void> loop();
    // Whether work was left (due ones, or posts under way), and when the next pending one is due.
    boost::asio::awaitable<std::pair<bool, std::optional<Timestamp>>> post_due();
    boost::asio::awaitable<void> post(ScheduledMessage scheduled);
    // Keeps the claims of posts under way (claimed_) held while they last.
    boost::asio::awaitable<void> renew_claims();
    // Marks it sent (with its message) or cancelled (with the refusal), and tells its author.
    boost::asio::awaitable<void> finish(ScheduledMessage scheduled, std::optional<std::string> message_id,
                                        std::optional<Error> refusal);
    void check_send_at(Timestamp send_at) const;
    // scheduled_message.updated to the author's connections.
    void announce(const ScheduledMessage& scheduled);

    ChatWrites& writes_;
    MessageService& messages_;
    std::size_t content_chars_;
    RateLimiter schedules_;  // as sends: a scheduled message is one
    boost::asio::strand<boost::asio::thread_pool::executor_type> strand_;
    boost::asio::steady_timer timer_;
    // Posts started and not finished, and when each one's claim was made or last renewed;
    // the strand's.
    std::map<std::string, std::chrono::steady_clock::time_point> claimed_;
    std::atomic<std::uint64_t> changes_{0};  // schedulings and reschedulings here
    PollGate gate_;                          // the strand's
};

// The client_id a scheduled message is posted with.
std::string posted_client_id(const std::string& scheduled_id);

}  // namespace confab::domain
