#include "confab/api/download.hpp"
#include "confab/api/json.hpp"
#include "confab/api/query.hpp"
#include "confab/api/routes.hpp"
#include "confab/domain/auth_service.hpp"
#include "confab/model/error.hpp"
#include "confab/domain/media_service.hpp"
#include "confab/domain/validation.hpp"
#include "confab/http/errors.hpp"
#include "confab/media/multipart.hpp"

#include <algorithm>
#include <cctype>

namespace confab::api {
namespace {

using boost::asio::awaitable;

constexpr std::int64_t max_dimension = 100000;

std::optional<std::string> optional_header(const http::Request& request, const std::string& name) {
    const auto* value = request.header(name);
    if (!value || value->empty()) return std::nullopt;
    return *value;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

std::optional<std::int64_t> bounded(const Json& metadata, const char* field, std::int64_t min, std::int64_t max) {
    const auto value = optional_integer(metadata, field);
    if (value && (*value < min || *value > max))
        throw model::bad_request(std::string(field) + " is out of range", "X-Media-Metadata");
    return value;
}

void read_media_metadata(const http::Request& request, domain::Upload& upload) {
    const auto* header = request.header("x-media-metadata");
    if (!header) return;
    Json metadata;
    try {
        metadata = parse_object(*header);
        reject_unknown_fields(metadata, {"width", "height", "duration_ms"});
        upload.width = bounded(metadata, "width", 1, max_dimension);
        upload.height = bounded(metadata, "height", 1, max_dimension);
        upload.duration_ms = bounded(metadata, "duration_ms", 0, std::numeric_limits<std::int64_t>::max());
    } catch (const model::Error& e) {
        throw model::bad_request(std::string("X-Media-Metadata: ") + e.what(), "X-Media-Metadata");
    }
}

}  // namespace

awaitable<std::optional<http::Response>> admit_upload(Services& services, const http::Request& head) {
    std::exception_ptr refusal;
    try {
        const auto principal = co_await principal_of(services, head);
        services.media.admit_upload(principal.user_id);
    } catch (...) {
        refusal = std::current_exception();
    }
    if (!refusal) co_return std::nullopt;
    co_return http::error_response(http::describe(refusal));
}

namespace {

awaitable<http::Response> upload(Services& services, http::Context& context) {
    const auto principal = co_await authenticate(services, context);
    const auto query = Query::parse(context.request.query);
    domain::Upload upload{principal.user_id,
                          query.get("chat_id").value_or(""),
                          query.get("kind").value_or(""),
                          context.request.body_file,
                          std::nullopt,
                          optional_header(context.request, "x-file-name"),
                          {},
                          {},
                          {},
                          query.get("purpose")};
    if (const auto* content_type = context.request.header("content-type");
        content_type && content_type->size() >= 10 && equals_ignoring_case(content_type->substr(0, 10), "multipart/")) {
        upload.multipart_boundary = media::multipart_boundary(*content_type);
        if (!upload.multipart_boundary)
            throw model::bad_request("multipart uploads must be multipart/form-data with a boundary", "Content-Type");
    }
    if (upload.temporary.empty()) throw model::bad_request("the upload is empty");
    read_media_metadata(context.request, upload);
    const auto result = co_await services.media.upload(std::move(upload));
    co_return http::json_response(result.created ? 201 : 200, dump(to_json(result.media, std::nullopt)));
}

// ?variant=thumb asks for an image's thumbnail.
bool wants_thumbnail(const http::Request& request) {
    const auto variant = Query::parse(request.query).get("variant");
    if (variant && *variant != "thumb") throw model::bad_request("variant must be thumb", "variant");
    return variant.has_value();
}

// ?part=video asks for a live photo's motion part (docs/api.md, Live photos).
bool wants_live_video(const http::Request& request) {
    const auto part = Query::parse(request.query).get("part");
    if (part && *part != "video") throw model::bad_request("part must be video", "part");
    return part.has_value();
}

// A stored file as a download, private to those who may see it.
http::Response file_response(const http::Request& request, const domain::MediaFile& file) {
    const auto& media = file.media;
    return download_response(
        request, Download{file.path,
                          static_cast<std::uint64_t>(media.size_bytes),
                          file.etag,
                          media.mime_type,
                          {{"Cache-Control", "private"},
                           {"Content-Disposition",
                            http::content_disposition(media.kind == model::MediaKind::file ? "attachment" : "inline",
                                                      media.file_name.value_or(media.sha256))}}});
}

awaitable<http::Response> download(Services& services, http::Context& context) {
    const auto principal = co_await authenticate(services, context);
    const bool thumbnail = wants_thumbnail(context.request);
    const bool live_video = wants_live_video(context.request);
    if (thumbnail && live_video) throw model::bad_request("a live photo's video has no variant", "variant");
    const auto& message_id = context.path_params.at("id");
    if (thumbnail)
        co_return file_response(context.request, co_await services.media.thumbnail_of(principal.user_id, message_id));
    if (live_video)
        co_return file_response(context.request, co_await services.media.live_video_of(principal.user_id, message_id));
    co_return file_response(context.request, co_await services.media.file_of(principal.user_id, message_id));
}

awaitable<http::Response> avatar(Services& services, http::Context& context) {
    co_await authenticate(services, context);
    const bool thumbnail = wants_thumbnail(context.request);
    co_return file_response(context.request,
                            co_await services.media.avatar_of(context.path_params.at("id"), thumbnail));
}

awaitable<http::Response> set_avatar(Services& services, http::Context& context) {
    const auto principal = co_await authenticate(services, context);
    const auto body = parse_object(context.request.body);
    reject_unknown_fields(body, {"media_id"});
    const auto user = co_await services.media.set_avatar(principal.user_id, required_string(body, "media_id"));
    co_return http::json_response(200, dump(to_json(user)));
}

awaitable<http::Response> gallery(Services& services, http::Context& context) {
    const auto principal = co_await authenticate(services, context);
    const auto query = Query::parse(context.request.query);
    domain::GalleryQuery gallery_query{query.get("kind"), non_negative_integer(query, "before_seq"), page_limit(query)};
    if (gallery_query.kind && gallery_query.kind->empty()) gallery_query.kind.reset();
    const auto page = co_await services.media.gallery(principal.user_id, context.path_params.at("id"), gallery_query);
    Json messages = Json::array();
    for (const auto& message : page.messages) messages.push_back(to_json(message));
    const Json next = page.next_cursor ? Json(*page.next_cursor) : Json(nullptr);
    co_return http::json_response(200, dump(Json{{"messages", std::move(messages)}, {"next_cursor", next}}));
}

}  // namespace

void add_media_routes(http::Router& router, Services& services) {
    using http::Method;
    router.add(Method::post, "/api/v1/messages/upload", [&services](http::Context& c) { return upload(services, c); });
    router.add(Method::get, "/api/v1/messages/{id}/media",
               [&services](http::Context& c) { return download(services, c); });
    router.add(Method::del, "/api/v1/messages/{id}/media", [&services](http::Context& c) -> awaitable<http::Response> {
        const auto principal = co_await authenticate(services, c);
        co_await services.media.remove(principal.user_id, c.path_params.at("id"));
        co_return http::no_content();
    });
    router.add(Method::get, "/api/v1/chats/{id}/media", [&services](http::Context& c) { return gallery(services, c); });
    router.add(Method::put, "/api/v1/users/me/avatar",
               [&services](http::Context& c) { return set_avatar(services, c); });
    router.add(Method::del, "/api/v1/users/me/avatar", [&services](http::Context& c) -> awaitable<http::Response> {
        const auto principal = co_await authenticate(services, c);
        co_return http::json_response(200, dump(to_json(co_await services.media.remove_avatar(principal.user_id))));
    });
    router.add(Method::get, "/api/v1/users/{id}/avatar", [&services](http::Context& c) { return avatar(services, c); });
}

}  // namespace confab::api
