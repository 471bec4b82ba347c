#include "confab/domain/history_cache.hpp"

#include <gtest/gtest.h>

namespace confab::domain {
namespace {

// The newest `count` messages of a chat whose last seq is `last_seq`, newest first; every
// third one has reactions.
store::messages::StoredPage newest(std::int64_t last_seq, std::size_t count) {
    store::messages::StoredPage page;
    for (auto seq = last_seq; seq > 0 && page.messages.size() < count; --seq) {
        model::Message message;
        message.id = "m" + std::to_string(seq);
        message.chat_id = "c";
        message.seq = seq;
        message.content = "text " + std::to_string(seq);
        page.messages.push_back(message);
        page.reacted.push_back(seq % 3 == 0);
    }
    return page;
}

std::vector<std::string> ids_of(const std::optional<store::messages::StoredPage>& page) {
    std::vector<std::string> ids;
    if (page)
        for (const auto& message : page->messages) ids.push_back(message.id);
    return ids;
}

// What a reader hiding `hidden` gets of the first `count` messages kept at `version`, as
// domain::MessageService asks for it.
std::optional<store::messages::StoredPage> page_for(HistoryCache& cache, const std::string& chat_id,
                                                    bool with_thread_replies, std::int64_t version,
                                                    const std::vector<std::string>& hidden, std::size_t count) {
    const auto kept = cache.find(chat_id, with_thread_replies, version);
    if (!kept || !kept->covers(count, hidden)) return std::nullopt;
    return kept->first(count, hidden);
}

constexpr std::size_t plenty = 1 << 20;

TEST(HistoryCache, AKeptPageIsFoundAtItsVersionOnly) {
    HistoryCache cache(plenty);
    EXPECT_FALSE(page_for(cache, "c", false, 7, {}, 3));
    cache.keep("c", false, 7, newest(10, 4), 4);
    const auto found = page_for(cache, "c", false, 7, {}, 3);
    EXPECT_EQ(ids_of(found), (std::vector<std::string>{"m10", "m9", "m8"}));
    EXPECT_EQ(found->reacted, (std::vector<bool>{false, true, false})) << "each message's flag travels with it";
    EXPECT_EQ(found->messages[0].content, "text 10");
    EXPECT_FALSE(page_for(cache, "c", false, 8, {}, 3)) << "a change since: the page is stale";
    EXPECT_FALSE(page_for(cache, "c", false, 6, {}, 3));
    EXPECT_FALSE(page_for(cache, "c", true, 7, {}, 3)) << "with thread replies is another page";
    EXPECT_FALSE(page_for(cache, "d", false, 7, {}, 3));
}

TEST(HistoryCache, MoreThanWasKeptOfAChatWithMoreIsNotFound) {
    HistoryCache cache(plenty);
    cache.keep("c", false, 7, newest(10, 4), 4);
    EXPECT_TRUE(page_for(cache, "c", false, 7, {}, 4));
    EXPECT_FALSE(page_for(cache, "c", false, 7, {}, 5));
}

TEST(HistoryCache, AChatWithFewerMessagesThanAskedIsWholeAndAnswersAnyCount) {
    HistoryCache cache(plenty);
    cache.keep("c", false, 3, newest(3, 51), 51);
    EXPECT_EQ(ids_of(page_for(cache, "c", false, 3, {}, 101)), (std::vector<std::string>{"m3", "m2", "m1"}));
    cache.keep("e", false, 0, newest(0, 51), 51);
    const auto empty = page_for(cache, "e", false, 0, {}, 51);
    ASSERT_TRUE(empty) << "an empty chat is kept too";
    EXPECT_TRUE(empty->messages.empty());
}

TEST(HistoryCache, TheViewersHiddenMessagesAreLeftOutAndTheRestFillThePage) {
    HistoryCache cache(plenty);
    cache.keep("c", false, 7, newest(10, 6), 6);
    const auto found = page_for(cache, "c", false, 7, {"m9", "m1"}, 3);
    EXPECT_EQ(ids_of(found), (std::vector<std::string>{"m10", "m8", "m7"}));
    EXPECT_EQ(found->reacted, (std::vector<bool>{false, false, false}));
    EXPECT_EQ(ids_of(page_for(cache, "c", false, 7, {"m10", "m9"}, 4)),
              (std::vector<std::string>{"m8", "m7", "m6", "m5"}));
    EXPECT_FALSE(page_for(cache, "c", false, 7, {"m10", "m9"}, 5)) << "what is kept no longer fills the page";
    EXPECT_EQ(ids_of(page_for(cache, "c", false, 7, {}, 3)), (std::vector<std::string>{"m10", "m9", "m8"}))
        << "another viewer still sees them";

    cache.keep("w", false, 2, newest(3, 10), 10);
    EXPECT_EQ(ids_of(page_for(cache, "w", false, 2, {"m2"}, 10)), (std::vector<std::string>{"m3", "m1"}))
        << "a whole chat answers with what is left";
}

TEST(HistoryCache, APageReadForAnOlderVersionDoesNotReplaceANewerOne) {
    HistoryCache cache(plenty);
    cache.keep("c", false, 8, newest(11, 4), 4);
    cache.keep("c", false, 7, newest(10, 4), 4);
    EXPECT_EQ(ids_of(page_for(cache, "c", false, 8, {}, 1)), (std::vector<std::string>{"m11"}));
    EXPECT_FALSE(page_for(cache, "c", false, 7, {}, 1));
    cache.keep("c", false, 9, newest(12, 4), 4);
    EXPECT_EQ(ids_of(page_for(cache, "c", false, 9, {}, 1)), (std::vector<std::string>{"m12"}));
    EXPECT_FALSE(page_for(cache, "c", false, 8, {}, 1));
}

TEST(HistoryCache, TheLeastRecentlyReadPagesGoPastTheCapacity) {
    const auto one_page = [] {
        HistoryCache probe(plenty);
        probe.keep("x", false, 1, newest(4, 4), 4);
        return probe.bytes();
    }();
    ASSERT_GT(one_page, 0u);
    HistoryCache cache(3 * one_page);
    cache.keep("a", false, 1, newest(4, 4), 4);
    cache.keep("b", false, 1, newest(4, 4), 4);
    cache.keep("c", false, 1, newest(4, 4), 4);
    EXPECT_EQ(cache.bytes(), 3 * one_page);
    EXPECT_TRUE(page_for(cache, "a", false, 1, {}, 1)) << "read: now the most recent";
    cache.keep("d", false, 1, newest(4, 4), 4);
    EXPECT_EQ(cache.bytes(), 3 * one_page);
    EXPECT_FALSE(page_for(cache, "b", false, 1, {}, 1)) << "the least recently read went";
    EXPECT_TRUE(page_for(cache, "a", false, 1, {}, 1));
    EXPECT_TRUE(page_for(cache, "c", false, 1, {}, 1));
    EXPECT_TRUE(page_for(cache, "d", false, 1, {}, 1));

    cache.keep("a", false, 2, newest(5, 4), 4);
    EXPECT_EQ(cache.bytes(), 3 * one_page) << "a page replaced is counted once";
}

TEST(HistoryCache, APageLargerThanTheWholeCacheIsNotKept) {
    HistoryCache cache(100);
    cache.keep("c", false, 1, newest(4, 4), 4);
    EXPECT_FALSE(page_for(cache, "c", false, 1, {}, 1));
    EXPECT_EQ(cache.bytes(), 0u);
}

TEST(HistoryCache, AKeptPageIsSharedAndWhatWasWrittenOfItIsKeptForItsLimit) {
    HistoryCache cache(plenty);
    cache.keep("c", false, 7, newest(10, 4), 4);
    const auto kept = cache.find("c", false, 7);
    ASSERT_TRUE(kept);
    EXPECT_EQ(cache.find("c", false, 7), kept) << "every reader of the version gets the one page";
    EXPECT_FALSE(kept->written(3));
    kept->remember_written(3, std::make_shared<const std::string>("page of 3"));
    ASSERT_TRUE(cache.find("c", false, 7)->written(3));
    EXPECT_EQ(*cache.find("c", false, 7)->written(3), "page of 3");
    EXPECT_FALSE(kept->written(2)) << "another limit is another text";
    kept->remember_written(2, std::make_shared<const std::string>("page of 2"));
    EXPECT_FALSE(kept->written(3)) << "one text is kept, the last written";

    cache.keep("c", false, 8, newest(11, 4), 4);
    EXPECT_FALSE(cache.find("c", false, 8)->written(2)) << "a new version starts with nothing written";
    EXPECT_EQ(kept->stored().messages.front().id, "m10") << "a reader holding the old page still has it whole";
}

TEST(HistoryCache, AKeptPageKnowsHowFarItsMessagesNeedNothingReadLive) {
    HistoryCache cache(plenty);
    auto page = newest(10, 6);  // m9 and m6 have reactions
    page.messages[1].is_deleted = true;
    page.messages[2].type = model::MessageType::poll;
    cache.keep("c", false, 7, page, 6);
    const auto kept = cache.find("c", false, 7);
    EXPECT_FALSE(kept->has_live_parts(2)) << "a deleted message's reactions are not read";
    EXPECT_TRUE(kept->has_live_parts(3)) << "m8 is a poll";

    page.messages[2].is_deleted = true;
    cache.keep("c", false, 8, page, 6);
    EXPECT_FALSE(cache.find("c", false, 8)->has_live_parts(4));
    EXPECT_TRUE(cache.find("c", false, 8)->has_live_parts(5)) << "m6 has reactions";
    EXPECT_TRUE(cache.find("c", false, 8)->has_live_parts(100));
}

TEST(HistoryCache, ACapacityOfZeroKeepsNothing) {
    HistoryCache cache(0);
    EXPECT_FALSE(cache.enabled());
    cache.keep("c", false, 1, {}, 4);
    EXPECT_FALSE(page_for(cache, "c", false, 1, {}, 1));
}

}  // namespace
}  // namespace confab::domain
