#include "confab/domain/translation_service.hpp"

#include "confab/domain/rules.hpp"
#include "confab/obs/metrics.hpp"
#include "confab/store/pool.hpp"
#include "confab/store/translations.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace confab::domain {
namespace {

bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_alnum(char c) { return is_lower(c) || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

constexpr std::size_t max_subtags = 2;

void require_language(const std::string& text, const char* field) {
    if (!is_language_tag(text))
        throw bad_request(std::string(field) + " must be a language tag such as \"de\" or \"pt-BR\"", field);
}

// A refusal the client can tell apart by details.reason: 503, as the provider's trouble is
// the server's to report, not a gateway's (a proxy in front answers its own 502 and 504).
Error unavailable(const std::string& message, const char* reason) {
    Error error(ErrorCode::unavailable, message);
    error.reason = reason;
    return error;
}

void count(const char* result) { obs::metrics().translation_requests.with({result}).inc(); }

}  // namespace

bool is_language_tag(std::string_view text) {
    for (std::size_t start = 0, subtags = 0;; ++subtags) {
        const auto end = std::min(text.find('-', start), text.size());
        const auto part = text.substr(start, end - start);
        const bool fits = subtags == 0
                              ? part.size() >= 2 && part.size() <= 3 && std::all_of(part.begin(), part.end(), is_lower)
                              : subtags <= max_subtags && part.size() >= 2 && part.size() <= 8 &&
                                    std::all_of(part.begin(), part.end(), is_alnum);
        if (!fits) return false;
        if (end == text.size()) return true;
        start = end + 1;
    }
}

boost::asio::awaitable<MessageTranslation> TranslationService::translate(std::string actor, std::string message_id,
                                                                         std::string target,
                                                                         std::optional<std::string> source) {
    require_language(target, "to");
    if (source) require_language(*source, "from");
    if (translator_ == nullptr) {
        count("not_configured");
        throw unavailable("translation is not configured on this server", "translation_not_configured");
    }
    const auto [message, standing] = co_await writes_.visible_message(actor, message_id);
    rules::may_translate(message);
    store::translations::Key key{message.id, target, source.value_or("auto"), message.content};
    MessageTranslation answer{message.id, target, source, {}, message.version, true};
    auto stored = co_await writes_.pool().run([key](store::Tx& tx) { return store::translations::find(tx, key); });
    if (stored) {
        count("cached");
    } else {
        auto translated = co_await ask_provider({message.content, key.source, target});
        stored = store::translations::Stored{std::move(translated.text), std::move(translated.detected_source)};
        co_await writes_.pool().run([key, stored](store::Tx& tx) { store::translations::remember(tx, key, *stored); });
        answer.cached = false;
        count("translated");
    }
    answer.text = std::move(stored->text);
    if (!answer.source_language) answer.source_language = std::move(stored->detected_source);
    co_return answer;
}

boost::asio::awaitable<Translated> TranslationService::ask_provider(TranslationRequest request) {
    const auto started = std::chrono::steady_clock::now();
    try {
        auto translated = co_await translator_->translate(std::move(request));
        obs::metrics().translation_duration.only().observe(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        // PostgreSQL text cannot keep U+0000: kept, such a text would come back cut at it, so
        // it is a bad answer like one without a text.
        if (translated.text.find('\0') != std::string::npos)
            throw TranslatorFailure("the provider's translatedText holds U+0000", false);
        // Answered as source_language, which is a language tag as `to` is, or null.
        if (translated.detected_source && !is_language_tag(*translated.detected_source))
            translated.detected_source.reset();
        co_return translated;
    } catch (const TranslatorFailure& failure) {
        spdlog::warn("translation provider: {}", failure.what());
        count(failure.timed_out() ? "timed_out" : "failed");
        if (failure.timed_out())
            throw unavailable("the translation provider did not answer in time", "provider_timeout");
        throw unavailable("the translation provider failed", "provider_error");
    }
}

}  // namespace confab::domain
