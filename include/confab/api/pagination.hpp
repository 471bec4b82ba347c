#pragma once

#include "confab/api/json.hpp"
#include "confab/api/query.hpp"
#include "confab/model/list_page.hpp"

#include <cstdint>
#include <optional>
#include <string>

// Opaque cursors, each of one kind, so that a cursor of one list is refused by another
// (bad_request, field cursor). Kinds taken: 'a' chats by activity, 'b' blocked users,
// 'h' channels by handle, 'l' broadcast lists, 'm' mentions, 'n' pins, 'p' members,
// 'r' reports, 's' message search, 'u' users; by place (model::ListPlace): 'i' invitations,
// 'x' bans, 'c' invite links, 't' sessions, 'd' devices, 'f' parked webhook deliveries,
// 'q' scheduled messages.
namespace confab::api {

// A cursor holding one integer key: "<kind>:<key>".
std::optional<std::int64_t> integer_cursor(const Query& query, char kind);
std::string encode_integer_cursor(char kind, std::int64_t key);

// A cursor holding a row's place in a list ordered by time, then id:
// "<kind>:<microseconds>:<id>". What the id must be (a uuid, an invite link's code) is the
// domain's to check.
std::optional<model::ListPlace> place_cursor(const Query& query, char kind);
std::string encode_place_cursor(char kind, const model::ListPlace& place);

// The `limit` by default of a list that answered every row before it was paged (invitations,
// bans, invite links, sessions, devices): the most a page holds, so that a client written
// before then sees what it saw, up to that many.
constexpr int formerly_unpaged_limit = 200;

// {"<name>": [items], "next_cursor": the next page's cursor of `kind`, or null on the last}.
template <class T, class ItemJson>
Json place_page_json(const char* name, char kind, const model::ListPage<T>& page, ItemJson item_json) {
    Json items = Json::array();
    for (const auto& item : page.items) items.push_back(item_json(item));
    const Json next = page.next ? Json(encode_place_cursor(kind, *page.next)) : Json(nullptr);
    return Json{{name, std::move(items)}, {"next_cursor", next}};
}

}  // namespace confab::api
