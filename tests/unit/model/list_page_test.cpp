#include "confab/model/list_page.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace confab::model {
namespace {

// Rows as a store query asked for them, `count` of them, each item its own place's id.
std::vector<std::pair<std::string, ListPlace>> rows(int count) {
    std::vector<std::pair<std::string, ListPlace>> out;
    out.reserve(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) out.emplace_back("item" + std::to_string(i), ListPlace{100 - i, std::to_string(i)});
    return out;
}

TEST(ListPage, FewerRowsThanTheLimitAreTheLastPage) {
    const auto page = list_page(rows(2), 3);
    EXPECT_EQ(page.items, (std::vector<std::string>{"item0", "item1"}));
    EXPECT_FALSE(page.next.has_value());
    EXPECT_TRUE(list_page(rows(0), 3).items.empty());
    EXPECT_FALSE(list_page(rows(0), 3).next.has_value());
}

TEST(ListPage, ExactlyTheLimitIsTheLastPageToo) {
    const auto page = list_page(rows(3), 3);
    EXPECT_EQ(page.items.size(), 3u);
    EXPECT_FALSE(page.next.has_value()) << "no row past the limit: nothing follows, no empty page after";
}

TEST(ListPage, ARowPastTheLimitIsDroppedAndTheLastKeptIsTheNextPlace) {
    const auto page = list_page(rows(4), 3);
    EXPECT_EQ(page.items, (std::vector<std::string>{"item0", "item1", "item2"}));
    ASSERT_TRUE(page.next.has_value());
    EXPECT_EQ(page.next->time_us, 98);
    EXPECT_EQ(page.next->id, "2");
    const auto single = list_page(rows(2), 1);
    EXPECT_EQ(single.items, std::vector<std::string>{"item0"});
    ASSERT_TRUE(single.next.has_value());
    EXPECT_EQ(single.next->id, "0");
}

}  // namespace
}  // namespace confab::model
