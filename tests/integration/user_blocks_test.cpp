// Blocking a user (docs/api.md, Blocking): PUT and DELETE /users/me/blocks/{user_id} and
// GET /users/me/blocks. A block stops the pair's direct messages both ways (REST and
// WebSocket, creating the chat, sending, forwarding, calls) with details.reason `blocked` or
// `you_blocked`, hides each one's presence and typing from the other, and leaves groups alone;
// the blocker's other sessions hear of each change.

#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "support/chat_api.hpp"

namespace confab::test {
namespace {

using UserBlocksTest = ChatTest;
using UserBlocksEffectsTest = ChatTest;

const std::string blocks_url = "/api/v1/users/me/blocks";
std::string block_url(const std::string& user_id) { return blocks_url + "/" + user_id; }

void block(std::uint16_t port, const TestUser& blocker, const TestUser& user) {
    const auto r = put(port, blocker.token, block_url(user.id));
    ASSERT_EQ(r.status, 204) << r.body;
    EXPECT_TRUE(r.body.empty()) << r.body;
}

void unblock(std::uint16_t port, const TestUser& blocker, const TestUser& user) {
    const auto r = del(port, blocker.token, block_url(user.id));
    ASSERT_EQ(r.status, 204) << r.body;
}

::testing::AssertionResult IsRefused(const HttpResponse& r, const std::string& reason) {
    auto refused = IsError(r, 403, "forbidden");
    if (!refused) return refused;
    if (r.json()["error"]["details"]["reason"] != reason)
        return ::testing::AssertionFailure() << "reason is not " << reason << ": " << r.body;
    return ::testing::AssertionSuccess();
}

FramePred from_user(const std::string& user_id) {
    return [user_id](const json& f) { return f.contains("data") && f["data"].value("user_id", "") == user_id; };
}

json text(const std::string& content) { return {{"type", "text"}, {"content", content}}; }

// Every page of the blocker's list, `limit` at a time: the listed users' ids in order.
std::vector<std::string> blocked_ids(std::uint16_t port, const TestUser& blocker, int limit) {
    std::vector<std::string> ids;
    std::string cursor;
    for (int page = 0; page < 100; ++page) {
        auto target = blocks_url + "?limit=" + std::to_string(limit);
        if (!cursor.empty()) target += "&cursor=" + cursor;
        const auto body = expect_json(get(port, blocker.token, target), 200, "blocks");
        EXPECT_LE(body["blocked_users"].size(), static_cast<std::size_t>(limit));
        for (const auto& entry : body["blocked_users"]) {
            EXPECT_EQ(entry.size(), 2u) << entry.dump();
            EXPECT_TRUE(entry["blocked_at"].is_string()) << entry.dump();
            ids.push_back(entry["user"]["id"]);
        }
        if (body["next_cursor"].is_null()) return ids;
        cursor = body["next_cursor"];
    }
    ADD_FAILURE() << "the pages never end";
    return ids;
}

TEST_F(UserBlocksTest, ABlockStopsDirectMessagesBothWaysWithReasonsAndAnUnblockRestoresThem) {
    const auto ann = register_user(port(), "ub");
    const auto bob = register_user(port(), "ub");
    const std::string chat = create_direct(port(), ann, bob)["id"];
    send_text(port(), bob, chat, "before");

    block(port(), ann, bob);
    EXPECT_TRUE(IsRefused(send_message(port(), bob, chat, text("hi")), "blocked"));
    EXPECT_TRUE(IsRefused(send_message(port(), ann, chat, text("hi")), "you_blocked"));
    EXPECT_TRUE(
        IsRefused(post(port(), bob.token, chats_url(), {{"type", "direct"}, {"member_ids", {ann.id}}}), "blocked"));
    EXPECT_TRUE(
        IsRefused(post(port(), ann.token, chats_url(), {{"type", "direct"}, {"member_ids", {bob.id}}}), "you_blocked"));
    EXPECT_TRUE(IsRefused(send_message(port(), bob, chat,
                                       {{"type", "poll"}, {"poll", {{"question", "q"}, {"options", {"a", "b"}}}}}),
                          "blocked"));

    // The WebSocket refuses the same, with the same reasons.
    auto bob_ws = ws_connect(port(), bob.token);
    auto ann_ws = ws_connect(port(), ann.token);
    EXPECT_EQ(refusal(ws_request(*bob_ws, "message.send", {{"chat_id", chat}, {"type", "text"}, {"content", "x"}})),
              "forbidden/blocked");
    EXPECT_EQ(refusal(ws_request(*ann_ws, "message.send", {{"chat_id", chat}, {"type", "text"}, {"content", "x"}})),
              "forbidden/you_blocked");
    EXPECT_EQ(refusal(ws_request(*bob_ws, "call.start", {{"chat_id", chat}, {"kind", "voice"}})), "forbidden/blocked");
    EXPECT_EQ(refusal(ws_request(*ann_ws, "call.start", {{"chat_id", chat}, {"kind", "voice"}})),
              "forbidden/you_blocked");

    // A forward into the chat is a send too.
    const auto carol = register_user(port(), "ub");
    const std::string group = create_group(port(), carol, {bob.id})["id"];
    const auto original = send_text(port(), carol, group, "pass it on");
    EXPECT_TRUE(
        IsRefused(post(port(), bob.token, message_url(original["id"]) + "/forward", {{"chat_id", chat}}), "blocked"));

    // What was said stays readable.
    EXPECT_EQ(all_messages(port(), bob, chat).size(), 1u);

    // When both block, each is told of their own block first.
    block(port(), bob, ann);
    EXPECT_TRUE(IsRefused(send_message(port(), bob, chat, text("hi")), "you_blocked"));
    unblock(port(), bob, ann);
    EXPECT_TRUE(IsRefused(send_message(port(), bob, chat, text("hi")), "blocked"));

    unblock(port(), ann, bob);
    EXPECT_EQ(send_message(port(), bob, chat, text("again")).status, 201);
    EXPECT_EQ(send_message(port(), ann, chat, text("welcome back")).status, 201);
    EXPECT_EQ(post(port(), bob.token, chats_url(), {{"type", "direct"}, {"member_ids", {ann.id}}}).status, 200);
}

TEST_F(UserBlocksTest, NoDirectChatIsCreatedWithSomeoneWhoBlocksYou) {
    const auto ann = register_user(port(), "ub");
    const auto bob = register_user(port(), "ub");
    block(port(), ann, bob);
    EXPECT_TRUE(
        IsRefused(post(port(), bob.token, chats_url(), {{"type", "direct"}, {"member_ids", {ann.id}}}), "blocked"));
    EXPECT_TRUE(list_chats(port(), bob).empty());
    unblock(port(), ann, bob);
    EXPECT_EQ(post(port(), bob.token, chats_url(), {{"type", "direct"}, {"member_ids", {ann.id}}}).status, 201);
}

TEST_F(UserBlocksTest, BlockingAndUnblockingAreIdempotentAndTellOnlyTheBlockersSessionsOfEachChange) {
    const auto ann = register_user(port(), "ub");
    const auto bob = register_user(port(), "ub");
    auto ann_phone = ws_connect(port(), ann.token);
    auto ann_laptop = ws_connect(port(), ann.token);
    auto bob_ws = ws_connect(port(), bob.token);

    block(port(), ann, bob);
    for (auto* ws : {ann_phone.get(), ann_laptop.get()}) {
        const auto told = wait_for(*ws, "user.blocked");
        ASSERT_TRUE(told.has_value());
        EXPECT_EQ((*told)["data"], json({{"user_id", bob.id}}));
    }
    block(port(), ann, bob);  // again: nothing changes, nothing is told
    EXPECT_EQ(blocked_ids(port(), ann, 50), std::vector<std::string>{bob.id});

    unblock(port(), ann, bob);
    const auto told = wait_for(*ann_laptop, "user.unblocked");
    ASSERT_TRUE(told.has_value());
    EXPECT_EQ((*told)["data"], json({{"user_id", bob.id}}));
    EXPECT_TRUE(NoFrameBefore(*ann_phone, frame_of("user.blocked"), frame_of("user.unblocked")))
        << "the repeated block told nothing";
    unblock(port(), ann, bob);  // again
    EXPECT_TRUE(blocked_ids(port(), ann, 50).empty());

    const auto marker = direct_message_marker(port(), ann, bob);
    EXPECT_TRUE(NoFrameBefore(
        *bob_ws,
        [](const json& f) {
            const auto type = f.value("type", "");
            return type == "user.blocked" || type == "user.unblocked";
        },
        marker))
        << "the blocked user is not told";
    const auto ann_marker = direct_message_marker(port(), bob, ann);
    EXPECT_TRUE(NoFrameBefore(*ann_laptop, frame_of("user.unblocked"), ann_marker))
        << "the repeated unblock told nothing";
}

TEST_F(UserBlocksTest, BlockingYourselfIsABadRequestAndAnUnknownUserIsNotFound) {
    const auto ann = register_user(port(), "ub");
    EXPECT_TRUE(IsError(put(port(), ann.token, block_url(ann.id)), 400, "bad_request"));
    EXPECT_TRUE(IsError(del(port(), ann.token, block_url(ann.id)), 400, "bad_request"));
    const std::string unknown = "00000000-0000-4000-8000-000000000000";
    EXPECT_TRUE(IsError(put(port(), ann.token, block_url(unknown)), 404, "not_found"));
    EXPECT_TRUE(IsError(del(port(), ann.token, block_url(unknown)), 404, "not_found"));
    EXPECT_TRUE(IsError(put(port(), ann.token, block_url("not-a-uuid")), 400, "bad_request"));
    EXPECT_TRUE(IsError(get(port(), ann.token, blocks_url + "?cursor=garbage"), 400, "bad_request"));
    EXPECT_TRUE(IsError(get(port(), ann.token, blocks_url + "?limit=0"), 400, "bad_request"));
    EXPECT_EQ(put(port(), "", block_url(ann.id)).status, 401);
    EXPECT_EQ(get(port(), "", blocks_url).status, 401);
}

TEST_F(UserBlocksTest, TheListPagesNewestFirstWithoutGapsOrRepeats) {
    const auto ann = register_user(port(), "ub");
    std::vector<std::string> expected;
    for (int i = 0; i < 5; ++i) {
        const auto other = register_user(port(), "ub");
        block(port(), ann, other);
        expected.insert(expected.begin(), other.id);
    }
    EXPECT_EQ(blocked_ids(port(), ann, 2), expected);
    EXPECT_EQ(blocked_ids(port(), ann, 5), expected);
    EXPECT_EQ(blocked_ids(port(), ann, 200), expected);
    const auto first = expect_json(get(port(), ann.token, blocks_url + "?limit=1"), 200, "blocks");
    EXPECT_EQ(first["blocked_users"][0]["user"]["id"], expected.front());
    EXPECT_TRUE(first["blocked_users"][0]["user"].contains("display_name"));
    EXPECT_TRUE(blocked_ids(port(), register_user(port(), "ub"), 50).empty()) << "lists are each user's own";
}

TEST_F(UserBlocksEffectsTest, NeitherSeesTheOthersTypingInASharedGroupWhichStillCarriesMessages) {
    const auto ann = register_user(port(), "ut");
    const auto bob = register_user(port(), "ut");
    const auto carol = register_user(port(), "ut");
    const std::string group = create_group(port(), ann, {bob.id, carol.id})["id"];
    block(port(), ann, bob);
    auto ann_ws = ws_connect(port(), ann.token);
    auto bob_ws = ws_connect(port(), bob.token);
    auto carol_ws = ws_connect(port(), carol.token);

    // Group messages flow both ways.
    const auto from_bob = send_text(port(), bob, group, "in the group");
    ASSERT_TRUE(wait_for(*ann_ws, "message.new", about_message(from_bob["id"])).has_value());
    const auto from_ann = send_text(port(), ann, group, "still here");
    ASSERT_TRUE(wait_for(*bob_ws, "message.new", about_message(from_ann["id"])).has_value());

    for (const auto& [typist_ws, typist, other_ws] :
         {std::tuple{bob_ws.get(), bob.id, ann_ws.get()}, std::tuple{ann_ws.get(), ann.id, bob_ws.get()}}) {
        ASSERT_TRUE(IsAck(ws_request(*typist_ws, "typing.start", {{"chat_id", group}})));
        ASSERT_TRUE(wait_for(*carol_ws, "typing.update", from_user(typist)).has_value()) << "others still see it";
        ASSERT_TRUE(IsAck(ws_request(*typist_ws, "typing.stop", {{"chat_id", group}})));
        const auto stopped = wait_for(*carol_ws, "typing.update", from_user(typist));
        ASSERT_TRUE(stopped.has_value());
        EXPECT_EQ((*stopped)["data"]["is_typing"], false);
        const auto marker = send_text(port(), carol, group, "marker");
        EXPECT_TRUE(NoFrameBefore(*other_ws, frame_of("typing.update", from_user(typist)),
                                  frame_of("message.new", about_message(marker["id"]))))
            << "typing of " << typist << " reached the other side of the block";
    }

    // Unblocked, typing shows again.
    unblock(port(), ann, bob);
    ASSERT_TRUE(IsAck(ws_request(*bob_ws, "typing.start", {{"chat_id", group}})));
    EXPECT_TRUE(wait_for(*ann_ws, "typing.update", from_user(bob.id)).has_value());
}

TEST_F(UserBlocksEffectsTest, NeitherSeesTheOthersPresenceWhichAnswersAsHidden) {
    const auto ann = register_user(port(), "up");
    const auto bob = register_user(port(), "up");
    const auto carol = register_user(port(), "up");
    const std::string group = create_group(port(), ann, {bob.id, carol.id})["id"];
    block(port(), bob, ann);  // the blocked side's presence is hidden too

    auto ann_ws = ws_connect(port(), ann.token);
    auto carol_ws = ws_connect(port(), carol.token);
    // bob comes online: carol hears of it, ann does not.
    auto bob_ws = ws_connect(port(), bob.token);
    ASSERT_TRUE(wait_for(*carol_ws, "presence.update", from_user(bob.id)).has_value());
    auto marker = send_text(port(), carol, group, "marker one");
    EXPECT_TRUE(NoFrameBefore(*ann_ws, frame_of("presence.update", from_user(bob.id)),
                              frame_of("message.new", about_message(marker["id"]))));

    // ann goes offline and online again: bob hears of neither.
    ann_ws.reset();
    ann_ws = ws_connect(port(), ann.token);
    ASSERT_TRUE(IsAck(ws_request(*ann_ws, "ping")));
    marker = send_text(port(), carol, group, "marker two");
    EXPECT_TRUE(NoFrameBefore(*bob_ws, frame_of("presence.update", from_user(ann.id)),
                              frame_of("message.new", about_message(marker["id"]))));

    // Asked directly, each is as a user hiding their presence.
    const auto bob_seen = expect_json(get(port(), ann.token, "/api/v1/users/" + bob.id), 200, "user");
    EXPECT_FALSE(bob_seen.contains("online")) << bob_seen.dump();
    EXPECT_FALSE(bob_seen.contains("last_seen_at")) << bob_seen.dump();
    const auto ann_seen = expect_json(get(port(), bob.token, "/api/v1/users/" + ann.id), 200, "user");
    EXPECT_FALSE(ann_seen.contains("online")) << ann_seen.dump();
    EXPECT_EQ(expect_json(get(port(), carol.token, "/api/v1/users/" + bob.id), 200, "user").value("online", json()),
              true)
        << "others still see it";

    unblock(port(), bob, ann);
    EXPECT_EQ(expect_json(get(port(), ann.token, "/api/v1/users/" + bob.id), 200, "user").value("online", json()),
              true);
}

// The member events of a group (member.added, member.updated) carry the member's presence to
// everyone else, but not to a member in a block with them.
TEST_F(UserBlocksEffectsTest, AMemberEventCarriesNoPresenceAcrossABlock) {
    const auto ann = register_user(port(), "um");
    const auto bob = register_user(port(), "um");
    const auto carol = register_user(port(), "um");
    const auto dave = register_user(port(), "um");
    const std::string group = create_group(port(), ann, {bob.id, carol.id})["id"];
    block(port(), dave, bob);
    auto bob_ws = ws_connect(port(), bob.token);
    auto carol_ws = ws_connect(port(), carol.token);
    auto dave_ws = ws_connect(port(), dave.token);
    ASSERT_TRUE(IsAck(ws_request(*dave_ws, "ping")));  // dave is online

    const auto about_dave = [&dave](const json& f) { return f["data"]["member"]["user"]["id"] == dave.id; };
    const auto expect_presence_only_to_carol = [&](const std::string& event) {
        const auto to_carol = wait_for(*carol_ws, event, about_dave);
        ASSERT_TRUE(to_carol.has_value()) << event;
        EXPECT_EQ((*to_carol)["data"]["member"]["user"].value("online", json()), true) << to_carol->dump();
        const auto to_bob = wait_for(*bob_ws, event, about_dave);
        ASSERT_TRUE(to_bob.has_value()) << event;
        EXPECT_FALSE((*to_bob)["data"]["member"]["user"].contains("online")) << to_bob->dump();
        EXPECT_FALSE((*to_bob)["data"]["member"]["user"].contains("last_seen_at")) << to_bob->dump();
        EXPECT_EQ((*to_bob)["data"]["member"]["user"]["id"], dave.id) << "the event itself still arrives";
    };

    add_members(port(), ann, group, {dave.id});
    expect_presence_only_to_carol("member.added");
    set_role(port(), ann, group, dave.id, "admin");
    expect_presence_only_to_carol("member.updated");

    // Listed, as in the events.
    const auto listed = list_members(port(), bob, group);
    const auto* seen = find_member(listed, dave.id);
    ASSERT_NE(seen, nullptr);
    EXPECT_FALSE((*seen)["user"].contains("online")) << seen->dump();
}

// The answers to an add and to a role change are the actor's reads of the member: no presence
// of one in a block with the actor, as in the member list.
TEST_F(UserBlocksEffectsTest, AnAddOrARoleChangeAnswersNoPresenceAcrossABlock) {
    const auto ann = register_user(port(), "ua");
    const auto eve = register_user(port(), "ua");
    const auto fay = register_user(port(), "ua");
    const std::string group = create_group(port(), ann, {})["id"];
    block(port(), eve, ann);
    std::vector<std::unique_ptr<WsClient>> online;
    for (const auto* user : {&eve, &fay}) {
        online.push_back(ws_connect(port(), user->token));
        ASSERT_TRUE(IsAck(ws_request(*online.back(), "ping")));
    }

    const auto added = add_members(port(), ann, group, {eve.id, fay.id});
    ASSERT_EQ(added.size(), 2U);
    for (const auto& member : added) {
        if (member["user"]["id"] == fay.id) EXPECT_EQ(member["user"].value("online", json()), true) << member.dump();
        else EXPECT_FALSE(member["user"].contains("online")) << member.dump();
    }
    const auto changed =
        expect_json(patch(port(), ann.token, member_url(group, eve.id), {{"role", "moderator"}}), 200, "role");
    EXPECT_EQ(changed["role"], "moderator");
    EXPECT_FALSE(changed["user"].contains("online")) << changed.dump();
    EXPECT_FALSE(changed["user"].contains("last_seen_at")) << changed.dump();
}

}  // namespace
}  // namespace confab::test
