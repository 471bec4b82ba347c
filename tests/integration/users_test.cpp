// GET /api/v1/users/me, /users/{id} and the user search /users?query=&limit=&cursor=.

#include <algorithm>
#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/fixture.hpp"

namespace confab::test {
namespace {

using UsersTest = ConfabTest;

json register_named(std::uint16_t port, const std::string& username,
                    std::optional<std::string> display_name = std::nullopt) {
    json body = {{"username", username}, {"password", kPassword}};
    if (display_name) body["display_name"] = *display_name;
    auto r = http(port, "POST", "/api/v1/auth/register", body.dump());
    if (r.status != 201) throw std::runtime_error("register " + username + ": " + r.describe());
    return r.json()["user"];
}

// Registers all `names` (display name = username) using a few threads.
void register_many(std::uint16_t port, const std::vector<std::string>& names) {
    std::atomic<std::size_t> next{0};
    std::atomic<int> failures{0};
    std::string first_error;
    std::mutex mu;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (std::size_t i; (i = next++) < names.size();) {
                try {
                    register_named(port, names[i]);
                } catch (const std::exception& e) {
                    ++failures;
                    std::lock_guard lock(mu);
                    if (first_error.empty()) first_error = e.what();
                }
            }
        });
    }
    for (auto& t : threads) t.join();
    if (failures) throw std::runtime_error(std::to_string(failures.load()) + " registrations failed: " + first_error);
}

struct SearchPage {
    HttpResponse response;
    std::vector<std::string> usernames;
    json next_cursor;
};

SearchPage search(std::uint16_t port, const std::string& token, const std::string& query,
                  std::optional<int> limit = std::nullopt, std::optional<std::string> cursor = std::nullopt) {
    std::string target = "/api/v1/users?query=" + url_encode(query);
    if (limit) target += "&limit=" + std::to_string(*limit);
    if (cursor) target += "&cursor=" + url_encode(*cursor);
    SearchPage page;
    page.response = get(port, token, target);
    if (page.response.status != 200) return page;
    auto j = page.response.json();
    if (!j.contains("users") || !j["users"].is_array() || !j.contains("next_cursor")) {
        throw std::runtime_error("search response lacks users/next_cursor: " + page.response.body);
    }
    for (const auto& u : j["users"]) page.usernames.push_back(u.value("username", std::string("?")));
    page.next_cursor = j["next_cursor"];
    return page;
}

// Follows next_cursor until null; returns all usernames in order. Fails on overlaps.
std::vector<std::string> search_all(std::uint16_t port, const std::string& token, const std::string& query,
                                    std::optional<int> limit, std::vector<std::size_t>* page_sizes = nullptr) {
    std::vector<std::string> all;
    std::optional<std::string> cursor;
    for (int pages = 0; pages < 100; ++pages) {
        auto p = search(port, token, query, limit, cursor);
        EXPECT_TRUE(IsJson(p.response, 200)) << "page " << pages;
        if (p.response.status != 200) break;
        if (page_sizes) page_sizes->push_back(p.usernames.size());
        all.insert(all.end(), p.usernames.begin(), p.usernames.end());
        if (p.next_cursor.is_null()) return all;
        EXPECT_TRUE(p.next_cursor.is_string()) << "next_cursor must be a string or null: " << p.response.body;
        if (!p.next_cursor.is_string()) break;
        cursor = p.next_cursor.get<std::string>();
    }
    ADD_FAILURE() << "pagination did not end";
    return all;
}

// ---------------------------------------------------------------------------------------------
// /users/me and /users/{id}

TEST_F(UsersTest, MeReturnsTheCaller) {
    auto u = register_user(port(), "me", "Me Myself");
    auto r = get(port(), u.token, "/api/v1/users/me");
    ASSERT_TRUE(IsJson(r, 200));
    auto j = r.json();
    EXPECT_TRUE(IsUserModel(j));
    EXPECT_EQ(j["id"], u.id);
    EXPECT_EQ(j["username"], u.username);
    EXPECT_EQ(j["display_name"], "Me Myself");
    EXPECT_TRUE(j["avatar_url"].is_null());
    EXPECT_EQ(j["created_at"], u.user["created_at"]);
    EXPECT_FALSE(r.header("x-request-id").empty());
}

