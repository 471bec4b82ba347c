// GET /search/messages: full-text search over the caller's chats (docs/api.md, Search):
// membership now (non-members, ex-members), deleted and edited messages, captions, system
// messages, ranking and pages, snippets as plain parts, bad input, and the latency metric.

#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/chat_api.hpp"
#include "support/media_fixtures.hpp"

namespace confab::test {
namespace {

using SearchTest = ChatTest;

const std::string search_url = "/api/v1/search/messages";

json search(std::uint16_t port, const TestUser& u, const std::string& query) {
    auto r = get(port, u.token, search_url + "?" + query);
    auto j = expect_json(r, 200, "search");
    if (!j.contains("results") || !j["results"].is_array() || !j.contains("next_cursor"))
        throw std::runtime_error("search response lacks results/next_cursor: " + r.body);
    return j;
}

json search_for(std::uint16_t port, const TestUser& u, const std::string& words, const std::string& extra = "") {
    return search(port, u, "q=" + url_encode(words) + extra);
}

std::vector<std::string> found_ids(const json& page) {
    std::vector<std::string> ids;
    for (const auto& result : page["results"]) ids.push_back(result["message"]["id"]);
    return ids;
}

std::string snippet_text(const json& result) {
    std::string text;
    for (const auto& part : result["snippet"]) text += part["text"].get<std::string>();
    return text;
}

std::vector<std::string> highlighted(const json& result) {
    std::vector<std::string> words;
    for (const auto& part : result["snippet"])
        if (part["highlighted"] == true) words.push_back(part["text"]);
    return words;
}

TEST_F(SearchTest, FindsTheCallersMessagesWithTheMessageModelASnippetAndARank) {
    auto ana = register_user(port(), "sr");
    auto ben = register_user(port(), "sr");
    const std::string chat = create_group(port(), ana, {ben.id})["id"];
    const auto fox = send_text(port(), ana, chat, "the quick brown fox jumps");
    send_text(port(), ben, chat, "a lazy dog sleeps");

    const auto page = search_for(port(), ben, "fox");
    ASSERT_EQ(page["results"].size(), 1u) << page.dump();
    const auto& result = page["results"][0];
    EXPECT_EQ(result["message"], get_message(port(), ben, fox["id"]));
    EXPECT_TRUE(IsMessageModel(result["message"]));
    EXPECT_EQ(snippet_text(result), "the quick brown fox jumps");
    EXPECT_EQ(highlighted(result), std::vector<std::string>{"fox"});
    EXPECT_TRUE(result["rank"].is_number());
    EXPECT_GT(result["rank"].get<double>(), 0);
    EXPECT_TRUE(page["next_cursor"].is_null());
}

TEST_F(SearchTest, WordsMatchWhateverTheirCaseAndFollowWebSearchSyntax) {
    auto ana = register_user(port(), "sr");
    const std::string chat = create_group(port(), ana)["id"];
    const auto brown_fox = send_text(port(), ana, chat, "The Quick Brown Fox");
    const auto fox_brown = send_text(port(), ana, chat, "fox, then brown");
    const auto lazy_fox = send_text(port(), ana, chat, "лиса and a lazy fox");

    EXPECT_EQ(found_ids(search_for(port(), ana, "FOX")).size(), 3u);
    EXPECT_EQ(found_ids(search_for(port(), ana, "\"brown fox\"")), std::vector<std::string>{brown_fox["id"]});
    const auto without_lazy = found_ids(search_for(port(), ana, "fox -lazy"));
    EXPECT_EQ(std::set<std::string>(without_lazy.begin(), without_lazy.end()),
              (std::set<std::string>{brown_fox["id"], fox_brown["id"]}));
    EXPECT_EQ(found_ids(search_for(port(), ana, "ЛИСА")), std::vector<std::string>{lazy_fox["id"]});
    EXPECT_EQ(found_ids(search_for(port(), ana, "wolf or lazy")), std::vector<std::string>{lazy_fox["id"]});
    // Nothing searchable in the query: no results, not an error.
    EXPECT_EQ(search_for(port(), ana, "!!! ...")["results"], json::array());
}

TEST_F(SearchTest, NonMembersNeverSeeAChatsMessages) {
    auto ana = register_user(port(), "sr");
    auto carol = register_user(port(), "sr");
    const std::string chat = create_group(port(), ana)["id"];
    send_text(port(), ana, chat, "secret plans for tuesday");
    const std::string carols = create_group(port(), carol)["id"];
    const auto own = send_text(port(), carol, carols, "my own secret");

    EXPECT_EQ(found_ids(search_for(port(), carol, "secret")), std::vector<std::string>{own["id"]});
    EXPECT_EQ(search_for(port(), carol, "tuesday")["results"], json::array());
    EXPECT_TRUE(IsError(get(port(), carol.token, search_url + "?q=secret&chat_id=" + chat), 404, "not_found"));
    EXPECT_TRUE(IsError(get(port(), carol.token, search_url + "?q=secret&chat_id=" + random_uuid()), 404, "not_found"));
}

TEST_F(SearchTest, AnExMemberNoLongerFindsTheChatsMessages) {
    auto ana = register_user(port(), "sr");
    auto ben = register_user(port(), "sr");
    const std::string chat = create_group(port(), ana, {ben.id})["id"];
    send_text(port(), ana, chat, "farewell party on friday");
    ASSERT_EQ(found_ids(search_for(port(), ben, "farewell")).size(), 1u);

    ASSERT_EQ(del(port(), ben.token, member_url(chat, ben.id)).status, 204);
    EXPECT_EQ(search_for(port(), ben, "farewell")["results"], json::array());
    EXPECT_TRUE(IsError(get(port(), ben.token, search_url + "?q=farewell&chat_id=" + chat), 404, "not_found"));
    EXPECT_EQ(found_ids(search_for(port(), ana, "farewell")).size(), 1u);
}

TEST_F(SearchTest, DeletedMessagesAreNeverFoundAndEditedOnesByTheirCurrentText) {
    auto ana = register_user(port(), "sr");
    const std::string chat = create_group(port(), ana)["id"];
    const auto deleted = send_text(port(), ana, chat, "delete this banana");
    const auto edited = send_text(port(), ana, chat, "an apple a day");
    ASSERT_EQ(del(port(), ana.token, message_url(deleted["id"])).status, 204);
    ASSERT_EQ(put(port(), ana.token, message_url(edited["id"]), {{"content", "a cherry a day"}}).status, 200);

    EXPECT_EQ(search_for(port(), ana, "banana")["results"], json::array());
    EXPECT_EQ(search_for(port(), ana, "apple")["results"], json::array());
    const auto page = search_for(port(), ana, "cherry");
    ASSERT_EQ(found_ids(page), std::vector<std::string>{edited["id"]});
    EXPECT_EQ(page["results"][0]["message"]["is_edited"], true);
    EXPECT_EQ(snippet_text(page["results"][0]), "a cherry a day");
}

TEST_F(SearchTest, CaptionsAreFoundAndSystemMessagesAreNot) {
    auto ana = register_user(port(), "sr");
    auto ben = register_user(port(), "sr");
    const std::string chat = create_group(port(), ana)["id"];
    add_members(port(), ana, chat, {ben.id});  // writes "… added …"
    auto headers = auth_header(ana.token);
    headers["Content-Type"] = "image/png";
    auto upload =
        http(port(), "POST", "/api/v1/messages/upload?chat_id=" + chat + "&kind=image", media::png(8, 8, 3), headers);
    ASSERT_EQ(upload.status, 201) << upload.body;
    const auto photo =
        expect_json(send_message(port(), ana, chat,
                                 {{"type", "image"}, {"media_id", upload.json()["id"]}, {"content", "sunset"}}),
                    201, "image");

    EXPECT_EQ(found_ids(search_for(port(), ben, "sunset")), std::vector<std::string>{photo["id"]});
    EXPECT_EQ(search_for(port(), ben, "added")["results"], json::array());
}

TEST_F(SearchTest, ChatIdKeepsTheSearchToOneChat) {
    auto ana = register_user(port(), "sr");
    const std::string first = create_group(port(), ana)["id"];
    const std::string second = create_group(port(), ana)["id"];
    const auto in_first = send_text(port(), ana, first, "meeting notes");
    const auto in_second = send_text(port(), ana, second, "meeting room");

    EXPECT_EQ(found_ids(search_for(port(), ana, "meeting", "&chat_id=" + first)),
              std::vector<std::string>{in_first["id"]});
    EXPECT_EQ(found_ids(search_for(port(), ana, "meeting", "&chat_id=" + second)),
              std::vector<std::string>{in_second["id"]});
    EXPECT_EQ(found_ids(search_for(port(), ana, "meeting")).size(), 2u);
}

TEST_F(SearchTest, PagesFollowTheRankThenTheNewestWithoutGapsOrRepeats) {
    auto ana = register_user(port(), "sr");
    const std::string chat = create_group(port(), ana)["id"];
    std::vector<std::string> sent;
    // Three ranks: "kiwi" once, twice and three times among other words; several of each.
    for (int i = 0; i < 8; ++i) {
        const std::string text = i % 3 == 0   ? "kiwi kiwi kiwi salad"
                                 : i % 3 == 1 ? "kiwi and kiwi on toast"
                                              : "one kiwi with a long list of other fruit here";
        sent.push_back(send_text(port(), ana, chat, text)["id"]);
    }

    std::vector<std::string> seen;
    std::vector<double> ranks;
    std::string cursor;
    int pages = 0;
    do {
        const auto page = search_for(port(), ana, "kiwi", "&limit=3" + (cursor.empty() ? "" : "&cursor=" + cursor));
        ASSERT_LE(page["results"].size(), 3u);
        for (const auto& result : page["results"]) {
            seen.push_back(result["message"]["id"]);
            ranks.push_back(result["rank"]);
        }
        cursor = page["next_cursor"].is_null() ? "" : page["next_cursor"].get<std::string>();
        ASSERT_LT(++pages, 5);
    } while (!cursor.empty());

    EXPECT_EQ(pages, 3);
    EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), std::set<std::string>(sent.begin(), sent.end()));
    EXPECT_EQ(seen.size(), sent.size());
    EXPECT_TRUE(std::is_sorted(ranks.rbegin(), ranks.rend())) << json(ranks).dump();
    EXPECT_GT(ranks.front(), ranks.back());
    // Equal ranks: the newest first (sent[6] and sent[3] are the latest of the top rank).
    EXPECT_EQ(seen[0], sent[6]);
    EXPECT_EQ(seen[1], sent[3]);
}

