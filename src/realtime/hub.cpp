#include "confab/realtime/hub.hpp"

#include <algorithm>

namespace confab::realtime {

void Hub::attach(const std::shared_ptr<Connection>& connection) {
    std::lock_guard lock(mutex_);
    by_user_[connection->user_id()].push_back(connection);
}

void Hub::detach(const Connection& connection) {
    std::lock_guard lock(mutex_);
    const auto found = by_user_.find(connection.user_id());
    if (found == by_user_.end()) return;
    auto& list = found->second;
    std::erase_if(list, [&](const auto& c) { return c.get() == &connection; });
    if (list.empty()) by_user_.erase(found);
}

std::vector<std::shared_ptr<Connection>> Hub::snapshot_of_user(const std::string& user_id) const {
    std::lock_guard lock(mutex_);
    const auto found = by_user_.find(user_id);
    return found == by_user_.end() ? std::vector<std::shared_ptr<Connection>>{} : found->second;
}

void Hub::send_to_user(const std::string& user_id, const Frame& frame) {
    for (const auto& connection : snapshot_of_user(user_id)) connection->deliver(frame);
}

std::size_t Hub::send_to_users(const std::vector<std::string>& user_ids, const Frame& frame) {
    std::vector<std::shared_ptr<Connection>> targets;
    {
        std::lock_guard lock(mutex_);
        for (const auto& user : user_ids)
            if (const auto found = by_user_.find(user); found != by_user_.end())
                targets.insert(targets.end(), found->second.begin(), found->second.end());
    }
    for (const auto& connection : targets) connection->deliver(frame);
    return targets.size();
}

void Hub::close_token(const std::string& user_id, const std::string& token_hash, CloseCode code) {
    for (const auto& connection : snapshot_of_user(user_id))
        if (connection->token_hash() == token_hash) connection->close(code);
}

void Hub::close_all(CloseCode code) {
    std::vector<std::shared_ptr<Connection>> targets;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [user, list] : by_user_) targets.insert(targets.end(), list.begin(), list.end());
    }
    for (const auto& connection : targets) connection->close(code);
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

}  // namespace confab::realtime
