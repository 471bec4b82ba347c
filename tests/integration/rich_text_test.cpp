// Rich text: formatting entities over a message's content, in UTF-16 code units, validated by
// the server, stored, returned with the message everywhere it is read, and edited with it.

#include <gtest/gtest.h>

#include "support/chat_api.hpp"

namespace confab::test {
namespace {

using RichTextTest = ChatTest;

json entity(const std::string& type, int offset, int length, json extra = json::object()) {
    json e = {{"type", type}, {"offset", offset}, {"length", length}};
    for (auto it = extra.begin(); it != extra.end(); ++it) e[it.key()] = it.value();
    return e;
}

// 400 bad_request naming the entities field, with a message containing `words`.
::testing::AssertionResult IsEntitiesError(const HttpResponse& r, const std::string& words) {
    auto error = IsError(r, 400, "bad_request");
    if (!error) return error;
    const auto body = r.json()["error"];
    if (body["details"]["field"] != "entities")
        return ::testing::AssertionFailure() << "field is not entities: " << r.body;
    if (body["message"].get<std::string>().find(words) == std::string::npos)
        return ::testing::AssertionFailure() << "message lacks '" << words << "': " << r.body;
    return ::testing::AssertionSuccess();
}

TEST_F(RichTextTest, EntitiesTravelWithTheMessageEverywhereItIsRead) {
    auto a = register_user(port(), "rt");
    auto b = register_user(port(), "rt");
    const std::string chat = create_direct(port(), a, b)["id"];
    auto wb = ws_connect(port(), b.token);
    // "Hi 😀 see docs": the emoji is two UTF-16 units, so "see" starts at 6.
    const json entities =
        json::array({entity("bold", 0, 2), entity("italic", 3, 2),
                     entity("link", 6, 8, {{"url", "https://example.com/docs"}}), entity("underline", 10, 4)});
    const auto sent = send_text(port(), a, chat, "Hi 😀 see docs", {{"entities", entities}});
    EXPECT_TRUE(IsMessageModel(sent));
    EXPECT_EQ(sent["entities"], entities) << "stored and returned as sent";

    const auto event = wait_for(*wb, "message.new", about_message(sent["id"]));
    ASSERT_TRUE(event.has_value());
    EXPECT_EQ((*event)["data"]["message"]["entities"], entities);
    EXPECT_EQ(get_message(port(), b, sent["id"])["entities"], entities);
    EXPECT_EQ(all_messages(port(), b, chat).back()["entities"], entities) << "history";
    EXPECT_EQ(get_chat(port(), b, chat)["last_message"]["entities"], entities) << "chat view";
    const auto sync =
        expect_json(get(port(), b.token, chat_messages_url(chat) + "?since_version=0"), 200, "sync")["messages"];
    ASSERT_EQ(sync.size(), 1u);
    EXPECT_EQ(sync[0]["entities"], entities);
    EXPECT_EQ(expect_json(get(port(), b.token, "/api/v1/search/messages?q=docs"), 200,
                          "search")["results"][0]["message"]["entities"],
              entities)
        << "the plain content stays searchable";

    const auto plain = send_text(port(), a, chat, "plain");
    EXPECT_EQ(plain["entities"], json::array()) << "always present";
}

TEST_F(RichTextTest, TheWebSocketSendsAndEditsEntitiesToo) {
    auto a = register_user(port(), "rw");
    auto b = register_user(port(), "rw");
    const std::string chat = create_direct(port(), a, b)["id"];
    auto wa = ws_connect(port(), a.token);
    const json entities = json::array({entity("code", 4, 3)});
    const auto ack = ws_request(*wa, "message.send",
                                {{"chat_id", chat}, {"type", "text"}, {"content", "run ls!"}, {"entities", entities}});
    ASSERT_TRUE(IsAck(ack)) << ack.dump();
    EXPECT_EQ(ack["data"]["message"]["entities"], entities);

    const json edited_entities = json::array({entity("code_block", 0, 6, {{"language", "sh"}})});
    const auto edited = ws_request(*wa, "message.edit",
                                   {{"message_id", ack["data"]["message"]["id"]},
                                    {"content", "ls -la"},
                                    {"entities", edited_entities}});
    ASSERT_TRUE(IsAck(edited)) << edited.dump();
    EXPECT_EQ(edited["data"]["message"]["entities"], edited_entities);

    const auto refused = ws_request(
        *wa, "message.send",
        {{"chat_id", chat}, {"type", "text"}, {"content", "x"}, {"entities", json::array({entity("bold", 0, 2)})}});
    EXPECT_EQ(refused["type"], "error") << refused.dump();
}

TEST_F(RichTextTest, AnEditReplacesContentAndEntitiesTogether) {
    auto a = register_user(port(), "re");
    auto b = register_user(port(), "re");
    const std::string chat = create_direct(port(), a, b)["id"];
    const auto sent = send_text(port(), a, chat, "hello world", {{"entities", json::array({entity("bold", 0, 5)})}});
    auto wb = ws_connect(port(), b.token);

    const json spoiler = json::array({entity("spoiler", 4, 5), entity("strikethrough", 4, 5)});
    auto r = put(port(), a.token, message_url(sent["id"]), {{"content", "new secret"}, {"entities", spoiler}});
    ASSERT_TRUE(IsJson(r, 200));
    EXPECT_EQ(r.json()["entities"], spoiler);
    EXPECT_TRUE(r.json()["is_edited"]);
    EXPECT_GT(r.json()["version"], sent["version"]) << "the edit takes the chat's next version";
    const auto event = wait_for(*wb, "message.updated", about_message(sent["id"]));
    ASSERT_TRUE(event.has_value());
    EXPECT_EQ((*event)["data"]["message"]["entities"], spoiler);
    const auto sync = expect_json(get(port(), b.token,
                                      chat_messages_url(chat) +
                                          "?since_version=" + std::to_string(sent["version"].get<std::int64_t>())),
                                  200, "sync")["messages"];
    ASSERT_EQ(sync.size(), 1u);
    EXPECT_EQ(sync[0]["entities"], spoiler);

    r = put(port(), a.token, message_url(sent["id"]), {{"content", "plain again"}});
    ASSERT_TRUE(IsJson(r, 200));
    EXPECT_EQ(r.json()["entities"], json::array()) << "an edit without entities keeps none";

    // An edit is judged against its own content.
    EXPECT_TRUE(IsEntitiesError(put(port(), a.token, message_url(sent["id"]),
                                    {{"content", "short"}, {"entities", json::array({entity("bold", 0, 6)})}}),
                                "within the content"));
    EXPECT_EQ(get_message(port(), a, sent["id"])["content"], "plain again") << "a refused edit changes nothing";

    // A deleted message keeps no entities.
    const auto formatted = send_text(port(), a, chat, "gone soon", {{"entities", json::array({entity("bold", 0, 4)})}});
    ASSERT_EQ(del(port(), a.token, message_url(formatted["id"])).status, 204);
    const auto deleted = all_messages(port(), b, chat).back();
    EXPECT_TRUE(deleted["is_deleted"]);
    EXPECT_EQ(deleted["entities"], json::array());
}

TEST_F(RichTextTest, EveryRuleIsRefusedWithItsReason) {
    auto a = register_user(port(), "rv");
    auto b = register_user(port(), "rv");
    const std::string chat = create_direct(port(), a, b)["id"];
    const auto refused = [&](const std::string& content, const json& entities, const std::string& words) {
        return IsEntitiesError(send_message(port(), a, chat,
                                            {{"type", "text"}, {"content", content}, {"entities", entities}}),
                               words);
    };
    const std::string text = "hello world";
    EXPECT_TRUE(refused(text, json::array({entity("bold", 6, 6)}), "within the content")) << "past the end";
    EXPECT_TRUE(refused(text, json::array({entity("bold", 20, 1)}), "within the content")) << "offset past the end";
    EXPECT_TRUE(refused(text, json::array({entity("bold", 1, 0)}), "1 or more")) << "empty";
    EXPECT_TRUE(refused(text, json::array({entity("bold", -1, 2)}), "non-negative integer")) << "negative";
    EXPECT_TRUE(refused(text, json::array({{{"type", "bold"}, {"offset", "0"}, {"length", 1}}}), "offset"));
    EXPECT_TRUE(refused("a😀", json::array({entity("bold", 0, 2)}), "surrogate pair"));
    EXPECT_TRUE(refused("a😀", json::array({entity("bold", 0, 4)}), "within the content"))
        << "the emoji is two units, not four bytes";
    EXPECT_TRUE(refused(text, json::array({entity("bold", 0, 6), entity("italic", 3, 6)}), "nested or disjoint"));
    EXPECT_TRUE(refused(text, json::array({entity("bold", 0, 11), entity("code", 0, 5)}), "code"));
    EXPECT_TRUE(refused(text, json::array({entity("pre", 0, 5)}), "unknown entity type"));
    EXPECT_TRUE(refused(text, json::array({entity("bold", 0, 5, {{"color", "red"}})}), "unknown entity field"));
    EXPECT_TRUE(refused(text, json::array({entity("bold", 0, 5, {{"url", "https://a.b"}})}), "take no url"));
    EXPECT_TRUE(refused(text, json::array({entity("link", 0, 5)}), "need a url"));
    EXPECT_TRUE(
        refused(text, json::array({entity("link", 0, 5, {{"url", "javascript:alert(1)"}})}), "http, https or mailto"));
    EXPECT_TRUE(
        refused(text, json::array({entity("link", 0, 5, {{"url", "https://" + std::string(2041, 'a')}})}), "2048"));
    EXPECT_TRUE(refused(text, json::array({entity("code_block", 0, 5, {{"language", "c plus plus"}})}), "language"));
    EXPECT_TRUE(refused(text, json::array({entity("mention", 0, 5)}), "user_id"));
    // A mention's user id as users have theirs: a lower-case UUID, and the message says so.
    EXPECT_TRUE(refused(text,
                        json::array({entity("mention", 0, 5, {{"user_id", "A1B2C3D4-0000-4000-8000-00000000000A"}})}),
                        "lower-case UUID"));
    // A field the type does not take is refused given as null too.
    EXPECT_TRUE(refused(text, json::array({entity("bold", 0, 5, {{"url", nullptr}})}), "bold entities take no url"));
    EXPECT_TRUE(
        refused(text, json::array({entity("bold", 0, 5, {{"user_id", nullptr}})}), "bold entities take no user_id"));
    EXPECT_TRUE(refused(text, json::array({entity("link", 0, 5, {{"url", "https://a.b"}, {"language", nullptr}})}),
                        "link entities take no language"));
    EXPECT_TRUE(refused(text, "bold", "must be an array"));
    json many = json::array();
    for (int i = 0; i < 101; ++i) many.push_back(entity("bold", i, 1));
    EXPECT_TRUE(refused(std::string(101, 'a'), many, "at most 100"));

    // Accepted at the edges: 100 entities, a mailto link, an uppercase scheme, null entities.
    many.erase(many.end() - 1);
    EXPECT_EQ(send_text(port(), a, chat, std::string(100, 'a'), {{"entities", many}})["entities"].size(), 100u);
    EXPECT_EQ(send_text(port(), a, chat, "mail",
                        {{"entities", json::array({entity("link", 0, 4,
                                                          {{"url", "mailto:x@example.com"}})})}})["entities"][0]["url"],
              "mailto:x@example.com");
    EXPECT_EQ(send_text(port(), a, chat, "web",
                        {{"entities", json::array({entity("link", 0, 3, {{"url", "HTTP://A.B"}})})}})["entities"]
                  .size(),
              1u);
    EXPECT_EQ(send_text(port(), a, chat, "none", {{"entities", nullptr}})["entities"], json::array());

    // Entities are not for template sends (scheduled messages: scheduled_test).
    EXPECT_TRUE(IsEntitiesError(send_message(port(), a, chat,
                                             {{"type", "text"},
                                              {"template_id", random_uuid()},
                                              {"entities", json::array({entity("bold", 0, 1)})}}),
                                "template"));

    EXPECT_EQ(all_messages(port(), b, chat).size(), 4u) << "nothing refused was stored";
}

TEST_F(RichTextTest, AForwardCarriesTheEntities) {
    auto a = register_user(port(), "rf");
    auto b = register_user(port(), "rf");
    auto c = register_user(port(), "rf");
    const std::string source = create_direct(port(), a, b)["id"];
    const std::string target = create_direct(port(), a, c)["id"];
    const json entities = json::array({entity("italic", 0, 4)});
    const auto sent = send_text(port(), b, source, "nice", {{"entities", entities}});
    auto r = post(port(), a.token, message_url(sent["id"]) + "/forward", {{"chat_id", target}});
    ASSERT_TRUE(IsJson(r, 201));
    EXPECT_EQ(r.json()["entities"], entities);
}

}  // namespace
}  // namespace confab::test
