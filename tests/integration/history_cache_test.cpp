// The history cache (docs/architecture.md, History cache): a chat's newest page is kept for
// the chat's version and served from memory while nothing in the chat changes; every change
// (a send, an edit, a deletion, a reaction, a hide) is in the next read, and what each
// viewer sees differently (hidden messages, their own reactions) stays theirs.

#include <gtest/gtest.h>

#include "support/chat_api.hpp"

namespace confab::test {
namespace {

using HistoryCacheTest = ChatTest;

double pages_from(std::uint16_t port, const std::string& source) {
    return metric(port, "confab_history_pages_total{source=\"" + source + "\"}");
}

json newest_page(std::uint16_t port, const TestUser& u, const std::string& chat_id, const std::string& query = "") {
    return expect_json(get(port, u.token, chat_messages_url(chat_id) + query), 200, "newest page");
}

// Reads the newest page once more and says where it came from ("cache" or "database").
std::string source_of_next_read(std::uint16_t port, const TestUser& u, const std::string& chat_id, json& page,
                                const std::string& query = "") {
    const auto cached = pages_from(port, "cache");
    const auto read = pages_from(port, "database");
    page = newest_page(port, u, chat_id, query);
    if (pages_from(port, "cache") == cached + 1 && pages_from(port, "database") == read) return "cache";
    if (pages_from(port, "database") == read + 1 && pages_from(port, "cache") == cached) return "database";
    return "neither, or both";
}

TEST_F(HistoryCacheTest, ASecondReadOfAnUnchangedChatComesFromTheCacheAndIsTheSame) {
    const auto [a, b, chat] = direct_pair(port(), "hc");
    for (int i = 0; i < 4; ++i) send_text(port(), i % 2 ? b : a, chat, "m" + std::to_string(i));

    json first, second, by_b;
    EXPECT_EQ(source_of_next_read(port(), a, chat, first, "?limit=3"), "database");
    EXPECT_EQ(source_of_next_read(port(), a, chat, second, "?limit=3"), "cache");
    EXPECT_EQ(second, first);
    ASSERT_EQ(first["messages"].size(), 3u);
    EXPECT_EQ(first["messages"][0]["content"], "m3");
    EXPECT_FALSE(first["next_cursor"].is_null());
    EXPECT_EQ(source_of_next_read(port(), b, chat, by_b, "?limit=3"), "cache") << "one page serves every member";
    EXPECT_EQ(by_b, first);
    EXPECT_EQ(shared_database().query_value("select count(*) > 0 from pg_stat_activity where application_name = "
                                            "'confab page stamps' and datname = current_database()"),
              "t")
        << "the stamps are read on an I/O thread's own connection (store::PageStamps), not through the pool";

    json more;
    EXPECT_EQ(source_of_next_read(port(), a, chat, more, "?limit=10"), "database") << "more than was kept";
    EXPECT_EQ(more["messages"].size(), 4u);
    EXPECT_TRUE(more["next_cursor"].is_null());
    EXPECT_EQ(source_of_next_read(port(), a, chat, more, "?limit=2"), "cache") << "the whole chat answers any limit";
    EXPECT_EQ(more["messages"].size(), 2u);
    EXPECT_EQ(more["messages"][1]["content"], "m2");

    json with_threads;
    EXPECT_EQ(source_of_next_read(port(), a, chat, with_threads, "?include_thread_replies=true"), "database")
        << "with thread replies is another page";
}

TEST_F(HistoryCacheTest, EveryChangeIsInTheNextRead) {
    const auto [a, b, chat] = direct_pair(port(), "hc");
    const auto one = send_text(port(), a, chat, "one");
    const auto two = send_text(port(), b, chat, "two");
    json page;
    newest_page(port(), a, chat);
    ASSERT_EQ(source_of_next_read(port(), a, chat, page), "cache");

    const auto three = send_text(port(), a, chat, "three");
    EXPECT_EQ(source_of_next_read(port(), b, chat, page), "database");
    EXPECT_EQ(ids_of(page["messages"]), (std::vector<std::string>{three["id"], two["id"], one["id"]}));

    ASSERT_TRUE(IsJson(put(port(), b.token, message_url(two["id"]), {{"content", "two, edited"}}), 200));
    EXPECT_EQ(source_of_next_read(port(), a, chat, page), "database");
    EXPECT_EQ(page["messages"][1]["content"], "two, edited");
    EXPECT_EQ(page["messages"][1]["is_edited"], true);

    ASSERT_EQ(put(port(), a.token, reaction_url(two["id"], "👍"), json::object()).status, 204);
    EXPECT_EQ(source_of_next_read(port(), b, chat, page), "database");
    const auto* reaction = find_reaction(page["messages"][1], "👍");
    ASSERT_NE(reaction, nullptr) << page.dump();
    EXPECT_EQ((*reaction)["count"], 1);
    EXPECT_EQ(source_of_next_read(port(), a, chat, page), "cache");
    ASSERT_NE(find_reaction(page["messages"][1], "👍"), nullptr) << "reactions are read live for a kept page too";

    ASSERT_EQ(del(port(), a.token, message_url(one["id"])).status, 204);
    EXPECT_EQ(source_of_next_read(port(), b, chat, page), "database");
    EXPECT_EQ(page["messages"][2]["is_deleted"], true);
    EXPECT_EQ(page["messages"][2]["content"], "");
    EXPECT_EQ(source_of_next_read(port(), a, chat, page), "cache");
    EXPECT_EQ(page["messages"][2]["is_deleted"], true);
}

TEST_F(HistoryCacheTest, AViewersHiddenMessagesStayOutOfTheirPageAndInEveryoneElses) {
    const auto [a, b, chat] = direct_pair(port(), "hc");
    std::vector<json> sent;
    sent.reserve(5);
    for (int i = 0; i < 5; ++i) sent.push_back(send_text(port(), a, chat, "m" + std::to_string(i)));
    ASSERT_EQ(post(port(), b.token, message_url(sent[4]["id"]) + "/hide").status, 204);
    ASSERT_EQ(post(port(), b.token, message_url(sent[2]["id"]) + "/hide").status, 204);

    json page;
    EXPECT_EQ(source_of_next_read(port(), a, chat, page, "?limit=4"), "database");
    EXPECT_EQ(ids_of(page["messages"]),
              (std::vector<std::string>{sent[4]["id"], sent[3]["id"], sent[2]["id"], sent[1]["id"]}));
    EXPECT_EQ(source_of_next_read(port(), b, chat, page, "?limit=2"), "cache") << "what the kept 5 leave b";
    EXPECT_EQ(ids_of(page["messages"]), (std::vector<std::string>{sent[3]["id"], sent[1]["id"]}));
    EXPECT_EQ(page["next_cursor"], sent[1]["seq"]) << "one message left past the page";
    EXPECT_EQ(source_of_next_read(port(), b, chat, page, "?limit=3"), "database")
        << "the kept 5 less 2 hidden cannot tell whether there are more";
    EXPECT_EQ(ids_of(page["messages"]), (std::vector<std::string>{sent[3]["id"], sent[1]["id"], sent[0]["id"]}));
    EXPECT_TRUE(page["next_cursor"].is_null());
    EXPECT_EQ(source_of_next_read(port(), a, chat, page, "?limit=3"), "cache")
        << "a page read for a viewer with hidden messages is not kept";
    EXPECT_EQ(page["messages"][0]["id"], sent[4]["id"]);
}

TEST_F(HistoryCacheTest, EachLimitGetsItsOwnPageFromOneKeptVersion) {
    // A kept page's body is written once and sent again to its next readers of the same limit
    // (domain::KeptPage::written): alternating limits must never get each other's.
    const auto [a, b, chat] = direct_pair(port(), "hc");
    std::vector<json> sent;
    sent.reserve(5);
    for (int i = 0; i < 5; ++i) sent.push_back(send_text(port(), i % 2 ? b : a, chat, "m" + std::to_string(i)));
    json first_of_3, page;
    EXPECT_EQ(source_of_next_read(port(), a, chat, first_of_3, "?limit=3"), "database");
    for (const auto& [reader, limit] : std::vector<std::pair<TestUser, int>>{{b, 3}, {a, 2}, {b, 3}, {a, 1}, {b, 2}}) {
        SCOPED_TRACE("limit " + std::to_string(limit));
        EXPECT_EQ(source_of_next_read(port(), reader, chat, page, "?limit=" + std::to_string(limit)), "cache");
        ASSERT_EQ(page["messages"].size(), static_cast<std::size_t>(limit));
        for (int i = 0; i < limit; ++i) EXPECT_EQ(page["messages"][i]["id"], sent[4 - i]["id"]);
        EXPECT_EQ(page["next_cursor"], sent[5 - limit]["seq"]);
        if (limit == 3) EXPECT_EQ(page, first_of_3);
    }

    const auto newer = send_text(port(), a, chat, "m5");
    EXPECT_EQ(source_of_next_read(port(), b, chat, page, "?limit=3"), "database");
    EXPECT_EQ(source_of_next_read(port(), a, chat, page, "?limit=3"), "cache");
    EXPECT_EQ(page["messages"][0]["id"], newer["id"]) << "a new version's page is written anew";
    EXPECT_EQ(page["next_cursor"], sent[3]["seq"]);
}

// A kept page's body is sent from where it is kept (http::Response::shared_body): whole, with
// its length and headers.
TEST_F(HistoryCacheTest, AKeptPageIsSentWholeWithItsHeaders) {
    const auto [a, b, chat] = direct_pair(port(), "hc");
    for (int i = 0; i < 3; ++i) send_text(port(), a, chat, "m" + std::to_string(i));
    json page;
    ASSERT_EQ(source_of_next_read(port(), a, chat, page), "database");
    const auto cached_before = pages_from(port(), "cache");
    const auto cached = get(port(), b.token, chat_messages_url(chat));
    ASSERT_EQ(cached.status, 200) << cached.describe();
    EXPECT_EQ(pages_from(port(), "cache"), cached_before + 1);
    EXPECT_EQ(cached.json(), page);
    EXPECT_EQ(cached.header("content-length"), std::to_string(cached.body.size()));
    EXPECT_EQ(cached.header("content-type"), "application/json; charset=utf-8");
    EXPECT_EQ(cached.header("x-request-id").size(), 16u);
}

TEST_F(HistoryCacheTest, OnlyMembersReadAPageKeptForTheChat) {
    const auto [a, b, chat] = direct_pair(port(), "hc");
    send_text(port(), a, chat, "for the two of us");
    newest_page(port(), a, chat);
    const auto outsider = register_user(port(), "hc");
    EXPECT_TRUE(IsError(get(port(), outsider.token, chat_messages_url(chat)), 404, "not_found"));
}

TEST(HistoryCacheOffTest, ACapacityOfZeroReadsEveryPageFromTheDatabase) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(shared_database().url(),
                         std::map<std::string, std::string>{{"CONFAB_LIMIT_HISTORY_CACHE_BYTES", "0"}});
    const auto [a, b, chat] = direct_pair(server.port(), "hc");
    send_text(server.port(), a, chat, "hello");
    json page;
    for (int i = 0; i < 2; ++i) {
        page = newest_page(server.port(), b, chat);
        ASSERT_EQ(page["messages"].size(), 1u);
    }
    EXPECT_EQ(pages_from(server.port(), "cache"), 0);
    EXPECT_EQ(pages_from(server.port(), "database"), 0) << "the newest page is read as any other";
}

}  // namespace
}  // namespace confab::test
