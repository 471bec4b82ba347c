// Broadcast lists (docs/api.md, Broadcast lists): POST/GET /broadcast-lists, GET/PATCH/DELETE
// /broadcast-lists/{list_id}, PUT/DELETE .../recipients/{user_id} and POST .../messages. Only
// the owner sees a list (everyone else gets 404); a list holds at most 256 recipients. A
// broadcast posts one ordinary direct message per recipient through the send path, so blocks
// and the sender's rate limit refuse single copies, and a repeat with the same client_id
// posts only the copies still missing.

#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "support/chat_api.hpp"

namespace confab::test {
namespace {

using BroadcastListsTest = ChatTest;
using BroadcastSendTest = ChatTest;

const std::string lists_url = "/api/v1/broadcast-lists";
std::string list_url(const std::string& list_id) { return lists_url + "/" + list_id; }
std::string recipient_url(const std::string& list_id, const std::string& user_id) {
    return list_url(list_id) + "/recipients/" + user_id;
}
std::string broadcast_url(const std::string& list_id) { return list_url(list_id) + "/messages"; }

json create_list(std::uint16_t port, const TestUser& owner, const std::string& name,
                 const std::vector<std::string>& recipient_ids) {
    return expect_json(post(port, owner.token, lists_url, {{"name", name}, {"recipient_ids", recipient_ids}}), 201,
                       "broadcast list");
}

json broadcast(std::uint16_t port, const TestUser& sender, const std::string& list_id, const std::string& content,
               const std::string& client_id) {
    return expect_json(post(port, sender.token, broadcast_url(list_id),
                            {{"type", "text"}, {"content", content}, {"client_id", client_id}}),
                       200, "broadcast");
}

::testing::AssertionResult IsListModel(const json& j) {
    if (!j.is_object() || j.size() != 5 || !is_uuid(j["id"]) || !j["name"].is_string() ||
        !j["recipient_ids"].is_array() || !is_timestamp(j["created_at"]) || !is_timestamp(j["updated_at"]))
        return ::testing::AssertionFailure() << "not a BroadcastListModel: " << j.dump();
    return ::testing::AssertionSuccess();
}

// The results of a broadcast by recipient.
std::map<std::string, json> by_recipient(const json& body) {
    std::map<std::string, json> out;
    for (const auto& result : body["results"]) out.emplace(result["recipient_id"], result);
    return out;
}

// `count` users made straight in the database: registering 257 through the API would test
// registration, not lists.
std::vector<std::string> make_users(const std::string& database_url, int count) {
    pqxx::connection db(database_url);
    pqxx::work tx(db);
    std::vector<std::string> ids;
    const auto prefix = "bl" + random_alnum(8);
    for (const auto& row : tx.exec_params(
             "INSERT INTO users (username, display_name, password_hash) "
             "SELECT $1::text || '_' || n, 'listed', 'x' FROM generate_series(1, $2::int) n RETURNING id::text",
             prefix, count))
        ids.push_back(row[0].as<std::string>());
    tx.commit();
    return ids;
}

// The message.new frames `ws` got for chat_id, up to the marker.
std::vector<json> new_messages_until(WsClient& ws, const std::string& chat_id, const FramePred& marker) {
    std::vector<json> out;
    const auto frames = frames_until(ws, marker);
    EXPECT_TRUE(frames.has_value()) << "the marker never came";
    if (!frames) return out;
    for (const auto& frame : *frames)
        if (frame["type"] == "message.new" && frame["data"]["message"]["chat_id"] == chat_id) out.push_back(frame);
    return out;
}

TEST_F(BroadcastListsTest, AListIsCreatedReadRenamedPagedAndDeleted) {
    const auto ann = register_user(port(), "bl");
    const auto bob = register_user(port(), "bl");
    const auto cat = register_user(port(), "bl");

    const auto created = create_list(port(), ann, "family", {bob.id, cat.id, bob.id});
    EXPECT_TRUE(IsListModel(created));
    EXPECT_EQ(created["name"], "family");
    EXPECT_EQ(created["recipient_ids"], json({bob.id, cat.id})) << "named twice, listed once, in order";
    const std::string id = created["id"];
    EXPECT_EQ(expect_json(get(port(), ann.token, list_url(id)), 200, "list"), created);

    const auto renamed = expect_json(patch(port(), ann.token, list_url(id), {{"name", "kin"}}), 200, "rename");
    EXPECT_EQ(renamed["name"], "kin");
    EXPECT_EQ(renamed["recipient_ids"], created["recipient_ids"]);

    const std::string second = create_list(port(), ann, "work", {})["id"];
    const std::string third = create_list(port(), ann, "club", {cat.id})["id"];
    const auto first_page = expect_json(get(port(), ann.token, lists_url + "?limit=2"), 200, "page");
    ASSERT_EQ(first_page["broadcast_lists"].size(), 2u);
    EXPECT_EQ(first_page["broadcast_lists"][0]["id"], third) << "newest first";
    EXPECT_EQ(first_page["broadcast_lists"][1]["id"], second);
    ASSERT_TRUE(first_page["next_cursor"].is_string());
    const auto last_page =
        expect_json(get(port(), ann.token, lists_url + "?limit=2&cursor=" + std::string(first_page["next_cursor"])),
                    200, "page");
    ASSERT_EQ(last_page["broadcast_lists"].size(), 1u);
    EXPECT_EQ(last_page["broadcast_lists"][0], renamed);
    EXPECT_TRUE(last_page["next_cursor"].is_null());

    EXPECT_EQ(del(port(), ann.token, list_url(id)).status, 204);
    EXPECT_TRUE(IsError(get(port(), ann.token, list_url(id)), 404, "not_found"));
    EXPECT_TRUE(IsError(del(port(), ann.token, list_url(id)), 404, "not_found"));
    EXPECT_EQ(expect_json(get(port(), ann.token, lists_url), 200, "lists")["broadcast_lists"].size(), 2u);
}

TEST_F(BroadcastListsTest, OnlyTheOwnerSeesOrUsesAListEveryoneElseGetsNotFound) {
    const auto ann = register_user(port(), "bl");
    const auto bob = register_user(port(), "bl");
    const auto eve = register_user(port(), "bl");
    const auto list = create_list(port(), ann, "mine", {bob.id});
    const std::string id = list["id"];

    EXPECT_TRUE(IsError(get(port(), eve.token, list_url(id)), 404, "not_found"));
    EXPECT_TRUE(IsError(patch(port(), eve.token, list_url(id), {{"name", "theirs"}}), 404, "not_found"));
    EXPECT_TRUE(IsError(put(port(), eve.token, recipient_url(id, eve.id)), 404, "not_found"));
    EXPECT_TRUE(IsError(del(port(), eve.token, recipient_url(id, bob.id)), 404, "not_found"));
    EXPECT_TRUE(
        IsError(post(port(), eve.token, broadcast_url(id), {{"type", "text"}, {"content", "x"}, {"client_id", "c1"}}),
                404, "not_found"));
    EXPECT_TRUE(IsError(del(port(), eve.token, list_url(id)), 404, "not_found"));
    // A recipient is told nothing of the list either.
    EXPECT_TRUE(IsError(get(port(), bob.token, list_url(id)), 404, "not_found"));
    EXPECT_TRUE(expect_json(get(port(), eve.token, lists_url), 200, "lists")["broadcast_lists"].empty());
    EXPECT_TRUE(IsError(get(port(), eve.token, list_url(random_uuid())), 404, "not_found"));
    EXPECT_EQ(expect_json(get(port(), ann.token, list_url(id)), 200, "list"), list) << "nothing changed";
}

TEST_F(BroadcastListsTest, RecipientsAreAddedAndRemovedUpTo256) {
    const auto ann = register_user(port(), "bl");
    auto users = make_users(database_url(), 257);
    const auto extra = users.back();
    users.pop_back();

    auto over = users;
    over.push_back(extra);
    EXPECT_TRUE(HasReason(post(port(), ann.token, lists_url, {{"name", "all"}, {"recipient_ids", over}}), 409,
                          "conflict", "too_many_recipients"));
    const auto full = create_list(port(), ann, "all", users);
    const std::string id = full["id"];
    EXPECT_EQ(full["recipient_ids"].size(), 256u);
    const auto one_more = put(port(), ann.token, recipient_url(id, extra));
    EXPECT_TRUE(HasReason(one_more, 409, "conflict", "too_many_recipients"));
    EXPECT_EQ(one_more.json()["error"]["details"].value("limit", 0), 256) << one_more.describe();
    // Adding one already there changes nothing, at the cap too.
    EXPECT_EQ(expect_json(put(port(), ann.token, recipient_url(id, users[0])), 200, "re-add")["recipient_ids"],
              full["recipient_ids"]);

    const auto fewer = expect_json(del(port(), ann.token, recipient_url(id, users[0])), 200, "remove");
    EXPECT_EQ(fewer["recipient_ids"].size(), 255u);
    EXPECT_EQ(expect_json(del(port(), ann.token, recipient_url(id, users[0])), 200, "remove again"), fewer);
    const auto refilled = expect_json(put(port(), ann.token, recipient_url(id, extra)), 200, "add");
    ASSERT_EQ(refilled["recipient_ids"].size(), 256u);
    EXPECT_EQ(refilled["recipient_ids"].back(), extra) << "added last";

    const std::string small = create_list(port(), ann, "small", {})["id"];
    EXPECT_TRUE(HasReason(put(port(), ann.token, recipient_url(small, ann.id)), 400, "bad_request", "self_recipient"));
    EXPECT_TRUE(HasReason(post(port(), ann.token, lists_url, {{"name", "me"}, {"recipient_ids", {ann.id}}}), 400,
                          "bad_request", "self_recipient"));
    EXPECT_TRUE(IsError(put(port(), ann.token, recipient_url(small, random_uuid())), 404, "not_found"));
    EXPECT_TRUE(IsError(post(port(), ann.token, lists_url, {{"name", "ghost"}, {"recipient_ids", {random_uuid()}}}),
                        404, "not_found"));
    EXPECT_TRUE(IsError(put(port(), ann.token, recipient_url(small, "not-a-uuid")), 400, "bad_request"));
    EXPECT_TRUE(expect_json(get(port(), ann.token, list_url(small)), 200, "small")["recipient_ids"].empty());
}

TEST_F(BroadcastListsTest, ADeletedAccountLeavesEveryListAndItsOwnListsGo) {
    const auto ann = register_user(port(), "bl");
    const auto bob = register_user(port(), "bl");
    const auto cat = register_user(port(), "bl");
    const std::string id = create_list(port(), ann, "friends", {bob.id, cat.id})["id"];
    const std::string bobs = create_list(port(), bob, "mine", {ann.id})["id"];

    ASSERT_EQ(del(port(), bob.token, "/api/v1/users/me", json{{"password", kPassword}}).status, 204);
    EXPECT_EQ(expect_json(get(port(), ann.token, list_url(id)), 200, "list")["recipient_ids"], json({cat.id}));
    const auto results = broadcast(port(), ann, id, "still there?", "d-1")["results"];
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0]["recipient_id"], cat.id);
    pqxx::connection db(database_url());
    pqxx::work tx(db);
    EXPECT_EQ(tx.exec_params1("SELECT count(*) FROM broadcast_lists WHERE id = $1::uuid", bobs)[0].as<int>(), 0);
}

