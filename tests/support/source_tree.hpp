#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

namespace confab::test {

// The source tree, where the tests read the shipped config, docs and fixtures from:
// CONFAB_SOURCE_DIR (set by ctest) first, since under ccache's base_dir __FILE__ is relative
// to the build directory, not to where the test runs.
inline std::filesystem::path source_dir() {
    if (const char* dir = std::getenv("CONFAB_SOURCE_DIR")) return dir;  // NOLINT(concurrency-mt-unsafe)
    return std::filesystem::path(__FILE__).parent_path() / "../..";
}

// A file of the source tree, whole; throws when it is missing or empty.
inline std::string source_file(const std::string& relative_path) {
    const auto path = source_dir() / relative_path;
    std::ifstream in(path, std::ios::binary);
    std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (bytes.empty()) throw std::runtime_error("missing or empty source file " + path.string());
    return bytes;
}

}  // namespace confab::test
