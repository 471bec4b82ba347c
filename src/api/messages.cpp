#include "confab/api/message_input.hpp"
#include "confab/api/pagination.hpp"
#include "confab/api/query.hpp"
#include "confab/api/routes.hpp"
#include "confab/model/error.hpp"
#include "confab/domain/message_service.hpp"
#include "confab/domain/validation.hpp"

#include <charconv>
#include <cmath>
#include <memory>
#include <span>

namespace confab::api {
namespace {

using boost::asio::awaitable;

// A search cursor is "s:<rank>:<created_at in microseconds>:<message id>", the last result of
// the page before.
std::string encode_search_cursor(const store::search::Position& position) {
    return encode_cursor("s:" + position.rank + ":" + std::to_string(position.created_us) + ":" + position.message_id);
}

// A cursor's rank must be a float4 that PostgreSQL reads back exactly; the JSON shows the
// same decimal as a double.
template <class Number>
std::optional<Number> parse_rank(std::string_view text) {
    Number rank = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), rank);
    if (text.empty() || error != std::errc{} || end != text.data() + text.size() || !std::isfinite(rank) || rank < 0)
        return std::nullopt;
    return rank;
}

std::optional<store::search::Position> search_cursor(const Query& query) {
    const auto cursor = query.get("cursor");
    if (!cursor || cursor->empty()) return std::nullopt;
    const auto invalid = [] { return model::bad_request("invalid cursor", "cursor"); };
    const auto key = decode_cursor(*cursor);
    if (!key || !key->starts_with("s:")) throw invalid();
    const auto rank_end = key->find(':', 2);
    const auto time_end = rank_end == std::string::npos ? rank_end : key->find(':', rank_end + 1);
    if (time_end == std::string::npos) throw invalid();
    store::search::Position position{key->substr(2, rank_end - 2), 0, key->substr(time_end + 1)};
    const char* time = key->data() + rank_end + 1;
    const auto [end, error] = std::from_chars(time, key->data() + time_end, position.created_us);
    if (!parse_rank<float>(position.rank) || error != std::errc{} || end != key->data() + time_end ||
        !domain::is_uuid(position.message_id))
        throw invalid();
    return position;
}

Json search_result_json(const model::SearchHit& hit) {
    Json snippet = Json::array();
    for (const auto& part : hit.snippet) snippet.push_back({{"text", part.text}, {"highlighted", part.highlighted}});
    return {{"message", to_json(hit.message)},
            {"snippet", std::move(snippet)},
            {"rank", parse_rank<double>(hit.rank).value_or(0)}};
}

awaitable<http::Response> search_messages(Services& services, http::Context& context) {
    const auto principal = co_await authenticate(services, context);
    const auto query = Query::parse(context.request.query);
    domain::SearchQuery search{query.get("q").value_or(""), query.get("chat_id"), search_cursor(query),
                               page_limit(query)};
    const auto page = co_await services.messages.search(principal.user_id, std::move(search));
    Json results = Json::array();
    for (const auto& hit : page.results) results.push_back(search_result_json(hit));
    const Json next = page.next ? Json(encode_search_cursor(*page.next)) : Json(nullptr);
    co_return http::json_response(200, dump(Json{{"results", std::move(results)}, {"next_cursor", next}}));
}

http::Response message_response(int status, const model::Message& message) {
    return http::json_response(status, dump(to_json(message)));
}

// A page's body, {"messages", "next_cursor"} and a thread's "root", written a message at a
// time rather than built as one tree (docs/performance.md, Reads).
std::string page_body(std::span<const model::Message> messages, const std::optional<std::int64_t>& next_cursor,
                      const model::Message* root = nullptr) {
    std::string body;
    // Room for a typical message, so the body grows in few steps rather than many copies.
    body.reserve(64 + (messages.size() + (root ? 1 : 0)) * 640);
    body += R"({"messages":[)";
    for (std::size_t i = 0; i < messages.size(); ++i) {
        if (i > 0) body += ',';
        write_json(body, messages[i]);
    }
    body += R"(],"next_cursor":)";
    body += next_cursor ? std::to_string(*next_cursor) : "null";
    if (root) {
        body += R"(,"root":)";
        write_json(body, *root);
    }
    body += '}';
    return body;
}

