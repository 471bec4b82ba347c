#include "confab/domain/broadcast_service.hpp"

#include "confab/domain/chat_service.hpp"
#include "confab/domain/message_service.hpp"
#include "confab/domain/rules.hpp"
#include "confab/domain/send_writer.hpp"
#include "confab/domain/validation.hpp"
#include "confab/store/broadcast_lists.hpp"
#include "confab/store/messages.hpp"
#include "confab/store/users.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <unordered_map>

namespace confab::domain {
namespace {

// Locks the list for the rest of the transaction; refused (as not found) unless `actor` owns it.
void lock_owned(store::Tx& tx, const std::string& list_id, const std::string& actor) {
    rules::may_use_broadcast_list(store::broadcast_lists::lock(tx, list_id) == actor);
}

// The ids named, each once, in the order given.
std::vector<std::string> distinct_ids(const std::vector<std::string>& ids, const char* field) {
    std::vector<std::string> out;
    for (const auto& id : ids) {
        require_uuid(id, field);
        if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
    }
    return out;
}

void require_users_exist(store::Tx& tx, const std::vector<std::string>& ids) {
    if (!ids.empty() && store::users::existing(tx, ids).size() != ids.size()) throw not_found("user");
}

// The client_id of one recipient's copy: a hash of the broadcast's client_id and the
// recipient, so that a repeated broadcast finds each copy it posted before, and the copy
// (whose client_id its recipient sees) says nothing of the list or its other recipients.
std::string copy_client_id(const std::string& client_id, const std::string& recipient_id) {
    static const bool ready = sodium_init() >= 0;
    if (!ready) throw std::runtime_error("libsodium failed to initialise");
    const auto input = client_id + '\n' + recipient_id;
    std::array<unsigned char, 16> digest{};
    crypto_generichash(digest.data(), digest.size(), reinterpret_cast<const unsigned char*>(input.data()), input.size(),
                       nullptr, 0);
    std::array<char, digest.size() * 2 + 1> hex{};
    sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
    return std::string(broadcast_client_id_prefix) + hex.data();
}

}  // namespace

boost::asio::awaitable<BroadcastList> BroadcastService::create(std::string actor, std::string name,
                                                               std::vector<std::string> recipient_ids) {
    require_name(name, "name");
    auto recipients = distinct_ids(recipient_ids, "recipient_ids");
    rules::check_broadcast_recipients(recipients.size(),
                                      std::find(recipients.begin(), recipients.end(), actor) != recipients.end(),
                                      "recipient_ids");
    co_return co_await writes_.pool().run([actor, name, recipients](store::Tx& tx) {
        rules::check_room_for_another(rules::Capped::broadcast_lists, store::broadcast_lists::count_locked(tx, actor));
        require_users_exist(tx, recipients);
        auto created = store::broadcast_lists::insert(tx, actor, name);
        store::broadcast_lists::add_recipients(tx, created.id, recipients);
        created.recipient_ids = recipients;
        return created;
    });
}

boost::asio::awaitable<BroadcastListPage> BroadcastService::list(std::string actor,
                                                                 std::optional<std::int64_t> before_position,
                                                                 int limit) {
    auto rows = co_await writes_.pool().run([actor, before_position, limit](store::Tx& tx) {
        return store::broadcast_lists::list(tx, actor, before_position, limit + 1);
    });
    BroadcastListPage page;
    const bool more = rows.size() > static_cast<std::size_t>(limit);
    if (more) rows.pop_back();
    for (auto& [found, position] : rows) page.lists.push_back(std::move(found));
    if (more) page.next_before_position = rows.back().second;
    co_return page;
}

boost::asio::awaitable<BroadcastList> BroadcastService::owned(const std::string& actor, const std::string& list_id) {
    require_uuid(list_id, "list_id");
    auto found =
        co_await writes_.pool().run([list_id](store::Tx& tx) { return store::broadcast_lists::find(tx, list_id); });
    rules::may_use_broadcast_list(found && found->owner_id == actor);
    co_return std::move(*found);
}

boost::asio::awaitable<BroadcastList> BroadcastService::get(std::string actor, std::string list_id) {
    co_return co_await owned(actor, list_id);
}

boost::asio::awaitable<BroadcastList> BroadcastService::rename(std::string actor, std::string list_id,
                                                               std::string name) {
    require_uuid(list_id, "list_id");
    require_name(name, "name");
    co_return co_await writes_.pool().run([actor, list_id, name](store::Tx& tx) {
        lock_owned(tx, list_id, actor);
        store::broadcast_lists::rename(tx, list_id, name);
        return store::broadcast_lists::find(tx, list_id).value();
    });
}

boost::asio::awaitable<void> BroadcastService::remove(std::string actor, std::string list_id) {
    require_uuid(list_id, "list_id");
    co_await writes_.pool().run([actor, list_id](store::Tx& tx) {
        lock_owned(tx, list_id, actor);
        store::broadcast_lists::remove(tx, list_id);
    });
}

boost::asio::awaitable<BroadcastList> BroadcastService::add_recipient(std::string actor, std::string list_id,
                                                                      std::string user_id) {
    require_uuid(list_id, "list_id");
    require_uuid(user_id, "user_id");
    co_return co_await writes_.pool().run([actor, list_id, user_id](store::Tx& tx) {
        lock_owned(tx, list_id, actor);
        auto list = store::broadcast_lists::find(tx, list_id).value();
        const auto& ids = list.recipient_ids;
        if (std::find(ids.begin(), ids.end(), user_id) != ids.end()) return list;
        rules::check_broadcast_recipients(ids.size() + 1, user_id == actor, "user_id");
        require_users_exist(tx, {user_id});
        store::broadcast_lists::add_recipients(tx, list_id, {user_id});
        return store::broadcast_lists::find(tx, list_id).value();
    });
}

boost::asio::awaitable<BroadcastList> BroadcastService::remove_recipient(std::string actor, std::string list_id,
                                                                         std::string user_id) {
    require_uuid(list_id, "list_id");
    require_uuid(user_id, "user_id");
    co_return co_await writes_.pool().run([actor, list_id, user_id](store::Tx& tx) {
        lock_owned(tx, list_id, actor);
        store::broadcast_lists::remove_recipient(tx, list_id, user_id);
        return store::broadcast_lists::find(tx, list_id).value();
    });
}

boost::asio::awaitable<std::vector<BroadcastCopy>> BroadcastService::send(std::string list_id, SendMessage message) {
    require_uuid(list_id, "list_id");
    rules::may_broadcast(message.client_id.has_value(), message.media_id.has_value(), message.reply_to_id.has_value(),
                         message.thread_root_id.has_value());
    message.chat_id = list_id;  // a uuid for check_send; each copy names its own chat
    messages_.check_send(message);
    const auto list = co_await owned(message.sender_id, list_id);

    std::vector<store::messages::ClientKey> keys;
    std::unordered_map<std::string, std::string> recipient_of_key;
    for (const auto& recipient : list.recipient_ids) {
        keys.push_back({message.sender_id, copy_client_id(*message.client_id, recipient)});
        recipient_of_key.emplace(keys.back().client_id, recipient);
    }
    const auto earlier =
        co_await writes_.pool().run([keys](store::Tx& tx) { return store::messages::find_by_client_ids(tx, keys); });
    std::unordered_map<std::string, Message> posted;  // by recipient: the copies of an earlier broadcast
    for (const auto& copy : earlier) posted.emplace(recipient_of_key.at(copy.client_id.value_or("")), copy);

    // A body a send would refuse is refused once, before any copy opens a chat (docs/api.md):
    // a template among them, filled here while a copy is still to be posted.
    if (message.from_template && posted.size() < list.recipient_ids.size())
        message = co_await messages_.fill_template(std::move(message));

    std::vector<BroadcastCopy> copies;
    std::optional<Error> out_of_sends;
    for (std::size_t i = 0; i < list.recipient_ids.size(); ++i) {
        const auto& recipient = list.recipient_ids[i];
        if (const auto found = posted.find(recipient); found != posted.end()) {
            copies.push_back({recipient, found->second.chat_id, Sent{found->second, false}, std::nullopt});
        } else if (out_of_sends) {
            copies.push_back({recipient, std::nullopt, std::nullopt, out_of_sends});
        } else {
            auto copy = message;
            copy.client_id = keys[i].client_id;
            copies.push_back(co_await post_copy(recipient, std::move(copy)));
            const auto& refusal = copies.back().refusal;
            if (refusal && refusal->code() == ErrorCode::rate_limited) out_of_sends = refusal;
        }
    }
    co_return copies;
}

// The sender's send is spent, and the copy's mentions checked against the direct chat it goes
// to, before that chat is opened, so a broadcast opens no chat it cannot post in.
boost::asio::awaitable<BroadcastCopy> BroadcastService::post_copy(const std::string& recipient_id, SendMessage copy) {
    BroadcastCopy result{recipient_id, std::nullopt, std::nullopt, std::nullopt};
    try {
        ChatAccess between;
        between.type = ChatType::direct;
        between.members.emplace(copy.sender_id, Role::member);
        between.members.emplace(recipient_id, Role::member);
        static_cast<void>(mentioned_members(between, copy.sender_id, copy.entities));
        messages_.spend_send(copy.sender_id);
        const auto chat = co_await chats_.create_direct(copy.sender_id, recipient_id);
        result.chat_id = chat.view.chat.id;
        copy.chat_id = chat.view.chat.id;
        result.sent = co_await messages_.post(std::move(copy));
    } catch (const Error& error) {
        result.refusal = error;
    }
    co_return result;
}

}  // namespace confab::domain
