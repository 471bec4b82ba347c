// store::search::snippet_from_headline: ts_headline's marked-up excerpt into plain parts.

#include "confab/store/search.hpp"

#include <gtest/gtest.h>

namespace confab::store::search {
namespace {

struct Part {
    std::string text;
    bool highlighted;
    bool operator==(const Part&) const = default;
};

std::vector<Part> parts_of(std::string_view headline) {
    std::vector<Part> parts;
    for (const auto& part : snippet_from_headline(headline)) parts.push_back({part.text, part.highlighted});
    return parts;
}

TEST(SearchSnippet, MarkedWordsBecomeHighlightedPartsAndTheRestPlainText) {
    EXPECT_EQ(parts_of("the \x01quick\x02 brown \x01"
                       "fox\x02"),
              (std::vector<Part>{{"the ", false}, {"quick", true}, {" brown ", false}, {"fox", true}}));
    EXPECT_EQ(parts_of("\x01word\x02 \x01word\x02"), (std::vector<Part>{{"word", true}, {" ", false}, {"word", true}}));
}

TEST(SearchSnippet, TextWithoutMarksIsOnePlainPartAndNothingIsNoPart) {
    EXPECT_EQ(parts_of("<b>not markup</b> & more"), (std::vector<Part>{{"<b>not markup</b> & more", false}}));
    EXPECT_TRUE(parts_of("").empty());
}

}  // namespace
}  // namespace confab::store::search
