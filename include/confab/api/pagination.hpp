#pragma once

#include "confab/api/query.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace confab::api {

// An opaque cursor holding one integer key (chat activity, member position).
std::optional<std::int64_t> integer_cursor(const Query& query);
std::string encode_integer_cursor(std::int64_t key);

}  // namespace confab::api
