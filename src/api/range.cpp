#include "confab/api/range.hpp"

#include "confab/http/message.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>

namespace confab::api {
namespace {

// A position of the header: digits, of any length (RFC 9110 14.1.1). One past what 64 bits
// hold is past any file, and is read as the largest there is, so "0-99999999999999999999"
// is the whole file from 0, as "0-" is.
std::optional<std::uint64_t> number(std::string_view text) {
    std::uint64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || end != text.data() + text.size()) return std::nullopt;
    if (error == std::errc::result_out_of_range) return std::numeric_limits<std::uint64_t>::max();
    if (error != std::errc{}) return std::nullopt;
    return value;
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                      [](unsigned char x, unsigned char y) { return std::tolower(x) == std::tolower(y); });
}

// The one range of a `bytes` range set: its unit is case-insensitive, and empty elements of
// the list count for nothing (RFC 9110 14.1.1, 5.6.1). Several ranges are nullopt.
std::optional<std::string_view> single_spec(std::string_view header) {
    constexpr std::string_view unit = "bytes=";
    if (header.size() < unit.size() || !equal_ignoring_case(header.substr(0, unit.size()), unit)) return std::nullopt;
    const auto ranges = http::list_elements(header.substr(unit.size()));
    if (ranges.size() != 1) return std::nullopt;
    return ranges.front();
}

}  // namespace

std::variant<WholeFile, ByteRange, Unsatisfiable> parse_range(std::optional<std::string_view> header,
                                                              std::uint64_t size) {
    const auto found = header ? single_spec(*header) : std::nullopt;
    if (!found) return WholeFile{};
    const auto spec = *found;
    const auto dash = spec.find('-');
    if (dash == std::string_view::npos) return WholeFile{};
    const auto first_text = spec.substr(0, dash), last_text = spec.substr(dash + 1);
    if (first_text.empty()) {  // suffix: the last n bytes
        const auto suffix = number(last_text);
        if (!suffix) return WholeFile{};
        if (*suffix == 0 || size == 0) return Unsatisfiable{};
        return ByteRange{size - std::min(*suffix, size), size - 1};
    }
    const auto first = number(first_text);
    if (!first) return WholeFile{};
    std::uint64_t last = size == 0 ? 0 : size - 1;
    if (!last_text.empty()) {
        const auto given = number(last_text);
        if (!given || *given < *first) return WholeFile{};
        last = std::min(*given, last);
    }
    if (*first >= size) return Unsatisfiable{};
    return ByteRange{*first, last};
}

}  // namespace confab::api
