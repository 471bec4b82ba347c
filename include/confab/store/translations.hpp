#pragma once

#include "confab/store/tx.hpp"

#include <optional>
#include <string>

// The translations of messages the provider made, kept per message, target and source
// language for the content they were made from (migrations/0015_translations.sql).
namespace confab::store::translations {

void prepare(Tx& tx);

struct Key {
    std::string message_id;
    std::string target;
    std::string source;   // as asked: a language or "auto"
    std::string content;  // the message's content now: a translation of other content is not found
};

struct Stored {
    std::string text;
    std::optional<std::string> detected_source;
};

std::optional<Stored> find(Tx& tx, const Key& key);
// Keeps the translation (replacing the key's earlier one), unless the message is gone or
// deleted by now.
void remember(Tx& tx, const Key& key, const Stored& translation);

}  // namespace confab::store::translations
