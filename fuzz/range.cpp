// The Range header parser (api::parse_range): for any header and file size the answer is
// the whole file, an unsatisfiable range, or a range inside the file. It never throws.
// Input: eight bytes of file size, then the header value (absent when the input is shorter).

#include "expect.hpp"

#include "confab/api/range.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>
#include <variant>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    std::uint64_t file_size = 0;
    std::optional<std::string_view> header;
    if (size >= sizeof file_size) {
        std::memcpy(&file_size, bytes, sizeof file_size);
        header = std::string_view(reinterpret_cast<const char*>(bytes) + sizeof file_size, size - sizeof file_size);
    }
    const auto range = confab::api::parse_range(header, file_size);
    if (const auto* slice = std::get_if<confab::api::ByteRange>(&range)) {
        FUZZ_EXPECT(slice->first <= slice->last);
        FUZZ_EXPECT(slice->last < file_size);
    }
    if (!header) FUZZ_EXPECT(std::holds_alternative<confab::api::WholeFile>(range));
    return 0;
}
