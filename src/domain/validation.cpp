#include "confab/domain/validation.hpp"

#include <algorithm>

namespace confab::domain {

std::size_t code_points(std::string_view utf8) {
    // Every code point has exactly one byte that is not a continuation byte (10xxxxxx).
    return static_cast<std::size_t>(std::count_if(utf8.begin(), utf8.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }));
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

bool is_valid_username(std::string_view username) {
    return username.size() >= 3 && username.size() <= 32 &&
           std::all_of(username.begin(), username.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
           });
}

}  // namespace confab::domain
