// Consent to groups (docs/api.md, Privacy): who may add a user to a group without asking,
// the invitations everyone else's adds become, and accepting or declining them.

#include "support/chat_api.hpp"
#include "support/fixture.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <utility>
#include <vector>

namespace confab::test {
namespace {

using ConsentTest = ChatTest;

const std::string privacy_url = "/api/v1/users/me/privacy";
const std::string invitations_url = "/api/v1/invitations";

void set_privacy(std::uint16_t port, const TestUser& user, const std::string& who) {
    expect_json(put(port, user.token, privacy_url, {{"who_can_add_me", who}}), 200, "set privacy");
}

std::vector<json> invitations_of(std::uint16_t port, const TestUser& user) {
    return expect_json(get(port, user.token, invitations_url), 200, "list invitations")["invitations"];
}

bool is_member(std::uint16_t port, const TestUser& viewer, const std::string& chat, const std::string& user_id) {
    const auto ids = member_user_ids(list_members(port, viewer, chat));
    return std::find(ids.begin(), ids.end(), user_id) != ids.end();
}

TEST_F(ConsentTest, EveryoneIsTheDefaultAndAddsAsBefore) {
    auto owner = register_user(port(), "cn");
    auto joiner = register_user(port(), "cn");
    EXPECT_EQ(expect_json(get(port(), joiner.token, privacy_url), 200, "privacy")["who_can_add_me"], "everyone");
    const std::string chat = create_group(port(), owner)["id"];
    const auto added =
        expect_json(post(port(), owner.token, members_url(chat), {{"user_ids", {joiner.id}}}), 200, "add");
    EXPECT_EQ(added["members"].size(), 1u);
    EXPECT_EQ(added["invited"], json::array());
    EXPECT_TRUE(is_member(port(), owner, chat, joiner.id));
}

TEST_F(ConsentTest, NobodyTurnsAnAddIntoAnInvitationTheUserAccepts) {
    auto owner = register_user(port(), "cn", "Owner Ann");
    auto guarded = register_user(port(), "cn");
    set_privacy(port(), guarded, "nobody");
    auto guarded_ws = ws_connect(port(), guarded.token);
    auto owner_ws = ws_connect(port(), owner.token);

    const auto group = create_group(port(), owner, {guarded.id});
    const std::string chat = group["id"];
    EXPECT_EQ(group["member_count"], 1) << "invited, not added";
    EXPECT_FALSE(is_member(port(), owner, chat, guarded.id));
    EXPECT_TRUE(IsError(get(port(), guarded.token, chat_url(chat)), 404, "not_found"))
        << "sees nothing before accepting";

    const auto told = wait_for(*guarded_ws, "invitation.created");
    ASSERT_TRUE(told);
    const auto invitation = (*told)["data"]["invitation"];
    EXPECT_EQ(invitation["chat_id"], chat);
    EXPECT_EQ(invitation["title"], group["title"]);
    EXPECT_EQ(invitation["member_count"], 1);
    EXPECT_EQ(invitation["inviter"]["id"], owner.id);
    EXPECT_EQ(invitation["inviter"]["display_name"], "Owner Ann");
    const auto listed = invitations_of(port(), guarded);
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0], invitation);

    // Adding again while it is pending neither adds nor invites twice.
    const auto again =
        expect_json(post(port(), owner.token, members_url(chat), {{"user_ids", {guarded.id}}}), 200, "add");
    EXPECT_EQ(again["members"], json::array());
    EXPECT_EQ(again["invited"], json::array({guarded.id}));
    EXPECT_EQ(invitations_of(port(), guarded).size(), 1u);

    const auto joined = expect_json(post(port(), guarded.token,
                                         invitations_url + "/" + invitation["id"].get<std::string>() + "/accept"),
                                    200, "accept");
    EXPECT_TRUE(IsChatModel(joined));
    EXPECT_EQ(joined["id"], chat);
    EXPECT_EQ(joined["me"]["role"], "member");
    EXPECT_EQ(joined["member_count"], 2);
    EXPECT_TRUE(is_member(port(), owner, chat, guarded.id));
    EXPECT_TRUE(wait_for(*guarded_ws, "invitation.deleted",
                         [&](const json& f) { return f["data"]["invitation_id"] == invitation["id"]; }));
    EXPECT_TRUE(wait_for(*guarded_ws, "chat.created", about_chat(chat)));
    EXPECT_TRUE(wait_for(*owner_ws, "member.added",
                         [&](const json& f) { return f["data"]["member"]["user"]["id"] == guarded.id; }));
    const auto notes = system_messages(port(), owner, chat);
    ASSERT_FALSE(notes.empty());
    EXPECT_EQ(notes.back()["metadata"]["event"], "member.joined");
    EXPECT_EQ(notes.back()["sender_id"], guarded.id);
    EXPECT_TRUE(invitations_of(port(), guarded).empty());
    EXPECT_TRUE(
        IsError(post(port(), guarded.token, invitations_url + "/" + invitation["id"].get<std::string>() + "/accept"),
                404, "not_found"))
        << "an invitation is used once";
}

