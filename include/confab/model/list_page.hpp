#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

// Lists paged by keyset over a time, then an id (docs/api.md, Conventions): invitations, bans,
// invite links, sessions, devices.
namespace confab::model {

// A row's place in such a list: its time in microseconds since the epoch (PostgreSQL's own
// precision, so that no two distinct times read as one), and its id (a uuid, or an invite
// link's code), which orders the rows of the same time. The time is the one the list is
// ordered by: created_at, or a session's last_used_at.
struct ListPlace {
    std::int64_t time_us = 0;
    std::string id;
};

// A page of such a list: its items, and the last one's place when more follow (the next
// page starts after it).
template <class T>
struct ListPage {
    std::vector<T> items;
    std::optional<ListPlace> next;
};

// The page of at most `limit` items (limit >= 1) from the rows of a query that asked for
// limit + 1, each with its place: a row past `limit` only says that more follow.
template <class T>
ListPage<T> list_page(std::vector<std::pair<T, ListPlace>> rows, int limit) {
    ListPage<T> page;
    if (std::cmp_greater(rows.size(), limit)) {
        rows.erase(rows.begin() + limit, rows.end());
        page.next = rows.back().second;
    }
    page.items.reserve(rows.size());
    for (auto& row : rows) page.items.push_back(std::move(row.first));
    return page;
}

}  // namespace confab::model
