#include "confab/domain/invite_link_service.hpp"

#include "confab/domain/auth_service.hpp"
#include "confab/domain/group_writes.hpp"
#include "confab/domain/rules.hpp"
#include "confab/store/bans.hpp"
#include "confab/store/chats.hpp"
#include "confab/store/invite_links.hpp"

namespace confab::domain {
namespace {

constexpr std::int64_t max_link_uses = 1'000'000;

Error no_such_link() { return not_found("invite link"); }

}  // namespace

boost::asio::awaitable<InviteLink> InviteLinkService::create(std::string actor, std::string chat_id,
                                                             std::optional<Timestamp> expires_at,
                                                             std::optional<std::int64_t> max_uses) {
    if (expires_at && *expires_at <= model::now()) throw bad_request("expires_at must be in the future", "expires_at");
    if (max_uses && (*max_uses < 1 || *max_uses > max_link_uses))
        throw bad_request("max_uses must be between 1 and " + std::to_string(max_link_uses), "max_uses");
    rules::may_manage_invite_links(co_await writes_.standing(chat_id, actor));
    co_return co_await writes_.commit(chat_id, [actor, chat_id, expires_at, max_uses](store::Tx& tx) {
        rules::may_manage_invite_links(lock_standing(tx, chat_id, actor));
        rules::check_room_for_another(rules::Capped::live_invite_links, store::invite_links::live_in_chat(tx, chat_id));
        return Outcome<InviteLink>{store::invite_links::insert(tx, new_token(), chat_id, actor, expires_at, max_uses),
                                   {}};
    });
}

boost::asio::awaitable<ListPage<InviteLink>> InviteLinkService::links(std::string actor, std::string chat_id,
                                                                      std::optional<ListPlace> after, int limit) {
    // A code is a token's shape (new_token): whatever is not cannot be one.
    if (after && !looks_like_token(after->id)) throw bad_request("invalid cursor", "cursor");
    rules::may_manage_invite_links(co_await writes_.standing(chat_id, actor));
    auto rows = co_await writes_.pool().run(
        [chat_id, after, limit](store::Tx& tx) { return store::invite_links::of_chat(tx, chat_id, after, limit + 1); });
    co_return list_page(std::move(rows), limit);
}

boost::asio::awaitable<void> InviteLinkService::revoke(std::string actor, std::string chat_id, std::string code) {
    rules::may_manage_invite_links(co_await writes_.standing(chat_id, actor));
    co_await writes_.commit(chat_id, [actor, chat_id, code](store::Tx& tx) {
        rules::may_manage_invite_links(lock_standing(tx, chat_id, actor));
        if (!store::invite_links::revoke(tx, chat_id, code)) throw no_such_link();
        return Outcome<bool>{true, {}};
    });
}

boost::asio::awaitable<InvitePreview> InviteLinkService::preview(std::string code) {
    co_await open_link(code);
    auto preview =
        co_await writes_.pool().run([code](store::Tx& tx) { return store::invite_links::preview(tx, code); });
    if (!preview) throw no_such_link();
    co_return std::move(*preview);
}

boost::asio::awaitable<ChatView> InviteLinkService::join(std::string actor, std::string code) {
    const auto chat_id = (co_await open_link(code)).chat_id;
    co_return co_await writes_.commit(chat_id, [actor, chat_id, code, &limits = limits_](store::Tx& tx) {
        const auto link = store::chats::lock(tx, chat_id) ? store::invite_links::find(tx, code) : std::nullopt;
        if (!link) throw no_such_link();
        Outcome<ChatView> outcome;
        if (store::members::find(tx, chat_id, actor)) {
            outcome.value = view_of(tx, chat_id, actor);
            return outcome;
        }
        rules::may_join_by_link(*link, model::now(), !store::bans::banned_among(tx, chat_id, {actor}).empty());
        const auto kind = store::chats::kind_of(tx, chat_id).value_or(store::ChatKind{});
        check_room(tx, chat_id, kind, 1, limits);
        store::members::insert(tx, chat_id, actor, Role::member);
        store::invitations::remove_for(tx, chat_id, {actor});
        store::invite_links::count_use(tx, code);
        std::vector<Member> joined{member_of(tx, chat_id, actor)};
        std::vector<Message> note;
        if (rules::notes_membership(kind.type, kind.large))
            note.push_back(write_system(tx, chat_id, actor,
                                        joined.front().user.display_name + " joined via an invite link",
                                        "member.joined", actor));
        outcome.value = view_of(tx, chat_id, actor);
        announce_joins(tx, outcome.effects, chat_id, outcome.value, joined, std::move(note));
        return outcome;
    });
}

// The link, refused before any write when it is unknown (a code of the wrong shape is
// unknown too) or no longer open. The join checks again under the chat's lock.
boost::asio::awaitable<InviteLink> InviteLinkService::open_link(const std::string& code) {
    if (!looks_like_token(code)) throw no_such_link();
    auto link = co_await writes_.pool().run([code](store::Tx& tx) { return store::invite_links::find(tx, code); });
    if (!link) throw no_such_link();
    rules::may_use_invite_link(*link, model::now());
    co_return std::move(*link);
}

}  // namespace confab::domain