TEST_F(ConsentTest, ContactsMayAddButStrangersInvite) {
    auto guarded = register_user(port(), "cn");
    auto friend_ = register_user(port(), "cn");
    auto stranger = register_user(port(), "cn");
    set_privacy(port(), guarded, "contacts");
    create_direct(port(), friend_, guarded);

    const std::string by_friend = create_group(port(), friend_, {guarded.id})["id"];
    EXPECT_TRUE(is_member(port(), friend_, by_friend, guarded.id));
    const std::string by_stranger = create_group(port(), stranger)["id"];
    const auto added =
        expect_json(post(port(), stranger.token, members_url(by_stranger), {{"user_ids", {guarded.id, friend_.id}}}),
                    200, "add");
    EXPECT_EQ(member_user_ids(added["members"].get<std::vector<json>>()), std::vector<std::string>{friend_.id});
    EXPECT_EQ(added["invited"], json::array({guarded.id}));
    EXPECT_FALSE(is_member(port(), stranger, by_stranger, guarded.id));
}

TEST_F(ConsentTest, DecliningDropsTheInvitationAndTellsTheGroupNothing) {
    auto owner = register_user(port(), "cn");
    auto guarded = register_user(port(), "cn");
    set_privacy(port(), guarded, "nobody");
    const std::string chat = create_group(port(), owner, {guarded.id})["id"];
    const std::string invitation = invitations_of(port(), guarded).at(0)["id"];
    EXPECT_TRUE(IsError(del(port(), owner.token, invitations_url + "/" + invitation), 404, "not_found"))
        << "someone else's invitation";
    EXPECT_TRUE(IsError(post(port(), owner.token, invitations_url + "/" + invitation + "/accept"), 404, "not_found"));
    EXPECT_EQ(del(port(), guarded.token, invitations_url + "/" + invitation).status, 204);
    EXPECT_TRUE(invitations_of(port(), guarded).empty());
    EXPECT_TRUE(IsError(del(port(), guarded.token, invitations_url + "/" + invitation), 404, "not_found"));
    const auto notes = system_messages(port(), owner, chat);
    EXPECT_TRUE(notes.empty()) << notes.size() << " system messages";

    // Asking again is a new invitation.
    post(port(), owner.token, members_url(chat), {{"user_ids", {guarded.id}}});
    EXPECT_EQ(invitations_of(port(), guarded).size(), 1u);
}

// A group is deleted by its owner, or as its last member leaves: either way its pending
// invitees are told their invitation is gone, and it is.
TEST_F(ConsentTest, AnInvitationToADeletedGroupIsGone) {
    const std::vector<std::pair<const char*, std::function<std::string(const TestUser&, const std::string&)>>>
        deletions{{"deleted by its owner", [](const TestUser&, const std::string& chat) { return chat_url(chat); }},
                  {"left by its last member",
                   [](const TestUser& owner, const std::string& chat) { return member_url(chat, owner.id); }}};
    for (const auto& [how, url_of] : deletions) {
        auto owner = register_user(port(), "cn");
        auto guarded = register_user(port(), "cn");
        set_privacy(port(), guarded, "nobody");
        const std::string chat = create_group(port(), owner, {guarded.id})["id"];
        const std::string invitation = invitations_of(port(), guarded).at(0)["id"];
        auto guarded_ws = ws_connect(port(), guarded.token);
        ASSERT_EQ(del(port(), owner.token, url_of(owner, chat)).status, 204) << how;
        EXPECT_TRUE(wait_for(*guarded_ws, "invitation.deleted",
                             [&](const json& f) {
                                 return f["data"]["invitation_id"] == invitation && f["data"]["chat_id"] == chat;
                             }))
            << how << ": a client drops it without asking";
        EXPECT_TRUE(
            IsError(post(port(), guarded.token, invitations_url + "/" + invitation + "/accept"), 404, "not_found"))
            << how;
        EXPECT_TRUE(invitations_of(port(), guarded).empty()) << how;
    }
}

