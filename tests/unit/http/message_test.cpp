#include "confab/http/message.hpp"

#include <gtest/gtest.h>

namespace confab::http {
namespace {

TEST(ContentDisposition, AnAsciiNameIsQuotedAlone) {
    EXPECT_EQ(content_disposition("inline", "cat.jpg"), R"(inline; filename="cat.jpg")");
    EXPECT_EQ(content_disposition("attachment", "a b.pdf"), R"(attachment; filename="a b.pdf")");
}

TEST(ContentDisposition, QuotesBackslashesAndControlsCannotBreakOutOfTheQuotedName) {
    EXPECT_EQ(content_disposition("attachment", "a\"b\\c\r\nd.txt"),
              "attachment; filename=\"a_b_c__d.txt\"; filename*=UTF-8''a%22b%5Cc%0D%0Ad.txt");
}

TEST(ContentDisposition, AnyOtherNameAlsoTravelsPercentEncodedAsUtf8) {
    // "résumé ü.pdf"
    EXPECT_EQ(content_disposition("attachment", "r\xC3\xA9sum\xC3\xA9 \xC3\xBC.pdf"),
              "attachment; filename=\"r__sum__ __.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%C3%BC.pdf");
}

TEST(ListElements, TrimsOptionalWhitespaceAndLeavesOutEmptyElements) {
    EXPECT_EQ(list_elements("a, b ,\tc"), (std::vector<std::string_view>{"a", "b", "c"}));
    EXPECT_EQ(list_elements(",, a ,, "), (std::vector<std::string_view>{"a"}));
    EXPECT_TRUE(list_elements("").empty());
    EXPECT_TRUE(list_elements(" , ").empty());
}

}  // namespace
}  // namespace confab::http