TEST_F(BroadcastListsTest, BadBodiesAreRefusedWithBadRequest) {
    const auto ann = register_user(port(), "bl");
    const auto bob = register_user(port(), "bl");
    const std::string id = create_list(port(), ann, "l", {bob.id})["id"];
    const std::vector<json> bad_lists{
        json::object(),
        {{"name", ""}},
        {{"name", std::string(65, 'x')}},
        {{"name", "a\nb"}},
        {{"name", 7}},
        {{"name", "ok"}, {"recipient_ids", "x"}},
        {{"name", "ok"}, {"recipient_ids", {"not-a-uuid"}}},
        {{"name", "ok"}, {"recipient_ids", {1}}},
        {{"name", "ok"}, {"owner_id", ann.id}},
    };
    for (const auto& body : bad_lists)
        EXPECT_TRUE(IsError(post(port(), ann.token, lists_url, body), 400, "bad_request")) << body.dump();
    EXPECT_TRUE(IsError(patch(port(), ann.token, list_url(id), json::object()), 400, "bad_request"));
    EXPECT_TRUE(IsError(patch(port(), ann.token, list_url(id), {{"name", "x"}, {"recipient_ids", json::array()}}), 400,
                        "bad_request"));
    EXPECT_TRUE(IsError(get(port(), ann.token, list_url("nope")), 400, "bad_request"));
    EXPECT_TRUE(IsError(get(port(), ann.token, lists_url + "?cursor=zzz"), 400, "bad_request"));

    const std::vector<json> bad_sends{
        {{"type", "text"}, {"content", "hi"}},
        {{"type", "text"}, {"content", ""}, {"client_id", "c"}},
        {{"type", "text"}, {"content", "hi"}, {"client_id", ""}},
        {{"type", "text"}, {"content", "hi"}, {"client_id", std::string(65, 'c')}},
        {{"type", "image"}, {"media_id", random_uuid()}, {"client_id", "c"}},
        {{"type", "text"}, {"content", "hi"}, {"reply_to_id", random_uuid()}, {"client_id", "c"}},
        {{"type", "text"}, {"content", "hi"}, {"thread_root_id", random_uuid()}, {"client_id", "c"}},
        {{"type", "nonsense"}, {"content", "hi"}, {"client_id", "c"}},
        {{"type", "system"}, {"content", "hi"}, {"client_id", "c"}},
    };
    for (const auto& body : bad_sends)
        EXPECT_TRUE(IsError(post(port(), ann.token, broadcast_url(id), body), 400, "bad_request")) << body.dump();
    EXPECT_TRUE(IsError(post_raw(port(), broadcast_url(id), "{not json", auth_header(ann.token)), 400, "bad_request"));
    EXPECT_TRUE(list_chats(port(), bob).empty()) << "a refused broadcast opens no chat";
}

