// Tracked events and the admin statistics: a scripted conversation, then the analytics
// rows and GET /api/v1/admin/stats figures it must produce.

#include "support/chat_api.hpp"
#include "support/fixture.hpp"
#include "support/media_fixtures.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <thread>

namespace confab::test {
namespace {

// Runs `confab admin grant USERNAME` against the database, as an operator would.
int grant_admin(const std::string& database_url, const std::string& username) {
    const std::string command = "CONFAB_DATABASE_URL='" + database_url + "' CONFAB_LOG_LEVEL=warn '" + server_binary() +
                                "' admin grant " + username + " >/dev/null";
    return std::system(command.c_str());
}

std::string minutes_ago(const TestDatabase& db, int minutes) {
    return *db.query_value("SELECT to_char((now() - interval '" + std::to_string(minutes) +
                           " minutes') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')");
}

TEST(AnalyticsTest, StatsMatchAScriptedConversation) {
    CONFAB_REQUIRE_DATABASE();
    auto& db = shared_database();
    ServerProcess server(db.url());
    const auto port = server.port();
    auto ana = register_user(port, "an");
    auto ben = register_user(port, "an");
    const std::string chat = create_group(port, ana, {ben.id})["id"];
    // ana, ben (10 s later), ana (30 s), ana (20 s), ben (60 s): three turns 10, 30, 60 s.
    std::vector<std::string> ids;
    for (const auto* sender : {&ana, &ben, &ana, &ana, &ben}) ids.push_back(send_text(port, *sender, chat, "hi")["id"]);
    const int offsets[] = {0, 10, 40, 60, 120};
    const auto base = minutes_ago(db, 10);  // one instant for all: each UPDATE has its own now()
    for (std::size_t i = 0; i < ids.size(); ++i)
        db.query_value("UPDATE messages SET created_at = '" + base + "'::timestamptz + interval '" +
                       std::to_string(offsets[i]) + " seconds' WHERE id = '" + ids[i] + "'");
    auto headers = auth_header(ben.token);
    headers["Content-Type"] = "image/png";
    const auto png = media::png(16, 16, 3);
    auto upload = http(port, "POST", "/api/v1/messages/upload?chat_id=" + chat + "&kind=image", png, headers);
    ASSERT_EQ(upload.status, 201) << upload.body;
    auto photo = send_message(port, ben, chat, {{"type", "image"}, {"media_id", upload.json()["id"]}});
    ASSERT_EQ(photo.status, 201);
    ASSERT_EQ(put(port, ana.token, reaction_url(ids[0], "\xF0\x9F\x91\x8D"), json::object()).status, 204);
    db.query_value("UPDATE messages SET created_at = now() - interval '1 hour' WHERE id = '" +
                   photo.json()["id"].get<std::string>() + "'");  // outside the response-time window below

    const std::string target = "/api/v1/admin/stats?bucket=hour&from=" + minutes_ago(db, 30);
    EXPECT_TRUE(IsError(get(port, ana.token, target), 403, "forbidden")) << "not an admin yet";
    ASSERT_EQ(grant_admin(db.url(), ana.username), 0);

    // The writer adds its counts every five seconds: wait for the six message.sent events.
    HttpResponse response;
    json stats;
    eventually(
        [&] {
            response = get(port, ana.token, target);
            stats = response.status == 200 ? response.json() : json();
            return stats.is_object() && stats["messages"] == 6;
        },
        20s);
    ASSERT_EQ(response.status, 200) << response.body;
    EXPECT_EQ(stats["messages"], 6) << stats.dump();
    EXPECT_EQ(stats["active_chats"], 1);
    EXPECT_EQ(stats["media"]["image"]["count"], 1);
    EXPECT_EQ(stats["media"]["image"]["bytes"], png.size());
    EXPECT_EQ(stats["response_time_ms"]["samples"], 3);
    EXPECT_DOUBLE_EQ(stats["response_time_ms"]["median"].get<double>(), 30000.0);
    EXPECT_DOUBLE_EQ(stats["response_time_ms"]["p95"].get<double>(), 57000.0);  // 30 s + 0.9 x 30 s
    EXPECT_GE(stats["active_users"]["dau"].get<int>(), 2);
    std::int64_t bucketed = 0;
    for (const auto& bucket : stats["buckets"]) bucketed += bucket["messages"].get<std::int64_t>();
    EXPECT_EQ(bucketed, 6) << "every message falls in one hourly bucket";
    EXPECT_TRUE(is_timestamp(stats["from"]) && is_timestamp(stats["to"]));

    // The tracked events themselves, counted per minute.
    const auto counted = [&](const std::string& name, const std::string& detail) {
        return db.query_value("SELECT coalesce(sum(events), 0) FROM analytics_minutes WHERE name = '" + name +
                              "' AND detail = '" + detail + "' AND chat_id = '" + chat + "'");
    };
    EXPECT_EQ(counted("chat.created", "group"), "1");
    EXPECT_EQ(counted("reaction.added", ""), "1");
    EXPECT_EQ(counted("media.shared", "image"), "1");
    EXPECT_EQ(counted("message.sent", "text"), "5");
    EXPECT_EQ(counted("message.sent", "image"), "1");
    EXPECT_EQ(db.query_value("SELECT sum(bytes) FROM analytics_minutes WHERE name = 'media.shared' AND chat_id = '" +
                             chat + "'"),
              std::to_string(png.size()));

    EXPECT_TRUE(IsError(get(port, ana.token, "/api/v1/admin/stats?bucket=week"), 400, "bad_request"));
    EXPECT_TRUE(IsError(get(port, ana.token, "/api/v1/admin/stats?from=yesterday"), 400, "bad_request"));
    EXPECT_TRUE(IsError(get(port, ana.token, "/api/v1/admin/stats?from=2026-13-01T00:00:00Z"), 400, "bad_request"));
    EXPECT_TRUE(
        IsError(get(port, ana.token, "/api/v1/admin/stats?from=2000-01-01T00:00:00Z&bucket=hour"), 400, "bad_request"));
}

}  // namespace
}  // namespace confab::test
