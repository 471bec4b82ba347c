// Polls: a message of type poll (POST /chats/{id}/messages and message.send), votes (PUT
// /messages/{id}/votes and poll.vote), closing (POST /messages/{id}/poll/close and
// poll.close), poll.updated to the chat's members, and since_version sync.

#include <chrono>

#include <gtest/gtest.h>

#include "support/chat_api.hpp"

namespace confab::test {
namespace {

using PollsTest = ChatTest;

std::string votes_url(const std::string& message_id) { return message_url(message_id) + "/votes"; }
std::string close_url(const std::string& message_id) { return message_url(message_id) + "/poll/close"; }

json poll_body(json poll) { return {{"type", "poll"}, {"poll", std::move(poll)}}; }

json lunch_poll(json extra = json::object()) {
    json poll{{"question", "Lunch?"}, {"options", {"pizza", "sushi", "salad"}}};
    poll.update(extra);
    return poll;
}

json send_poll(std::uint16_t port, const TestUser& u, const std::string& chat_id, json poll = lunch_poll()) {
    return expect_json(send_message(port, u, chat_id, poll_body(std::move(poll))), 201, "send poll");
}

HttpResponse vote(std::uint16_t port, const TestUser& u, const std::string& message_id, json options) {
    return put(port, u.token, votes_url(message_id), {{"options", std::move(options)}});
}

json voted(std::uint16_t port, const TestUser& u, const std::string& message_id, json options) {
    return expect_json(vote(port, u, message_id, std::move(options)), 200, "vote");
}

std::vector<std::int64_t> counts(const json& poll) {
    std::vector<std::int64_t> all;
    for (const auto& option : poll["options"]) all.push_back(option["voter_count"]);
    return all;
}

std::int64_t chat_version(std::uint16_t port, const TestUser& u, const std::string& chat_id) {
    return get_chat(port, u, chat_id)["version"];
}

TEST_F(PollsTest, MembersVoteChangeTheirVoteAndRetractIt) {
    auto ann = register_user(port(), "pv");
    auto bob = register_user(port(), "pv");
    auto cat = register_user(port(), "pv");
    const std::string chat = create_group(port(), ann, {bob.id, cat.id})["id"];

    const auto sent = send_poll(port(), ann, chat);
    ASSERT_TRUE(IsMessageModel(sent)) << sent.dump();
    EXPECT_EQ(sent["type"], "poll");
    EXPECT_EQ(sent["content"], "Lunch?") << "the question is the message's text";
    const auto& poll = sent["poll"];
    EXPECT_EQ(poll["question"], "Lunch?");
    EXPECT_EQ(counts(poll), (std::vector<std::int64_t>{0, 0, 0}));
    EXPECT_EQ(poll["options"][1]["text"], "sushi");
    EXPECT_EQ(poll["multiple_choice"], false);
    EXPECT_EQ(poll["anonymous"], false);
    EXPECT_TRUE(poll["closes_at"].is_null());
    EXPECT_TRUE(poll["closed_at"].is_null());
    EXPECT_EQ(poll["total_voters"], 0);
    EXPECT_EQ(poll["my_votes"], json::array());
    const std::string id = sent["id"];

    const auto first = voted(port(), bob, id, {1});
    ASSERT_TRUE(IsMessageModel(first)) << first.dump();
    EXPECT_EQ(counts(first["poll"]), (std::vector<std::int64_t>{0, 1, 0}));
    EXPECT_EQ(first["poll"]["options"][1]["voter_ids"], json::array({bob.id}));
    EXPECT_EQ(first["poll"]["my_votes"], json::array({1}));
    EXPECT_EQ(first["poll"]["total_voters"], 1);
    EXPECT_GT(first["version"], sent["version"]) << "a vote takes a new version";
    EXPECT_EQ(chat_version(port(), ann, chat), first["version"]);

    voted(port(), cat, id, {1});
    const auto changed = voted(port(), bob, id, {0});
    EXPECT_EQ(counts(changed["poll"]), (std::vector<std::int64_t>{1, 1, 0}));
    EXPECT_EQ(changed["poll"]["options"][0]["voter_ids"], json::array({bob.id}));
    EXPECT_EQ(changed["poll"]["options"][1]["voter_ids"], json::array({cat.id}));
    EXPECT_EQ(changed["poll"]["my_votes"], json::array({0}));
    EXPECT_EQ(changed["poll"]["total_voters"], 2);

    // The same choice again changes nothing.
    const auto version = chat_version(port(), ann, chat);
    const auto again = voted(port(), bob, id, {0});
    EXPECT_EQ(again["version"], changed["version"]);
    EXPECT_EQ(chat_version(port(), ann, chat), version);

    // Each reader sees their own choice.
    EXPECT_EQ(get_message(port(), ann, id)["poll"]["my_votes"], json::array());
    EXPECT_EQ(get_message(port(), cat, id)["poll"]["my_votes"], json::array({1}));

    const auto retracted = voted(port(), bob, id, json::array());
    EXPECT_EQ(counts(retracted["poll"]), (std::vector<std::int64_t>{0, 1, 0}));
    EXPECT_EQ(retracted["poll"]["my_votes"], json::array());
    EXPECT_EQ(retracted["poll"]["total_voters"], 1);

    // A single-choice poll takes one option at most; indices must be real and distinct.
    EXPECT_TRUE(IsBadField(vote(port(), bob, id, {0, 1}), "options"));
    EXPECT_TRUE(IsBadField(vote(port(), bob, id, {3}), "options"));
    EXPECT_TRUE(IsBadField(vote(port(), bob, id, {-1}), "options"));
    EXPECT_TRUE(IsBadField(vote(port(), bob, id, {"0"}), "options"));
    EXPECT_TRUE(IsBadField(vote(port(), bob, id, 0), "options"));
    EXPECT_TRUE(IsBadField(put(port(), bob.token, votes_url(id), json::object()), "options"));
    EXPECT_TRUE(IsError(put(port(), bob.token, votes_url(id), {{"options", {0}}, {"extra", 1}}), 400, "bad_request"));
    EXPECT_EQ(counts(get_message(port(), ann, id)["poll"]), (std::vector<std::int64_t>{0, 1, 0}));

    // Polls show in the history and the chat list like any message.
    const auto history = all_messages(port(), cat, chat);
    ASSERT_FALSE(history.empty());
    EXPECT_EQ(history.back()["poll"]["my_votes"], json::array({1}));
    EXPECT_EQ(get_chat(port(), cat, chat)["last_message"]["poll"]["options"][1]["voter_count"], 1);
}

TEST_F(PollsTest, MultipleChoiceAndAnonymousPolls) {
    auto ann = register_user(port(), "pm");
    auto bob = register_user(port(), "pm");
    const std::string chat = create_group(port(), ann, {bob.id})["id"];

    const std::string multiple = send_poll(port(), ann, chat, lunch_poll({{"multiple_choice", true}}))["id"];
    const auto both = voted(port(), bob, multiple, {2, 0});
    EXPECT_EQ(counts(both["poll"]), (std::vector<std::int64_t>{1, 0, 1}));
    EXPECT_EQ(both["poll"]["my_votes"], json::array({0, 2})) << "ascending";
    EXPECT_EQ(both["poll"]["total_voters"], 1) << "a voter counts once";
    EXPECT_TRUE(IsBadField(vote(port(), bob, multiple, {1, 1}), "options"));
    const auto fewer = voted(port(), bob, multiple, {2});
    EXPECT_EQ(counts(fewer["poll"]), (std::vector<std::int64_t>{0, 0, 1}));

    const auto secret = send_poll(port(), ann, chat, lunch_poll({{"anonymous", true}}));
    EXPECT_EQ(secret["poll"]["anonymous"], true);
    const std::string id = secret["id"];
    const auto mine = voted(port(), bob, id, {1});
    ASSERT_TRUE(IsMessageModel(mine)) << mine.dump();
    EXPECT_EQ(mine["poll"]["options"][1]["voter_count"], 1);
    EXPECT_EQ(mine["poll"]["options"][1]["voter_ids"], json::array()) << "nobody is named";
    EXPECT_EQ(mine["poll"]["my_votes"], json::array({1})) << "but voters see their own choice";
    voted(port(), ann, id, {1});
    const auto seen = get_message(port(), ann, id);
    EXPECT_TRUE(IsMessageModel(seen));
    EXPECT_EQ(seen["poll"]["options"][1]["voter_count"], 2);
    EXPECT_EQ(seen["poll"]["options"][1]["voter_ids"], json::array());
    EXPECT_EQ(seen["poll"]["my_votes"], json::array({1}));
}

TEST_F(PollsTest, APollIsCheckedWhenSent) {
    auto ann = register_user(port(), "pc");
    auto bob = register_user(port(), "pc");
    const std::string chat = create_group(port(), ann, {bob.id})["id"];
    std::vector<std::string> thirteen;
    for (int i = 0; i < 13; ++i) thirteen.push_back("option " + std::to_string(i));
    struct Case {
        const char* what;
        json body;
        std::string field;
    };
    const std::vector<Case> cases{
        {"no poll", {{"type", "poll"}, {"content", "Lunch?"}}, "poll"},
        {"a poll on a text", {{"type", "text"}, {"content", "hi"}, {"poll", lunch_poll()}}, "poll"},
        {"a broken poll on a text", {{"type", "text"}, {"content", "hi"}, {"poll", "?"}}, "poll"},
        {"a template and a poll",
         {{"type", "poll"}, {"poll", lunch_poll()}, {"template_id", random_uuid()}},
         "template_id"},
        {"content and a question", {{"type", "poll"}, {"content", "Lunch?"}, {"poll", lunch_poll()}}, "content"},
        {"a poll that is no object", poll_body("Lunch?"), "poll"},
        {"no question", poll_body({{"options", {"a", "b"}}}), "poll.question"},
        {"an empty question", poll_body(lunch_poll({{"question", ""}})), "poll.question"},
        {"a question of 301", poll_body(lunch_poll({{"question", repeat("é", 301)}})), "poll.question"},
        {"a question of a number", poll_body(lunch_poll({{"question", 5}})), "poll.question"},
        {"no options", poll_body({{"question", "Lunch?"}}), "poll.options"},
        {"one option", poll_body(lunch_poll({{"options", {"pizza"}}})), "poll.options"},
        {"thirteen options", poll_body(lunch_poll({{"options", thirteen}})), "poll.options"},
        {"the same option twice", poll_body(lunch_poll({{"options", {"pizza", "pizza"}}})), "poll.options"},
        {"an empty option", poll_body(lunch_poll({{"options", {"pizza", ""}}})), "poll.options"},
        {"an option of 101", poll_body(lunch_poll({{"options", {"pizza", repeat("x", 101)}}})), "poll.options"},
        {"an option of a number", poll_body(lunch_poll({{"options", {"pizza", 2}}})), "poll.options"},
        {"a flag of a string", poll_body(lunch_poll({{"anonymous", "yes"}})), "poll.anonymous"},
        {"closing in the past", poll_body(lunch_poll({{"closes_at", timestamp_from_now(-std::chrono::minutes(1))}})),
         "poll.closes_at"},
        {"closing in two years",
         poll_body(lunch_poll({{"closes_at", timestamp_from_now(std::chrono::hours(24 * 731))}})), "poll.closes_at"},
        {"closing at no time", poll_body(lunch_poll({{"closes_at", "tomorrow"}})), "poll.closes_at"},
        {"an unknown field", poll_body(lunch_poll({{"quiz", true}})), "quiz"},
    };
    const auto version = chat_version(port(), ann, chat);
    for (const auto& c : cases) EXPECT_TRUE(IsBadField(send_message(port(), ann, chat, c.body), c.field)) << c.what;
    EXPECT_EQ(chat_version(port(), ann, chat), version) << "nothing was sent";

    // The limits themselves pass; a closing time is kept.
    std::vector<std::string> twelve(thirteen.begin(), thirteen.end() - 1);
    const auto closes_at = timestamp_from_now(std::chrono::hours(1));
    const auto largest = send_poll(
        port(), ann, chat,
        {{"question", repeat("é", 300)}, {"options", twelve}, {"closes_at", closes_at}, {"anonymous", false}});
    EXPECT_EQ(largest["poll"]["options"].size(), 12u);
    EXPECT_EQ(largest["poll"]["closes_at"], closes_at);
    EXPECT_TRUE(largest["poll"]["closed_at"].is_null());

    // A poll is not scheduled, edited, forwarded or sent to a chat one is not in.
    EXPECT_TRUE(IsBadField(
        post(port(), ann.token, chat_url(chat) + "/scheduled-messages",
             {{"type", "poll"}, {"poll", lunch_poll()}, {"send_at", timestamp_from_now(std::chrono::hours(1))}}),
        "type"));
    EXPECT_TRUE(IsBadField(post(port(), ann.token, chat_url(chat) + "/scheduled-messages",
                                {{"type", "poll"}, {"send_at", timestamp_from_now(std::chrono::hours(1))}}),
                           "type"))
        << "without its poll too: the type is what cannot be scheduled";
    EXPECT_TRUE(
        IsError(put(port(), ann.token, message_url(largest["id"]), {{"content", "edited"}}), 400, "bad_request"));
    EXPECT_TRUE(IsBadField(post(port(), ann.token, message_url(largest["id"]) + "/forward", {{"chat_id", chat}}),
                           "message_id"));
    auto stranger = register_user(port(), "pc");
    EXPECT_TRUE(IsError(send_message(port(), stranger, chat, poll_body(lunch_poll())), 404, "not_found"));
}

TEST_F(PollsTest, TheSenderOrAnAdminClosesAPollAndClosingFreezesIt) {
    auto owner = register_user(port(), "pz");
    auto admin = register_user(port(), "pz");
    auto ann = register_user(port(), "pz");
    auto bob = register_user(port(), "pz");
    const std::string chat = create_group(port(), owner, {admin.id, ann.id, bob.id})["id"];
    set_role(port(), owner, chat, admin.id, "admin");

    const std::string id = send_poll(port(), ann, chat)["id"];
    voted(port(), bob, id, {2});
    EXPECT_TRUE(IsError(post(port(), bob.token, close_url(id)), 403, "forbidden")) << "another member";
    auto closed = post(port(), ann.token, close_url(id));
    ASSERT_TRUE(IsJson(closed, 200));
    const auto poll = closed.json()["poll"];
    EXPECT_TRUE(IsMessageModel(closed.json()));
    EXPECT_TRUE(is_timestamp(poll["closed_at"]));
    EXPECT_EQ(counts(poll), (std::vector<std::int64_t>{0, 0, 1}));

    EXPECT_TRUE(IsError(vote(port(), bob, id, {0}), 409, "conflict")) << "a closed poll takes no votes";
    EXPECT_TRUE(IsError(vote(port(), ann, id, {0}), 409, "conflict"));
    EXPECT_TRUE(IsError(vote(port(), bob, id, json::array()), 409, "conflict")) << "nor retractions";
    const auto version = chat_version(port(), owner, chat);
    auto twice = post(port(), owner.token, close_url(id));
    ASSERT_TRUE(IsJson(twice, 200));
    EXPECT_EQ(twice.json()["poll"]["closed_at"], poll["closed_at"]) << "closing again changes nothing";
    EXPECT_EQ(chat_version(port(), owner, chat), version);
    EXPECT_EQ(counts(get_message(port(), bob, id)["poll"]), (std::vector<std::int64_t>{0, 0, 1}));

    // An admin closes anyone's poll.
    const std::string other = send_poll(port(), ann, chat)["id"];
    auto by_admin = post(port(), admin.token, close_url(other));
    ASSERT_TRUE(IsJson(by_admin, 200));
    EXPECT_FALSE(by_admin.json()["poll"]["closed_at"].is_null());

    // A poll closes by itself at closes_at: read and vote find it closed.
    const auto closes_at = timestamp_from_now(std::chrono::milliseconds(1500));
    const std::string timed = send_poll(port(), ann, chat, lunch_poll({{"closes_at", closes_at}}))["id"];
    voted(port(), bob, timed, {0});
    ASSERT_TRUE(eventually([&] { return !get_message(port(), bob, timed)["poll"]["closed_at"].is_null(); }));
    EXPECT_EQ(get_message(port(), bob, timed)["poll"]["closed_at"], closes_at);
    EXPECT_TRUE(IsError(vote(port(), bob, timed, {1}), 409, "conflict"));
    EXPECT_EQ(get_message(port(), ann, timed)["poll"]["options"][0]["voter_count"], 1);
}

TEST_F(PollsTest, OnlyMembersVoteAndOnlyOnLivePolls) {
    auto ann = register_user(port(), "pu");
    auto bob = register_user(port(), "pu");
    auto stranger = register_user(port(), "pu");
    const std::string chat =
        create_group(port(), ann, {bob.id}, {{"settings", {{"only_admins_can_post", true}}}})["id"];
    const std::string id = send_poll(port(), ann, chat)["id"];

    // Where only admins post, members still vote (a vote answers), but do not send polls.
    EXPECT_TRUE(IsError(send_message(port(), bob, chat, poll_body(lunch_poll())), 403, "forbidden"));
    voted(port(), bob, id, {0});

    EXPECT_TRUE(IsError(vote(port(), stranger, id, {0}), 404, "not_found"));
    EXPECT_TRUE(IsError(post(port(), stranger.token, close_url(id)), 404, "not_found"));
    EXPECT_TRUE(IsError(vote(port(), ann, random_uuid(), {0}), 404, "not_found"));
    EXPECT_TRUE(IsError(vote(port(), ann, "not-a-uuid", {0}), 400, "bad_request"));
    EXPECT_EQ(put(port(), "", votes_url(id), {{"options", {0}}}).status, 401);
    EXPECT_EQ(post(port(), "", close_url(id)).status, 401);

    const auto text = send_text(port(), ann, chat, "not a poll");
    EXPECT_TRUE(IsBadField(vote(port(), ann, text["id"], {0}), "message_id"));
    EXPECT_TRUE(IsBadField(post(port(), ann.token, close_url(text["id"])), "message_id"));
    EXPECT_FALSE(text.contains("poll"));

    // A member who left votes no more; their vote stays counted.
    ASSERT_EQ(del(port(), bob.token, member_url(chat, bob.id)).status, 204);
    EXPECT_TRUE(IsError(vote(port(), bob, id, {1}), 404, "not_found"));
    EXPECT_EQ(get_message(port(), ann, id)["poll"]["options"][0]["voter_count"], 1);

    // A deleted poll takes no votes and is not closed; its poll is gone.
    ASSERT_EQ(del(port(), ann.token, message_url(id)).status, 204);
    EXPECT_TRUE(IsError(vote(port(), ann, id, {0}), 409, "conflict"));
    EXPECT_TRUE(IsError(post(port(), ann.token, close_url(id)), 409, "conflict"));
    const auto tombstone = get_message(port(), ann, id);
    EXPECT_TRUE(IsMessageModel(tombstone)) << tombstone.dump();
    EXPECT_FALSE(tombstone.contains("poll"));
}

TEST_F(PollsTest, VotesReachEveryMemberLiveAndSyncCarriesThem) {
    auto ann = register_user(port(), "pe");
    auto bob = register_user(port(), "pe");
    auto outsider = register_user(port(), "pe");
    auto removed = register_user(port(), "pe");
    const std::string chat = create_group(port(), ann, {bob.id, removed.id})["id"];
    ASSERT_EQ(del(port(), ann.token, member_url(chat, removed.id)).status, 204);
    auto wr = ws_connect(port(), removed.token);
    auto wa = ws_connect(port(), ann.token);
    auto wb = ws_connect(port(), bob.token);
    auto wb2 = ws_connect(port(), bob.token);
    auto wo = ws_connect(port(), outsider.token);

    // Sent over the WebSocket like any message; message.new carries nobody's my_votes.
    const auto sent = ws_request(*wa, "message.send", {{"chat_id", chat}, {"type", "poll"}, {"poll", lunch_poll()}});
    ASSERT_TRUE(IsAck(sent)) << sent.dump();
    const auto message = sent["data"]["message"];
    EXPECT_EQ(message["poll"]["my_votes"], json::array());
    const std::string id = message["id"];
    auto created = wait_for(*wb, "message.new", about_message(id));
    ASSERT_TRUE(created.has_value());
    EXPECT_TRUE(IsMessageModel((*created)["data"]["message"]));
    EXPECT_FALSE((*created)["data"]["message"]["poll"].contains("my_votes"));
    const auto since = message["version"].get<std::int64_t>();

    const auto ack = ws_request(*wb, "poll.vote", {{"message_id", id}, {"options", {1}}});
    ASSERT_TRUE(IsAck(ack)) << ack.dump();
    EXPECT_EQ(ack["data"]["message"]["poll"]["my_votes"], json::array({1}));
    const auto version = ack["data"]["message"]["version"];
    for (auto* ws : {wa.get(), wb.get(), wb2.get()}) {
        auto event = wait_for(*ws, "poll.updated", about_message(id));
        ASSERT_TRUE(event.has_value()) << "a member's connection missed the vote";
        const auto& data = (*event)["data"];
        EXPECT_EQ(data["chat_id"], chat);
        EXPECT_EQ(data["version"], version);
        auto as_message = ack["data"]["message"];
        as_message["poll"] = data["poll"];
        EXPECT_TRUE(IsMessageModel(as_message)) << "poll.updated carries a PollModel";
        EXPECT_EQ(counts(data["poll"]), (std::vector<std::int64_t>{0, 1, 0}));
        EXPECT_EQ(data["poll"]["options"][1]["voter_ids"], json::array({bob.id}));
        if (ws == wa.get()) {
            EXPECT_FALSE(data["poll"].contains("my_votes")) << "another member's choice is not theirs";
        } else {
            EXPECT_EQ(data["poll"]["my_votes"], json::array({1})) << "the voter's devices learn the choice";
        }
    }
    EXPECT_TRUE(NoFrameBefore(*wo, mentioning(chat), direct_message_marker(port(), ann, outsider)))
        << "a non-member hears nothing of the vote";
    EXPECT_TRUE(NoFrameBefore(*wr, mentioning(chat), direct_message_marker(port(), ann, removed)))
        << "nor does a removed member";

    // The same vote again sends nothing.
    ASSERT_TRUE(IsAck(ws_request(*wb, "poll.vote", {{"message_id", id}, {"options", {1}}})));
    const auto marker = send_text(port(), bob, chat, "marker");
    EXPECT_TRUE(NoFrameBefore(*wa, frame_of("poll.updated"), frame_of("message.new", about_message(marker["id"]))));

    // An anonymous poll's event names nobody.
    const std::string secret = send_poll(port(), ann, chat, lunch_poll({{"anonymous", true}}))["id"];
    voted(port(), bob, secret, {2});
    auto anonymous = wait_for(*wa, "poll.updated", about_message(secret));
    ASSERT_TRUE(anonymous.has_value());
    EXPECT_EQ((*anonymous)["data"]["poll"]["options"][2]["voter_count"], 1);
    EXPECT_EQ((*anonymous)["data"]["poll"]["options"][2]["voter_ids"], json::array());

    // Closing reaches every member, and sync returns the poll as each reader sees it.
    const auto closed = ws_request(*wa, "poll.close", {{"message_id", id}});
    ASSERT_TRUE(IsAck(closed)) << closed.dump();
    for (auto* ws : {wa.get(), wb.get()}) {
        auto event =
            wait_for(*ws, "poll.updated",
                     and_(about_message(id), [](const json& f) { return !f["data"]["poll"]["closed_at"].is_null(); }));
        ASSERT_TRUE(event.has_value()) << "a member missed the close";
        EXPECT_FALSE((*event)["data"]["poll"].contains("my_votes"));
    }
    const auto refused = ws_request(*wb, "poll.vote", {{"message_id", id}, {"options", {0}}});
    EXPECT_EQ(refused["type"], "error");
    EXPECT_EQ(refused["error"]["code"], "conflict");
    const auto stranger = ws_request(*wo, "poll.vote", {{"message_id", id}, {"options", {0}}});
    EXPECT_EQ(stranger["error"]["code"], "not_found");

    const auto sync =
        expect_json(get(port(), bob.token, chat_messages_url(chat) + "?since_version=" + std::to_string(since)), 200,
                    "sync");
    const json* synced = nullptr;
    for (const auto& m : sync["messages"])
        if (m["id"] == id) synced = &m;
    ASSERT_NE(synced, nullptr) << sync.dump();
    EXPECT_TRUE(IsMessageModel(*synced));
    EXPECT_EQ((*synced)["version"], closed["data"]["message"]["version"]);
    EXPECT_FALSE((*synced)["poll"]["closed_at"].is_null());
    EXPECT_EQ((*synced)["poll"]["my_votes"], json::array({1}));
    EXPECT_EQ(counts((*synced)["poll"]), (std::vector<std::int64_t>{0, 1, 0}));
}

}  // namespace
}  // namespace confab::test