// docs/api.md, Broadcast lists: a template is filled once, before any copy, so a template send
// that would be refused is refused whole and opens no direct chat.
TEST_F(BroadcastSendTest, ATemplateIsFilledBeforeAnyCopyOpensAChat) {
    const auto ann = register_user(port(), "bs");
    const auto bob = register_user(port(), "bs");
    const std::string id = create_list(port(), ann, "news", {bob.id})["id"];
    const std::string greeting =
        expect_json(post(port(), ann.token, "/api/v1/templates", {{"name", "hi"}, {"content", "Hi {{name}}"}}), 201,
                    "create template")["id"];
    const auto send = [&](const json& from_template) {
        json body = from_template;
        body["type"] = "text";
        body["client_id"] = "t-1";
        return post(port(), ann.token, broadcast_url(id), body);
    };

    EXPECT_TRUE(IsError(send({{"template_id", random_uuid()}}), 404, "not_found"));
    EXPECT_TRUE(IsBadField(send({{"template_id", greeting}, {"values", json::object()}}), "values"));
    EXPECT_TRUE(IsError(send({{"template_id", greeting}, {"values", {{"name", std::string(4001, 'v')}}}}), 413,
                        "payload_too_large"));
    EXPECT_TRUE(list_chats(port(), bob).empty()) << "a refused broadcast opens no chat";

    const auto sent = send({{"template_id", greeting}, {"values", {{"name", "Bob"}}}});
    ASSERT_TRUE(IsJson(sent, 200)) << sent.body;
    const auto result = sent.json()["results"][0];
    EXPECT_EQ(result["status"], "sent") << result.dump();
    EXPECT_EQ(result["message"]["content"], "Hi Bob");
}

