#include "confab/domain/rich_text.hpp"

#include "confab/domain/validation.hpp"

#include <algorithm>

namespace confab::domain::rich_text {
namespace {

Error invalid(const std::string& message) { return bad_request(message, "entities"); }

// The UTF-16 length of the content and the offsets inside its surrogate pairs, ascending.
struct Utf16Layout {
    std::int64_t length = 0;
    std::vector<std::int64_t> inside_pairs;

    bool is_boundary(std::int64_t offset) const {
        return !std::binary_search(inside_pairs.begin(), inside_pairs.end(), offset);
    }
};

// A lead byte of 11110xxx starts a code point past U+FFFF: two UTF-16 units.
bool starts_astral(unsigned char byte) { return (byte & 0xF8) == 0xF0; }
bool starts_code_point(unsigned char byte) { return (byte & 0xC0) != 0x80; }

Utf16Layout layout_of(std::string_view utf8) {
    Utf16Layout layout;
    for (const char c : utf8) {
        const auto byte = static_cast<unsigned char>(c);
        if (!starts_code_point(byte)) continue;
        if (starts_astral(byte)) {
            layout.inside_pairs.push_back(layout.length + 1);
            layout.length += 2;
        } else {
            layout.length += 1;
        }
    }
    return layout;
}

bool is_language_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '#' ||
           c == '.' || c == '_' || c == '-';
}

bool is_visible_ascii(std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char c) { return c > ' ' && c < 0x7F; });
}

void check_fields(const TextEntity& e) {
    if (e.url) require_takes(e.type, "url");
    if (e.language) require_takes(e.type, "language");
    if (e.user_id) require_takes(e.type, "user_id");
    switch (e.type) {
        case EntityType::link:
            if (!e.url) throw invalid("link entities need a url");
            if (e.url->size() > max_url_bytes || !is_visible_ascii(*e.url))
                throw invalid("a link's url must be at most 2048 visible ASCII characters");
            if (!has_scheme(*e.url, "http://") && !has_scheme(*e.url, "https://") && !has_scheme(*e.url, "mailto:"))
                throw invalid("a link's url must be http, https or mailto");
            break;
        case EntityType::code_block:
            if (e.language && (e.language->empty() || e.language->size() > max_language_bytes ||
                               !std::all_of(e.language->begin(), e.language->end(), is_language_char)))
                throw invalid("a code block's language must be 1-32 of A-Z a-z 0-9 + # . _ -");
            break;
        case EntityType::mention:
            if (!e.user_id) throw invalid("mention entities need a user_id");
            if (!is_uuid(*e.user_id)) throw invalid("a mention's user_id must be a user id: a lower-case UUID");
            break;
        default: break;
    }
}

void check_range(const TextEntity& e, const Utf16Layout& layout) {
    if (e.offset < 0 || e.length <= 0 || e.offset > layout.length || e.length > layout.length - e.offset)
        throw invalid("an entity must cover 1 or more UTF-16 code units within the content");
    if (!layout.is_boundary(e.offset) || !layout.is_boundary(e.offset + e.length))
        throw invalid("an entity must not split a surrogate pair");
}

bool is_code(EntityType type) { return type == EntityType::code || type == EntityType::code_block; }
bool is_reference(EntityType type) {
    return type == EntityType::link || type == EntityType::mention || type == EntityType::mention_all;
}

std::int64_t end_of(const TextEntity& e) { return e.offset + e.length; }

// Walks the entities in order of offset, longer first: each one must lie within every entity
// still open at its offset (else they partly overlap), and the open ones are its ancestors.
void check_nesting(const std::vector<TextEntity>& entities) {
    std::vector<const TextEntity*> ordered;
    ordered.reserve(entities.size());
    for (const auto& e : entities) ordered.push_back(&e);
    std::sort(ordered.begin(), ordered.end(), [](const TextEntity* a, const TextEntity* b) {
        return a->offset != b->offset ? a->offset < b->offset : a->length > b->length;
    });
    std::vector<const TextEntity*> open;
    for (const auto* e : ordered) {
        while (!open.empty() && end_of(*open.back()) <= e->offset) open.pop_back();
        if (!open.empty() && end_of(*e) > end_of(*open.back()))
            throw invalid("entities must be nested or disjoint, not partly overlapping");
        for (const auto* outer : open) {
            if (is_code(outer->type) || is_code(e->type))
                throw invalid("code and code_block entities must not overlap other entities");
            if (is_reference(outer->type) && is_reference(e->type))
                throw invalid("links and mentions must not overlap each other");
            if (outer->type == e->type) throw invalid("entities of one type must not overlap");
        }
        open.push_back(e);
    }
}

}  // namespace

std::size_t utf16_length(std::string_view utf8) { return static_cast<std::size_t>(layout_of(utf8).length); }

void require_takes(EntityType type, std::string_view field) {
    const bool takes = field == "url"        ? type == EntityType::link
                       : field == "language" ? type == EntityType::code_block
                       : field == "user_id"  ? type == EntityType::mention
                                             : false;
    if (!takes) throw invalid(std::string(to_string(type)) + " entities take no " + std::string(field));
}

void validate(const std::string& content, const std::vector<TextEntity>& entities) {
    if (entities.empty()) return;
    if (entities.size() > max_entities) throw invalid("a message has at most 100 entities");
    const auto layout = layout_of(content);
    for (const auto& e : entities) {
        check_fields(e);
        check_range(e, layout);
    }
    check_nesting(entities);
}

Mentions mentions_in(const std::vector<TextEntity>& entities) {
    Mentions mentions;
    for (const auto& e : entities) {
        if (e.type == EntityType::mention_all) mentions.everyone = true;
        if (e.type == EntityType::mention && e.user_id &&
            std::find(mentions.users.begin(), mentions.users.end(), *e.user_id) == mentions.users.end())
            mentions.users.push_back(*e.user_id);
    }
    return mentions;
}

}  // namespace confab::domain::rich_text
