#pragma once

#include "confab/http/message.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

namespace confab::api {

// The built web client (config web.root) served beside the API (docs/configuration.md,
// Serving the web client). Its directory is listed once at start, so a request can reach
// only a listed file and never waits for the disk to look one up; the bytes are read on
// the file threads when sent.
class WebClient {
public:
    // An empty root serves nothing. Throws std::runtime_error when the root cannot be listed.
    explicit WebClient(const std::filesystem::path& root);

    bool enabled() const { return !files_.empty(); }

    // GET or HEAD of a path outside /api: the file, index.html for an app route, else 404.
    http::Response answer(const http::Request& request) const;

private:
    struct File {
        std::filesystem::path path;
        std::uint64_t size = 0;
        std::string etag;
    };
    std::map<std::string, File, std::less<>> files_;  // by URL path, e.g. "/assets/app-3F2A.js"
};

}  // namespace confab::api