// A page every reader sees alike is written once for all of them (domain::KeptPage::written).
std::shared_ptr<const std::string> shared_page_body(const domain::SharedPage& page) {
    if (auto written = page.written()) return written;
    auto body = std::make_shared<const std::string>(page_body(page.messages(), page.next_cursor()));
    page.remember_written(body);
    return body;
}

// before_seq, after_seq (at most one) and limit: a page of history or of a thread.
domain::HistoryQuery history_query(const Query& query) {
    domain::HistoryQuery history{.before_seq = non_negative_integer(query, "before_seq"),
                                 .after_seq = non_negative_integer(query, "after_seq"),
                                 .limit = page_limit(query)};
    if (history.before_seq && history.after_seq)
        throw model::bad_request("use one of before_seq and after_seq", "after_seq");
    return history;
}

bool include_thread_replies(const Query& query) {
    const auto value = query.get("include_thread_replies");
    if (!value || *value == "false") return false;
    if (*value == "true") return true;
    throw model::bad_request("include_thread_replies must be true or false", "include_thread_replies");
}

awaitable<http::Response> list_messages(Services& services, http::Context& context) {
    const auto principal = co_await authenticate(services, context);
    const auto query = Query::parse(context.request.query);
    const auto since = non_negative_integer(query, "since_version");
    auto history = history_query(query);
    if (since && (history.before_seq || history.after_seq))
        throw model::bad_request("use one of before_seq, after_seq and since_version", "since_version");
    history.include_thread_replies = include_thread_replies(query);
    const auto& chat_id = context.path_params.at("id");
    if (since) {
        co_return http::json_response(200, dump(to_json(co_await services.messages.sync(principal.user_id, chat_id,
                                                                                        *since, history.limit))));
    }
    const auto page = co_await services.messages.history(principal.user_id, chat_id, history);
    if (page.shared) co_return http::json_response(200, shared_page_body(*page.shared));
    co_return http::json_response(200, page_body(page.messages, page.next_cursor));
}

awaitable<http::Response> list_thread(Services& services, http::Context& context) {
    const auto principal = co_await authenticate(services, context);
    const auto thread = co_await services.messages.thread(principal.user_id, context.path_params.at("id"),
                                                          history_query(Query::parse(context.request.query)));
    co_return http::json_response(200, page_body(thread.replies.messages, thread.replies.next_cursor, &thread.root));
}

awaitable<http::Response> send_message(Services& services, http::Context& context) {
    const auto principal = co_await authenticate(services, context);
    auto command = parse_send(parse_object(context.request.body), context.path_params.at("id"), principal.user_id);
    command.by_host_backend = principal.on_behalf;
    const auto sent = co_await services.messages.send(std::move(command));
    co_return message_response(sent.created ? 201 : 200, sent.message);
}

awaitable<http::Response> edit_message(Services& services, http::Context& context) {
    const auto principal = co_await authenticate(services, context);
    const auto body = parse_object(context.request.body);
    reject_unknown_fields(body, {"content", "entities"});
    co_return message_response(200,
                               co_await services.messages.edit(principal.user_id, context.path_params.at("id"),
                                                               required_string(body, "content"), parse_entities(body)));
}

awaitable<http::Response> react(Services& services, http::Context& context, bool add) {
    const auto principal = co_await authenticate(services, context);
    co_await services.messages.react(principal.user_id, context.path_params.at("id"), context.path_params.at("emoji"),
                                     add);
    co_return http::no_content();
}

awaitable<http::Response> pin(Services& services, http::Context& context, bool pin) {
    const auto principal = co_await authenticate(services, context);
    co_await services.messages.pin(principal.user_id, context.path_params.at("id"), pin);
    co_return http::no_content();
}

awaitable<http::Response> list_pins(Services& services, http::Context& context) {
    const auto principal = co_await authenticate(services, context);
    const auto query = Query::parse(context.request.query);
    const auto page = co_await services.messages.pins(principal.user_id, context.path_params.at("id"),
                                                      integer_cursor(query, 'n'), page_limit(query));
    Json messages = Json::array();
    for (const auto& message : page.messages) messages.push_back(to_json(message));
    const Json next = page.next_cursor ? Json(encode_integer_cursor('n', *page.next_cursor)) : Json(nullptr);
    co_return http::json_response(200, dump(Json{{"messages", std::move(messages)}, {"next_cursor", next}}));
}

