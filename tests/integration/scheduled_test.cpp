// /api/v1/chats/{id}/scheduled-messages and /api/v1/scheduled-messages: scheduling, listing,
// editing and cancelling one's own; posting when due, once, also across a kill -9; and the
// cancellation of a message whose author may no longer post.

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <thread>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "support/chat_api.hpp"

namespace confab::test {
namespace {

using ScheduledTest = ChatTest;
using Clock = std::chrono::system_clock;

const std::string list_url = "/api/v1/scheduled-messages";
std::string schedule_url(const std::string& chat_id) { return chat_url(chat_id) + "/scheduled-messages"; }
std::string scheduled_url(const std::string& id) { return list_url + "/" + id; }

HttpResponse schedule(std::uint16_t port, const TestUser& u, const std::string& chat_id, const std::string& send_at,
                      json body = {{"type", "text"}, {"content", "later"}}) {
    body["send_at"] = send_at;
    return post(port, u.token, schedule_url(chat_id), body);
}

::testing::AssertionResult IsScheduledModel(const json& j) {
    for (const char* key :
         {"id", "chat_id", "send_at", "type", "content", "media_id", "reply_to_id", "metadata", "client_id", "entities",
          "status", "message_id", "cancel_reason", "created_at", "updated_at"})
        if (!j.contains(key)) return ::testing::AssertionFailure() << "missing " << key << " in " << j.dump();
    if (j.size() != 15) return ::testing::AssertionFailure() << "undocumented keys in " << j.dump();
    return ::testing::AssertionSuccess();
}

TEST_F(ScheduledTest, AScheduledMessageIsTheAuthorsAloneUntilItIsPostedWhenDue) {
    auto ann = register_user(port(), "sc");
    auto bob = register_user(port(), "sc");
    std::string id = create_group(port(), ann, {bob.id})["id"];
    auto wa = ws_connect(port(), ann.token);
    auto wb = ws_connect(port(), bob.token);

    auto later = schedule(port(), ann, id, timestamp_from_now(std::chrono::hours(1)),
                          {{"type", "text"}, {"content", "in an hour"}});
    ASSERT_TRUE(IsJson(later, 201)) << later.body;
    EXPECT_TRUE(IsScheduledModel(later.json()));
    EXPECT_EQ(later.json()["status"], "pending");
    EXPECT_EQ(later.json()["message_id"], nullptr);
    auto announced = wait_for(*wa, "scheduled_message.updated");
    ASSERT_TRUE(announced.has_value());
    EXPECT_EQ((*announced)["data"]["scheduled_message"], later.json());

    const auto before = get_chat(port(), bob, id)["version"];
    auto soon =
        schedule(port(), ann, id, timestamp_from_now(std::chrono::hours(2)), {{"type", "text"}, {"content", "soon"}});
    ASSERT_TRUE(IsJson(soon, 201)) << soon.body;
    const std::string soon_id = soon.json()["id"];
    EXPECT_EQ(get_chat(port(), bob, id)["version"], before) << "nothing in the timeline until it is due";
    EXPECT_EQ(get(port(), bob.token, list_url).json()["scheduled_messages"], json::array()) << "the author's alone";
    // Now it comes due.
    ASSERT_TRUE(IsJson(patch(port(), ann.token, scheduled_url(soon_id),
                             {{"send_at", timestamp_from_now(std::chrono::milliseconds(300))}}),
                       200));

    auto posted = wait_for(*wb, "message.new", about_chat(id));
    ASSERT_TRUE(posted.has_value());
    const auto message = (*posted)["data"]["message"];
    EXPECT_EQ(message["content"], "soon");
    EXPECT_EQ(message["sender_id"], ann.id);
    EXPECT_EQ(message["client_id"], "scheduled:" + soon_id);
    auto sent = wait_for(*wa, "scheduled_message.updated", [&](const json& f) {
        const auto& s = f["data"]["scheduled_message"];
        return s["id"] == soon_id && s["status"] == "sent";
    });
    ASSERT_TRUE(sent.has_value());
    EXPECT_EQ((*sent)["data"]["scheduled_message"]["status"], "sent");
    EXPECT_EQ((*sent)["data"]["scheduled_message"]["message_id"], message["id"]);

    auto pending = get(port(), ann.token, list_url);
    ASSERT_TRUE(IsJson(pending, 200));
    EXPECT_EQ(ids_of(pending.json()["scheduled_messages"].get<std::vector<json>>()),
              std::vector<std::string>{later.json()["id"]});
    auto done = get(port(), ann.token, list_url + "?status=sent");
    ASSERT_TRUE(IsJson(done, 200));
    EXPECT_EQ(ids_of(done.json()["scheduled_messages"].get<std::vector<json>>()), std::vector<std::string>{soon_id});
    EXPECT_TRUE(IsError(patch(port(), ann.token, scheduled_url(soon_id), {{"content", "x"}}), 409, "conflict"));
    EXPECT_TRUE(IsError(del(port(), ann.token, scheduled_url(soon_id)), 409, "conflict"));
}

// docs/api.md: "Messages due at the same moment are posted in send_at, then id, order."
TEST_F(ScheduledTest, MessagesDueAtTheSameMomentArePostedInIdOrder) {
    auto ann = register_user(port(), "sc");
    auto bob = register_user(port(), "sc");
    std::string id = create_group(port(), ann, {bob.id})["id"];
    auto wb = ws_connect(port(), bob.token);
    const auto due = timestamp_from_now(std::chrono::milliseconds(1500));
    std::vector<std::string> scheduled;
    for (int i = 0; i < 8; ++i) {
        auto made = schedule(port(), ann, id, due, {{"type", "text"}, {"content", "same " + std::to_string(i)}});
        ASSERT_TRUE(IsJson(made, 201)) << made.body;
        scheduled.push_back(made.json()["id"]);
    }
    std::vector<std::string> posted;
    while (posted.size() < scheduled.size()) {
        const auto message = wait_for(*wb, "message.new", about_chat(id));
        ASSERT_TRUE(message) << "posted only " << posted.size();
        posted.push_back((*message)["data"]["message"]["client_id"].get<std::string>().substr(strlen("scheduled:")));
    }
    std::sort(scheduled.begin(), scheduled.end());
    EXPECT_EQ(posted, scheduled);
}

// docs/api.md: a scheduled message's mentions "are resolved and told then, against the members
// of that moment": one of a member who has left since stays in the text and tells nobody.
TEST_F(ScheduledTest, AMentionOfAMemberWhoLeftMeanwhileIsPostedAndTellsNobody) {
    auto ann = register_user(port(), "sc");
    auto bob = register_user(port(), "sc");
    auto cy = register_user(port(), "sc");
    std::string id = create_group(port(), ann, {bob.id, cy.id})["id"];
    const json entities = json::array({{{"type", "mention"}, {"offset", 3}, {"length", 3}, {"user_id", cy.id}},
                                       {{"type", "mention"}, {"offset", 7}, {"length", 4}, {"user_id", bob.id}}});
    auto made = schedule(port(), ann, id, timestamp_from_now(std::chrono::hours(1)),
                         {{"type", "text"}, {"content", "hi @cy @bob"}, {"entities", entities}});
    ASSERT_TRUE(IsJson(made, 201)) << made.body;
    ASSERT_EQ(del(port(), cy.token, member_url(id, cy.id)).status, 204) << "cy leaves";
    auto wb = ws_connect(port(), bob.token);
    ASSERT_TRUE(IsJson(patch(port(), ann.token, scheduled_url(made.json()["id"]),
                             {{"send_at", timestamp_from_now(std::chrono::milliseconds(200))}}),
                       200));

    const auto posted = wait_for(*wb, "message.new", about_chat(id));
    ASSERT_TRUE(posted) << "the post was refused";
    EXPECT_EQ((*posted)["data"]["message"]["entities"], entities) << "the text keeps its mentions";
    EXPECT_TRUE(wait_for(*wb, "mention.new")) << "bob, still a member, is told";
    const auto cys = get(port(), cy.token, "/api/v1/mentions");
    ASSERT_TRUE(IsJson(cys, 200));
    EXPECT_EQ(cys.json()["messages"], json::array()) << "cy, gone, is not";
}

TEST_F(ScheduledTest, TheAuthorEditsAndCancelsTheirOwnOnly) {
    auto ann = register_user(port(), "sc");
    auto bob = register_user(port(), "sc");
    std::string id = create_group(port(), ann, {bob.id})["id"];
    auto created = schedule(port(), ann, id, timestamp_from_now(std::chrono::hours(2)));
    ASSERT_TRUE(IsJson(created, 201));
    const std::string sid = created.json()["id"];

    EXPECT_TRUE(IsError(get(port(), bob.token, scheduled_url(sid)), 404, "not_found"));
    EXPECT_TRUE(IsError(patch(port(), bob.token, scheduled_url(sid), {{"content", "x"}}), 404, "not_found"));
    EXPECT_TRUE(IsError(del(port(), bob.token, scheduled_url(sid)), 404, "not_found"));

    const auto new_time = timestamp_from_now(std::chrono::hours(3));
    auto edited = patch(port(), ann.token, scheduled_url(sid), {{"content", "edited"}, {"send_at", new_time}});
    ASSERT_TRUE(IsJson(edited, 200)) << edited.body;
    EXPECT_EQ(edited.json()["content"], "edited");
    EXPECT_EQ(edited.json()["send_at"], new_time);
    EXPECT_EQ(get(port(), ann.token, scheduled_url(sid)).json(), edited.json());
    EXPECT_TRUE(IsError(patch(port(), ann.token, scheduled_url(sid), json::object()), 400, "bad_request"));
    EXPECT_TRUE(IsError(patch(port(), ann.token, scheduled_url(sid), {{"content", ""}}), 400, "bad_request"));
    EXPECT_TRUE(
        IsError(patch(port(), ann.token, scheduled_url(sid), {{"send_at", timestamp_from_now(-std::chrono::hours(1))}}),
                400, "bad_request"));
    EXPECT_TRUE(IsError(patch(port(), ann.token, scheduled_url(sid), {{"type", "image"}}), 400, "bad_request"));

    auto wa = ws_connect(port(), ann.token);
    EXPECT_EQ(del(port(), ann.token, scheduled_url(sid)).status, 204);
    auto deleted = wait_for(*wa, "scheduled_message.deleted");
    ASSERT_TRUE(deleted.has_value());
    EXPECT_EQ((*deleted)["data"], json({{"scheduled_id", sid}, {"chat_id", id}}));
    EXPECT_TRUE(IsError(get(port(), ann.token, scheduled_url(sid)), 404, "not_found"));
}

// Of racing cancels (and edits) by the author, one cancels; the others find the message gone
// and get what any request after a cancel gets, 404, not the 409 of one being posted.
TEST_F(ScheduledTest, RacingCancelsOfTheAuthorCancelOnceAndTheRestAreNotFound) {
    auto ann = register_user(port(), "sr");
    std::string id = create_group(port(), ann)["id"];
    for (int round = 0; round < 3; ++round) {
        auto created = schedule(port(), ann, id, timestamp_from_now(std::chrono::hours(2)));
        ASSERT_TRUE(IsJson(created, 201));
        const std::string sid = created.json()["id"];
        constexpr int racers = 6;
        std::vector<HttpResponse> answers(racers);
        std::vector<std::thread> threads;
        for (int i = 0; i < racers; ++i)
            threads.emplace_back([&, i] {
                answers[i] = i % 3 == 2 ? patch(port(), ann.token, scheduled_url(sid), {{"content", "late edit"}})
                                        : del(port(), ann.token, scheduled_url(sid));
            });
        for (auto& thread : threads) thread.join();
        int cancelled = 0;
        for (int i = 0; i < racers; ++i) {
            if (answers[i].status == 204) {
                ++cancelled;
            } else if (answers[i].status != 200) {
                EXPECT_TRUE(IsError(answers[i], 404, "not_found")) << answers[i].describe();
            }
        }
        EXPECT_EQ(cancelled, 1);
        EXPECT_TRUE(IsError(get(port(), ann.token, scheduled_url(sid)), 404, "not_found"));
    }
}

TEST_F(ScheduledTest, EntitiesAreKeptEditedWithTheContentAndPostedWithIt) {
    auto ann = register_user(port(), "sc");
    auto bob = register_user(port(), "sc");
    std::string id = create_group(port(), ann, {bob.id})["id"];
    const json bold = {{"type", "bold"}, {"offset", 0}, {"length", 4}};
    const json mention = {{"type", "mention"}, {"offset", 4}, {"length", 4}, {"user_id", bob.id}};
    auto created = schedule(port(), ann, id, timestamp_from_now(std::chrono::hours(1)),
                            {{"type", "text"}, {"content", "Hey @bob"}, {"entities", {bold}}});
    ASSERT_TRUE(IsJson(created, 201)) << created.body;
    EXPECT_EQ(created.json()["entities"], json::array({bold}));
    const std::string sid = created.json()["id"];

    // Entities alone are checked against the content already scheduled.
    auto formatted = patch(port(), ann.token, scheduled_url(sid), {{"entities", {bold, mention}}});
    ASSERT_TRUE(IsJson(formatted, 200)) << formatted.body;
    EXPECT_EQ(formatted.json()["entities"], json::array({bold, mention}));
    const auto out_of_range = patch(port(), ann.token, scheduled_url(sid),
                                    {{"entities", {{{"type", "bold"}, {"offset", 0}, {"length", 40}}}}});
    ASSERT_TRUE(IsError(out_of_range, 400, "bad_request")) << out_of_range.body;
    EXPECT_EQ(out_of_range.json()["error"]["details"]["field"], "entities");
    // New content without entities keeps none, as a message edit does.
    auto plain = patch(port(), ann.token, scheduled_url(sid), {{"content", "Hi bob!"}});
    ASSERT_TRUE(IsJson(plain, 200)) << plain.body;
    EXPECT_EQ(plain.json()["entities"], json::array());
    ASSERT_TRUE(
        IsJson(patch(port(), ann.token, scheduled_url(sid), {{"content", "Hey @bob"}, {"entities", {bold, mention}}}),
               200));

    auto wb = ws_connect(port(), bob.token);
    ASSERT_TRUE(IsJson(patch(port(), ann.token, scheduled_url(sid),
                             {{"send_at", timestamp_from_now(std::chrono::milliseconds(300))}}),
                       200));
    auto posted = wait_for(*wb, "message.new", about_chat(id));
    ASSERT_TRUE(posted.has_value());
    EXPECT_EQ((*posted)["data"]["message"]["entities"], json::array({bold, mention}));
    auto told = wait_for(*wb, "mention.new");
    ASSERT_TRUE(told.has_value()) << "the mention is told when the message is posted";
    EXPECT_EQ((*told)["data"]["message_id"], (*posted)["data"]["message"]["id"]);
}

TEST_F(ScheduledTest, BadInputGetsTheDocumentedErrors) {
    auto ann = register_user(port(), "sc");
    auto eve = register_user(port(), "sc");
    std::string id = create_group(port(), ann)["id"];
    EXPECT_TRUE(IsError(schedule(port(), ann, id, timestamp_from_now(-std::chrono::seconds(5))), 400, "bad_request"));
    EXPECT_TRUE(IsError(schedule(port(), ann, id, timestamp_from_now(std::chrono::days(367))), 400, "bad_request"));
    EXPECT_TRUE(IsError(schedule(port(), ann, id, "tomorrow"), 400, "bad_request"));
    EXPECT_TRUE(IsError(schedule(port(), ann, id, "2030-02-30T10:00:00Z"), 400, "bad_request"));
    EXPECT_TRUE(
        IsError(post(port(), ann.token, schedule_url(id), {{"type", "text"}, {"content", "x"}}), 400, "bad_request"));
    EXPECT_TRUE(IsError(schedule(port(), ann, id, timestamp_from_now(std::chrono::hours(1)),
                                 {{"type", "text"}, {"content", ""}}),
                        400, "bad_request"));
    EXPECT_TRUE(IsError(schedule(port(), ann, id, timestamp_from_now(std::chrono::hours(1)),
                                 {{"type", "system"}, {"content", "x"}}),
                        400, "bad_request"));
    EXPECT_TRUE(IsError(schedule(port(), ann, id, timestamp_from_now(std::chrono::hours(1)),
                                 {{"type", "image"}, {"content", "x"}}),
                        400, "bad_request"));
    EXPECT_TRUE(IsError(schedule(port(), ann, id, timestamp_from_now(std::chrono::hours(1)),
                                 {{"type", "image"}, {"media_id", random_uuid()}}),
                        400, "bad_request"));
    EXPECT_TRUE(IsError(schedule(port(), eve, id, timestamp_from_now(std::chrono::hours(1))), 404, "not_found"));
    EXPECT_TRUE(
        IsError(schedule(port(), ann, random_uuid(), timestamp_from_now(std::chrono::hours(1))), 404, "not_found"));
    EXPECT_TRUE(IsError(get(port(), ann.token, list_url + "?status=done"), 400, "bad_request"));
    EXPECT_TRUE(IsError(get(port(), ann.token, list_url + "?cursor=nonsense"), 400, "bad_request"));
    EXPECT_TRUE(IsError(get(port(), ann.token, scheduled_url("x")), 400, "bad_request"));

    // A mention names a member when it is scheduled and when it is edited, as in a send.
    const json mention_of_eve{{{"type", "mention"}, {"offset", 0}, {"length", 4}, {"user_id", eve.id}}};
    EXPECT_TRUE(IsBadField(schedule(port(), ann, id, timestamp_from_now(std::chrono::hours(1)),
                                    {{"type", "text"}, {"content", "@eve"}, {"entities", mention_of_eve}}),
                           "entities"));
    const auto pending = expect_json(schedule(port(), ann, id, timestamp_from_now(std::chrono::hours(1)),
                                              {{"type", "text"}, {"content", "@eve"}}),
                                     201, "schedule");
    EXPECT_TRUE(
        IsBadField(patch(port(), ann.token, scheduled_url(pending["id"]), {{"entities", mention_of_eve}}), "entities"));
}

TEST_F(ScheduledTest, AClientIdMakesSchedulingIdempotentAndListsPaginate) {
    auto ann = register_user(port(), "sc");
    std::string id = create_group(port(), ann)["id"];
    const json body = {{"type", "text"}, {"content", "x"}, {"client_id", "plan-1"}};
    auto first = schedule(port(), ann, id, timestamp_from_now(std::chrono::hours(1)), body);
    ASSERT_TRUE(IsJson(first, 201));
    auto again = schedule(port(), ann, id, timestamp_from_now(std::chrono::hours(5)), body);
    ASSERT_TRUE(IsJson(again, 200));
    EXPECT_EQ(again.json(), first.json());
    std::string other = create_group(port(), ann)["id"];
    EXPECT_TRUE(
        IsError(schedule(port(), ann, other, timestamp_from_now(std::chrono::hours(1)), body), 409, "conflict"));

    for (int i = 2; i <= 5; ++i)
        ASSERT_TRUE(IsJson(schedule(port(), ann, id, timestamp_from_now(std::chrono::hours(i))), 201));
    std::vector<std::string> seen;
    std::string target = list_url + "?limit=2&chat_id=" + id;
    for (int page = 0; page < 5; ++page) {
        auto r = get(port(), ann.token, target);
        ASSERT_TRUE(IsJson(r, 200)) << r.body;
        const auto j = r.json();
        for (const auto& s : j["scheduled_messages"]) {
            EXPECT_TRUE(IsScheduledModel(s));
            seen.push_back(s["send_at"]);
        }
        if (j["next_cursor"].is_null()) break;
        target = list_url + "?limit=2&chat_id=" + id + "&cursor=" + url_encode(j["next_cursor"].get<std::string>());
    }
    ASSERT_EQ(seen.size(), 5u);
    EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end())) << "by send_at";
}

