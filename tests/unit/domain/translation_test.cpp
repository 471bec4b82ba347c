// The language tags a translation request names (docs/api.md, Translation).

#include "confab/domain/translation_service.hpp"

#include <gtest/gtest.h>

#include <string>

namespace confab::domain {
namespace {

TEST(LanguageTag, APrimaryTagAndAtMostTwoSubtags) {
    for (const std::string tag : {"de", "en", "fil", "pt-BR", "zh-Hans", "zh-Hant-TW", "es-419", "sr-Latn"})
        EXPECT_TRUE(is_language_tag(tag)) << tag;
}

TEST(LanguageTag, AnythingElseIsRefused) {
    for (const std::string tag : {"", "d", "deut", "DE", "De", "d3", "de-", "-de", "de--at", "de_AT", "de-a",
                                  "de-abcdefghi", "zh-Hans-CN-x1", "auto", "de ", " de", "de-A T", "de\n", "\xc3\xa9s"})
        EXPECT_FALSE(is_language_tag(tag)) << tag;
}

}  // namespace
}  // namespace confab::domain
