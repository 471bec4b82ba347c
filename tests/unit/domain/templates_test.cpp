#include "confab/domain/templates.hpp"

#include "confab/domain/validation.hpp"
#include "confab/model/error.hpp"

#include <gtest/gtest.h>

namespace confab::domain::templates {
namespace {

using Values = std::map<std::string, std::string>;

std::string refusal(std::string_view content, const Values& values) {
    try {
        fill(content, values);
    } catch (const model::Error& error) {
        EXPECT_EQ(error.code(), model::ErrorCode::bad_request);
        EXPECT_EQ(error.field(), "values");
        return error.what();
    }
    return "filled";
}

TEST(Templates, PlaceholdersAreNamedOnceInOrderOfFirstAppearance) {
    EXPECT_EQ(placeholders("Hi {{name}}, {{day}} at {{time}}. See you {{day}}!"),
              (std::vector<std::string>{"name", "day", "time"}));
    EXPECT_TRUE(placeholders("no placeholders").empty());
    EXPECT_TRUE(placeholders("").empty());
}

TEST(Templates, OnlyWellFormedNamesArePlaceholders) {
    // A name is a lowercase letter then up to 31 of [a-z0-9_]; other braces are text.
    EXPECT_TRUE(placeholders("{{Name}} {{ name }} {{1st}} {{}} {{a-b}} {name} {{open").empty());
    EXPECT_EQ(placeholders("{{a_1}} {{" + std::string(32, 'x') + "}} {{" + std::string(33, 'x') + "}}"),
              (std::vector<std::string>{"a_1", std::string(32, 'x')}));
    EXPECT_EQ(placeholders("{{{name}}}"), std::vector<std::string>{"name"});
}

TEST(Templates, FillReplacesEveryOccurrenceAndKeepsTheRest) {
    EXPECT_EQ(fill("Hi {{name}}, {{name}}! {x} {{Other}}", {{"name", "Ann"}}), "Hi Ann, Ann! {x} {{Other}}");
    EXPECT_EQ(fill("{{{name}}}", {{"name", "Ann"}}), "{Ann}");
    EXPECT_EQ(fill("plain", {}), "plain");
    EXPECT_EQ(fill("{{a}}{{b}}", {{"a", ""}, {"b", "ß"}}), "ß");
}

TEST(Templates, ValuesAreInsertedAsIsNotFilledAgain) {
    EXPECT_EQ(fill("{{a}} {{b}}", {{"a", "{{b}}"}, {"b", "x"}}), "{{b}} x");
}

TEST(Templates, EveryPlaceholderNeedsAValueAndEveryValueAPlaceholder) {
    EXPECT_EQ(refusal("Hi {{name}} on {{day}}", {{"name", "Ann"}}), "no value for the placeholder day");
    EXPECT_EQ(refusal("Hi {{name}}", {{"name", "Ann"}, {"day", "Monday"}}), "the template has no placeholder day");
    EXPECT_EQ(refusal("plain", {{"name", "Ann"}}), "the template has no placeholder name");
}

TEST(Templates, TheFilledLengthIsCountedInCodePointsWithoutFilling) {
    const Values values{{"name", "Zoë"}, {"day", ""}};
    for (const std::string_view content :
         {"Hi {{name}}, {{name}}!{{day}}", "{{{name}}}{{day}}", "ß {{day}}{x}{{name}}"})
        EXPECT_EQ(filled_chars(content, values), code_points(fill(content, values))) << content;
    // A short template repeating a long value: measured, never built.
    std::string repeated;
    for (int i = 0; i < 800; ++i) repeated += "{{v}}";
    EXPECT_EQ(filled_chars(repeated, {{"v", std::string(200'000, 'x')}}), 160'000'000u);
    // The values are checked as fill checks them.
    EXPECT_THROW(filled_chars("Hi {{name}}", {{"name", "Ann"}, {"day", "Monday"}}), model::Error);
    EXPECT_THROW(filled_chars("Hi {{name}}", {}), model::Error);
}

}  // namespace
}  // namespace confab::domain::templates
