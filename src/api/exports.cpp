#include "confab/api/json.hpp"
#include "confab/api/routes.hpp"
#include "confab/domain/export_service.hpp"

#include <algorithm>

namespace confab::api {
namespace {

using boost::asio::awaitable;

std::string export_url(const model::DataExport& data_export) { return "/api/v1/users/me/exports/" + data_export.id; }

// ExportModel (docs/openapi.yaml).
Json export_json(const model::DataExport& data_export) {
    const bool ready = data_export.status == model::ExportStatus::ready;
    int progress = 0;
    if (ready) {
        progress = 100;
    } else if (data_export.items_total > 0) {
        // Every part written is not yet a finished archive: 100 means ready.
        progress = std::min(99, data_export.items_done * 100 / data_export.items_total);
    }
    return Json{
        {"id", data_export.id},
        {"status", model::to_string(data_export.status)},
        {"progress", progress},
        {"items_done", data_export.items_done},
        {"items_total", data_export.items_total},
        {"size_bytes", data_export.size_bytes ? Json(*data_export.size_bytes) : Json(nullptr)},
        {"created_at", format_timestamp(data_export.created_at)},
        {"finished_at", data_export.finished_at ? Json(format_timestamp(*data_export.finished_at)) : Json(nullptr)},
        {"download_url", ready ? Json(export_url(data_export) + "/download") : Json(nullptr)},
    };
}

awaitable<http::Response> start(Services& services, http::Context& context) {
    const auto principal = co_await authenticate_person(services, context);
    const auto created = co_await services.exports.start(principal.user_id);
    auto response = http::json_response(202, dump(export_json(created)));
    response.headers.emplace_back("Location", export_url(created));
    co_return response;
}

awaitable<http::Response> status(Services& services, http::Context& context) {
    const auto principal = co_await authenticate_person(services, context);
    co_return http::json_response(200, dump(export_json(co_await services.exports.get(principal.user_id,
                                                                                      context.path_params.at("id")))));
}

awaitable<http::Response> download(Services& services, http::Context& context) {
    const auto principal = co_await authenticate_person(services, context);
    const auto file = co_await services.exports.file_of(principal.user_id, context.path_params.at("id"));
    http::Response response;
    response.content_type = "application/gzip";
    response.headers = {{"Cache-Control", "private, no-store"},
                        {"X-Content-Type-Options", "nosniff"},
                        {"Content-Disposition",
                         http::content_disposition("attachment", "confab-export-" + file.data_export.id + ".tar.gz")}};
    response.file = http::FileSlice{file.path, 0, static_cast<std::uint64_t>(file.data_export.size_bytes.value_or(0))};
    co_return response;
}

}  // namespace

void add_export_routes(http::Router& router, Services& services) {
    router.add(http::Method::post, "/api/v1/users/me/exports",
               [&services](http::Context& context) { return start(services, context); });
    router.add(http::Method::get, "/api/v1/users/me/exports/{id}",
               [&services](http::Context& context) { return status(services, context); });
    router.add(http::Method::get, "/api/v1/users/me/exports/{id}/download",
               [&services](http::Context& context) { return download(services, context); });
}

}  // namespace confab::api
