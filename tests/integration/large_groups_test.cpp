// Large groups (docs/api.md, Large groups): the owner makes a group large, which raises its cap
// from limits.group_members to limits.large_group_members; members are added up to 1,000 per
// request and searched by name prefix; joins, reads and typing are told to the staff and the
// member concerned instead of to every member. The suite's server caps ordinary groups at 3
// and large ones at 6, so that "large" is exercised with a handful of users.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/chat_api.hpp"
#include "support/fixture.hpp"

namespace confab::test {
namespace {

std::map<std::string, std::string> small_group_limits() {
    return {{"CONFAB_LIMIT_GROUP_MEMBERS", "3"}, {"CONFAB_LIMIT_LARGE_GROUP_MEMBERS", "6"}};
}

using LargeGroupsTest = OwnServerSuite<small_group_limits>;

std::vector<std::string> ids(const std::vector<TestUser>& users) {
    std::vector<std::string> out;
    for (const auto& user : users) out.push_back(user.id);
    return out;
}

std::vector<TestUser> users(std::uint16_t port, std::size_t n, const std::string& prefix = "lg") {
    std::vector<TestUser> out;
    for (std::size_t i = 0; i < n; ++i) out.push_back(register_user(port, prefix));
    return out;
}

// The owner's group of the owner and `members`, made large.
std::string large_group(std::uint16_t port, const TestUser& owner, const std::vector<TestUser>& members) {
    const std::string chat_id = create_group(port, owner, ids(members))["id"];
    const auto made = patch(port, owner.token, chat_url(chat_id), {{"large", true}});
    if (made.status != 200) throw std::runtime_error("make large: " + made.describe());
    return chat_id;
}

FramePred about_user(const std::string& chat_id, const std::string& user_id) {
    return and_(about_chat(chat_id), [user_id](const json& f) {
        const auto& data = f["data"];
        if (data.contains("member")) return data["member"]["user"]["id"] == user_id;
        return data.value("user_id", "") == user_id;
    });
}

TEST_F(LargeGroupsTest, TheOwnerMakesAGroupLargeAndItsCapRises) {
    const auto owner = register_user(port(), "lg");
    const auto members = users(port(), 2);
    const std::string chat_id = create_group(port(), owner, ids(members))["id"];
    EXPECT_EQ(get_chat(port(), owner, chat_id)["large"], false);
    const auto newcomers = users(port(), 4);
    EXPECT_TRUE(
        IsError(post(port(), owner.token, members_url(chat_id), {{"user_ids", {newcomers[0].id}}}), 409, "conflict"))
        << "an ordinary group keeps limits.group_members (3)";

    auto member_ws = ws_connect(port(), members[0].token);
    const auto made = patch(port(), owner.token, chat_url(chat_id), {{"large", true}});
    ASSERT_TRUE(IsJson(made, 200));
    EXPECT_TRUE(IsChatModel(made.json()));
    EXPECT_EQ(made.json()["large"], true);
    EXPECT_EQ(made.json()["member_count"], 3);
    const auto told = wait_for(*member_ws, "chat.updated", about_chat(chat_id));
    ASSERT_TRUE(told.has_value()) << "members hear of it as of any settings change";
    EXPECT_EQ((*told)["data"]["chat"]["large"], true);
    EXPECT_EQ((*told)["data"]["chat"]["me"]["role"], "member");
    const auto notes = system_messages(port(), owner, chat_id);
    ASSERT_FALSE(notes.empty());
    EXPECT_EQ(notes.back()["metadata"]["event"], "chat.made_large");

    // Asking again changes nothing; the cap is now limits.large_group_members (6).
    EXPECT_TRUE(IsJson(patch(port(), owner.token, chat_url(chat_id), {{"large", true}}), 200));
    EXPECT_TRUE(IsJson(put(port(), owner.token, chat_url(chat_id), {{"large", true}}), 200)) << "PUT takes it too";
    EXPECT_EQ(add_members(port(), owner, chat_id, ids({newcomers[0], newcomers[1], newcomers[2]})).size(), 3u);
    EXPECT_EQ(get_chat(port(), owner, chat_id)["member_count"], 6);
    const auto full = post(port(), owner.token, members_url(chat_id), {{"user_ids", {newcomers[3].id}}});
    EXPECT_TRUE(IsError(full, 409, "conflict"));
    EXPECT_EQ(full.json()["error"]["details"].value("field", ""), "user_ids");

    // Leaving moves the count kept for a large group.
    ASSERT_EQ(del(port(), members[1].token, member_url(chat_id, members[1].id)).status, 204);
    EXPECT_EQ(get_chat(port(), owner, chat_id)["member_count"], 5);
    EXPECT_EQ(list_members(port(), owner, chat_id).size(), 5u);
    const auto link =
        expect_json(post(port(), owner.token, chat_url(chat_id) + "/invite-links", json::object()), 201, "invite link");
    const auto preview = get(port(), newcomers[3].token, "/api/v1/invite-links/" + link["code"].get<std::string>());
    ASSERT_TRUE(IsJson(preview, 200));
    EXPECT_EQ(preview.json()["member_count"], 5) << "a preview tells the count kept too";
    EXPECT_EQ(add_members(port(), owner, chat_id, {newcomers[3].id}).size(), 1u);
    EXPECT_EQ(get_chat(port(), newcomers[3], chat_id)["member_count"], 6);
}

// An @all in a large group is a stored mention and a mention.new per member: the admins' and
// the owner's only, though the group never set only_admins_can_mention_all.
TEST_F(LargeGroupsTest, OnlyAdminsAndTheOwnerMentionEveryone) {
    const auto owner = register_user(port(), "lg");
    const auto members = users(port(), 2);
    const auto chat_id = large_group(port(), owner, members);
    set_role(port(), owner, chat_id, members[1].id, "admin");
    const json everyone = {{"type", "text"},
                           {"content", "@all hi"},
                           {"entities", {{{"type", "mention_all"}, {"offset", 0}, {"length", 4}}}}};
    EXPECT_TRUE(IsError(send_message(port(), members[0], chat_id, everyone), 403, "forbidden"));
    EXPECT_EQ(get_chat(port(), members[0], chat_id)["me"]["permissions"].dump().find("mention_all"), std::string::npos);
    EXPECT_TRUE(IsJson(send_message(port(), members[1], chat_id, everyone), 201)) << "an admin's";
    EXPECT_TRUE(IsJson(send_message(port(), owner, chat_id, everyone), 201)) << "the owner's";
    EXPECT_FALSE(get_chat(port(), owner, chat_id)["settings"]["only_admins_can_mention_all"].get<bool>());
}

TEST_F(LargeGroupsTest, OnlyTheOwnerMakesOnlyAGroupLargeAndOnlyOneWay) {
    const auto owner = register_user(port(), "lg");
    const auto admin = register_user(port(), "lg");
    const auto member = register_user(port(), "lg");
    const std::string chat_id = create_group(port(), owner, {admin.id, member.id})["id"];
    set_role(port(), owner, chat_id, admin.id, "admin");
    const auto before = chat_snapshot(port(), owner, chat_id);
    EXPECT_TRUE(IsError(patch(port(), admin.token, chat_url(chat_id), {{"large", true}}), 403, "forbidden"));
    EXPECT_TRUE(IsError(patch(port(), member.token, chat_url(chat_id), {{"large", true}}), 403, "forbidden"));
    EXPECT_TRUE(IsBadField(patch(port(), owner.token, chat_url(chat_id), {{"large", "yes"}}), "large"));
    EXPECT_TRUE(IsError(patch(port(), register_user(port(), "lg").token, chat_url(chat_id), {{"large", true}}), 404,
                        "not_found"));
    EXPECT_EQ(chat_snapshot(port(), owner, chat_id), before) << "a refusal changes nothing";
    const auto stays = patch(port(), owner.token, chat_url(chat_id), {{"large", false}});
    ASSERT_TRUE(IsJson(stays, 200));
    EXPECT_EQ(stays.json()["large"], false) << "false on an ordinary group changes nothing";
    const auto echoed = patch(port(), admin.token, chat_url(chat_id), {{"title", "Echoed"}, {"large", false}});
    ASSERT_TRUE(IsJson(echoed, 200)) << "an admin sending the chat's large back as it is";
    EXPECT_EQ(echoed.json()["title"], "Echoed");

    const auto member_echo = patch(port(), member.token, chat_url(chat_id), {{"large", false}});
    ASSERT_TRUE(IsJson(member_echo, 200)) << "a member sending large back as it is asks nothing: " << member_echo.body;
    EXPECT_TRUE(IsError(patch(port(), member.token, chat_url(chat_id), {{"title", "Mine"}, {"large", false}}), 403,
                        "forbidden"))
        << "with an edit, the right to edit is needed";

    ASSERT_TRUE(IsJson(patch(port(), owner.token, chat_url(chat_id), {{"large", true}}), 200));
    EXPECT_TRUE(IsBadField(patch(port(), owner.token, chat_url(chat_id), {{"large", false}}), "large"))
        << "a large group stays large";
    EXPECT_TRUE(IsJson(put(port(), member.token, chat_url(chat_id), {{"large", true}}), 200)) << "nor on a large group";
    EXPECT_EQ(get_chat(port(), owner, chat_id)["large"], true);

    const auto direct = create_direct(port(), owner, member);
    EXPECT_TRUE(IsBadField(patch(port(), owner.token, chat_url(direct["id"]), {{"large", true}}), "large"));
    const auto channel = create_channel(port(), owner, json::object());
    EXPECT_TRUE(IsBadField(patch(port(), owner.token, chat_url(channel["id"]), {{"large", true}}), "large"));
    EXPECT_EQ(channel["large"], false);
}

TEST_F(LargeGroupsTest, OneAddTakesAtMostAThousandUsers) {
    const auto owner = register_user(port(), "lg");
    const std::string chat_id = large_group(port(), owner, {});
    std::vector<std::string> too_many;
    for (int i = 0; i < 1001; ++i) too_many.push_back(random_uuid());
    EXPECT_TRUE(IsBadField(post(port(), owner.token, members_url(chat_id), {{"user_ids", too_many}}), "user_ids"));
    too_many.pop_back();
    EXPECT_TRUE(IsError(post(port(), owner.token, members_url(chat_id), {{"user_ids", too_many}}), 404, "not_found"))
        << "1,000 are taken (these users do not exist)";
    EXPECT_EQ(get_chat(port(), owner, chat_id)["member_count"], 1);
}

TEST_F(LargeGroupsTest, AnAddIsToldToTheAddedAndTheStaffNotToEveryMember) {
    const auto owner = register_user(port(), "lg");
    const auto moderator = register_user(port(), "lg");
    const auto member = register_user(port(), "lg");
    const std::string chat_id = large_group(port(), owner, {moderator, member});
    set_role(port(), owner, chat_id, moderator.id, "moderator");
    const auto joining = users(port(), 3);
    auto moderator_ws = ws_connect(port(), moderator.token);
    auto member_ws = ws_connect(port(), member.token);
    auto joining_ws = ws_connect(port(), joining[0].token);

    const auto added = expect_json(post(port(), owner.token, members_url(chat_id),
                                        {{"user_ids", {joining[0].id, joining[1].id, joining[0].id}}}),
                                   200, "add");
    ASSERT_EQ(added["members"].size(), 2u) << added.dump();
    EXPECT_EQ(added["members"][0]["user"]["id"], joining[0].id) << "in the order asked";
    EXPECT_EQ(added["members"][1]["user"]["id"], joining[1].id);
    for (const auto& m : added["members"]) EXPECT_TRUE(IsMemberModel(m));

    const auto created = wait_for(*joining_ws, "chat.created", about_chat(chat_id));
    ASSERT_TRUE(created.has_value()) << "the added user gets the chat";
    EXPECT_EQ((*created)["data"]["chat"]["large"], true);
    EXPECT_TRUE(wait_for(*joining_ws, "member.added", about_user(chat_id, joining[0].id)).has_value());
    EXPECT_TRUE(wait_for(*moderator_ws, "member.added", about_user(chat_id, joining[0].id)).has_value());
    EXPECT_TRUE(wait_for(*moderator_ws, "member.added", about_user(chat_id, joining[1].id)).has_value());
    const auto marker = send_text(port(), owner, chat_id, "marker");
    EXPECT_TRUE(NoFrameBefore(
        *member_ws,
        [](const json& f) {
            const auto type = f.value("type", "");
            return type == "member.added" || (type == "message.new" && f["data"]["message"]["type"] == "system");
        },
        frame_of("message.new", about_message(marker["id"]))))
        << "an ordinary member heard of each add";
    EXPECT_EQ(get_chat(port(), member, chat_id)["member_count"], 5) << "the count tells the others";
    for (const auto& note : system_messages(port(), owner, chat_id))
        EXPECT_NE(note["metadata"]["event"], "member.added") << "no system message per add";

    // Leaving is told to the staff and the one who left, not to every member.
    ASSERT_EQ(del(port(), joining[1].token, member_url(chat_id, joining[1].id)).status, 204);
    EXPECT_TRUE(wait_for(*moderator_ws, "member.removed", about_user(chat_id, joining[1].id)).has_value());
    const auto second = send_text(port(), owner, chat_id, "second");
    EXPECT_TRUE(
        NoFrameBefore(*member_ws, frame_of("member.removed"), frame_of("message.new", about_message(second["id"]))));
}

TEST_F(LargeGroupsTest, AnOrdinaryGroupStillTellsEveryMemberOfEachAdd) {
    const auto owner = register_user(port(), "lg");
    const auto member = register_user(port(), "lg");
    const auto newcomer = register_user(port(), "lg");
    const std::string chat_id = create_group(port(), owner, {member.id})["id"];
    auto member_ws = ws_connect(port(), member.token);
    add_members(port(), owner, chat_id, {newcomer.id});
    EXPECT_TRUE(wait_for(*member_ws, "member.added", about_user(chat_id, newcomer.id)).has_value());
    const auto notes = system_messages(port(), owner, chat_id);
    ASSERT_FALSE(notes.empty());
    EXPECT_EQ(notes.back()["metadata"]["event"], "member.added");
    EXPECT_EQ(notes.back()["metadata"]["user_id"], newcomer.id);
}

// Sharing a large group makes no contacts: the member list shows a member's presence under
// `contacts` only to those who share a small chat with them, as GET /users/{id} does.
TEST_F(LargeGroupsTest, SharingALargeGroupMakesNoContactsForPresence) {
    const auto owner = register_user(port(), "lg");
    const auto member = register_user(port(), "lg");
    const std::string large = large_group(port(), owner, {member});
    auto member_ws = ws_connect(port(), member.token);
    ASSERT_TRUE(IsAck(ws_request(*member_ws, "ping")));
    const auto listed_presence = [&](const std::string& chat_id) {
        const auto listed = list_members(port(), owner, chat_id);
        const auto* seen = find_member(listed, member.id);
        return seen ? (*seen)["user"].value("online", json()) : json("not listed");
    };
    EXPECT_EQ(listed_presence(large), json()) << "a large group makes no contact";
    expect_json(put(port(), member.token, "/api/v1/users/me/privacy", {{"who_can_see_presence", "everyone"}}), 200,
                "privacy");
    EXPECT_EQ(listed_presence(large), true) << "everyone sees it";
    expect_json(put(port(), member.token, "/api/v1/users/me/privacy", {{"who_can_see_presence", "contacts"}}), 200,
                "privacy");
    create_group(port(), owner, {member.id});
    EXPECT_EQ(listed_presence(large), true) << "a small group in common makes them contacts";
}

// A call rings every other member: in a large group nobody starts one (docs/api.md, Large groups).
TEST_F(LargeGroupsTest, NobodyStartsACallInALargeGroupWhichRingsNobody) {
    const auto owner = register_user(port(), "lg");
    const auto members = users(port(), 2);
    const std::string ordinary = create_group(port(), owner, ids(members))["id"];
    const auto chat_id = large_group(port(), owner, members);
    auto owner_ws = ws_connect(port(), owner.token);
    auto member_ws = ws_connect(port(), members[0].token);
    const auto refused = ws_request(*owner_ws, "call.start", {{"chat_id", chat_id}, {"kind", "voice"}});
    EXPECT_EQ(refusal(refused), "forbidden") << refused.dump();
    EXPECT_EQ(refusal(ws_request(*member_ws, "call.start", {{"chat_id", chat_id}, {"kind", "video"}})), "forbidden");
    EXPECT_TRUE(HasReason(get(port(), owner.token, chat_url(chat_id) + "/call"), 404, "not_found", "no_call"));

    const auto rung = ws_request(*owner_ws, "call.start", {{"chat_id", ordinary}, {"kind", "voice"}});
    ASSERT_TRUE(IsAck(rung)) << rung.dump();
    const auto ring = wait_for(*member_ws, "call.ring");
    ASSERT_TRUE(ring.has_value()) << "an ordinary group still rings";
    EXPECT_EQ((*ring)["data"]["call"]["chat_id"], ordinary) << "and the large group's refused calls rang nobody";
}

TEST_F(LargeGroupsTest, MembersAreSearchedByNamePrefixPageByPage) {
    const auto owner = register_user(port(), "lg", std::string("Owner"));
    const auto tag = random_alnum(6);
    const auto ann = register_user(port(), "zq" + tag + "a", std::string("Annabel Lee"));
    const auto anna = register_user(port(), "lg", std::string("anna " + tag));
    const auto bob = register_user(port(), "lg", std::string("Bob"));
    const auto outsider = register_user(port(), "zq" + tag + "o", std::string("Annie"));
    const std::string chat_id = large_group(port(), owner, {ann, anna});
    add_members(port(), owner, chat_id, {bob.id});

    const auto search = [&](const TestUser& who, const std::string& q, const std::string& extra = "") {
        return get(port(), who.token, members_url(chat_id) + "?q=" + url_encode(q) + extra);
    };
    const auto found = search(bob, "ANN");
    ASSERT_TRUE(IsJson(found, 200)) << "an ordinary member of a large group lists and searches its members";
    const auto page = found.json();
    std::vector<std::string> names;
    for (const auto& m : page["members"]) names.push_back(m["user"]["id"]);
    EXPECT_EQ(names, (std::vector<std::string>{ann.id, anna.id})) << "display names, any case, in join order";
    EXPECT_TRUE(page["next_cursor"].is_null());

    const auto by_username = search(bob, "ZQ" + tag);
    ASSERT_TRUE(IsJson(by_username, 200));
    ASSERT_EQ(by_username.json()["members"].size(), 1u) << "usernames too; never a non-member";
    EXPECT_EQ(by_username.json()["members"][0]["user"]["id"], ann.id);

    // Keyset pages of one.
    const auto first = search(bob, "ann", "&limit=1");
    ASSERT_TRUE(IsJson(first, 200));
    ASSERT_EQ(first.json()["members"].size(), 1u);
    EXPECT_EQ(first.json()["members"][0]["user"]["id"], ann.id);
    ASSERT_TRUE(first.json()["next_cursor"].is_string());
    const auto second =
        search(bob, "ann", "&limit=1&cursor=" + url_encode(first.json()["next_cursor"].get<std::string>()));
    ASSERT_TRUE(IsJson(second, 200));
    ASSERT_EQ(second.json()["members"].size(), 1u);
    EXPECT_EQ(second.json()["members"][0]["user"]["id"], anna.id);

    // A pattern character is a literal; a bad q is refused.
    const auto literal = search(bob, "%");
    ASSERT_TRUE(IsJson(literal, 200));
    EXPECT_TRUE(literal.json()["members"].empty());
    EXPECT_TRUE(IsBadField(search(bob, std::string(65, 'a')), "q"));
    EXPECT_TRUE(IsBadField(search(bob, ""), "q"));
    EXPECT_TRUE(IsError(search(outsider, "ann"), 404, "not_found"));
}

TEST_F(LargeGroupsTest, TypingGoesToTheStaffAndAReadToTheReadersOwnDevices) {
    const auto owner = register_user(port(), "lg");
    const auto member = register_user(port(), "lg");
    const auto reader = register_user(port(), "lg");
    const std::string chat_id = large_group(port(), owner, {member, reader});
    auto owner_ws = ws_connect(port(), owner.token);
    auto member_ws = ws_connect(port(), member.token);
    auto reader_ws = ws_connect(port(), reader.token);
    auto reader_other_ws = ws_connect(port(), reader.token);

    const auto first = send_text(port(), owner, chat_id, "one");
    ASSERT_TRUE(wait_for(*reader_other_ws, "message.new", about_message(first["id"])).has_value());
    EXPECT_TRUE(IsAck(ws_request(*reader_ws, "typing.start", {{"chat_id", chat_id}})));
    const auto typing = wait_for(*owner_ws, "typing.update", about_chat(chat_id));
    ASSERT_TRUE(typing.has_value()) << "the owner (staff) sees who types";
    EXPECT_EQ((*typing)["data"]["user_id"], reader.id);

    EXPECT_TRUE(IsAck(ws_request(*reader_ws, "read.mark", {{"chat_id", chat_id}, {"seq", first["seq"]}})));
    const auto read = wait_for(*reader_other_ws, "read.updated", about_chat(chat_id));
    ASSERT_TRUE(read.has_value()) << "the reader's other devices follow the position";
    EXPECT_EQ((*read)["data"]["last_read_seq"], first["seq"]);
    EXPECT_EQ(get_chat(port(), reader, chat_id)["me"]["unread_count"], 0);

    const auto marker = send_text(port(), owner, chat_id, "marker");
    EXPECT_TRUE(NoFrameBefore(
        *member_ws,
        [](const json& f) {
            const auto type = f.value("type", "");
            return type == "typing.update" || type == "read.updated";
        },
        frame_of("message.new", about_message(marker["id"]))))
        << "a member saw another member type or read";
    EXPECT_TRUE(
        NoFrameBefore(*owner_ws, frame_of("read.updated"), frame_of("message.new", about_message(marker["id"]))))
        << "a read is the reader's alone, the staff's included";
}

}  // namespace
}  // namespace confab::test
