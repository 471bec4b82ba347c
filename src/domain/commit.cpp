#include "confab/domain/commit.hpp"

#include "confab/domain/validation.hpp"
#include "confab/store/messages.hpp"

#include <algorithm>

namespace confab::domain {

boost::asio::awaitable<std::shared_ptr<const ChatAccess>> ChatWrites::access(const std::string& chat_id) {
    if (auto hit = cache_.find(chat_id)) co_return hit;
    co_return co_await pool_.run([this, chat_id](pqxx::transaction_base& tx) { return cache_.find_or_load(tx, chat_id); });
}

boost::asio::awaitable<std::pair<Message, Role>> ChatWrites::visible_message(const std::string& actor,
                                                                             const std::string& message_id) {
    require_uuid(message_id, "message_id");
    auto message = co_await pool_.run([message_id](pqxx::transaction_base& tx) { return store::messages::find(tx, message_id); });
    if (!message) throw not_found("message");
    const auto access = co_await this->access(message->chat_id);
    if (!access || !access->members.contains(actor)) throw not_found("message");
    const auto role = access->members.at(actor);
    co_return std::pair<Message, Role>{std::move(*message), role};
}

void ChatWrites::apply(Effects& effects) {
    if (effects.cache_change) effects.cache_change(cache_);
    for (auto& delivery : effects.deliveries) {
        // The members are unique already; only the few extra users need checking against
        // them (a member list of a thousand is not searched once per member).
        const auto access = delivery.members_of ? cache_.find(*delivery.members_of) : nullptr;
        std::vector<std::string> users;
        if (access) {
            users.reserve(access->members.size() + delivery.users.size());
            for (const auto& [user, role] : access->members) users.push_back(user);
        }
        const auto members = static_cast<std::ptrdiff_t>(users.size());
        for (auto& user : delivery.users)
            if (!(access && access->members.contains(user)) &&
                std::find(users.begin() + members, users.end(), user) == users.end())
                users.push_back(std::move(user));
        events_.publish(delivery.event, users);
    }
}

Role require_member(const ChatAccess* access, const std::string& user_id) {
    if (access) {
        if (const auto found = access->members.find(user_id); found != access->members.end()) return found->second;
    }
    throw not_found("chat");
}

}  // namespace confab::domain