// A page's cursor holds the place of its last message (its send_at and id), not a row to look
// up: cancelling that message (which deletes it) or rescheduling it before the next page is read
// neither ends the list nor skips the messages after it. A rescheduled one is listed again
// where it now stands.
TEST_F(ScheduledTest, APageGoesOnPastItsLastMessageCancelledOrRescheduledSince) {
    auto ann = register_user(port(), "sc");
    std::string chat_id = create_group(port(), ann)["id"];
    std::vector<std::string> ids;
    for (int hours = 1; hours <= 4; ++hours)
        ids.push_back(expect_json(schedule(port(), ann, chat_id, timestamp_from_now(std::chrono::hours(hours))), 201,
                                  "schedule")["id"]);
    const auto page_after = [&](const json& cursor) {
        auto target = list_url + "?limit=1&chat_id=" + chat_id;
        if (!cursor.is_null()) target += "&cursor=" + url_encode(cursor.get<std::string>());
        return expect_json(get(port(), ann.token, target), 200, "a page of one");
    };
    std::vector<std::string> listed;
    const auto read = [&](const json& cursor) {
        const auto page = page_after(cursor);
        for (const auto& s : page["scheduled_messages"]) listed.push_back(s["id"]);
        return page["next_cursor"];
    };

    auto cursor = read(nullptr);
    EXPECT_EQ(del(port(), ann.token, scheduled_url(ids[0])).status, 204);
    cursor = read(cursor);
    ASSERT_TRUE(IsJson(patch(port(), ann.token, scheduled_url(ids[1]),
                             {{"send_at", timestamp_from_now(std::chrono::hours(10))}}),
                       200));
    for (int page = 0; page < 5 && !cursor.is_null(); ++page) cursor = read(cursor);
    EXPECT_TRUE(cursor.is_null());
    EXPECT_EQ(listed, (std::vector<std::string>{ids[0], ids[1], ids[2], ids[3], ids[1]}));
}

