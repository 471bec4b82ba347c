#include "confab/api/web_client.hpp"

#include "confab/api/download.hpp"
#include "confab/http/router.hpp"
#include "confab/model/error.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <utility>

namespace confab::api {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view index_path = "/index.html";
constexpr std::string_view hashed_assets = "/assets/";

struct Extension {
    std::string_view name;
    std::string_view content_type;
};
constexpr std::array content_types{
    Extension{".html", "text/html; charset=utf-8"},
    Extension{".js", "text/javascript; charset=utf-8"},
    Extension{".mjs", "text/javascript; charset=utf-8"},
    Extension{".css", "text/css; charset=utf-8"},
    Extension{".json", "application/json"},
    Extension{".map", "application/json"},
    Extension{".webmanifest", "application/manifest+json"},
    Extension{".txt", "text/plain; charset=utf-8"},
    Extension{".svg", "image/svg+xml"},
    Extension{".png", "image/png"},
    Extension{".jpg", "image/jpeg"},
    Extension{".jpeg", "image/jpeg"},
    Extension{".gif", "image/gif"},
    Extension{".webp", "image/webp"},
    Extension{".ico", "image/x-icon"},
    Extension{".woff2", "font/woff2"},
    Extension{".woff", "font/woff"},
    Extension{".wasm", "application/wasm"},
};

std::string_view content_type_of(std::string_view url_path) {
    const auto dot = url_path.rfind('.');
    if (dot != std::string_view::npos) {
        const auto extension = url_path.substr(dot);
        for (const auto& known : content_types)
            if (known.name == extension) return known.content_type;
    }
    return "application/octet-stream";
}

bool is_html(std::string_view url_path) { return url_path.ends_with(".html"); }

// A hidden name (".git", ".env") is never listed, nor anything under a hidden directory.
bool is_hidden(const fs::path& relative) {
    return std::any_of(relative.begin(), relative.end(),
                       [](const fs::path& part) { return part.string().starts_with('.'); });
}

// A Host header fit to name in the policy: a host name or address and a port, nothing that
// could end the directive or add another.
bool is_plain_host(std::string_view host) {
    return !host.empty() && host.size() <= 255 && std::all_of(host.begin(), host.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
    });
}

// No inline script or style, nothing from elsewhere; the WebSocket may reach this host only.
std::string content_security_policy(const http::Request& request) {
    std::string connect = "'self'";
    if (const auto* host = request.header("host"); host && is_plain_host(*host))
        connect += " ws://" + *host + " wss://" + *host;
    return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; media-src 'self' "
           "blob: data:; connect-src " +
           connect +
           "; font-src 'self'; manifest-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; "
           "form-action 'self'; frame-ancestors 'none'";
}

// A path a listed file could answer: no hidden or empty segment, no backslash or NUL (a
// traversal such as /../ or /%2e%2e/ is refused here, before the app fallback).
bool is_servable(std::string_view decoded) {
    if (decoded.find_first_of(std::string_view("\\\0", 2)) != std::string_view::npos) return false;
    const auto segments = http::split_path(decoded);
    if (segments.empty()) return false;
    for (std::size_t i = 0; i < segments.size(); ++i) {
        const bool last = i + 1 == segments.size();
        if ((segments[i].empty() && !last) || segments[i].starts_with('.')) return false;
    }
    return true;
}

// An app route such as /chats/abc: its last segment names no file.
bool is_app_route(std::string_view decoded) {
    return decoded.substr(decoded.rfind('/') + 1).find('.') == std::string_view::npos;
}

bool is_api(std::string_view decoded) { return decoded == "/api" || decoded.starts_with("/api/"); }

std::string etag_of(std::uint64_t size, fs::file_time_type modified) {
    const auto nanoseconds = std::chrono::duration_cast<std::chrono::nanoseconds>(modified.time_since_epoch()).count();
    char text[48];
    std::snprintf(text, sizeof text, "%llx-%llx", static_cast<unsigned long long>(size),
                  static_cast<unsigned long long>(nanoseconds));
    return text;
}

}  // namespace

WebClient::WebClient(const fs::path& root) {
    if (root.empty()) return;
    std::error_code error;
    fs::recursive_directory_iterator walk(root, error);
    for (; !error && walk != fs::recursive_directory_iterator(); walk.increment(error)) {
        const auto relative = walk->path().lexically_relative(root);
        if (is_hidden(relative)) {
            if (walk->is_directory()) walk.disable_recursion_pending();
            continue;
        }
        if (!walk->is_regular_file() || walk->is_symlink()) continue;
        const auto size = walk->file_size();
        files_.emplace("/" + relative.generic_string(),
                       File{walk->path(), size, etag_of(size, walk->last_write_time())});
    }
    if (error) throw std::runtime_error("web.root " + root.string() + " cannot be listed: " + error.message());
    spdlog::info("serving the web client from {} ({} files)", root.string(), files_.size());
}

http::Response WebClient::answer(const http::Request& request) const {
    const auto decoded = http::percent_decode(request.path);
    if (!decoded || is_api(*decoded) || !is_servable(*decoded)) throw model::not_found("route");
    auto found = files_.find(*decoded == "/" ? index_path : std::string_view(*decoded));
    if (found == files_.end() && is_app_route(*decoded)) found = files_.find(index_path);
    if (found == files_.end()) throw model::not_found("route");
    const auto& [url_path, file] = *found;
    Download download{file.path, file.size, file.etag, std::string(content_type_of(url_path)), {}};
    download.headers.emplace_back("Cache-Control", url_path.starts_with(hashed_assets)
                                                       ? "public, max-age=31536000, immutable"
                                                       : "no-cache");
    if (is_html(url_path)) {
        download.headers.emplace_back("Content-Security-Policy", content_security_policy(request));
        download.headers.emplace_back("X-Frame-Options", "DENY");
        download.headers.emplace_back("Referrer-Policy", "no-referrer");
    }
    return download_response(request, std::move(download));
}

}  // namespace confab::api
