// Invite links (docs/api.md, Invite links): a group's admins create, list and revoke them;
// any signed-in user previews the group by an open link and joins it exactly as if added.
// The hostile side: who may not manage links, banned users, restricted members trying to
// escape by joining again, and links that are revoked, expired, used up or guessed.

#include <algorithm>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/chat_api.hpp"

namespace confab::test {
namespace {

using InviteLinksTest = ChatTest;

const std::string far_future = "2999-01-01T00:00:00Z";

std::string links_url(const std::string& chat_id) { return chat_url(chat_id) + "/invite-links"; }
std::string link_url(const std::string& code) { return "/api/v1/invite-links/" + code; }
std::string join_url(const std::string& code) { return link_url(code) + "/join"; }

::testing::AssertionResult HasKeys(const json& j, const std::vector<const char*>& keys, const char* model) {
    for (const char* key : keys)
        if (!j.contains(key)) return ::testing::AssertionFailure() << model << " lacks " << key << ": " << j.dump();
    if (j.size() != keys.size())
        return ::testing::AssertionFailure() << model << " has undocumented keys: " << j.dump();
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult IsInviteLinkModel(const json& j) {
    return HasKeys(j, {"code", "chat_id", "created_by", "expires_at", "max_uses", "uses", "created_at"},
                   "InviteLinkModel");
}

::testing::AssertionResult IsRefused(const HttpResponse& r, const std::string& reason) {
    auto refused = IsError(r, 403, "forbidden");
    if (!refused) return refused;
    if (r.json()["error"]["details"]["reason"] != reason)
        return ::testing::AssertionFailure() << "reason is not " << reason << ": " << r.body;
    return ::testing::AssertionSuccess();
}

json create_link(std::uint16_t port, const TestUser& actor, const std::string& chat_id,
                 const json& body = json::object()) {
    return expect_json(post(port, actor.token, links_url(chat_id), body), 201, "create invite link");
}

struct Group {
    TestUser owner, admin, member;
    std::string chat_id;
};

Group make_group(std::uint16_t port) {
    Group g{register_user(port, "il"), register_user(port, "il"), register_user(port, "il"), ""};
    g.chat_id = create_group(port, g.owner, {g.admin.id, g.member.id}).at("id").get<std::string>();
    set_role(port, g.owner, g.chat_id, g.admin.id, "admin");
    return g;
}

TEST_F(InviteLinksTest, AnAdminCreatesALinkAnyoneHoldingItPreviewsAndJoinsAsIfAdded) {
    auto g = make_group(port());
    const auto link = create_link(port(), g.admin, g.chat_id, {{"max_uses", 5}, {"expires_at", far_future}});
    EXPECT_TRUE(IsInviteLinkModel(link));
    EXPECT_EQ(link["chat_id"], g.chat_id);
    EXPECT_EQ(link["created_by"], g.admin.id);
    EXPECT_EQ(link["max_uses"], 5);
    EXPECT_EQ(link["uses"], 0);
    EXPECT_EQ(link["expires_at"].get<std::string>().substr(0, 19), "2999-01-01T00:00:00");
    const auto code = link["code"].get<std::string>();
    EXPECT_EQ(code.size(), 43u) << "256 random bits, base64url without padding";
    EXPECT_EQ(code.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos);
    EXPECT_NE(create_link(port(), g.admin, g.chat_id)["code"], code) << "every link its own code";

    const auto joiner = register_user(port(), "il");
    const auto preview = get(port(), joiner.token, link_url(code));
    ASSERT_TRUE(IsJson(preview, 200));
    EXPECT_TRUE(HasKeys(preview.json(), {"code", "chat_id", "title", "avatar_url", "member_count", "expires_at"},
                        "InviteLinkPreviewModel"));
    EXPECT_EQ(preview.json()["chat_id"], g.chat_id);
    EXPECT_EQ(preview.json()["member_count"], 3);
    EXPECT_EQ(preview.json()["title"], get_chat(port(), g.owner, g.chat_id)["title"]);
    EXPECT_TRUE(IsError(get(port(), joiner.token, chat_messages_url(g.chat_id)), 404, "not_found"))
        << "a preview joins nothing";

    auto ws_member = ws_connect(port(), g.member.token);
    auto ws_joiner = ws_connect(port(), joiner.token);
    const auto joined = post(port(), joiner.token, join_url(code), json::object());
    ASSERT_TRUE(IsJson(joined, 200));
    EXPECT_TRUE(IsChatModel(joined.json()));
    EXPECT_EQ(joined.json()["id"], g.chat_id);
    EXPECT_EQ(joined.json()["me"]["role"], "member");
    EXPECT_EQ(joined.json()["member_count"], 4);

    // The same events as an add: the joiner gets the chat, every member hears of the joiner.
    EXPECT_TRUE(wait_for(*ws_joiner, "chat.created", about_chat(g.chat_id)).has_value());
    const auto added = wait_for(*ws_member, "member.added", about_chat(g.chat_id));
    ASSERT_TRUE(added.has_value());
    EXPECT_TRUE(IsMemberModel((*added)["data"]["member"]));
    EXPECT_EQ((*added)["data"]["member"]["user"]["id"], joiner.id);
    const auto note = wait_for(*ws_member, "message.new", about_chat(g.chat_id));
    ASSERT_TRUE(note.has_value());
    EXPECT_EQ((*note)["data"]["message"]["metadata"]["event"], "member.joined");
    EXPECT_EQ((*note)["data"]["message"]["metadata"]["user_id"], joiner.id);
    EXPECT_TRUE(IsJson(send_message(port(), joiner, g.chat_id, {{"type", "text"}, {"content", "hi all"}}), 201));

    // Listed to admins with its use counted; joining again changes nothing and spends nothing.
    ASSERT_TRUE(IsJson(post(port(), joiner.token, join_url(code), json::object()), 200));
    const auto listed = get(port(), g.owner.token, links_url(g.chat_id));
    ASSERT_TRUE(IsJson(listed, 200));
    ASSERT_EQ(listed.json()["invite_links"].size(), 2u);
    const auto first = listed.json()["invite_links"][1];
    EXPECT_TRUE(IsInviteLinkModel(first));
    EXPECT_EQ(first["code"], code);
    EXPECT_EQ(first["uses"], 1);
}

TEST_F(InviteLinksTest, LinksArePagedNewestFirstThenByCodeEachOnce) {
    auto g = make_group(port());
    std::vector<std::string> tied;
    tied.reserve(4);
    for (int i = 0; i < 4; ++i) tied.push_back(create_link(port(), g.admin, g.chat_id)["code"]);
    // Links of one time: their codes order them, byte by byte, newest first still.
    shared_database().query_value(
        "update chat_invite_links set created_at = now() - interval '1 minute' where chat_id = '" + g.chat_id + "'");
    const std::string newest = create_link(port(), g.owner, g.chat_id)["code"];
    const std::string revoked = create_link(port(), g.admin, g.chat_id)["code"];
    ASSERT_EQ(del(port(), g.admin.token, links_url(g.chat_id) + "/" + revoked).status, 204);
    std::sort(tied.rbegin(), tied.rend());
    std::vector<std::string> expected{newest};
    expected.insert(expected.end(), tied.begin(), tied.end());

    EXPECT_TRUE(PagesInOrder(port(), g.admin.token, links_url(g.chat_id), "invite_links", expected, "code"));

    login(port(), g.admin.username);
    const auto sessions_cursor = first_cursor(port(), g.admin.token, "/api/v1/sessions");
    EXPECT_TRUE(RefusesBadPages(port(), g.admin.token, links_url(g.chat_id), sessions_cursor));
    EXPECT_TRUE(IsError(get(port(), g.member.token, links_url(g.chat_id) + "?limit=1"), 403, "forbidden"));
}

TEST_F(InviteLinksTest, OnlyAdminsManageLinksAndOnlyInGroups) {
    auto g = make_group(port());
    const auto moderator = register_user(port(), "il");
    add_members(port(), g.owner, g.chat_id, {moderator.id});
    set_role(port(), g.owner, g.chat_id, moderator.id, "moderator");
    const auto outsider = register_user(port(), "il");
    EXPECT_TRUE(IsError(post(port(), g.member.token, links_url(g.chat_id), json::object()), 403, "forbidden"));
    EXPECT_TRUE(IsError(post(port(), moderator.token, links_url(g.chat_id), json::object()), 403, "forbidden"));
    EXPECT_TRUE(IsError(post(port(), outsider.token, links_url(g.chat_id), json::object()), 404, "not_found"));
    EXPECT_TRUE(IsError(get(port(), g.member.token, links_url(g.chat_id)), 403, "forbidden"));
    const auto code = create_link(port(), g.owner, g.chat_id)["code"].get<std::string>();
    EXPECT_TRUE(IsError(del(port(), g.member.token, links_url(g.chat_id) + "/" + code), 403, "forbidden"));
    EXPECT_TRUE(IsError(del(port(), outsider.token, links_url(g.chat_id) + "/" + code), 404, "not_found"));
    const auto direct = create_direct(port(), g.member, g.admin);
    EXPECT_TRUE(IsError(post(port(), g.member.token, links_url(direct["id"]), json::object()), 403, "forbidden"));

    // Bad input names its field.
    const auto bad = [&](const json& body, const char* field) {
        const auto r = post(port(), g.owner.token, links_url(g.chat_id), body);
        return IsError(r, 400, "bad_request") && r.json()["error"]["details"]["field"] == field;
    };
    EXPECT_TRUE(bad({{"max_uses", 0}}, "max_uses"));
    EXPECT_TRUE(bad({{"max_uses", "ten"}}, "max_uses"));
    EXPECT_TRUE(bad({{"max_uses", 1000001}}, "max_uses"));
    EXPECT_TRUE(bad({{"expires_at", "2000-01-01T00:00:00Z"}}, "expires_at")) << "a link that never opens";
    EXPECT_TRUE(bad({{"expires_at", "tomorrow"}}, "expires_at"));
    EXPECT_TRUE(IsError(post(port(), g.owner.token, links_url(g.chat_id), {{"uses", 3}}), 400, "bad_request"));
    EXPECT_TRUE(IsInviteLinkModel(create_link(port(), g.owner, g.chat_id, {{"max_uses", nullptr}})));
}

TEST_F(InviteLinksTest, RevokedExpiredAndUsedUpLinksAndGuessesLetNobodyIn) {
    auto g = make_group(port());
    const auto a = register_user(port(), "il");
    const auto b = register_user(port(), "il");

    const auto once = create_link(port(), g.owner, g.chat_id, {{"max_uses", 1}})["code"].get<std::string>();
    ASSERT_TRUE(IsJson(post(port(), a.token, join_url(once), json::object()), 200));
    EXPECT_TRUE(IsRefused(post(port(), b.token, join_url(once), json::object()), "used_up"));
    EXPECT_TRUE(IsRefused(get(port(), b.token, link_url(once)), "used_up"));

    const auto revoked = create_link(port(), g.owner, g.chat_id)["code"].get<std::string>();
    EXPECT_EQ(del(port(), g.admin.token, links_url(g.chat_id) + "/" + revoked).status, 204);
    EXPECT_TRUE(IsError(del(port(), g.admin.token, links_url(g.chat_id) + "/" + revoked), 404, "not_found"));
    EXPECT_TRUE(IsRefused(post(port(), b.token, join_url(revoked), json::object()), "revoked"));
    EXPECT_TRUE(IsRefused(get(port(), b.token, link_url(revoked)), "revoked"));
    const auto listed = get(port(), g.owner.token, links_url(g.chat_id)).json();  // outlives the loop
    for (const auto& link : listed["invite_links"]) EXPECT_NE(link["code"], revoked) << "a revoked link is not listed";

    // A link that has expired since it was made (its expiry moved into the past in the database).
    const auto expired = create_link(port(), g.owner, g.chat_id, {{"expires_at", far_future}})["code"];
    shared_database().query_value(
        "UPDATE chat_invite_links SET expires_at = now() - interval '1 minute' WHERE code = '" +
        expired.get<std::string>() + "'");
    EXPECT_TRUE(IsRefused(post(port(), b.token, join_url(expired), json::object()), "expired"));

    // A guess, a code of another shape, and another group's link under this group.
    const std::string guess(43, 'A');
    EXPECT_TRUE(IsError(post(port(), b.token, join_url(guess), json::object()), 404, "not_found"));
    EXPECT_TRUE(IsError(get(port(), b.token, link_url("short")), 404, "not_found"));
    const auto other = create_group(port(), b);
    const auto foreign = create_link(port(), b, other["id"])["code"].get<std::string>();
    EXPECT_TRUE(IsError(del(port(), g.owner.token, links_url(g.chat_id) + "/" + foreign), 404, "not_found"));
    EXPECT_TRUE(IsError(get(port(), b.token, join_url(guess)), 405, "method_not_allowed"));
    EXPECT_EQ(get(port(), "", link_url(once)).status, 401);
    EXPECT_FALSE(find_member(list_members(port(), g.owner, g.chat_id), b.id)) << "b never got in";
}

TEST_F(InviteLinksTest, ABannedUserCannotJoinByLinkAndARestrictedMemberDoesNotEscapeByIt) {
    auto g = make_group(port());
    const auto code = create_link(port(), g.owner, g.chat_id)["code"].get<std::string>();
    const auto stranger = register_user(port(), "il");
    ASSERT_TRUE(IsJson(post(port(), g.owner.token, chat_url(g.chat_id) + "/bans", {{"user_id", stranger.id}}), 201));
    EXPECT_TRUE(IsRefused(post(port(), stranger.token, join_url(code), json::object()), "banned"));
    ASSERT_TRUE(IsJson(post(port(), g.owner.token, chat_url(g.chat_id) + "/bans", {{"user_id", g.member.id}}), 201));
    EXPECT_TRUE(IsRefused(post(port(), g.member.token, join_url(code), json::object()), "banned"))
        << "a banned member removed by the ban does not come back by link";
    EXPECT_EQ(get(port(), g.owner.token, links_url(g.chat_id)).json()["invite_links"][0]["uses"], 0);

    // Lifted, the link lets them in.
    ASSERT_EQ(del(port(), g.owner.token, chat_url(g.chat_id) + "/bans/" + stranger.id).status, 204);
    EXPECT_TRUE(IsJson(post(port(), stranger.token, join_url(code), json::object()), 200));

    // A restricted member joining by link stays restricted, over REST and the WebSocket.
    set_role(port(), g.owner, g.chat_id, stranger.id, "restricted");
    const auto again = post(port(), stranger.token, join_url(code), json::object());
    ASSERT_TRUE(IsJson(again, 200));
    EXPECT_EQ(again.json()["me"]["role"], "restricted");
    EXPECT_EQ((*find_member(list_members(port(), g.owner, g.chat_id), stranger.id))["role"], "restricted");
    EXPECT_TRUE(
        IsError(send_message(port(), stranger, g.chat_id, {{"type", "text"}, {"content", "x"}}), 403, "forbidden"));
    auto ws = ws_connect(port(), stranger.token);
    auto send = ws_request(*ws, "message.send", {{"chat_id", g.chat_id}, {"type", "text"}, {"content", "x"}});
    EXPECT_TRUE(IsWsError(send, "forbidden", send.value("id", ""))) << send.dump();
}

TEST_F(InviteLinksTest, ConcurrentJoinersNeverTakeMoreUsesThanTheLinkHas) {
    auto g = make_group(port());
    const auto code = create_link(port(), g.owner, g.chat_id, {{"max_uses", 2}})["code"].get<std::string>();
    std::vector<TestUser> joiners;
    joiners.reserve(6);
    for (int i = 0; i < 6; ++i) joiners.push_back(register_user(port(), "il"));
    std::vector<HttpResponse> results(joiners.size());
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < joiners.size(); ++i)
        threads.emplace_back([&, i] {
            results[i] = guarded([&] { return post(port(), joiners[i].token, join_url(code), json::object()); });
        });
    for (auto& t : threads) t.join();
    int joined = 0;
    for (const auto& r : results) {
        if (r.status == 200) {
            ++joined;
        } else {
            EXPECT_TRUE(IsRefused(r, "used_up")) << r.describe();
        }
    }
    EXPECT_EQ(joined, 2);
    EXPECT_EQ(list_members(port(), g.owner, g.chat_id).size(), 5u);
    EXPECT_EQ(get(port(), g.owner.token, links_url(g.chat_id)).json()["invite_links"][0]["uses"], 2);
}

TEST_F(InviteLinksTest, AFullGroupTurnsTheJoinerAway) {
    ServerProcess limited(chat_database_url(), std::map<std::string, std::string>{{"CONFAB_LIMIT_GROUP_MEMBERS", "3"}});
    const auto p = limited.port();
    auto g = make_group(p);
    const auto code = create_link(p, g.owner, g.chat_id)["code"].get<std::string>();
    const auto joiner = register_user(p, "il");
    EXPECT_TRUE(IsError(post(p, joiner.token, join_url(code), json::object()), 409, "conflict"));
    EXPECT_EQ(get(p, g.owner.token, links_url(g.chat_id)).json()["invite_links"][0]["uses"], 0);
    ASSERT_EQ(del(p, g.member.token, member_url(g.chat_id, g.member.id)).status, 204);
    EXPECT_TRUE(IsJson(post(p, joiner.token, join_url(code), json::object()), 200)) << "room again";
    // Paths that match no route carry the code too: a wrong method, a near miss.
    EXPECT_EQ(http(p, "PUT", join_url(code), std::nullopt, auth_header(joiner.token)).status, 405);
    const std::string last_request = "il-" + random_alnum(12);
    auto near_miss_headers = auth_header(joiner.token);
    near_miss_headers["X-Request-Id"] = last_request;
    EXPECT_EQ(http(p, "GET", join_url(code) + "x", std::nullopt, near_miss_headers).status, 404);
    ASSERT_TRUE(eventually([&] { return limited.log_contents().find(last_request) != std::string::npos; }));
    EXPECT_EQ(limited.log_contents().find(code), std::string::npos) << "the code is a secret: never logged";
}

TEST_F(InviteLinksTest, ADeletedGroupTakesItsLinksWithIt) {
    auto g = make_group(port());
    const auto code = create_link(port(), g.owner, g.chat_id)["code"].get<std::string>();
    const auto joiner = register_user(port(), "il");
    ASSERT_EQ(del(port(), g.owner.token, chat_url(g.chat_id)).status, 204);
    EXPECT_TRUE(IsError(get(port(), joiner.token, link_url(code)), 404, "not_found"));
    EXPECT_TRUE(IsError(post(port(), joiner.token, join_url(code), json::object()), 404, "not_found"));
}

}  // namespace
}  // namespace confab::test