TEST_F(ScheduledTest, AnAuthorWhoMayNoLongerPostGetsItCancelledWithTheReason) {
    auto ann = register_user(port(), "sc");
    auto bob = register_user(port(), "sc");
    std::string id = create_group(port(), ann, {bob.id})["id"];
    auto scheduled = schedule(port(), bob, id, timestamp_from_now(std::chrono::hours(1)));
    ASSERT_TRUE(IsJson(scheduled, 201)) << scheduled.body;
    const std::string sid = scheduled.json()["id"];
    auto wb = ws_connect(port(), bob.token);
    auto wa = ws_connect(port(), ann.token);
    expect_json(put(port(), ann.token, chat_url(id), {{"settings", {{"only_admins_can_post", true}}}}), 200,
                "only admins post");
    ASSERT_TRUE(IsJson(patch(port(), bob.token, scheduled_url(sid),
                             {{"send_at", timestamp_from_now(std::chrono::milliseconds(300))}}),
                       200));

    auto cancelled = wait_for(
        *wb, "scheduled_message.updated",
        [&](const json& f) { return f["data"]["scheduled_message"]["status"] == "cancelled"; }, 10s);
    ASSERT_TRUE(cancelled.has_value());
    EXPECT_EQ((*cancelled)["data"]["scheduled_message"]["id"], sid);
    EXPECT_EQ((*cancelled)["data"]["scheduled_message"]["cancel_reason"]["code"], "forbidden");
    EXPECT_EQ((*cancelled)["data"]["scheduled_message"]["message_id"], nullptr);
    const auto bobs_post = frame_of("message.new", [&](const json& f) {
        return f["data"]["message"]["chat_id"] == id && f["data"]["message"]["sender_id"] == bob.id;
    });
    EXPECT_TRUE(NoFrameBefore(*wa, bobs_post, direct_message_marker(port(), bob, ann)));
    auto listed = get(port(), bob.token, list_url + "?status=cancelled");
    ASSERT_TRUE(IsJson(listed, 200));
    EXPECT_EQ(listed.json()["scheduled_messages"][0]["cancel_reason"]["code"], "forbidden");
}

