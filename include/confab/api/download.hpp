#pragma once

#include "confab/http/message.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace confab::api {

// A file on disk sent as a download: media, avatars and the web client's files.
struct Download {
    std::filesystem::path path;
    std::uint64_t size = 0;
    std::string etag;  // unquoted
    std::string content_type;
    std::vector<std::pair<std::string, std::string>> headers;  // besides ETag, nosniff and Accept-Ranges
};

// Its response: 304 when If-None-Match has its entity tag, else the byte range asked for
// (206, or 416 past the end) or the whole file. The bytes are read on the file threads when
// the response is sent (net/file_io.hpp).
http::Response download_response(const http::Request& request, Download download);

}  // namespace confab::api