awaitable<http::Response> list_mentions(Services& services, http::Context& context) {
    const auto principal = co_await authenticate(services, context);
    const auto query = Query::parse(context.request.query);
    const auto page =
        co_await services.messages.mentions(principal.user_id, integer_cursor(query, 'm'), page_limit(query));
    Json messages = Json::array();
    for (const auto& message : page.messages) messages.push_back(to_json(message));
    const Json next = page.next_cursor ? Json(encode_integer_cursor('m', *page.next_cursor)) : Json(nullptr);
    co_return http::json_response(200, dump(Json{{"messages", std::move(messages)}, {"next_cursor", next}}));
}

awaitable<http::Response> forward(Services& services, http::Context& context) {
    const auto principal = co_await authenticate(services, context);
    const auto body = parse_object(context.request.body);
    reject_unknown_fields(body, {"chat_id", "client_id"});
    const auto sent =
        co_await services.messages.forward(parse_forward(body, context.path_params.at("id"), principal.user_id));
    co_return message_response(sent.created ? 201 : 200, sent.message);
}

awaitable<http::Response> mark_read(Services& services, http::Context& context) {
    const auto principal = co_await authenticate(services, context);
    const auto body = parse_object(context.request.body);
    const auto seq = optional_integer(body, "seq");
    if (!seq) throw model::bad_request("seq is required", "seq");
    co_await services.messages.mark_read(principal.user_id, context.path_params.at("id"), *seq);
    co_return http::no_content();
}

}  // namespace

void add_message_routes(http::Router& router, Services& services) {
    using http::Method;
    router.add(Method::get, "/api/v1/chats/{id}/messages",
               [&services](http::Context& c) { return list_messages(services, c); });
    router.add(Method::post, "/api/v1/chats/{id}/messages",
               [&services](http::Context& c) { return send_message(services, c); });
    router.add(Method::get, "/api/v1/search/messages",
               [&services](http::Context& c) { return search_messages(services, c); });
    router.add(Method::post, "/api/v1/chats/{id}/read",
               [&services](http::Context& c) { return mark_read(services, c); });
    router.add(Method::get, "/api/v1/messages/{id}", [&services](http::Context& c) -> awaitable<http::Response> {
        const auto principal = co_await authenticate(services, c);
        co_return message_response(200, co_await services.messages.get(principal.user_id, c.path_params.at("id")));
    });
    router.add(Method::put, "/api/v1/messages/{id}",
               [&services](http::Context& c) { return edit_message(services, c); });
    router.add(Method::del, "/api/v1/messages/{id}", [&services](http::Context& c) -> awaitable<http::Response> {
        const auto principal = co_await authenticate(services, c);
        co_await services.messages.remove(principal.user_id, c.path_params.at("id"));
        co_return http::no_content();
    });
    router.add(Method::get, "/api/v1/messages/{id}/thread",
               [&services](http::Context& c) { return list_thread(services, c); });
    router.add(Method::get, "/api/v1/mentions", [&services](http::Context& c) { return list_mentions(services, c); });
    router.add(Method::get, "/api/v1/chats/{id}/pins",
               [&services](http::Context& c) { return list_pins(services, c); });
    router.add(Method::put, "/api/v1/messages/{id}/pin",
               [&services](http::Context& c) { return pin(services, c, true); });
    router.add(Method::del, "/api/v1/messages/{id}/pin",
               [&services](http::Context& c) { return pin(services, c, false); });
    router.add(Method::post, "/api/v1/messages/{id}/hide", [&services](http::Context& c) -> awaitable<http::Response> {
        const auto principal = co_await authenticate(services, c);
        co_await services.messages.hide(principal.user_id, c.path_params.at("id"));
        co_return http::no_content();
    });
    router.add(Method::post, "/api/v1/messages/{id}/forward",
               [&services](http::Context& c) { return forward(services, c); });
    router.add(Method::put, "/api/v1/messages/{id}/reactions/{emoji}",
               [&services](http::Context& c) { return react(services, c, true); });
    router.add(Method::del, "/api/v1/messages/{id}/reactions/{emoji}",
               [&services](http::Context& c) { return react(services, c, false); });
}

}  // namespace confab::api