// A message due while the server is down is sent once it is back; one whose post committed
// just before a crash (its message already stored under its client_id) is not sent again.
TEST(ScheduledDurabilityTest, DueMessagesAreSentOnceAfterAKill) {
    CONFAB_REQUIRE_DATABASE();
    TestDatabase db;
    auto server = std::make_unique<ServerProcess>(db.url());
    auto ann = register_user(server->port(), "sd");
    auto bob = register_user(server->port(), "sd");
    std::string id = create_group(server->port(), ann, {bob.id})["id"];
    auto committed = schedule(server->port(), ann, id, timestamp_from_now(std::chrono::hours(1)),
                              {{"type", "text"}, {"content", "committed"}});
    ASSERT_TRUE(IsJson(committed, 201));
    // As if the post of `committed` had committed and the server died before marking it sent.
    const std::string committed_id = committed.json()["id"];
    // A client may not send with that client_id (it is the server's): the row is given it here.
    const auto stored = send_text(server->port(), ann, id, "committed");
    db.query_value("update messages set client_id = 'scheduled:" + committed_id + "' where id = '" +
                   stored["id"].get<std::string>() + "'");
    const auto due = std::chrono::milliseconds(1500);
    const auto due_at = Clock::now() + due;
    ASSERT_TRUE(
        IsJson(patch(server->port(), ann.token, scheduled_url(committed_id), {{"send_at", timestamp_from_now(due)}}),
               200));
    ASSERT_TRUE(
        IsJson(schedule(server->port(), ann, id, timestamp_from_now(due), {{"type", "text"}, {"content", "missed"}}),
               201));
    server->kill();
    std::this_thread::sleep_until(due_at);  // the due time passes while the server is down

    ServerProcess restarted(db.url());
    auto wb = ws_connect(restarted.port(), bob.token);
    ASSERT_TRUE(
        eventually([&] { return get(restarted.port(), ann.token, list_url).json()["scheduled_messages"].empty(); },
                   20s));
    auto contents = [&] {
        std::vector<std::string> texts;
        for (const auto& m : all_messages(restarted.port(), bob, id))
            if (m["type"] == "text") texts.push_back(m["content"]);
        return texts;
    }();
    EXPECT_EQ(std::count(contents.begin(), contents.end(), "missed"), 1);
    EXPECT_EQ(std::count(contents.begin(), contents.end(), "committed"), 1);
    auto sent = get(restarted.port(), ann.token, list_url + "?status=sent");
    ASSERT_TRUE(IsJson(sent, 200));
    EXPECT_EQ(sent.json()["scheduled_messages"].size(), 2u);
}

