#pragma once

#include "confab/domain/commit.hpp"
#include "confab/domain/translator.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace confab::domain {

// A language as translation requests name it: a primary tag of 2-3 lowercase letters and
// at most two subtags of 2-8 letters or digits, each after "-" ("de", "pt-BR", "zh-Hans").
bool is_language_tag(std::string_view text);

struct MessageTranslation {
    std::string message_id;
    std::string language;                        // translated into
    std::optional<std::string> source_language;  // as asked, else as the provider detected it
    std::string text;
    std::int64_t message_version = 0;  // the message as it read when answered
    bool cached = false;               // kept from an earlier request: the provider was not asked
};

// Messages translated by the configured provider, each translation kept for the content it
// was made from (docs/api.md, Translation). Without a provider every request is refused as
// not configured.
class TranslationService {
public:
    TranslationService(ChatWrites& writes, Translator* translator) : writes_(writes), translator_(translator) {}

    // `source` nullopt: the provider detects the language.
    boost::asio::awaitable<MessageTranslation> translate(std::string actor, std::string message_id, std::string target,
                                                         std::optional<std::string> source);

private:
    boost::asio::awaitable<Translated> ask_provider(TranslationRequest request);

    ChatWrites& writes_;
    Translator* translator_;  // null: none configured
};

}  // namespace confab::domain
