#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace confab::media {

// The boundary of a "multipart/form-data; boundary=..." content type, if it is one.
std::optional<std::string> multipart_boundary(std::string_view content_type);

struct FilePart {
    std::optional<std::string> file_name;  // the part's filename parameter
};

// Copies the content of the part named `name` of a multipart/form-data body (a file on disk,
// mapped rather than read into memory) to `destination`; nullopt when the body has no such
// part (the first one counts). Throws std::invalid_argument when the body is malformed.
std::optional<FilePart> extract_part(const std::filesystem::path& body, const std::string& boundary,
                                     std::string_view name, const std::filesystem::path& destination);

}  // namespace confab::media