// An edit or a cancellation racing the post of a due message either wins (the post carries
// the edit, or does not happen) or is 409 and the post carries what was scheduled: never a
// 200 or 204 the post then ignores (docs/api.md, Scheduled messages).
TEST_F(ScheduledTest, AnEditOrCancellationRacingThePostEitherWinsOrIsRefused) {
    auto ann = register_user(port(), "sc");
    auto bob = register_user(port(), "sc");
    std::string id = create_group(port(), ann, {bob.id})["id"];
    constexpr std::size_t count = 40;
    const auto due_in = std::chrono::milliseconds(1500);
    const auto due_at = Clock::now() + due_in;
    const auto due = timestamp_from_now(due_in);
    std::vector<std::string> scheduled;
    for (std::size_t i = 0; i < count; ++i) {
        auto made = schedule(port(), ann, id, due, {{"type", "text"}, {"content", "original " + std::to_string(i)}});
        ASSERT_TRUE(IsJson(made, 201)) << made.body;
        scheduled.push_back(made.json()["id"]);
    }
    enum class Race { edit, cancel, postpone };
    const auto race_of = [](std::size_t i) {
        return i % 3 == 0 ? Race::edit : i % 3 == 1 ? Race::cancel : Race::postpone;
    };
    // Spread from 0 to 250 ms after send_at, where the claim falls.
    const auto answers = all_at_once(count, [&](std::size_t i) {
        std::this_thread::sleep_until(due_at + std::chrono::milliseconds(250 * i / count));
        const auto url = scheduled_url(scheduled[i]);
        switch (race_of(i)) {
            case Race::edit: return patch(port(), ann.token, url, {{"content", "edited " + std::to_string(i)}});
            case Race::cancel: return del(port(), ann.token, url);
            case Race::postpone: break;
        }
        return patch(port(), ann.token, url, {{"send_at", timestamp_from_now(std::chrono::hours(24))}});
    });
    std::size_t expected_posts = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const auto status = answers[i].status;
        ASSERT_TRUE(status == 200 || status == 204 || status == 409) << i << ": " << answers[i].body;
        const bool won = status != 409;
        if (!won || race_of(i) == Race::edit) ++expected_posts;
    }
    std::map<std::string, std::string> posted;  // scheduled id -> the posted content
    ASSERT_TRUE(eventually(
        [&] {
            posted.clear();
            for (const auto& m : all_messages(port(), bob, id))
                if (m["client_id"].is_string())
                    posted[m["client_id"].get<std::string>().substr(strlen("scheduled:"))] = m["content"];
            return posted.size() >= expected_posts;
        },
        10s))
        << posted.size() << " of " << expected_posts << " posted";
    std::this_thread::sleep_for(1s);  // any post that should not happen has had its chance
    posted.clear();
    for (const auto& m : all_messages(port(), bob, id))
        if (m["client_id"].is_string())
            posted[m["client_id"].get<std::string>().substr(strlen("scheduled:"))] = m["content"];
    for (std::size_t i = 0; i < count; ++i) {
        const auto& sid = scheduled[i];
        const bool won = answers[i].status != 409;
        const auto original = "original " + std::to_string(i);
        const auto record = get(port(), ann.token, scheduled_url(sid));
        SCOPED_TRACE(std::to_string(i) + " answered " + std::to_string(answers[i].status) + ": " + record.body);
        switch (race_of(i)) {
            case Race::edit:
                ASSERT_TRUE(posted.count(sid));
                EXPECT_EQ(posted[sid], won ? "edited " + std::to_string(i) : original);
                EXPECT_EQ(record.json()["status"], "sent");
                EXPECT_EQ(record.json()["content"], posted[sid]);
                break;
            case Race::cancel:
                EXPECT_EQ(posted.count(sid), won ? 0U : 1U);
                if (!won) EXPECT_EQ(posted[sid], original);
                EXPECT_EQ(record.status, won ? 404 : 200);
                break;
            case Race::postpone:
                EXPECT_EQ(posted.count(sid), won ? 0U : 1U);
                EXPECT_EQ(record.json()["status"], won ? "pending" : "sent");
                break;
        }
    }
}