TEST_F(BroadcastSendTest, EachRecipientGetsOneOrdinaryDirectMessageAndARepeatPostsNothing) {
    const auto ann = register_user(port(), "bs");
    const auto bob = register_user(port(), "bs");
    const auto cat = register_user(port(), "bs");
    const auto dan = register_user(port(), "bs");
    // Bob already talks with ann: his copy goes to that chat; cat's chat is opened for it.
    const std::string bob_chat = create_direct(port(), ann, bob)["id"];
    send_text(port(), bob, bob_chat, "hello ann");
    const std::string id = create_list(port(), ann, "news", {bob.id, cat.id})["id"];
    auto bob_ws = ws_connect(port(), bob.token);
    auto cat_ws = ws_connect(port(), cat.token);

    const auto first = broadcast(port(), ann, id, "big news", "news-1");
    ASSERT_EQ(first["results"].size(), 2u);
    auto results = by_recipient(first);
    for (const auto& user : {bob, cat}) {
        const auto& result = results[user.id];
        EXPECT_EQ(result["status"], "sent") << result.dump();
        EXPECT_TRUE(result["error"].is_null()) << result.dump();
        EXPECT_TRUE(IsMessageModel(result["message"])) << result.dump();
        EXPECT_EQ(result["message"]["content"], "big news");
        EXPECT_EQ(result["message"]["sender_id"], ann.id);
        EXPECT_EQ(result["message"]["chat_id"], result["chat_id"]);
    }
    EXPECT_EQ(results[bob.id]["chat_id"], bob_chat);
    const std::string cat_chat = results[cat.id]["chat_id"];
    EXPECT_EQ(get_chat(port(), cat, cat_chat)["type"], "direct");

    // Each recipient hears of their copy once, as an ordinary direct message.
    const auto bob_news = new_messages_until(*bob_ws, bob_chat, direct_message_marker(port(), dan, bob));
    ASSERT_EQ(bob_news.size(), 1u);
    const auto& seen = bob_news[0]["data"]["message"];
    EXPECT_EQ(seen["id"], results[bob.id]["message"]["id"]);
    EXPECT_NE(seen.value("client_id", ""), "news-1") << "the broadcast's own client_id stays the sender's";
    EXPECT_EQ(seen.dump().find(id), std::string::npos) << "nothing names the list";
    const auto cat_news = new_messages_until(*cat_ws, cat_chat, direct_message_marker(port(), dan, cat));
    ASSERT_EQ(cat_news.size(), 1u);
    EXPECT_EQ(cat_news[0]["data"]["message"]["id"], results[cat.id]["message"]["id"]);
    EXPECT_NE(seen["client_id"], cat_news[0]["data"]["message"]["client_id"]) << "one key per copy";

    // The same client_id again: the stored copies, nothing new posted or sent.
    const auto again = by_recipient(broadcast(port(), ann, id, "big news", "news-1"));
    for (const auto& user : {bob, cat}) {
        EXPECT_EQ(again.at(user.id)["status"], "already_sent");
        EXPECT_EQ(again.at(user.id)["message"]["id"], results[user.id]["message"]["id"]);
    }
    EXPECT_TRUE(new_messages_until(*bob_ws, bob_chat, direct_message_marker(port(), dan, bob)).empty());
    EXPECT_TRUE(new_messages_until(*cat_ws, cat_chat, direct_message_marker(port(), dan, cat)).empty());
    EXPECT_EQ(all_messages(port(), cat, cat_chat).size(), 1u);
    EXPECT_EQ(all_messages(port(), bob, bob_chat).size(), 2u);

    // A new client_id is a new broadcast.
    const auto next = by_recipient(broadcast(port(), ann, id, "more news", "news-2"));
    EXPECT_EQ(next.at(cat.id)["status"], "sent");
    EXPECT_EQ(all_messages(port(), cat, cat_chat).size(), 2u);
}

