// Rich text validation as a table: each case a content, its entities and the answer, the
// refusals named by the words of their message.

#include "confab/domain/rich_text.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace confab::domain::rich_text {
namespace {

const std::string ann = "0b0c8a8e-1f7e-4b8e-9a43-5b6c7d8e9f00";

TextEntity styled(EntityType type, std::int64_t offset, std::int64_t length) {
    return {type, offset, length, std::nullopt, std::nullopt, std::nullopt};
}
TextEntity link(std::int64_t offset, std::int64_t length, std::string url) {
    return {EntityType::link, offset, length, std::move(url), std::nullopt, std::nullopt};
}
TextEntity mention(std::int64_t offset, std::int64_t length, std::string user_id) {
    return {EntityType::mention, offset, length, std::nullopt, std::nullopt, std::move(user_id)};
}
TextEntity code_block(std::int64_t offset, std::int64_t length, std::optional<std::string> language) {
    return {EntityType::code_block, offset, length, std::nullopt, std::move(language), std::nullopt};
}

// "" when the entities are accepted, else the refusal's message.
std::string verdict(const std::string& content, const std::vector<TextEntity>& entities) {
    try {
        validate(content, entities);
        return "";
    } catch (const Error& error) {
        EXPECT_EQ(error.code(), ErrorCode::bad_request);
        EXPECT_EQ(error.field(), std::optional<std::string>("entities"));
        return error.what();
    }
}

struct Case {
    const char* name;
    std::string content;
    std::vector<TextEntity> entities;
    const char* refusal;  // a part of the message, "" for accepted
};

// "hello world" is 11 UTF-16 units; "😀" (U+1F600) is two, "é" one.
const std::vector<Case>& cases() {
    using E = EntityType;
    static const std::vector<Case> table{
        {"none", "hello", {}, ""},
        {"bold word", "hello world", {styled(E::bold, 0, 5)}, ""},
        {"every style at once, nested",
         "hello world",
         {styled(E::bold, 0, 11), styled(E::italic, 0, 11), styled(E::underline, 0, 5), styled(E::strikethrough, 6, 5),
          styled(E::spoiler, 6, 5)},
         ""},
        {"ends at the content's end", "hello world", {styled(E::italic, 6, 5)}, ""},
        {"past the end", "hello world", {styled(E::italic, 6, 6)}, "within the content"},
        {"offset past the end", "hello", {styled(E::bold, 6, 1)}, "within the content"},
        {"empty", "hello", {styled(E::bold, 1, 0)}, "1 or more"},
        {"negative offset", "hello", {styled(E::bold, -1, 2)}, "within the content"},
        {"negative length", "hello", {styled(E::bold, 2, -1)}, "1 or more"},
        {"huge length does not overflow", "hello", {styled(E::bold, 1, INT64_MAX)}, "within the content"},
        {"an emoji counts two units", "a😀b", {styled(E::bold, 1, 2), styled(E::italic, 3, 1)}, ""},
        {"an emoji's units end the content", "a😀", {styled(E::bold, 0, 3)}, ""},
        {"past an emoji's units", "a😀", {styled(E::bold, 0, 4)}, "within the content"},
        {"starts inside a surrogate pair", "a😀b", {styled(E::bold, 2, 2)}, "surrogate pair"},
        {"ends inside a surrogate pair", "a😀b", {styled(E::bold, 0, 2)}, "surrogate pair"},
        {"two-byte UTF-8 is one unit", "éa", {styled(E::bold, 1, 1)}, ""},
        {"disjoint", "hello world", {styled(E::bold, 0, 5), styled(E::bold, 6, 5)}, ""},
        {"adjacent", "hello world", {styled(E::bold, 0, 5), styled(E::bold, 5, 6)}, ""},
        {"partly overlapping", "hello world", {styled(E::bold, 0, 6), styled(E::italic, 3, 6)}, "nested or disjoint"},
        {"partly overlapping, given the other way",
         "hello world",
         {styled(E::italic, 3, 6), styled(E::bold, 0, 6)},
         "nested or disjoint"},
        {"one type inside itself", "hello world", {styled(E::bold, 0, 11), styled(E::bold, 2, 3)}, "one type"},
        {"code alone", "call f()", {styled(E::code, 5, 3)}, ""},
        {"code inside bold", "call f()", {styled(E::bold, 0, 8), styled(E::code, 5, 3)}, "code"},
        {"bold inside code", "call f()", {styled(E::code, 0, 8), styled(E::bold, 5, 3)}, "code"},
        {"code block with a language", "int x;", {code_block(0, 6, "c++")}, ""},
        {"code block without a language", "int x;", {code_block(0, 6, std::nullopt)}, ""},
        {"code block with an odd language", "int x;", {code_block(0, 6, "c plus")}, "language"},
        {"code block with an empty language", "int x;", {code_block(0, 6, "")}, "language"},
        {"code block with a long language", "int x;", {code_block(0, 6, std::string(33, 'a'))}, "language"},
        {"link http", "see this", {link(4, 4, "http://example.com/a?b=c")}, ""},
        {"link https, any case", "see this", {link(4, 4, "HTTPS://example.com")}, ""},
        {"link mailto", "mail me", {link(5, 2, "mailto:ann@example.com")}, ""},
        {"link javascript", "see this", {link(4, 4, "javascript:alert(1)")}, "http, https or mailto"},
        {"link with no scheme", "see this", {link(4, 4, "example.com")}, "http, https or mailto"},
        {"link scheme alone", "see this", {link(4, 4, "https://")}, "http, https or mailto"},
        {"link with a space", "see this", {link(4, 4, "https://exa mple.com")}, "visible ASCII"},
        {"link too long", "see this", {link(4, 4, "https://" + std::string(2041, 'a'))}, "2048"},
        {"link at the longest", "see this", {link(4, 4, "https://" + std::string(2040, 'a'))}, ""},
        {"link without url", "see this", {styled(E::link, 4, 4)}, "need a url"},
        {"bold inside a link", "see this", {link(0, 8, "https://a.b"), styled(E::bold, 4, 4)}, ""},
        {"mention", "hi @ann", {mention(3, 4, ann)}, ""},
        {"mention without user", "hi @ann", {styled(E::mention, 3, 4)}, "user_id"},
        {"mention of a malformed id", "hi @ann", {mention(3, 4, "ann")}, "user_id"},
        {"mention inside a link", "hi @ann", {link(0, 7, "https://a.b"), mention(3, 4, ann)}, "links and mentions"},
        {"mention_all inside bold", "hi @all", {styled(E::bold, 0, 7), styled(E::mention_all, 3, 4)}, ""},
        {"a url on bold", "hello", {{E::bold, 0, 5, "https://a.b", std::nullopt, std::nullopt}}, "take no url"},
        {"a language on code", "hello", {{E::code, 0, 5, std::nullopt, "c", std::nullopt}}, "take no language"},
        {"a user on mention_all", "hello", {{E::mention_all, 0, 5, std::nullopt, std::nullopt, ann}}, "no user_id"},
        {"entities on no content", "", {styled(E::bold, 0, 1)}, "within the content"},
        {"at most 100 entities", std::string(100, 'a'), std::vector<TextEntity>(100, styled(E::bold, 0, 1)),
         "one type"},
        {"101 entities", std::string(101, 'a'), std::vector<TextEntity>(101, styled(E::bold, 0, 1)), "at most 100"},
    };
    return table;
}

TEST(RichText, EachCaseIsJudgedAsWritten) {
    for (const auto& c : cases()) {
        const auto answer = verdict(c.content, c.entities);
        if (std::string(c.refusal).empty()) {
            EXPECT_EQ(answer, "") << c.name;
        } else {
            EXPECT_NE(answer.find(c.refusal), std::string::npos) << c.name << ": " << answer;
        }
    }
}

TEST(RichText, ManyDisjointEntitiesUpToTheCap) {
    std::vector<TextEntity> entities;
    for (int i = 0; i < 100; ++i) entities.push_back(styled(EntityType::bold, i, 1));
    EXPECT_EQ(verdict(std::string(100, 'a'), entities), "");
}

TEST(RichText, Utf16LengthCountsAstralCodePointsTwice) {
    EXPECT_EQ(utf16_length(""), 0u);
    EXPECT_EQ(utf16_length("abc"), 3u);
    EXPECT_EQ(utf16_length("é€"), 2u);
    EXPECT_EQ(utf16_length("😀👍"), 4u);
}

TEST(RichText, MentionsNameEachUserOnceAndEveryoneApart) {
    const std::string ben = "1b0c8a8e-1f7e-4b8e-9a43-5b6c7d8e9f00";
    const auto found =
        mentions_in({mention(0, 1, ann), styled(EntityType::bold, 0, 1), mention(2, 1, ben), mention(4, 1, ann)});
    EXPECT_EQ(found.users, (std::vector<std::string>{ann, ben}));
    EXPECT_FALSE(found.everyone);
    EXPECT_TRUE(mentions_in({styled(EntityType::mention_all, 0, 1)}).everyone);
    EXPECT_TRUE(mentions_in({styled(EntityType::bold, 0, 1)}).empty());
}

}  // namespace
}  // namespace confab::domain::rich_text