TEST_F(UsersTest, GetByIdReturnsAnotherUsersModel) {
    auto a = register_user(port(), "ga");
    auto b = register_user(port(), "gb", "Bee");
    auto r = get(port(), a.token, "/api/v1/users/" + b.id);
    ASSERT_TRUE(IsJson(r, 200));
    auto j = r.json();
    EXPECT_TRUE(IsUserModel(j));
    EXPECT_EQ(j["id"], b.id);
    EXPECT_EQ(j["username"], b.username);
    EXPECT_EQ(j["display_name"], "Bee");
    EXPECT_EQ(j["created_at"], b.user["created_at"]);
    // Own id works too.
    auto self = get(port(), a.token, "/api/v1/users/" + a.id);
    ASSERT_TRUE(IsJson(self, 200));
    EXPECT_EQ(self.json()["username"], a.username);
}

TEST_F(UsersTest, GetByMalformedIdIs400) {
    auto u = register_user(port(), "gm");
    for (const std::string id :
         {"not-a-uuid", "1234", "00000000-0000-0000-0000-00000000000", "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz",
          "00000000-0000-0000-0000-0000000000000", "%27%20or%201%3D1--"}) {
        EXPECT_TRUE(IsError(get(port(), u.token, "/api/v1/users/" + id), 400, "bad_request")) << id;
    }
}

TEST_F(UsersTest, GetByUnknownIdIs404) {
    auto u = register_user(port(), "gu");
    auto r = get(port(), u.token, "/api/v1/users/" + random_uuid());
    EXPECT_TRUE(IsError(r, 404, "not_found"));
}

TEST_F(UsersTest, UserEndpointsRequireAuth) {
    auto u = register_user(port(), "ua");
    EXPECT_TRUE(IsError(http(port(), "GET", "/api/v1/users/me"), 401, "unauthorized"));
    EXPECT_TRUE(IsError(http(port(), "GET", "/api/v1/users/" + u.id), 401, "unauthorized"));
    EXPECT_TRUE(IsError(http(port(), "GET", "/api/v1/users?query=ua"), 401, "unauthorized"));
}

// ---------------------------------------------------------------------------------------------
// search

TEST_F(UsersTest, SearchMatchesUsernameOrDisplayNamePrefixCaseInsensitively) {
    auto me = register_user(port(), "sq");
    std::string p = "s" + random_alnum(6);
    std::vector<std::string> expected;
    for (const char* suffix : {"cherry", "apple", "banana"}) {
        register_named(port(), p + suffix);
        expected.push_back(p + suffix);
    }
    // Matches through its display name only (different case).
    std::string by_display = "zz" + random_alnum(8);
    register_named(port(), by_display, upper_cased(p) + " Display");
    expected.push_back(by_display);
    // Contain the prefix, but not at the start: no match.
    register_named(port(), "x" + p);
    register_named(port(), "q" + random_alnum(8), "Mr " + p);
    std::sort(expected.begin(), expected.end());

    auto page = search(port(), me.token, p);
    ASSERT_TRUE(IsJson(page.response, 200));
    EXPECT_EQ(page.usernames, expected) << page.response.body;
    EXPECT_TRUE(page.next_cursor.is_null()) << page.response.body;
    const auto users = page.response.json()["users"];  // a named copy: the loop must not outlive a temporary
    for (const auto& u : users) EXPECT_TRUE(IsUserModel(u));

    auto upper_page = search(port(), me.token, upper_cased(p));
    ASSERT_TRUE(IsJson(upper_page.response, 200));
    EXPECT_EQ(upper_page.usernames, expected) << "the query is case-insensitive";

    auto narrow = search(port(), me.token, p + "b");
    ASSERT_TRUE(IsJson(narrow.response, 200));
    EXPECT_EQ(narrow.usernames, std::vector<std::string>{p + "banana"});

    auto display = search(port(), me.token, p + " dis");
    ASSERT_TRUE(IsJson(display.response, 200));
    EXPECT_EQ(display.usernames, std::vector<std::string>{by_display});
    if (!display.response.json()["users"].empty()) {
        EXPECT_EQ(display.response.json()["users"][0]["display_name"], upper_cased(p) + " Display");
    }

    auto none = search(port(), me.token, p + "zzzz");
    ASSERT_TRUE(IsJson(none.response, 200));
    EXPECT_TRUE(none.usernames.empty());
    EXPECT_TRUE(none.next_cursor.is_null());
}

