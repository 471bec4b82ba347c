#pragma once

#include "confab/domain/model.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

// Rich text: formatting entities over a message's content (docs/api.md, Rich text), checked
// as pure functions of the content and the entities.
namespace confab::domain::rich_text {

constexpr std::size_t max_entities = 100;
constexpr std::size_t max_url_bytes = 2048;
constexpr std::size_t max_language_bytes = 32;

// The length of valid UTF-8 text in UTF-16 code units: a code point past U+FFFF counts two.
std::size_t utf16_length(std::string_view utf8);

// Throws bad_request (field `entities`) unless every entity fits the content and the rules:
// at most max_entities; each in range (length > 0, offset + length within the content's
// UTF-16 length, no end inside a surrogate pair); a link with an http, https or mailto url of
// at most max_url_bytes, a code block with an optional language of [A-Za-z0-9+#._-], a
// mention with a user id, and no field its type does not take. Any two entities are nested
// or disjoint, never partly overlapping; code and code blocks overlap no other entity; links
// and mentions of either kind overlap none of each other; two entities of one type do not
// overlap.
void validate(const std::string& content, const std::vector<TextEntity>& entities);

// bad_request (field `entities`) unless an entity of `type` takes `field`: a link takes a url, a
// code block a language, a mention a user_id, no type another of the three. Given at all, even
// as null, a field the type does not take is refused (docs/api.md, Rich text).
void require_takes(EntityType type, std::string_view field);

// Who the entities mention: each user named once, in order, and whether everyone is.
struct Mentions {
    std::vector<std::string> users;
    bool everyone = false;

    bool empty() const { return users.empty() && !everyone; }
};
Mentions mentions_in(const std::vector<TextEntity>& entities);

}  // namespace confab::domain::rich_text
