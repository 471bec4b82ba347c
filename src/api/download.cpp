#include "confab/api/download.hpp"

#include "confab/api/range.hpp"
#include "confab/http/errors.hpp"
#include "confab/model/error.hpp"

namespace confab::api {
namespace {

// If-None-Match: "*" or a list of entity tags, weak ones (W/"...") included (RFC 9110 13.1.2).
bool none_match(std::string_view header, std::string_view etag) {
    for (auto tag : http::list_elements(header)) {
        if (tag.starts_with("W/")) tag.remove_prefix(2);
        if (tag == "*" || tag == etag) return true;
    }
    return false;
}

// If-Range (RFC 9110 13.1.5): the Range holds only while the client's copy is this one, named
// by its strong entity tag; another tag, a weak one or a date (none is sent) gets the whole.
bool range_applies(const http::Request& request, std::string_view etag) {
    const auto* if_range = request.header("if-range");
    return if_range == nullptr || *if_range == etag;
}

}  // namespace

http::Response download_response(const http::Request& request, Download download) {
    const auto size = download.size;
    const auto etag = '"' + download.etag + '"';
    http::Response response;
    response.content_type = std::move(download.content_type);
    response.headers = {{"ETag", etag}, {"X-Content-Type-Options", "nosniff"}, {"Accept-Ranges", "bytes"}};
    for (auto& header : download.headers) response.headers.push_back(std::move(header));
    if (const auto* match = request.header("if-none-match"); match && none_match(*match, etag)) {
        response.status = 304;
        response.content_type.clear();  // no body, so no representation to describe
        return response;
    }
    const auto* range_header = range_applies(request, etag) ? request.header("range") : nullptr;
    const auto range = parse_range(range_header ? std::optional<std::string_view>(*range_header) : std::nullopt, size);
    if (std::holds_alternative<Unsatisfiable>(range)) {
        auto refused = http::error_response(http::describe(model::bad_request("range not satisfiable", "Range")));
        refused.status = 416;
        refused.headers.emplace_back("Content-Range", "bytes */" + std::to_string(size));
        return refused;
    }
    response.file = http::FileSlice{std::move(download.path), 0, size};
    if (const auto* slice = std::get_if<ByteRange>(&range)) {
        response.status = 206;
        response.file->offset = slice->first;
        response.file->length = slice->last - slice->first + 1;
        response.headers.emplace_back("Content-Range", "bytes " + std::to_string(slice->first) + "-" +
                                                           std::to_string(slice->last) + "/" + std::to_string(size));
    }
    return response;
}

}  // namespace confab::api