TEST_F(SearchTest, SnippetsArePlainTextPartsWhateverTheMessageHolds) {
    auto ana = register_user(port(), "sr");
    const std::string chat = create_group(port(), ana)["id"];
    // The text's own control characters 1 and 2 (the markers the server reads highlights by)
    // and HTML-like text never make highlights; only the words searched for do.
    send_text(port(), ana, chat, "\x01not\x02 this & <i>that</i> but mango");
    std::string long_text;
    for (int i = 0; i < 100; ++i) long_text += "filler ";
    send_text(port(), ana, chat, "mango first " + long_text + "and mango last");

    const auto page = search_for(port(), ana, "mango");
    ASSERT_EQ(page["results"].size(), 2u);
    for (const auto& result : page["results"]) {
        EXPECT_EQ(highlighted(result), (std::vector<std::string>(highlighted(result).size(), "mango")));
        EXPECT_FALSE(highlighted(result).empty());
        for (const auto& part : result["snippet"]) {
            EXPECT_EQ(part.size(), 2u);
            EXPECT_EQ(part["text"].get<std::string>().find_first_of("\x01\x02"), std::string::npos);
        }
    }
    // A long message is cut to an excerpt around its first match.
    const auto long_result = std::find_if(page["results"].begin(), page["results"].end(), [](const json& r) {
        return r["message"]["content"].get<std::string>().size() > 300;
    });
    ASSERT_NE(long_result, page["results"].end());
    EXPECT_LT(snippet_text(*long_result).size(), 400u);
}