// An invitation stands as made: the inviter leaving, or adds closed to members later, does
// not withdraw it (docs/api.md, Privacy).
TEST_F(ConsentTest, AnInvitationOutlivesItsInvitersLeaveAndAddsClosedToMembers) {
    auto owner = register_user(port(), "cn");
    auto inviter = register_user(port(), "cn");
    auto guarded = register_user(port(), "cn");
    set_privacy(port(), guarded, "nobody");
    const std::string chat = create_group(port(), owner, {inviter.id})["id"];
    expect_json(post(port(), inviter.token, members_url(chat), {{"user_ids", {guarded.id}}}), 200, "invite");
    const std::string invitation = invitations_of(port(), guarded).at(0)["id"];
    expect_json(put(port(), owner.token, chat_url(chat), {{"settings", {{"only_admins_can_add_members", true}}}}), 200,
                "close adds");
    ASSERT_EQ(del(port(), inviter.token, chat_url(chat) + "/members/" + inviter.id).status, 204);
    const auto joined =
        expect_json(post(port(), guarded.token, invitations_url + "/" + invitation + "/accept"), 200, "accept");
    EXPECT_EQ(joined["id"], chat);
    EXPECT_TRUE(is_member(port(), owner, chat, guarded.id));
}

TEST_F(ConsentTest, InvitationsArePagedNewestFirstWithoutOverlap) {
    auto owner = register_user(port(), "cp");
    auto guarded = register_user(port(), "cp");
    set_privacy(port(), guarded, "nobody");
    std::vector<std::string> chats;  // oldest first
    chats.reserve(5);
    for (int i = 0; i < 5; ++i) chats.push_back(create_group(port(), owner, {guarded.id})["id"]);
    std::vector<std::string> newest_first(chats.rbegin(), chats.rend());

    EXPECT_EQ(invitations_of(port(), guarded).size(), 5u) << "all of them without a limit (the default is 200)";
    std::vector<std::string> paged;
    std::string target = invitations_url + "?limit=2";
    for (int page = 0; page < 5; ++page) {
        const auto body = expect_json(get(port(), guarded.token, target), 200, "page");
        for (const auto& invitation : body["invitations"]) paged.push_back(invitation["chat_id"]);
        if (body["next_cursor"].is_null()) break;
        target = invitations_url + "?limit=2&cursor=" + body["next_cursor"].get<std::string>();
    }
    EXPECT_EQ(paged, newest_first);
    for (const int limit : {1, 5})
        EXPECT_EQ(ids_of(every_page(port(), guarded.token, invitations_url, "invitations", limit), "chat_id"),
                  newest_first)
            << "limit " << limit;

    for (const std::string bad : {"?cursor=bm9wZQ", "?cursor=%%%", "?limit=0", "?limit=201"})
        EXPECT_TRUE(IsError(get(port(), guarded.token, invitations_url + bad), 400, "bad_request")) << bad;
    login(port(), guarded.username);
    const auto sessions_cursor = first_cursor(port(), guarded.token, "/api/v1/sessions");
    EXPECT_TRUE(RefusesBadPages(port(), guarded.token, invitations_url, sessions_cursor));
}

TEST_F(ConsentTest, BadPrivacyAndInvitationRequestsAreRefused) {
    auto user = register_user(port(), "cn");
    for (const json& body : {json{{"who_can_add_me", "friends"}}, json{{"who_can_add_me", 1}}, json::object(),
                             json{{"who_can_add_me", "nobody"}, {"extra", true}}})
        EXPECT_TRUE(IsError(put(port(), user.token, privacy_url, body), 400, "bad_request")) << body.dump();
    EXPECT_EQ(expect_json(get(port(), user.token, privacy_url), 200, "privacy")["who_can_add_me"], "everyone");
    EXPECT_TRUE(IsError(post(port(), user.token, invitations_url + "/not-a-uuid/accept"), 400, "bad_request"));
    EXPECT_TRUE(IsError(del(port(), user.token, invitations_url + "/" + random_uuid()), 404, "not_found"));
    EXPECT_TRUE(IsError(http(port(), "GET", invitations_url), 401, "unauthorized"));
    EXPECT_TRUE(IsError(http(port(), "GET", privacy_url), 401, "unauthorized"));
}

TEST(ConsentLimits, AcceptingIntoAFullGroupIsAConflictAndKeepsTheInvitation) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(shared_database().url(),
                         std::map<std::string, std::string>{{"CONFAB_LIMIT_GROUP_MEMBERS", "2"}});
    const auto port = server.port();
    auto owner = register_user(port, "cf");
    auto guarded = register_user(port, "cf");
    auto other = register_user(port, "cf");
    set_privacy(port, guarded, "nobody");
    const std::string chat = create_group(port, owner, {guarded.id})["id"];
    add_members(port, owner, chat, {other.id});  // the group is now full
    const std::string invitation = invitations_of(port, guarded).at(0)["id"];
    EXPECT_TRUE(IsError(post(port, guarded.token, invitations_url + "/" + invitation + "/accept"), 409, "conflict"));
    EXPECT_EQ(invitations_of(port, guarded).size(), 1u);
}

}  // namespace
}  // namespace confab::test
