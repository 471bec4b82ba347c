#pragma once

#include "confab/api/query.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace confab::api {

// An opaque cursor holding one integer key of one kind ('a' chat activity, 'p' member
// position, 'n' pin order), so a cursor of one list is refused by another.
std::optional<std::int64_t> integer_cursor(const Query& query, char kind);
std::string encode_integer_cursor(char kind, std::int64_t key);

}  // namespace confab::api