// A post the chat keeps waiting past its claim's first lease (here another transaction holds
// the chat's row) keeps its claim: an edit meanwhile is 409, and the post carries what was
// scheduled, as the record says (docs/api.md, Scheduled messages).
TEST_F(ScheduledTest, APostKeptWaitingPastItsFirstLeaseStillRefusesEdits) {
    auto ann = register_user(port(), "sc");
    auto bob = register_user(port(), "sc");
    std::string chat_id = create_group(port(), ann, {bob.id})["id"];
    auto made = schedule(port(), ann, chat_id, timestamp_from_now(std::chrono::milliseconds(1500)),
                         {{"type", "text"}, {"content", "as scheduled"}});
    ASSERT_TRUE(IsJson(made, 201)) << made.body;
    const std::string id = made.json()["id"];
    pqxx::connection holder_connection(chat_database_url());
    pqxx::work holder(holder_connection);
    holder.exec_params("SELECT 1 FROM chats WHERE id = $1::uuid FOR NO KEY UPDATE", chat_id);

    pqxx::connection watcher(chat_database_url());
    const auto ask = [&](const std::string& sql) {
        pqxx::nontransaction tx(watcher);
        return tx.exec_params1(sql, id)[0];
    };
    std::string first_claim;
    ASSERT_TRUE(eventually(
        [&] {
            const auto claimed_until = ask("SELECT claimed_until::text FROM scheduled_messages WHERE id = $1::uuid");
            if (!claimed_until.is_null()) first_claim = claimed_until.as<std::string>();
            return !first_claim.empty();
        },
        10s));
    const auto past_first_claim = [&](const std::string& offset) {
        return ask("SELECT now() > '" + first_claim + "'::timestamptz + interval '" + offset +
                   "' FROM scheduled_messages WHERE id = $1::uuid")
            .as<bool>();
    };
    // Edits one after another from before the first lease runs out until after it.
    ASSERT_TRUE(eventually([&] { return past_first_claim("-300 milliseconds"); }, 20s));
    int edits = 0;
    while (!past_first_claim("500 milliseconds")) {
        ++edits;
        ASSERT_TRUE(IsError(patch(port(), ann.token, scheduled_url(id), {{"content", "edited"}}), 409, "conflict"))
            << "edit " << edits << " landed while the post was under way";
    }
    EXPECT_TRUE(IsError(del(port(), ann.token, scheduled_url(id)), 409, "conflict"));
    holder.abort();

    ASSERT_TRUE(eventually([&] { return get(port(), ann.token, scheduled_url(id)).json()["status"] == "sent"; }, 10s));
    const auto record = get(port(), ann.token, scheduled_url(id)).json();
    EXPECT_EQ(record["content"], "as scheduled");
    std::vector<json> posted;
    for (const auto& m : all_messages(port(), bob, chat_id))
        if (m["client_id"] == "scheduled:" + id) posted.push_back(m);
    ASSERT_EQ(posted.size(), 1u);
    EXPECT_EQ(posted[0]["content"], "as scheduled");
    EXPECT_EQ(posted[0]["id"], record["message_id"]);
}

}  // namespace
}  // namespace confab::test
