// The provider's wire format (LibreTranslate's): what the server sends and what it reads back.

#include "confab/net/libre_translate.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace confab::net {
namespace {

using nlohmann::json;

TEST(LibreTranslate, TheRequestCarriesTextLanguagesFormatAndKey) {
    const auto body = json::parse(libre_translate_body({"Grüß dich \"du\"", "auto", "en"}, "secret"));
    EXPECT_EQ(body, (json{{"q", "Grüß dich \"du\""},
                          {"source", "auto"},
                          {"target", "en"},
                          {"format", "text"},
                          {"api_key", "secret"}}));
}

TEST(LibreTranslate, NoKeyIsLeftOut) {
    const auto body = json::parse(libre_translate_body({"hi", "en", "de"}, ""));
    EXPECT_FALSE(body.contains("api_key"));
    EXPECT_EQ(body["source"], "en");
}

TEST(LibreTranslate, TheAnswerGivesTheTextAndTheDetectedLanguage) {
    const auto detected =
        libre_translate_answer(R"({"translatedText":"Hallo","detectedLanguage":{"confidence":83.0,"language":"en"}})");
    EXPECT_EQ(detected.text, "Hallo");
    EXPECT_EQ(detected.detected_source, "en");
    const auto plain = libre_translate_answer(R"({"translatedText":""})");
    EXPECT_EQ(plain.text, "");
    EXPECT_EQ(plain.detected_source, std::nullopt);
    EXPECT_EQ(libre_translate_answer(R"({"translatedText":"x","detectedLanguage":{"language":7}})").detected_source,
              std::nullopt);
}

TEST(LibreTranslate, AnAnswerWithoutATranslationIsAFailureNotATimeout) {
    for (const std::string body : {"", "not json", "[]", "{}", R"({"translatedText":null})",
                                   R"({"translatedText":["Hallo"]})", R"({"error":"Invalid API key"})"}) {
        try {
            libre_translate_answer(body);
            ADD_FAILURE() << "accepted " << body;
        } catch (const domain::TranslatorFailure& failure) {
            EXPECT_FALSE(failure.timed_out()) << body;
        }
    }
}

}  // namespace
}  // namespace confab::net
