#include "confab/realtime/hub.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <iterator>
#include <utility>

namespace confab::realtime {

void Hub::deliver_on(boost::asio::any_io_executor executor) {
    std::lock_guard lock(mutex_);
    executor_ = std::move(executor);
}

void Hub::attach(const std::shared_ptr<Connection>& connection) {
    std::lock_guard lock(mutex_);
    by_user_[connection->user_id()].push_back(connection);
    attached_at_.emplace(connection.get(), std::chrono::system_clock::now());
}

void Hub::detach(const Connection& connection) {
    std::lock_guard lock(mutex_);
    attached_at_.erase(&connection);
    const auto found = by_user_.find(connection.user_id());
    if (found == by_user_.end()) return;
    auto& list = found->second;
    std::erase_if(list, [&](const auto& c) { return c.get() == &connection; });
    if (list.empty()) by_user_.erase(found);
}

std::size_t Hub::send_to_users(const std::vector<std::string>& user_ids, const Frame& frame,
                               const std::optional<Order>& order) {
    if (!relay_) return send_here(user_ids, frame);
    relay_->relay_send(user_ids, frame, order);
    return order ? relay_->send_here_in_order(user_ids, frame, *order) : send_here(user_ids, frame);
}

void Hub::close(const std::string& user_id, const TokenFilter& tokens, CloseCode code) {
    if (relay_) relay_->relay_close(user_id, tokens, code);
    close_here(user_id, tokens, code);
}

std::size_t Hub::send_here(const std::vector<std::string>& user_ids, const Frame& frame) {
    Dispatch dispatch{{}, frame, std::nullopt};
    std::size_t count = 0;
    bool start_drain = false;
    {
        std::lock_guard lock(mutex_);
        for (const auto& user : user_ids)
            if (const auto found = by_user_.find(user); found != by_user_.end())
                dispatch.targets.insert(dispatch.targets.end(), found->second.begin(), found->second.end());
        count = dispatch.targets.size();
        start_drain = queue(std::move(dispatch));
    }
    if (start_drain) post_drain();
    return count;
}

std::size_t Hub::send_to_token(const std::string& user_id, const std::string& token_hash, const Frame& frame) {
    Dispatch dispatch{{}, frame, std::nullopt};
    const auto tokens = TokenFilter::only(token_hash);
    std::size_t count = 0;
    bool start_drain = false;
    {
        std::lock_guard lock(mutex_);
        target(dispatch, user_id, tokens);
        count = dispatch.targets.size();
        start_drain = queue(std::move(dispatch));
    }
    if (start_drain) post_drain();
    return count;
}

void Hub::close_here(const std::string& user_id, const TokenFilter& tokens, CloseCode code) {
    Dispatch dispatch{{}, nullptr, code};
    bool start_drain = false;
    {
        std::lock_guard lock(mutex_);
        target(dispatch, user_id, tokens);
        start_drain = queue(std::move(dispatch));
    }
    if (start_drain) post_drain();
}

void Hub::close_everyone_here(CloseCode code, std::chrono::system_clock::time_point attached_before) {
    Dispatch dispatch{{}, nullptr, code};
    bool start_drain = false;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [user, list] : by_user_)
            std::copy_if(list.begin(), list.end(), std::back_inserter(dispatch.targets),
                         [&](const auto& connection) { return attached_at_.at(connection.get()) < attached_before; });
        start_drain = queue(std::move(dispatch));
    }
    if (start_drain) post_drain();
}

void Hub::target(Dispatch& dispatch, const std::string& user_id, const TokenFilter& tokens) const {
    if (const auto found = by_user_.find(user_id); found != by_user_.end())
        std::copy_if(found->second.begin(), found->second.end(), std::back_inserter(dispatch.targets),
                     [&](const auto& connection) { return tokens.matches(*connection); });
}

bool Hub::queue(Dispatch dispatch) {
    if (dispatch.targets.empty()) return false;
    queued_.push_back(std::move(dispatch));
    return !std::exchange(draining_, true);
}

void Hub::post_drain() {
    boost::asio::post(executor_, [this] { drain(); });
}

// Hands over what is queued now, then yields the thread: what queued meanwhile is the next
// drain's batch.
void Hub::drain() {
    std::vector<Dispatch> dispatches;
    {
        std::lock_guard lock(mutex_);
        dispatches.swap(queued_);
    }
    hand_over(dispatches);
    {
        std::lock_guard lock(mutex_);
        draining_ = !queued_.empty();
        if (!draining_) return;
    }
    post_drain();
}

// Each connection's frames in queue order, one batch per connection; a close goes after the
// frames queued before it.
void Hub::hand_over(std::vector<Dispatch>& dispatches) {
    if (dispatches.size() == 1) {  // the usual drain: nothing to group
        const auto& only = dispatches.front();
        for (const auto& connection : only.targets)
            only.close ? connection->close(*only.close) : connection->deliver({only.frame});
        return;
    }
    struct Outgoing {
        std::shared_ptr<Connection> connection;
        Frames frames;
    };
    std::vector<Outgoing> outgoing;
    std::unordered_map<const Connection*, std::size_t> index;
    const auto send = [](Outgoing& to) {
        if (!to.frames.empty()) to.connection->deliver(std::exchange(to.frames, {}));
    };
    for (auto& dispatch : dispatches) {
        for (auto& connection : dispatch.targets) {
            const auto [place, fresh] = index.try_emplace(connection.get(), outgoing.size());
            if (fresh) outgoing.push_back({std::move(connection), {}});
            auto& to = outgoing[place->second];
            if (dispatch.close) {
                send(to);
                to.connection->close(*dispatch.close);
            } else {
                to.frames.push_back(dispatch.frame);
            }
        }
    }
    for (auto& to : outgoing) send(to);
}

std::vector<std::string> Hub::connected_among(const model::MemberRoles& members) const {
    std::vector<std::string> connected;
    std::lock_guard lock(mutex_);
    if (by_user_.size() < members.size()) {
        for (const auto& [user, connections] : by_user_)
            if (!connections.empty() && members.contains(user)) connected.push_back(user);
    } else {
        for (const auto& [user, role] : members)
            if (const auto found = by_user_.find(user); found != by_user_.end() && !found->second.empty())
                connected.push_back(user);
    }
    return connected;
}

std::size_t Hub::connection_count() const {
    std::lock_guard lock(mutex_);
    std::size_t count = 0;
    for (const auto& [user, list] : by_user_) count += list.size();
    return count;
}

std::size_t Hub::connections_of(const std::string& user_id) const {
    std::lock_guard lock(mutex_);
    const auto found = by_user_.find(user_id);
    return found == by_user_.end() ? 0 : found->second.size();
}

std::size_t Hub::connections_of(const std::string& user_id, const std::string& token_hash) const {
    std::lock_guard lock(mutex_);
    const auto found = by_user_.find(user_id);
    if (found == by_user_.end()) return 0;
    const TokenFilter tokens{token_hash, false};
    return static_cast<std::size_t>(std::count_if(found->second.begin(), found->second.end(),
                                                  [&](const auto& connection) { return tokens.matches(*connection); }));
}

}  // namespace confab::realtime
