#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Plain request and response values: the net layer converts Beast messages to and from
// these, so handlers and the router never include Beast.
namespace confab::http {

enum class Method { get, head, post, put, patch, del, options, other };

std::string_view method_name(Method method);

struct Request {
    Method method = Method::get;
    std::string target;                          // as received, with the query string; never logged
    std::string path;                            // percent-encoded path without the query
    std::string query;                           // raw query string without '?'
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
    // Set instead of `body` for streamed uploads: the file the body was written to. The
    // net layer removes it after the response unless a handler moved it away.
    std::filesystem::path body_file;
    std::string request_id;
    std::string remote_address;

    const std::string* header(const std::string& lowercase_name) const;
};

// The elements of a header value that is a comma-separated list (RFC 9110 5.6.1), optional
// whitespace (spaces, tabs) around each trimmed and empty ones left out.
std::vector<std::string_view> list_elements(std::string_view value);

// A byte range of a file on disk, sent in chunks instead of `body`.
struct FileSlice {
    std::filesystem::path path;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
};

struct Response {
    int status = 200;
    std::string content_type = "application/json; charset=utf-8";
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    // The body instead of `body` when many responses carry the same bytes (a kept history
    // page): sent from where it is kept, not copied into each response.
    std::shared_ptr<const std::string> shared_body;
    std::optional<FileSlice> file;

    std::string_view body_bytes() const { return shared_body ? std::string_view(*shared_body) : body; }
};

// Per-request state filled in along the way, read by the request log.
struct Context {
    const Request& request;
    std::map<std::string, std::string> path_params;
    std::string user_id;  // set once authenticated
    std::string route;    // the matched pattern, e.g. /api/v1/users/{id}
};

Response json_response(int status, std::string body);
Response json_response(int status, std::shared_ptr<const std::string> body);
Response no_content();

// A Content-Disposition value (`disposition`: "inline" or "attachment") naming `file_name`
// (UTF-8) as RFC 6266 asks: a quoted ASCII `filename` every client reads (other bytes, quotes,
// backslashes and controls as '_'), and, when the name is not plain ASCII, `filename*` with
// the whole name percent-encoded as UTF-8, which browsers prefer.
std::string content_disposition(std::string_view disposition, std::string_view file_name);

}  // namespace confab::http
