// The multipart/form-data upload parser: media::multipart_boundary reads the Content-Type,
// media::extract_part copies a named part ("file", and a live photo's "live_video") out of a
// body on disk. A malformed body is std::invalid_argument, never anything else; a part found
// is a piece of the body, and a part not found leaves no file behind.
// Input: the Content-Type, a newline, then the body.

#include "expect.hpp"

#include "confab/media/multipart.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {

namespace fs = std::filesystem;

fs::path scratch_dir;

void write_file(const fs::path& path, std::string_view content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    FUZZ_EXPECT(out.good());
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    FUZZ_EXPECT(in.good());
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    std::string pattern = (fs::temp_directory_path() / "confab-fuzz-multipart-XXXXXX").string();
    FUZZ_EXPECT(::mkdtemp(pattern.data()) != nullptr);
    scratch_dir = pattern;
    std::atexit([] {
        std::error_code ignored;
        fs::remove_all(scratch_dir, ignored);
    });
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(bytes), size);
    const auto newline = input.find('\n');
    if (newline == std::string_view::npos) return 0;
    const auto boundary = confab::media::multipart_boundary(input.substr(0, newline));
    if (!boundary) return 0;
    FUZZ_EXPECT(!boundary->empty() && boundary->size() <= 70);

    const auto body = input.substr(newline + 1);
    const auto body_file = scratch_dir / "body", part_file = scratch_dir / "part";
    write_file(body_file, body);
    for (const std::string_view name : {"file", "live_video"}) {
        fs::remove(part_file);
        try {
            const auto part = confab::media::extract_part(body_file, *boundary, name, part_file);
            if (!part) {
                FUZZ_EXPECT(!fs::exists(part_file));
                continue;
            }
            FUZZ_EXPECT(body.find(read_file(part_file)) != std::string_view::npos);
            if (part->file_name) FUZZ_EXPECT(body.find(*part->file_name) != std::string_view::npos);
        } catch (const std::invalid_argument&) {
            FUZZ_EXPECT(!fs::exists(part_file));
        }
    }
    return 0;
}
