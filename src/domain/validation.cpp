#include "confab/domain/validation.hpp"

#include "confab/domain/model.hpp"

#include <algorithm>

namespace confab::domain {

std::size_t code_points(std::string_view utf8) {
    // Every code point has exactly one byte that is not a continuation byte (10xxxxxx).
    return static_cast<std::size_t>(
        std::count_if(utf8.begin(), utf8.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool is_valid_utf8(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto lead = static_cast<unsigned char>(text[i]);
        std::size_t length = 0;
        unsigned min = 0, code = 0;
        if (lead < 0x80) {
            ++i;
            continue;
        } else if ((lead & 0xE0) == 0xC0) {
            length = 2, min = 0x80, code = lead & 0x1F;
        } else if ((lead & 0xF0) == 0xE0) {
            length = 3, min = 0x800, code = lead & 0x0F;
        } else if ((lead & 0xF8) == 0xF0) {
            length = 4, min = 0x10000, code = lead & 0x07;
        } else {
            return false;
        }
        if (i + length > text.size()) return false;
        for (std::size_t k = 1; k < length; ++k) {
            const auto next = static_cast<unsigned char>(text[i + k]);
            if ((next & 0xC0) != 0x80) return false;
            code = (code << 6) | (next & 0x3F);
        }
        if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
        i += length;
    }
    return true;
}

namespace {

// The code point at text[i] (valid UTF-8), and advances i past it.
char32_t next_code_point(std::string_view text, std::size_t& i) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t length = lead < 0x80 ? 1 : (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3 : 4;
    char32_t code = length == 1 ? lead : lead & (0x7F >> length);
    for (std::size_t k = 1; k < length; ++k) code = (code << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
    i += length;
    return code;
}

bool is_control_or_bidi(char32_t c) {
    return c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == 0x061C || c == 0x200E || c == 0x200F ||
           (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
}

// Spaces and the characters that print nothing (zero-width, fillers): a name of only these
// shows as blank, or as nothing, and lets one user pass for another.
bool is_invisible(char32_t c) {
    return c == 0x20 || c == 0xA0 || c == 0x115F || c == 0x1160 || c == 0x1680 || c == 0x180E ||
           (c >= 0x2000 && c <= 0x200D) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x2060 ||
           c == 0x3000 || c == 0x3164 || c == 0xFEFF || c == 0xFFA0;
}

}  // namespace

bool is_external_id(std::string_view id) {
    constexpr std::size_t max_external_id_bytes = 255;
    return !id.empty() && id.size() <= max_external_id_bytes && is_plain_text(id);
}

bool shows_something(std::string_view text) {
    for (std::size_t i = 0; i < text.size();)
        if (!is_invisible(next_code_point(text, i))) return true;
    return false;
}

bool is_plain_text(std::string_view text) {
    if (!is_valid_utf8(text)) return false;
    for (std::size_t i = 0; i < text.size();)
        if (is_control_or_bidi(next_code_point(text, i))) return false;
    return true;
}

bool has_scheme(std::string_view url, std::string_view scheme) {
    if (url.size() <= scheme.size()) return false;
    return std::equal(scheme.begin(), scheme.end(), url.begin(),
                      [](char s, char u) { return s == (u >= 'A' && u <= 'Z' ? u - 'A' + 'a' : u); });
}

void require_avatar_url(const std::optional<std::string>& url) {
    constexpr std::size_t max_avatar_url_chars = 2048;
    if (!url) return;
    if (url->empty() || code_points(*url) > max_avatar_url_chars)
        throw bad_request("avatar_url must be 1-2048 characters", "avatar_url");
    const bool on_this_server = url->size() > 1 && (*url)[0] == '/' && (*url)[1] != '/';
    // A browser reads "\" as "/" in an http URL: "/\evil.example" would leave this server.
    // A URL holds no spaces, control or direction characters: every member's client shows it.
    if (url->find('\\') != std::string::npos || url->find(' ') != std::string::npos || !is_plain_text(*url) ||
        (!on_this_server && !has_scheme(*url, "http://") && !has_scheme(*url, "https://")))
        throw bad_request(
            "avatar_url must be an http or https URL or a path on this server, without spaces or "
            "control characters",
            "avatar_url");
}

void require_client_id(const std::optional<std::string>& client_id) {
    constexpr std::size_t max_client_id_chars = 64;
    if (client_id && (client_id->empty() || code_points(*client_id) > max_client_id_chars))
        throw bad_request("client_id must be 1-64 characters", "client_id");
    for (const auto prefix : {scheduled_client_id_prefix, broadcast_client_id_prefix})
        if (client_id && client_id->starts_with(prefix))
            throw bad_request("client_id must not start with \"" + std::string(prefix) + "\": the server posts with it",
                              "client_id");
}

void require_name(std::string_view name, const std::string& field) {
    const auto length = code_points(name);
    if (length < 1 || length > max_name_chars) throw bad_request(field + " must be 1-64 characters", field);
    if (!is_plain_text(name))
        throw bad_request(field + " must not contain control or bidirectional formatting characters", field);
    if (!shows_something(name)) throw bad_request(field + " must show something besides spaces", field);
}

bool is_uuid(std::string_view text) {
    if (text.size() != 36) return false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash_position ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

void require_uuid(std::string_view id, const char* field) {
    if (!is_uuid(id)) throw bad_request(std::string("invalid ") + field, field);
}

bool is_valid_username(std::string_view username) {
    return username.size() >= 3 && username.size() <= 32 && std::all_of(username.begin(), username.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
           });
}

}  // namespace confab::domain
