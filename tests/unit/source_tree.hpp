#pragma once

#include <cstdlib>
#include <filesystem>

namespace confab::test {

// The source tree, where the tests read the shipped config, docs and fixtures from:
// CONFAB_SOURCE_DIR (set by ctest) first, since under ccache's base_dir __FILE__ is relative
// to the build directory, not to where the test runs.
inline std::filesystem::path source_dir() {
    if (const char* dir = std::getenv("CONFAB_SOURCE_DIR")) return dir;  // NOLINT(concurrency-mt-unsafe)
    return std::filesystem::path(__FILE__).parent_path() / "../..";
}

}  // namespace confab::test
