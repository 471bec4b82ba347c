#include "confab/net/libre_translate.hpp"

#include "confab/net/http_client.hpp"

#include <nlohmann/json.hpp>

namespace confab::net {

std::string libre_translate_body(const domain::TranslationRequest& request, const std::string& api_key) {
    nlohmann::json body{{"q", request.text},
                        {"source", request.source},
                        {"target", request.target},
                        {"format", "text"}};
    if (!api_key.empty()) body["api_key"] = api_key;
    return body.dump();
}

domain::Translated libre_translate_answer(std::string_view body) {
    const auto json = nlohmann::json::parse(body, nullptr, false);
    const auto text = json.is_object() ? json.find("translatedText") : json.end();
    if (!json.is_object() || text == json.end() || !text->is_string())
        throw domain::TranslatorFailure("the provider's answer has no translatedText", false);
    domain::Translated translated{text->get<std::string>(), std::nullopt};
    const auto detected = json.find("detectedLanguage");
    if (detected != json.end() && detected->is_object()) {
        const auto language = detected->find("language");
        if (language != detected->end() && language->is_string())
            translated.detected_source = language->get<std::string>();
    }
    return translated;
}

LibreTranslate::LibreTranslate(const config::Translation& settings) : settings_(settings), endpoint_(settings.url) {
    while (!endpoint_.empty() && endpoint_.back() == '/') endpoint_.pop_back();
    endpoint_ += "/translate";
}

boost::asio::awaitable<domain::Translated> LibreTranslate::translate(domain::TranslationRequest request) {
    OutgoingRequest call{"POST",
                         endpoint_,
                         {{"Content-Type", "application/json"}, {"Accept", "application/json"}},
                         libre_translate_body(request, settings_.api_key),
                         settings_.timeout};
    IncomingResponse response;
    try {
        response = co_await send_request(std::move(call));
    } catch (const HttpClientError& e) {
        throw domain::TranslatorFailure(e.what(), e.timed_out());
    }
    if (response.status != 200)
        throw domain::TranslatorFailure("the provider answered HTTP " + std::to_string(response.status), false);
    co_return libre_translate_answer(response.body);
}

}  // namespace confab::net
