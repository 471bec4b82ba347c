#include "confab/api/json.hpp"
#include "confab/api/pagination.hpp"
#include "confab/api/routes.hpp"
#include "confab/domain/chat_service.hpp"
#include "confab/domain/rules.hpp"
#include "confab/domain/validation.hpp"
#include "confab/model/error.hpp"

#include <cctype>

namespace confab::api {
namespace {

constexpr std::size_t max_metadata_bytes = 16 * 1024;
constexpr std::size_t max_channel_query_chars = 256;
using boost::asio::awaitable;

domain::SettingsPatch parse_settings(const Json& body) {
    domain::SettingsPatch patch;
    const auto found = body.find("settings");
    if (found == body.end()) return patch;
    if (!found->is_object()) throw model::bad_request("settings must be an object", "settings");
    reject_unknown_fields(*found, {"only_admins_can_post", "only_admins_can_edit_info", "only_admins_can_add_members",
                                   "only_admins_can_pin", "only_admins_can_mention_all", "slow_mode_seconds"});
    patch.only_admins_can_post = optional_bool(*found, "only_admins_can_post");
    patch.only_admins_can_edit_info = optional_bool(*found, "only_admins_can_edit_info");
    patch.only_admins_can_add_members = optional_bool(*found, "only_admins_can_add_members");
    patch.only_admins_can_pin = optional_bool(*found, "only_admins_can_pin");
    patch.only_admins_can_mention_all = optional_bool(*found, "only_admins_can_mention_all");
    patch.slow_mode_seconds = optional_integer(*found, "slow_mode_seconds");
    return patch;
}

http::Response chat_response(int status, const model::ChatView& view) {
    return http::json_response(status, dump(to_json(view)));
}

awaitable<http::Response> create_chat(Services& services, http::Context& context) {
    const auto principal = co_await authenticate(services, context);
    const auto body = parse_object(context.request.body);
    const auto type = required_string(body, "type");
    auto member_ids = optional_string_array(body, "member_ids").value_or(std::vector<std::string>{});
    if (type == "direct") {
        if (member_ids.size() != 1)
            throw model::bad_request("a direct chat names exactly one other user", "member_ids");
        const auto result = co_await services.chats.create_direct(principal.user_id, member_ids.front());
        co_return chat_response(result.created ? 201 : 200, result.view);
    }
    if (type == "channel") {
        // A channel starts with its creator alone, and has no group settings (docs/api.md, Channels).
        if (!member_ids.empty())
            throw model::bad_request("a channel starts with its creator alone: subscribers join it", "member_ids");
        if (body.contains("settings")) throw model::bad_request("a channel has no settings", "settings");
        domain::NewChannel channel{required_string(body, "title"), nullable_string(body, "avatar_url"),
                                   nullable_string(body, "handle"), optional_bool(body, "is_public").value_or(false),
                                   optional_object(body, "metadata", max_metadata_bytes)};
        co_return chat_response(201, co_await services.chats.create_channel(principal.user_id, std::move(channel)));
    }
    if (type != "group") throw model::bad_request("type must be direct, group or channel", "type");
    domain::NewGroup group{required_string(body, "title"), nullable_string(body, "avatar_url"), std::move(member_ids),
                           parse_settings(body), optional_object(body, "metadata", max_metadata_bytes)};
    co_return chat_response(201, co_await services.chats.create_group(principal.user_id, std::move(group)));
}

awaitable<http::Response> list_chats(Services& services, http::Context& context) {
    const auto principal = co_await authenticate(services, context);
    const auto query = Query::parse(context.request.query);
    const auto page = co_await services.chats.list(principal.user_id, integer_cursor(query, 'a'), page_limit(query));
    Json chats = Json::array();
    for (const auto& view : page.chats) chats.push_back(to_json(view));
    const Json next =
        page.next_before_activity ? Json(encode_integer_cursor('a', *page.next_before_activity)) : Json(nullptr);
    co_return http::json_response(200, dump(Json{{"chats", std::move(chats)}, {"next_cursor", next}}));
}

awaitable<http::Response> update_chat(Services& services, http::Context& context) {
    const auto principal = co_await authenticate(services, context);
    const auto body = parse_object(context.request.body);
    reject_unknown_fields(body, {"title", "avatar_url", "settings", "metadata", "handle", "is_public", "large"});
    domain::ChatUpdate update;
    if (body.contains("title")) update.title = required_string(body, "title");
    if (body.contains("avatar_url")) update.avatar_url = nullable_string(body, "avatar_url");
    update.settings = parse_settings(body);
    update.metadata = optional_object(body, "metadata", max_metadata_bytes);
    if (body.contains("handle")) update.handle = nullable_string(body, "handle");
    update.is_public = optional_bool(body, "is_public");
    update.large = optional_bool(body, "large");
    co_return chat_response(200, co_await services.chats.update(principal.user_id, context.path_params.at("id"),
                                                                std::move(update)));
}

// "h:<the last handle of the previous page, lower case>", like the other lists' typed cursors.
std::optional<std::string> handle_cursor(const Query& query) {
    const auto cursor = query.get("cursor");
    if (!cursor || cursor->empty()) return std::nullopt;
    const auto key = decode_cursor(*cursor);
    if (!key || !key->starts_with("h:") || !domain::rules::is_handle(key->substr(2)))
        throw model::bad_request("invalid cursor", "cursor");
    return key->substr(2);
}

std::string lower(std::string text) {
    for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

awaitable<http::Response> search_channels(Services& services, http::Context& context) {
    const auto principal = co_await authenticate(services, context);
    const auto query = Query::parse(context.request.query);
    auto q = query.get("q").value_or("");
    if (!domain::is_valid_utf8(q) || domain::code_points(q) > max_channel_query_chars)
        throw model::bad_request("q must be at most " + std::to_string(max_channel_query_chars) +
                                     " characters of valid UTF-8",
                                 "q");
    const auto page =
        co_await services.chats.search_channels(principal.user_id, q, handle_cursor(query), page_limit(query));
    Json channels = Json::array();
    for (const auto& channel : page.channels) channels.push_back(to_json(channel));
    const Json next =
        page.has_more ? Json(encode_cursor("h:" + lower(page.channels.back().handle.value_or("")))) : Json(nullptr);
    co_return http::json_response(200, dump(Json{{"channels", std::move(channels)}, {"next_cursor", next}}));
}

}  // namespace

void add_chat_routes(http::Router& router, Services& services) {
    using http::Method;
    router.add(Method::get, "/api/v1/chats", [&services](http::Context& c) { return list_chats(services, c); });
    router.add(Method::post, "/api/v1/chats", [&services](http::Context& c) { return create_chat(services, c); });
    router.add(Method::get, "/api/v1/chats/{id}", [&services](http::Context& c) -> awaitable<http::Response> {
        const auto principal = co_await authenticate(services, c);
        co_return chat_response(200, co_await services.chats.get(principal.user_id, c.path_params.at("id")));
    });
    router.add(Method::put, "/api/v1/chats/{id}", [&services](http::Context& c) { return update_chat(services, c); });
    // PATCH: the same partial update (every field optional), under the method that says so.
    router.add(Method::patch, "/api/v1/chats/{id}", [&services](http::Context& c) { return update_chat(services, c); });
    router.add(Method::del, "/api/v1/chats/{id}", [&services](http::Context& c) -> awaitable<http::Response> {
        const auto principal = co_await authenticate(services, c);
        co_await services.chats.remove(principal.user_id, c.path_params.at("id"));
        co_return http::no_content();
    });
    router.add(Method::get, "/api/v1/channels", [&services](http::Context& c) { return search_channels(services, c); });
    router.add(Method::get, "/api/v1/channels/{handle}", [&services](http::Context& c) -> awaitable<http::Response> {
        const auto principal = co_await authenticate(services, c);
        const auto channel = co_await services.chats.find_channel(principal.user_id, c.path_params.at("handle"));
        co_return http::json_response(200, dump(to_json(channel)));
    });
    router.add(Method::post, "/api/v1/channels/{handle}/join",
               [&services](http::Context& c) -> awaitable<http::Response> {
                   const auto principal = co_await authenticate(services, c);
                   co_return chat_response(200, co_await services.chats.join_channel(principal.user_id,
                                                                                     c.path_params.at("handle")));
               });
}

}  // namespace confab::api
