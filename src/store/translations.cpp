#include "confab/store/translations.hpp"
#include "confab/store/sql.hpp"

#include "confab/store/rows.hpp"

namespace confab::store::translations {

void prepare(Tx& tx) {
    tx.prepare("translations_find",
               "SELECT text, detected_source FROM message_translations WHERE message_id = $1::uuid AND target = $2 "
               "AND source = $3 AND content_sha256 = sha256(convert_to($4, 'UTF8'))");
    tx.prepare("translations_remember",
               "INSERT INTO message_translations (message_id, target, source, content_sha256, text, detected_source) "
               "SELECT m.id, $2, $3, sha256(convert_to($4, 'UTF8')), $5, $6 FROM messages m "
               "WHERE m.id = $1::uuid AND NOT m.is_deleted "
               "ON CONFLICT (message_id, target, source) DO UPDATE SET content_sha256 = excluded.content_sha256, "
               "text = excluded.text, detected_source = excluded.detected_source, created_at = now()");
}

std::optional<Stored> find(Tx& tx, const Key& key) {
    const auto result = tx.exec_prepared("translations_find", key.message_id, key.target, key.source, key.content);
    if (result.empty()) return std::nullopt;
    return Stored{result[0][0].as<std::string>(), optional_text(result[0][1])};
}

void remember(Tx& tx, const Key& key, const Stored& translation) {
    tx.exec_prepared("translations_remember", key.message_id, key.target, key.source, key.content, translation.text,
                     translation.detected_source);
}

}  // namespace confab::store::translations