TEST_F(SearchTest, BadInputIsRefusedWithTheDocumentedErrors) {
    auto ana = register_user(port(), "sr");
    const std::string chat = create_group(port(), ana)["id"];
    const auto field_error = [&](const std::string& query, const std::string& field) {
        auto r = get(port(), ana.token, search_url + query);
        EXPECT_TRUE(IsError(r, 400, "bad_request")) << query;
        EXPECT_EQ(r.json()["error"]["details"]["field"], field) << query << " " << r.body;
    };
    field_error("", "q");
    field_error("?q=", "q");
    field_error("?q=" + repeat("a", 257), "q");
    field_error("?q=%FF%FE", "q");
    field_error("?q=a%00b", "q");
    field_error("?q=fox&cursor=not*base64", "cursor");
    field_error("?q=fox&cursor=" + url_encode("YTox"), "cursor");  // "a:1", a chat-list cursor
    field_error("?q=fox&chat_id=not-a-uuid", "chat_id");
    field_error("?q=fox&limit=0", "limit");
    field_error("?q=fox&limit=201", "limit");
    EXPECT_EQ(search(port(), ana, "q=" + repeat("a", 256))["results"], json::array());
    EXPECT_EQ(search(port(), ana, "q=fox&limit=200&chat_id=" + chat)["results"], json::array());
    EXPECT_TRUE(IsError(get(port(), "", search_url + "?q=fox"), 401, "unauthorized"));
}

TEST_F(SearchTest, LatencyIsMeasuredPerScope) {
    auto ana = register_user(port(), "sr");
    const std::string chat = create_group(port(), ana)["id"];
    const auto count = [&](const std::string& scope) {
        const auto text = http(port(), "GET", "/metrics").body;
        return metric_sample(text, "confab_search_duration_seconds_count{scope=\"" + scope + "\"}").value_or(0);
    };
    const double all = count("all"), one = count("chat");
    search_for(port(), ana, "anything");
    search_for(port(), ana, "anything", "&chat_id=" + chat);
    search_for(port(), ana, "anything", "&chat_id=" + chat);
    EXPECT_EQ(count("all"), all + 1);
    EXPECT_EQ(count("chat"), one + 2);
}

}  // namespace
}  // namespace confab::test