TEST_F(BroadcastSendTest, ARecipientWhoBlockedTheSenderGetsNothingAndTheOthersGetTheirs) {
    const auto ann = register_user(port(), "bs");
    const auto bob = register_user(port(), "bs");
    const auto cat = register_user(port(), "bs");
    const auto dan = register_user(port(), "bs");
    const std::string id = create_list(port(), ann, "news", {bob.id, cat.id})["id"];
    ASSERT_EQ(put(port(), bob.token, "/api/v1/users/me/blocks/" + ann.id).status, 204);
    auto bob_ws = ws_connect(port(), bob.token);

    const auto results = by_recipient(broadcast(port(), ann, id, "hi all", "b-1"));
    const auto& refused = results.at(bob.id);
    EXPECT_EQ(refused["status"], "refused");
    EXPECT_TRUE(refused["message"].is_null());
    EXPECT_EQ(refused["error"]["code"], "forbidden");
    EXPECT_EQ(refused["error"]["details"]["reason"], "blocked");
    EXPECT_EQ(results.at(cat.id)["status"], "sent");

    const auto marker = direct_message_marker(port(), dan, bob);
    const auto from_ann =
        frame_of("message.new", [&](const json& f) { return f["data"]["message"]["sender_id"] == ann.id; });
    EXPECT_TRUE(NoFrameBefore(*bob_ws, from_ann, marker));
    EXPECT_EQ(list_chats(port(), bob).size(), 1u) << "only dan's chat";
}