TEST_F(UsersTest, SearchTreatsLikeWildcardsLiterally) {
    auto me = register_user(port(), "sw");
    std::string p = "w" + random_alnum(6);
    register_named(port(), p + "abc");
    register_named(port(), p + "abd");
    for (const std::string& q : {p + "%", p + "_bc", p + "a_c", p + "\\", "%" + p, "_" + p.substr(1)}) {
        auto page = search(port(), me.token, q);
        ASSERT_TRUE(IsJson(page.response, 200)) << "query " << q;
        EXPECT_TRUE(page.usernames.empty()) << "query \"" << q << "\" matched " << page.response.body;
    }
}

TEST_F(UsersTest, SearchPagesWithCursorWithoutOverlap) {
    auto me = register_user(port(), "sp");
    std::string p = "p" + random_alnum(6);
    std::vector<std::string> expected;
    for (const char* suffix : {"e5", "a1", "d4", "b2", "c3"}) expected.push_back(p + suffix);
    register_many(port(), expected);
    std::sort(expected.begin(), expected.end());

    std::vector<std::size_t> sizes;
    auto all = search_all(port(), me.token, p, 2, &sizes);
    EXPECT_EQ(all, expected);
    EXPECT_EQ(sizes, (std::vector<std::size_t>{2, 2, 1}));

    auto whole = search(port(), me.token, p, 10);
    ASSERT_TRUE(IsJson(whole.response, 200));
    EXPECT_EQ(whole.usernames, expected);
    EXPECT_TRUE(whole.next_cursor.is_null());

    auto first = search(port(), me.token, p, 1);
    ASSERT_TRUE(IsJson(first.response, 200));
    EXPECT_EQ(first.usernames, std::vector<std::string>{expected[0]});
    ASSERT_TRUE(first.next_cursor.is_string()) << first.response.body;
    // The same cursor gives the same page again (cursors are stable, not one-shot).
    auto second_a = search(port(), me.token, p, 2, first.next_cursor.get<std::string>());
    auto second_b = search(port(), me.token, p, 2, first.next_cursor.get<std::string>());
    EXPECT_EQ(second_a.usernames, (std::vector<std::string>{expected[1], expected[2]}));
    EXPECT_EQ(second_a.usernames, second_b.usernames);
}

TEST_F(UsersTest, SearchLimitDefaultsTo50AndAllows200) {
    auto me = register_user(port(), "sl");
    std::string p = "l" + random_alnum(6);
    std::vector<std::string> names;
    for (int i = 0; i < 51; ++i) names.push_back(p + (i < 10 ? "0" : "") + std::to_string(i));
    register_many(port(), names);

    auto page = search(port(), me.token, p);
    ASSERT_TRUE(IsJson(page.response, 200));
    EXPECT_EQ(page.usernames.size(), 50u);
    ASSERT_TRUE(page.next_cursor.is_string()) << "51 matches, default limit 50: there is a next page";
    auto rest = search(port(), me.token, p, std::nullopt, page.next_cursor.get<std::string>());
    ASSERT_TRUE(IsJson(rest.response, 200));
    EXPECT_EQ(rest.usernames, std::vector<std::string>{names[50]});
    EXPECT_TRUE(rest.next_cursor.is_null());

    auto big = search(port(), me.token, p, 200);
    ASSERT_TRUE(IsJson(big.response, 200));
    EXPECT_EQ(big.usernames, names);
    EXPECT_TRUE(big.next_cursor.is_null());
}

TEST_F(UsersTest, SearchRejectsBadLimits) {
    auto me = register_user(port(), "sb");
    for (const std::string limit : {"0", "201", "-1", "abc", "1.5", "99999999999999999999"}) {
        auto r = get(port(), me.token, "/api/v1/users?query=sb&limit=" + limit);
        EXPECT_TRUE(IsError(r, 400, "bad_request")) << "limit=" << limit;
    }
    for (const std::string limit : {"1", "200"}) {
        EXPECT_TRUE(IsJson(get(port(), me.token, "/api/v1/users?query=sb&limit=" + limit), 200)) << "limit=" << limit;
    }
}

TEST_F(UsersTest, SearchRejectsGarbageCursors) {
    auto me = register_user(port(), "sc");
    for (const std::string cursor : {"garbage", "not%20a%20cursor", "%00%01", "%FF%FE%FD"}) {
        auto r = get(port(), me.token, "/api/v1/users?query=sc&cursor=" + cursor);
        EXPECT_TRUE(IsError(r, 400, "bad_request")) << "cursor=" << cursor;
    }
}

}  // namespace
}  // namespace confab::test
