// Channels (docs/api.md, Channels): admins post, subscribers read and react. A public
// channel has a unique handle, is found by search and joined by anyone not banned; a private
// one is joined by invite link only. Subscribers do not see each other: no member list, no
// member events, read receipts or typing of other subscribers, only a subscriber count.

#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/chat_api.hpp"
#include "support/media_fixtures.hpp"

namespace confab::test {
namespace {

using ChannelsTest = ChatTest;
using ChannelPrivacyTest = ChatTest;

const std::string channels_url = "/api/v1/channels";
std::string join_url(const std::string& handle) { return channel_url(handle) + "/join"; }

std::string lower(std::string text) {
    for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

// A handle no other test run has: a letter, then random letters and digits.
std::string fresh_handle(const std::string& prefix = "ch") { return prefix + random_alnum(12); }

::testing::AssertionResult IsChannelModel(const json& j) {
    const std::set<std::string> keys{"id",         "type",      "handle",           "title",
                                     "avatar_url", "is_public", "subscriber_count", "joined",
                                     "created_at"};
    std::set<std::string> got;
    for (auto it = j.begin(); it != j.end(); ++it) got.insert(it.key());
    if (got != keys) return ::testing::AssertionFailure() << "ChannelModel keys: " << j.dump();
    if (!is_uuid(j["id"]) || j["type"] != "channel" || !j["is_public"].is_boolean() || !j["joined"].is_boolean() ||
        !j["subscriber_count"].is_number_integer() || !is_timestamp(j["created_at"]))
        return ::testing::AssertionFailure() << "ChannelModel types: " << j.dump();
    return ::testing::AssertionSuccess();
}

std::int64_t subscribers(std::uint16_t port, const TestUser& member, const std::string& chat_id) {
    const auto chat = get_chat(port, member, chat_id);
    EXPECT_EQ(chat["member_count"], chat["subscriber_count"]);
    return chat["subscriber_count"].get<std::int64_t>();
}

struct Channel {
    TestUser owner;
    std::string handle;
    std::string chat_id;
};

Channel public_channel(std::uint16_t port) {
    Channel c{register_user(port, "cn"), fresh_handle(), ""};
    c.chat_id = create_channel(port, c.owner, {{"handle", c.handle}, {"is_public", true}})["id"].get<std::string>();
    return c;
}

TEST_F(ChannelsTest, PublicAndPrivateChannelsAreCreatedWithTheirCreatorAsOwner) {
    const auto owner = register_user(port(), "cn");
    const auto handle = fresh_handle("Pub");
    const auto created = create_channel(port(), owner, {{"handle", handle}, {"is_public", true}});
    EXPECT_TRUE(IsChatModel(created));
    EXPECT_EQ(created["type"], "channel");
    EXPECT_EQ(created["handle"], handle) << "stored as given";
    EXPECT_EQ(created["is_public"], true);
    EXPECT_EQ(created["subscriber_count"], 1);
    EXPECT_EQ(created["member_count"], 1);
    EXPECT_EQ(created["me"]["role"], "owner");
    EXPECT_TRUE(std::find(created["me"]["permissions"].begin(), created["me"]["permissions"].end(), "post") !=
                created["me"]["permissions"].end());

    const auto found = get(port(), register_user(port(), "cn").token, channel_url(handle));
    ASSERT_TRUE(IsJson(found, 200));
    EXPECT_TRUE(IsChannelModel(found.json()));
    EXPECT_EQ(found.json()["id"], created["id"]);
    EXPECT_EQ(found.json()["joined"], false);
    EXPECT_EQ(found.json()["subscriber_count"], 1);
    const auto any_case = get(port(), owner.token, channel_url(lower(handle)));
    ASSERT_TRUE(IsJson(any_case, 200));
    EXPECT_EQ(any_case.json()["joined"], true);

    const auto secret = create_channel(port(), owner, json::object());
    EXPECT_TRUE(IsChatModel(secret));
    EXPECT_TRUE(secret["handle"].is_null());
    EXPECT_EQ(secret["is_public"], false);
    const auto private_handle = fresh_handle();
    const auto named = create_channel(port(), owner, {{"handle", private_handle}});
    EXPECT_EQ(named["is_public"], false) << "is_public defaults to false";
    EXPECT_TRUE(IsError(get(port(), register_user(port(), "cn").token, channel_url(private_handle)), 404, "not_found"))
        << "a private channel is not told to outsiders";
    EXPECT_TRUE(IsJson(get(port(), owner.token, channel_url(private_handle)), 200)) << "its members find it";

    // Other chats carry the fields too, empty.
    const auto group = create_group(port(), owner);
    EXPECT_TRUE(IsChatModel(group));
    EXPECT_TRUE(group["handle"].is_null());
    EXPECT_EQ(group["is_public"], false);
    EXPECT_TRUE(group["subscriber_count"].is_null());
}

TEST_F(ChannelsTest, HandlesFollowTheirPatternAndAreUniqueWhateverTheirCase) {
    const auto owner = register_user(port(), "cn");
    for (const std::string bad : {"abcd", "1abcde", "_abcde", "abc-de", "abc de", "abcdefghijklmnopqrstuvwxyz0123456"})
        EXPECT_TRUE(IsBadField(create_channel_raw(port(), owner, {{"handle", bad}}), "handle")) << bad;
    EXPECT_TRUE(IsBadField(create_channel_raw(port(), owner, {{"handle", 5}}), "handle"));
    EXPECT_TRUE(IsBadField(create_channel_raw(port(), owner, {{"is_public", true}}), "handle"))
        << "a public channel needs a handle";
    EXPECT_TRUE(IsBadField(create_channel_raw(port(), owner, {{"is_public", "yes"}}), "is_public"));
    EXPECT_TRUE(IsBadField(create_channel_raw(port(), owner, {{"title", ""}}), "title"));
    EXPECT_TRUE(IsBadField(create_channel_raw(port(), owner, {{"member_ids", {owner.id}}}), "member_ids"));
    EXPECT_TRUE(IsBadField(create_channel_raw(port(), owner, {{"settings", json::object()}}), "settings"));
    EXPECT_TRUE(IsBadField(post(port(), owner.token, chats_url(), {{"type", "radio"}, {"title", "x"}}), "type"));

    const auto handle = fresh_handle("taken");
    const auto first = create_channel(port(), owner, {{"handle", handle}, {"is_public", true}});
    EXPECT_TRUE(HasReason(create_channel_raw(port(), owner, {{"handle", upper_cased(handle)}}), 409, "conflict",
                          "handle_taken"));

    // Admins change the handle and publicity with PUT /chats/{id}, as settings.
    const auto second = create_channel(port(), owner, json::object());
    const auto second_url = chat_url(second["id"]);
    EXPECT_TRUE(HasReason(put(port(), owner.token, second_url, {{"handle", upper_cased(handle)}}), 409, "conflict",
                          "handle_taken"));
    EXPECT_TRUE(IsBadField(put(port(), owner.token, second_url, {{"is_public", true}}), "handle"));
    EXPECT_TRUE(IsBadField(put(port(), owner.token, second_url, {{"handle", "no"}}), "handle"));
    EXPECT_TRUE(
        IsBadField(put(port(), owner.token, second_url, {{"settings", {{"slow_mode_seconds", 10}}}}), "settings"))
        << "a channel has no settings, later as when it is created";
    const auto renamed_handle = fresh_handle("moved");
    const auto renamed =
        put(port(), owner.token, second_url, {{"handle", renamed_handle}, {"is_public", true}, {"title", "Moved"}});
    ASSERT_TRUE(IsJson(renamed, 200));
    EXPECT_TRUE(IsChatModel(renamed.json()));
    EXPECT_EQ(renamed.json()["handle"], renamed_handle);
    EXPECT_EQ(renamed.json()["is_public"], true);
    EXPECT_TRUE(IsJson(put(port(), owner.token, second_url, {{"handle", renamed_handle}}), 200)) << "its own handle";
    EXPECT_TRUE(IsBadField(put(port(), owner.token, second_url, {{"handle", nullptr}}), "handle"))
        << "a public channel keeps a handle";
    const auto private_again = put(port(), owner.token, second_url, {{"handle", nullptr}, {"is_public", false}});
    ASSERT_TRUE(IsJson(private_again, 200));
    EXPECT_TRUE(private_again.json()["handle"].is_null());

    const auto subscriber = register_user(port(), "cn");
    join_channel(port(), subscriber, handle);
    EXPECT_TRUE(
        IsError(put(port(), subscriber.token, chat_url(first["id"]), {{"handle", fresh_handle()}}), 403, "forbidden"));
    EXPECT_TRUE(IsError(put(port(), subscriber.token, chat_url(first["id"]), {{"title", "Mine"}}), 403, "forbidden"));

    const auto group = create_group(port(), owner);
    EXPECT_TRUE(IsBadField(put(port(), owner.token, chat_url(group["id"]), {{"handle", fresh_handle()}}), "handle"));
    EXPECT_TRUE(IsBadField(put(port(), owner.token, chat_url(group["id"]), {{"is_public", true}}), "is_public"));
}

TEST_F(ChannelsTest, SearchFindsPublicChannelsByHandleOrTitlePrefixInPages) {
    const auto owner = register_user(port(), "cn");
    const auto prefix = "srch" + random_alnum(8);
    for (const auto* suffix : {"c", "a", "b"})
        create_channel(port(), owner, {{"handle", prefix + suffix}, {"is_public", true}});
    create_channel(port(), owner, {{"handle", prefix + "private"}});
    const auto title_only = fresh_handle("zz");
    create_channel(port(), owner, {{"handle", title_only}, {"is_public", true}, {"title", prefix + " Weekly"}});

    const auto searcher = register_user(port(), "cn");
    const auto first = get(port(), searcher.token, channels_url + "?q=" + prefix + "&limit=2");
    ASSERT_TRUE(IsJson(first, 200));
    ASSERT_EQ(first.json()["channels"].size(), 2u);
    EXPECT_TRUE(IsChannelModel(first.json()["channels"][0]));
    EXPECT_EQ(first.json()["channels"][0]["handle"], prefix + "a");
    EXPECT_EQ(first.json()["channels"][1]["handle"], prefix + "b");
    ASSERT_TRUE(first.json()["next_cursor"].is_string());
    const auto second = get(port(), searcher.token,
                            channels_url + "?q=" + prefix +
                                "&limit=2&cursor=" + url_encode(first.json()["next_cursor"].get<std::string>()));
    ASSERT_TRUE(IsJson(second, 200));
    ASSERT_EQ(second.json()["channels"].size(), 2u);
    EXPECT_EQ(second.json()["channels"][0]["handle"], prefix + "c");
    EXPECT_EQ(second.json()["channels"][1]["handle"], title_only) << "found by its title, in handle order";
    EXPECT_TRUE(second.json()["next_cursor"].is_null());

    const auto any_case = get(port(), searcher.token, channels_url + "?q=" + upper_cased(prefix) + "A");
    ASSERT_TRUE(IsJson(any_case, 200));
    ASSERT_EQ(any_case.json()["channels"].size(), 1u);
    EXPECT_EQ(any_case.json()["channels"][0]["handle"], prefix + "a");

    EXPECT_TRUE(IsBadField(get(port(), searcher.token, channels_url + "?cursor=nonsense"), "cursor"));
    EXPECT_TRUE(IsBadField(get(port(), searcher.token, channels_url + "?q=" + std::string(300, 'a')), "q"));
    std::string accented;
    for (int i = 0; i < 256; ++i) accented += "%C3%A9";  // 256 characters, 512 bytes
    EXPECT_EQ(get(port(), searcher.token, channels_url + "?q=" + accented).status, 200);
    EXPECT_TRUE(IsBadField(get(port(), searcher.token, channels_url + "?q=" + accented + "a"), "q"));
    EXPECT_TRUE(IsBadField(get(port(), searcher.token, channels_url + "?q=%FF"), "q"));
    EXPECT_TRUE(IsError(get(port(), "", channels_url), 401, "unauthorized"));
    EXPECT_TRUE(IsError(get(port(), searcher.token, channel_url("no")), 404, "not_found"));
    EXPECT_TRUE(IsError(post(port(), searcher.token, join_url(fresh_handle())), 404, "not_found"));
}

TEST_F(ChannelsTest, AnyoneJoinsAPublicChannelAndTheCountFollowsJoinsAndLeaves) {
    auto c = public_channel(port());
    const auto ann = register_user(port(), "cn");
    const auto bob = register_user(port(), "cn");
    const auto joined = join_channel(port(), ann, c.handle);
    EXPECT_TRUE(IsChatModel(joined));
    EXPECT_EQ(joined["id"], c.chat_id);
    EXPECT_EQ(joined["me"]["role"], "member");
    EXPECT_EQ(joined["me"]["permissions"], json::array({"react"}));
    EXPECT_EQ(joined["subscriber_count"], 2);
    EXPECT_EQ(join_channel(port(), ann, c.handle)["subscriber_count"], 2) << "joining again changes nothing";
    join_channel(port(), bob, c.handle);
    EXPECT_EQ(subscribers(port(), c.owner, c.chat_id), 3);
    EXPECT_EQ(subscribers(port(), ann, c.chat_id), 3);
    const auto found = get(port(), ann.token, channel_url(c.handle));
    ASSERT_TRUE(IsJson(found, 200));
    EXPECT_EQ(found.json()["subscriber_count"], 3);
    EXPECT_EQ(found.json()["joined"], true);

    ASSERT_EQ(del(port(), ann.token, member_url(c.chat_id, ann.id)).status, 204) << "a subscriber leaves";
    EXPECT_EQ(subscribers(port(), c.owner, c.chat_id), 2);
    ASSERT_EQ(del(port(), c.owner.token, member_url(c.chat_id, bob.id)).status, 204) << "an admin removes";
    EXPECT_EQ(subscribers(port(), c.owner, c.chat_id), 1);
    EXPECT_TRUE(system_messages(port(), c.owner, c.chat_id).empty()) << "no one is told of joins and leaves";

    // The owner deletes the channel; a subscriber may not.
    join_channel(port(), bob, c.handle);
    EXPECT_TRUE(IsError(del(port(), bob.token, chat_url(c.chat_id)), 403, "forbidden"));
    ASSERT_EQ(del(port(), c.owner.token, chat_url(c.chat_id)).status, 204);
    EXPECT_TRUE(IsError(get(port(), bob.token, chat_url(c.chat_id)), 404, "not_found"));
    EXPECT_TRUE(IsError(get(port(), bob.token, channel_url(c.handle)), 404, "not_found"));
}

TEST_F(ChannelsTest, APrivateChannelIsJoinedByInviteLinkOnly) {
    const auto owner = register_user(port(), "cn");
    const auto handle = fresh_handle();
    const auto chat_id = create_channel(port(), owner, {{"handle", handle}})["id"].get<std::string>();
    const auto ann = register_user(port(), "cn");
    EXPECT_TRUE(IsError(post(port(), ann.token, join_url(handle)), 404, "not_found"));
    const auto link =
        expect_json(post(port(), owner.token, chat_url(chat_id) + "/invite-links", json::object()), 201, "link");
    const auto joined = post(port(), ann.token, "/api/v1/invite-links/" + link["code"].get<std::string>() + "/join");
    ASSERT_TRUE(IsJson(joined, 200));
    EXPECT_EQ(joined.json()["id"], chat_id);
    EXPECT_EQ(joined.json()["me"]["role"], "member");
    EXPECT_EQ(subscribers(port(), owner, chat_id), 2);
    EXPECT_TRUE(system_messages(port(), owner, chat_id).empty()) << "a link join is told to no one";
    EXPECT_TRUE(
        IsError(post(port(), ann.token, chat_url(chat_id) + "/invite-links", json::object()), 403, "forbidden"));
}

TEST_F(ChannelsTest, ABannedUserCannotJoinAgain) {
    auto c = public_channel(port());
    const auto ann = register_user(port(), "cn");
    join_channel(port(), ann, c.handle);
    ASSERT_TRUE(IsJson(post(port(), c.owner.token, chat_url(c.chat_id) + "/bans", {{"user_id", ann.id}}), 201));
    EXPECT_EQ(subscribers(port(), c.owner, c.chat_id), 1);
    EXPECT_TRUE(HasReason(post(port(), ann.token, join_url(c.handle)), 403, "forbidden", "banned"));
    const auto never = register_user(port(), "cn");
    ASSERT_TRUE(IsJson(post(port(), c.owner.token, chat_url(c.chat_id) + "/bans", {{"user_id", never.id}}), 201));
    EXPECT_TRUE(HasReason(post(port(), never.token, join_url(c.handle)), 403, "forbidden", "banned"));
    EXPECT_EQ(subscribers(port(), c.owner, c.chat_id), 1);
    EXPECT_TRUE(system_messages(port(), c.owner, c.chat_id).empty()) << "a ban is told to no subscriber";
}

TEST_F(ChannelsTest, AdminsPostEverySubscriberReceivesItAndSubscribersOnlyReact) {
    auto c = public_channel(port());
    const auto admin = register_user(port(), "cn");
    const auto ann = register_user(port(), "cn");
    const auto bob = register_user(port(), "cn");
    join_channel(port(), admin, c.handle);
    set_role(port(), c.owner, c.chat_id, admin.id, "admin");
    join_channel(port(), ann, c.handle);
    join_channel(port(), bob, c.handle);
    auto ann_ws = ws_connect(port(), ann.token);
    auto bob_ws = ws_connect(port(), bob.token);

    EXPECT_TRUE(
        IsError(send_message(port(), ann, c.chat_id, {{"type", "text"}, {"content", "me too"}}), 403, "forbidden"));
    const auto refused =
        ws_request(*ann_ws, "message.send", {{"chat_id", c.chat_id}, {"type", "text"}, {"content", "over the socket"}});
    EXPECT_EQ(refusal(refused), "forbidden") << "the WebSocket refuses what REST does";

    const auto post_of = send_text(port(), admin, c.chat_id, "first issue");
    for (auto* ws : {ann_ws.get(), bob_ws.get()}) {
        const auto got = wait_for(*ws, "message.new", about_message(post_of["id"]));
        ASSERT_TRUE(got.has_value());
        EXPECT_EQ((*got)["data"]["message"]["content"], "first issue");
    }
    EXPECT_EQ(put(port(), ann.token, reaction_url(post_of["id"], "👍")).status, 204);
    const auto reacted = wait_for(*bob_ws, "message.updated", about_message(post_of["id"]));
    ASSERT_TRUE(reacted.has_value());
    EXPECT_EQ((*reacted)["data"]["message"]["reactions"][0]["count"], 1);
    EXPECT_TRUE(IsError(put(port(), ann.token, message_url(post_of["id"]), {{"content", "edited"}}), 403, "forbidden"));
    EXPECT_TRUE(IsError(del(port(), ann.token, message_url(post_of["id"])), 403, "forbidden"));
}

TEST_F(ChannelPrivacyTest, SubscribersSeeNeitherEachOtherNorTheMemberList) {
    auto c = public_channel(port());
    const auto ann = register_user(port(), "cn");
    const auto bob = register_user(port(), "cn");
    join_channel(port(), ann, c.handle);
    auto ann_ws = ws_connect(port(), ann.token);
    auto owner_ws = ws_connect(port(), c.owner.token);

    // Bob joins: the owner hears of it, Ann does not.
    join_channel(port(), bob, c.handle);
    const auto added = wait_for(*owner_ws, "member.added", about_chat(c.chat_id));
    ASSERT_TRUE(added.has_value());
    EXPECT_EQ((*added)["data"]["member"]["user"]["id"], bob.id);
    auto bob_ws = ws_connect(port(), bob.token);

    // Bob reads, types and leaves nothing behind for Ann.
    const auto first = send_text(port(), c.owner, c.chat_id, "one");
    ASSERT_TRUE(wait_for(*ann_ws, "message.new", about_message(first["id"])).has_value());
    ASSERT_TRUE(wait_for(*bob_ws, "message.new", about_message(first["id"])).has_value());
    ASSERT_EQ(post(port(), bob.token, read_url(c.chat_id), {{"seq", first["seq"]}}).status, 204);
    const auto bob_read = wait_for(*bob_ws, "read.updated", about_chat(c.chat_id));
    ASSERT_TRUE(bob_read.has_value()) << "the reader's own devices follow their position";
    EXPECT_TRUE(IsAck(ws_request(*bob_ws, "typing.start", {{"chat_id", c.chat_id}})));
    ASSERT_EQ(del(port(), bob.token, member_url(c.chat_id, bob.id)).status, 204);
    const auto marker = send_text(port(), c.owner, c.chat_id, "marker");
    EXPECT_TRUE(NoFrameBefore(
        *ann_ws,
        [](const json& f) {
            const auto type = f.value("type", "");
            return type == "member.added" || type == "member.removed" || type == "read.updated" ||
                   type == "typing.update" || (type == "message.new" && f["data"]["message"]["type"] == "system");
        },
        frame_of("message.new", about_message(marker["id"]))))
        << "a subscriber heard of another subscriber";
    EXPECT_TRUE(wait_for(*owner_ws, "member.removed", about_chat(c.chat_id)).has_value());

    // The member list is the staff's.
    EXPECT_TRUE(HasReason(get(port(), ann.token, members_url(c.chat_id)), 403, "forbidden", "subscribers_hidden"));
    const auto listed = list_members(port(), c.owner, c.chat_id);
    EXPECT_EQ(member_user_ids(listed), (std::vector<std::string>{c.owner.id, ann.id}));
    const auto moderator = register_user(port(), "cn");
    join_channel(port(), moderator, c.handle);
    set_role(port(), c.owner, c.chat_id, moderator.id, "moderator");
    EXPECT_TRUE(IsJson(get(port(), moderator.token, members_url(c.chat_id)), 200));
    EXPECT_TRUE(IsError(get(port(), register_user(port(), "cn").token, members_url(c.chat_id)), 404, "not_found"));
}

// Acting on a member answers a subscriber 403 whether or not the user is a member: the
// answer must not tell who subscribes.
TEST_F(ChannelPrivacyTest, ASubscriberCannotProbeWhoElseSubscribes) {
    auto c = public_channel(port());
    const auto ann = register_user(port(), "cn");
    const auto bob = register_user(port(), "cn");
    const auto outsider = register_user(port(), "cn");
    join_channel(port(), ann, c.handle);
    join_channel(port(), bob, c.handle);
    for (const auto* user : {&bob, &outsider}) {
        const auto url = member_url(c.chat_id, user->id);
        EXPECT_TRUE(IsError(patch(port(), ann.token, url, {{"is_muted", true}}), 403, "forbidden")) << user->id;
        EXPECT_TRUE(IsError(patch(port(), ann.token, url, {{"role", "member"}}), 403, "forbidden")) << user->id;
        EXPECT_TRUE(IsError(del(port(), ann.token, url), 403, "forbidden")) << user->id;
    }
    EXPECT_TRUE(IsError(del(port(), c.owner.token, member_url(c.chat_id, outsider.id)), 404, "not_found"))
        << "the staff, who list the members, are told";
}

TEST_F(ChannelPrivacyTest, NeitherReactionsNorVotesNameOneSubscriberToAnother) {
    auto c = public_channel(port());
    const auto ann = register_user(port(), "cn");
    const auto bob = register_user(port(), "cn");
    join_channel(port(), ann, c.handle);
    join_channel(port(), bob, c.handle);
    auto bob_ws = ws_connect(port(), bob.token);
    const auto text = send_text(port(), c.owner, c.chat_id, "news");
    const auto poll = expect_json(send_message(port(), c.owner, c.chat_id,
                                               {{"type", "poll"},
                                                {"poll", {{"question", "Lunch?"}, {"options", {"pizza", "sushi"}}}}}),
                                  201, "send poll");
    ASSERT_EQ(poll["poll"]["anonymous"], false);

    ASSERT_EQ(put(port(), ann.token, reaction_url(text["id"], "👍")).status, 204);
    const auto reacted = wait_for(*bob_ws, "message.updated", about_message(text["id"]));
    ASSERT_TRUE(reacted.has_value());
    EXPECT_EQ((*reacted)["data"]["message"]["reactions"],
              (json{{{"emoji", "👍"}, {"count", 1}, {"user_ids", json::array()}}}))
        << "the event names nobody";
    const auto reactors = [&](const TestUser& reader) {
        return get_message(port(), reader, text["id"])["reactions"][0]["user_ids"];
    };
    EXPECT_EQ(reactors(ann), json{ann.id}) << "the reader's own reaction is named to them";
    EXPECT_EQ(reactors(bob), json::array());
    EXPECT_EQ(reactors(c.owner), json::array()) << "the staff too see counts only";

    const auto voted = put(port(), ann.token, message_url(poll["id"]) + "/votes", {{"options", {0}}});
    ASSERT_TRUE(IsJson(voted, 200));
    EXPECT_EQ(voted.json()["poll"]["my_votes"], json{0});
    const auto tallied =
        wait_for(*bob_ws, "poll.updated", [&](const json& f) { return f["data"]["message_id"] == poll["id"]; });
    ASSERT_TRUE(tallied.has_value());
    EXPECT_EQ((*tallied)["data"]["poll"]["options"][0]["voter_count"], 1);
    EXPECT_EQ((*tallied)["data"]["poll"]["options"][0]["voter_ids"], json::array());
    const auto voters = [&](const TestUser& reader) {
        return get_message(port(), reader, poll["id"])["poll"]["options"][0]["voter_ids"];
    };
    EXPECT_EQ(voters(ann), json{ann.id});
    EXPECT_EQ(voters(bob), json::array());
    EXPECT_EQ(voters(c.owner), json::array());
}

// What a staff member changes reaches the subscribers read by nobody: its event names no
// reactor, the staff member's own reaction included.
TEST_F(ChannelPrivacyTest, AStaffMembersChangeNamesNoReactorInItsEvent) {
    auto c = public_channel(port());
    const auto ann = register_user(port(), "cn");
    join_channel(port(), ann, c.handle);
    auto ann_ws = ws_connect(port(), ann.token);
    const auto media =
        expect_json(http(port(), "POST", "/api/v1/messages/upload?chat_id=" + c.chat_id + "&kind=file", media::text(16),
                         {{"Authorization", "Bearer " + c.owner.token}, {"Content-Type", "application/octet-stream"}}),
                    201, "upload");
    const auto file =
        expect_json(send_message(port(), c.owner, c.chat_id, {{"type", "file"}, {"media_id", media["id"]}}), 201,
                    "send file");
    ASSERT_EQ(put(port(), c.owner.token, reaction_url(file["id"], "👍")).status, 204);
    ASSERT_TRUE(wait_for(*ann_ws, "message.updated", about_message(file["id"])).has_value());
    const json named_nobody{{{"emoji", "👍"}, {"count", 1}, {"user_ids", json::array()}}};

    ASSERT_TRUE(IsJson(patch(port(), c.owner.token, chat_url(c.chat_id), {{"metadata", {{"topic", "news"}}}}), 200));
    const auto changed = wait_for(*ann_ws, "chat.updated", about_chat(c.chat_id));
    ASSERT_TRUE(changed.has_value());
    EXPECT_EQ((*changed)["data"]["chat"]["last_message"]["id"], file["id"]);
    EXPECT_EQ((*changed)["data"]["chat"]["last_message"]["reactions"], named_nobody) << changed->dump();

    ASSERT_EQ(del(port(), c.owner.token, message_url(file["id"]) + "/media").status, 204);
    const auto stripped = wait_for(*ann_ws, "message.updated", about_message(file["id"]));
    ASSERT_TRUE(stripped.has_value());
    EXPECT_TRUE((*stripped)["data"]["message"]["media"].is_null());
    EXPECT_EQ((*stripped)["data"]["message"]["reactions"], named_nobody) << stripped->dump();
}

// Sharing a channel makes no contacts: its staff see a subscriber's presence under `contacts`
// only where they share a small chat.
TEST_F(ChannelPrivacyTest, TheStaffSeeNoSubscribersPresenceThroughTheChannel) {
    auto c = public_channel(port());
    const auto ann = register_user(port(), "cn");
    join_channel(port(), ann, c.handle);
    auto ann_ws = ws_connect(port(), ann.token);
    ASSERT_TRUE(IsAck(ws_request(*ann_ws, "ping")));
    const auto presence = [&] {
        const auto listed = list_members(port(), c.owner, c.chat_id);
        const auto* member = find_member(listed, ann.id);
        return member ? (*member)["user"].value("online", json()) : json("not listed");
    };
    EXPECT_EQ(presence(), json());
    create_group(port(), c.owner, {ann.id});
    EXPECT_EQ(presence(), true) << "a small group in common makes them contacts";
}

}  // namespace
}  // namespace confab::test