// A copy goes to a direct chat of two: one mentioning a third user is refused as a send there
// would be, and opens no chat.
TEST_F(BroadcastSendTest, ACopyMentioningSomeoneOutsideItsChatIsRefusedBeforeTheChatOpens) {
    const auto ann = register_user(port(), "bs");
    const auto bob = register_user(port(), "bs");
    const auto cat = register_user(port(), "bs");
    const std::string id = create_list(port(), ann, "news", {bob.id, cat.id})["id"];
    const std::string text = "hi bob";  // "bob" at 3..6
    const json mention{{"type", "mention"}, {"offset", 3}, {"length", 3}, {"user_id", bob.id}};
    const auto sent = post(port(), ann.token, broadcast_url(id),
                           {{"type", "text"}, {"content", text}, {"entities", {mention}}, {"client_id", "m-1"}});
    ASSERT_TRUE(IsJson(sent, 200)) << sent.body;
    const auto results = by_recipient(sent.json());
    EXPECT_EQ(results.at(bob.id)["status"], "sent");
    EXPECT_EQ(results.at(cat.id)["status"], "refused");
    EXPECT_EQ(results.at(cat.id)["error"]["code"], "bad_request");
    EXPECT_EQ(results.at(cat.id)["error"]["details"]["field"], "entities");
    EXPECT_TRUE(results.at(cat.id)["chat_id"].is_null());
    EXPECT_TRUE(list_chats(port(), cat).empty()) << "no chat opened for a copy that could not be posted";
}

TEST(BroadcastRateLimitTest, CopiesPastTheSendersLimitAreRefusedAndARetryPostsOnlyThose) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(shared_database().url(),
                         std::map<std::string, std::string>{{"CONFAB_LIMIT_MESSAGE_BURST", "2"},
                                                            {"CONFAB_LIMIT_MESSAGE_RATE", "1"}});
    const auto port = server.port();
    const auto ann = register_user(port, "br");
    std::vector<TestUser> recipients;
    std::vector<std::string> ids;
    for (int i = 0; i < 4; ++i) {
        recipients.push_back(register_user(port, "br"));
        ids.push_back(recipients.back().id);
    }
    const std::string id = create_list(port, ann, "many", ids)["id"];

    const auto first = broadcast(port, ann, id, "hello", "r-1");
    ASSERT_EQ(first["results"].size(), 4u);
    EXPECT_EQ(first["results"][0]["status"], "sent");
    EXPECT_EQ(first["results"][1]["status"], "sent");
    int limited = 0;
    for (const auto& result : first["results"]) {
        if (result["status"] != "refused") continue;
        ++limited;
        EXPECT_EQ(result["error"]["code"], "rate_limited") << result.dump();
        EXPECT_GT(result["error"]["details"].value("retry_after_ms", 0), 0) << result.dump();
        EXPECT_TRUE(result["chat_id"].is_null()) << "no chat is opened for a copy that cannot be posted";
    }
    EXPECT_GE(limited, 1) << first.dump();

    // Retried until every copy is there: the copies already posted are not posted again.
    json last;
    EXPECT_TRUE(eventually([&] {
        last = broadcast(port, ann, id, "hello", "r-1");
        for (const auto& result : last["results"])
            if (result["status"] == "refused") return false;
        return true;
    }));
    EXPECT_EQ(last["results"][0]["status"], "already_sent");
    EXPECT_EQ(last["results"][0]["message"]["id"], first["results"][0]["message"]["id"]);
    for (const auto& user : recipients) {
        const auto chats = list_chats(port, user);
        ASSERT_EQ(chats.size(), 1u);
        EXPECT_EQ(all_messages(port, user, chats[0]["id"]).size(), 1u) << "one copy each";
    }
}

}  // namespace
}  // namespace confab::test
