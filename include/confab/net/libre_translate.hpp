#pragma once

#include "confab/config/config.hpp"
#include "confab/domain/translator.hpp"

#include <string>
#include <string_view>

namespace confab::net {

// The translation provider as an HTTP API in LibreTranslate's shape: POST <url>/translate
// with {"q", "source", "target", "format": "text", "api_key"} answered by
// {"translatedText", "detectedLanguage": {"language", "confidence"}} (docs/configuration.md).
class LibreTranslate final : public domain::Translator {
public:
    explicit LibreTranslate(const config::Translation& settings);

    boost::asio::awaitable<domain::Translated> translate(domain::TranslationRequest request) override;

private:
    const config::Translation& settings_;
    std::string endpoint_;  // <url>/translate
};

// The request's JSON body; api_key only when one is set.
std::string libre_translate_body(const domain::TranslationRequest& request, const std::string& api_key);
// The translation in a 200 answer's body; TranslatorFailure when it has none.
domain::Translated libre_translate_answer(std::string_view body);

}  // namespace confab::net
