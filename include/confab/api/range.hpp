#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>

namespace confab::api {

struct WholeFile {};
struct ByteRange {
    std::uint64_t first = 0;
    std::uint64_t last = 0;  // inclusive
};
struct Unsatisfiable {};

// One `Range: bytes=...` header against a file of `size` bytes: a single range (a-b, a-,
// -n) is served; one past the end is unsatisfiable (416); several ranges or anything
// malformed is ignored, as RFC 9110 allows, and the whole file is sent.
std::variant<WholeFile, ByteRange, Unsatisfiable> parse_range(std::optional<std::string_view> header,
                                                              std::uint64_t size);

}  // namespace confab::api
