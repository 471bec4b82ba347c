// The rules of chat (domain/rules), each answer checked for every role it depends on.

#include "confab/domain/rules.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>

namespace confab::domain::rules {
namespace {

constexpr Role member = Role::member;
constexpr Role admin = Role::admin;
constexpr Role owner = Role::owner;

Standing group(Role role, ChatSettings settings = {}) { return {ChatType::group, settings, role, false}; }
Standing direct() { return {ChatType::direct, {}, Role::member, false}; }

// The code of the Error the call throws, or nullopt when it allows.
std::optional<ErrorCode> refusal(const std::function<void()>& call) {
    try {
        call();
        return std::nullopt;
    } catch (const Error& error) {
        return error.code();
    }
}

constexpr std::optional<ErrorCode> allowed = std::nullopt;
constexpr std::optional<ErrorCode> forbidden_ = ErrorCode::forbidden;

TEST(Rules, PostingIsForAdminsOnlyWhereTheGroupSaysSo) {
    const ChatSettings admins_only{.only_admins_can_post = true};
    EXPECT_EQ(refusal([&] { may_post(group(member), MessageType::text); }), allowed);
    EXPECT_EQ(refusal([&] { may_post(group(member, admins_only), MessageType::text); }), forbidden_);
    EXPECT_EQ(refusal([&] { may_post(group(admin, admins_only), MessageType::text); }), allowed);
    EXPECT_EQ(refusal([&] { may_post(group(owner, admins_only), MessageType::text); }), allowed);
    EXPECT_EQ(refusal([&] { may_post(direct(), MessageType::text); }), allowed);
}

TEST(Rules, AChannelHasNoSettings) {
    EXPECT_EQ(refusal([&] { may_have_settings({ChatType::channel, {}, owner, false}); }), ErrorCode::bad_request);
    EXPECT_EQ(refusal([&] { may_have_settings(group(owner)); }), allowed);
}

TEST(Rules, ChatInfoAndSettings) {
    const ChatSettings open_info{.only_admins_can_edit_info = false};
    const auto info = [](Standing actor) { return refusal([&] { may_update_chat(actor, true, false); }); };
    const auto settings = [](Standing actor) { return refusal([&] { may_update_chat(actor, false, true); }); };
    EXPECT_EQ(info(direct()), forbidden_);
    EXPECT_EQ(info(group(member)), forbidden_);  // admins edit info by default
    EXPECT_EQ(info(group(member, open_info)), allowed);
    EXPECT_EQ(settings(group(member, open_info)), forbidden_);
    for (const auto role : {admin, owner}) {
        EXPECT_EQ(settings(group(role)), allowed);
        EXPECT_EQ(settings(group(role, open_info)), allowed);
    }
    // A custom role granting change_settings changes settings, whether or not its holder may
    // edit the chat's info (the settings withdraw edit_info below admin, not change_settings).
    Standing settings_keeper = group(Role::moderator);
    settings_keeper.custom_grants = std::vector{Permission::change_settings};
    EXPECT_EQ(settings(settings_keeper), allowed);
    EXPECT_EQ(info(settings_keeper), forbidden_);
    settings_keeper.settings = open_info;
    EXPECT_EQ(info(settings_keeper), forbidden_);  // it does not grant edit_info
}

TEST(Rules, OnlyTheOwnerDeletesAGroupAndEitherMemberLeavesADirectChat) {
    EXPECT_EQ(refusal([&] { may_delete_chat(group(member)); }), forbidden_);
    EXPECT_EQ(refusal([&] { may_delete_chat(group(admin)); }), forbidden_);
    EXPECT_EQ(refusal([&] { may_delete_chat(group(owner)); }), allowed);
    EXPECT_EQ(refusal([&] { may_delete_chat(direct()); }), allowed);
}

TEST(Rules, AddingMembers) {
    const ChatSettings admins_add{.only_admins_can_add_members = true};
    EXPECT_EQ(refusal([&] { may_add_members(direct()); }), forbidden_);
    EXPECT_EQ(refusal([&] { may_add_members(group(member)); }), allowed);
    EXPECT_EQ(refusal([&] { may_add_members(group(member, admins_add)); }), forbidden_);
    EXPECT_EQ(refusal([&] { may_add_members(group(admin, admins_add)); }), allowed);
    EXPECT_EQ(refusal([&] { may_add_members(group(owner, admins_add)); }), allowed);
}

TEST(Rules, ChangingRoles) {
    const auto change = [](Standing actor, Role target, bool self, Role to) {
        return refusal([&] { may_update_member(actor, target, self, to, false); });
    };
    EXPECT_EQ(change(direct(), member, false, admin), forbidden_);
    EXPECT_EQ(change(group(member), member, false, admin), forbidden_);
    EXPECT_EQ(change(group(member), member, true, admin), forbidden_);  // no promoting oneself
    EXPECT_EQ(change(group(admin), member, false, admin), allowed);
    EXPECT_EQ(change(group(admin), admin, false, member), forbidden_);  // admins leave other admins alone
    EXPECT_EQ(change(group(admin), admin, true, member), allowed);      // but may step down
    EXPECT_EQ(change(group(admin), owner, false, member), forbidden_);
    EXPECT_EQ(change(group(owner), admin, false, member), allowed);
    EXPECT_EQ(change(group(owner), owner, true, admin), forbidden_);  // ownership is transferred, not dropped
    EXPECT_EQ(change(group(owner), member, false, owner), allowed);
    EXPECT_EQ(change(group(admin), member, false, owner), forbidden_);
}

// Whoever holds manage_roles through a custom role gives no built-in role granting what
// theirs does not, themself included; only an admin changes their own role.
TEST(Rules, ChangingRolesHandsOutNoPowerTheActorLacks) {
    const auto change = [](Standing actor, Role target, bool self, Role to) {
        return refusal([&] { may_update_member(actor, target, self, to, false); });
    };
    const auto holding = [](Role rank, std::vector<Permission> grants) {
        Standing actor = group(rank);
        actor.custom_grants = std::move(grants);
        return actor;
    };
    const auto greeter = holding(admin, {Permission::manage_roles});
    EXPECT_EQ(change(greeter, admin, true, admin), forbidden_);  // itself to a full admin
    EXPECT_EQ(change(greeter, member, false, admin), forbidden_);
    EXPECT_EQ(change(greeter, member, false, Role::moderator), forbidden_);
    EXPECT_EQ(change(greeter, member, false, Role::restricted), allowed);  // grants nothing
    const auto moderating = holding(Role::moderator, {Permission::manage_roles, Permission::post});
    EXPECT_EQ(change(moderating, Role::moderator, true, Role::moderator), forbidden_);  // not an admin
    EXPECT_EQ(change(moderating, Role::moderator, true, member), forbidden_);
    EXPECT_EQ(change(moderating, member, false, Role::moderator), forbidden_);
    EXPECT_EQ(change(moderating, member, false, member), forbidden_);  // a member also reacts, pins...
    const auto with_member_powers =
        holding(Role::moderator,
                {Permission::manage_roles, Permission::post, Permission::post_media, Permission::react,
                 Permission::mention_all, Permission::add_members, Permission::edit_info, Permission::pin});
    EXPECT_EQ(change(with_member_powers, Role::restricted, false, member), allowed);
    EXPECT_EQ(change(with_member_powers, member, false, Role::restricted), allowed);
}

TEST(Rules, OnlyMembersThemselvesMuteAChat) {
    EXPECT_EQ(refusal([&] { may_update_member(group(member), member, true, std::nullopt, true); }), allowed);
    EXPECT_EQ(refusal([&] { may_update_member(group(owner), member, false, std::nullopt, true); }), forbidden_);
    EXPECT_EQ(refusal([&] { may_update_member(direct(), member, true, std::nullopt, true); }), allowed);
}

TEST(Rules, RemovingMembers) {
    const auto remove = [](Standing actor, Role target, bool self) {
        return refusal([&] { may_remove_member(actor, target, self); });
    };
    EXPECT_EQ(remove(direct(), member, true), forbidden_);
    for (const auto role : {member, admin, owner})
        EXPECT_EQ(remove(group(role), role, true), allowed);  // anyone leaves
    EXPECT_EQ(remove(group(member), member, false), forbidden_);
    EXPECT_EQ(remove(group(admin), member, false), allowed);
    EXPECT_EQ(remove(group(admin), admin, false), forbidden_);
    EXPECT_EQ(remove(group(admin), owner, false), forbidden_);
    EXPECT_EQ(remove(group(owner), admin, false), allowed);
}

Message message_from(const std::string& sender, MessageType type = MessageType::text) {
    Message message;
    message.sender_id = sender;
    message.type = type;
    return message;
}

TEST(Rules, OnlyTheSenderEditsAndOnlyTextAndCaptions) {
    EXPECT_EQ(refusal([] { may_edit_message("ann", message_from("ann")); }), allowed);
    EXPECT_EQ(refusal([] { may_edit_message("ann", message_from("ann", MessageType::image)); }), allowed);
    EXPECT_EQ(refusal([] { may_edit_message("bob", message_from("ann")); }), forbidden_);
    EXPECT_EQ(refusal([] { may_edit_message("ann", message_from("ann", MessageType::location)); }),
              ErrorCode::bad_request);
    auto deleted = message_from("ann");
    deleted.is_deleted = true;
    EXPECT_EQ(refusal([&] { may_edit_message("ann", deleted); }), ErrorCode::conflict);
    auto system = message_from("ann", MessageType::system);
    EXPECT_EQ(refusal([&] { may_edit_message("ann", system); }), ErrorCode::bad_request);
    auto forward = message_from("ann");
    forward.forwarded_from = ForwardOrigin{};
    EXPECT_EQ(refusal([&] { may_edit_message("ann", forward); }), ErrorCode::bad_request) << "its words are another's";
}

TEST(Rules, TheSenderOrAGroupsAdminsDeleteAMessage) {
    const auto ann_says = message_from("ann");
    EXPECT_EQ(refusal([&] { may_delete_message(group(member), "ann", ann_says); }), allowed);
    EXPECT_EQ(refusal([&] { may_delete_message(group(member), "bob", ann_says); }), forbidden_);
    EXPECT_EQ(refusal([&] { may_delete_message(group(admin), "bob", ann_says); }), allowed);
    EXPECT_EQ(refusal([&] { may_delete_message(group(owner), "bob", ann_says); }), allowed);
    EXPECT_EQ(refusal([&] { may_delete_message(direct(), "bob", ann_says); }), forbidden_);
    auto deleted = ann_says;
    deleted.is_deleted = true;
    EXPECT_EQ(refusal([&] { may_delete_message(group(member), "ann", deleted); }), ErrorCode::conflict);
}

TEST(Rules, MediaIsRemovedByTheSenderOrAGroupsAdmins) {
    auto photo = message_from("ann", MessageType::image);
    EXPECT_EQ(refusal([&] { may_remove_media(group(member), "ann", photo); }), ErrorCode::not_found);  // none attached
    photo.media = Media{};
    EXPECT_EQ(refusal([&] { may_remove_media(group(member), "ann", photo); }), allowed);
    EXPECT_EQ(refusal([&] { may_remove_media(group(member), "bob", photo); }), forbidden_);
    EXPECT_EQ(refusal([&] { may_remove_media(group(admin), "bob", photo); }), allowed);
    EXPECT_EQ(refusal([&] { may_remove_media(direct(), "bob", photo); }), forbidden_);
}

TEST(Rules, AThreadReplyQuotesOnlyWithinItsThread) {
    const std::optional<std::string> main_timeline;
    EXPECT_EQ(refusal([&] { may_quote_in_thread("root", "root", main_timeline); }), allowed) << "its root";
    EXPECT_EQ(refusal([&] { may_quote_in_thread("root", "reply", std::string("root")); }), allowed)
        << "a reply in its thread";
    EXPECT_EQ(refusal([&] { may_quote_in_thread("root", "other reply", std::string("other root")); }),
              ErrorCode::bad_request)
        << "a reply in another thread";
    EXPECT_EQ(refusal([&] { may_quote_in_thread("root", "elsewhere", main_timeline); }), ErrorCode::bad_request)
        << "a main-timeline message other than its root";
}

}  // namespace
}  // namespace confab::domain::rules
