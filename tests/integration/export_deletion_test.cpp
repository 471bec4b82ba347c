// Export and deletion (docs/api.md, Exporting your data and Deleting the account): an export
// built in the background with progress, downloaded as a gzip tar and only by its owner, one
// at a time; a deleted account's sessions and sockets end, its messages stay as from a
// deleted user (or their content goes, auth.deleted_user_messages = "remove"), and the media
// only it referenced leaves the disk.

#include "support/chat_api.hpp"
#include "support/fixture.hpp"
#include "support/media_fixtures.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <pqxx/pqxx>

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>

namespace confab::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using ExportTest = ChatTest;
using DeletionTest = ChatTest;

const std::string exports_url = "/api/v1/users/me/exports";
const std::string me_url = "/api/v1/users/me";

std::string export_url(const std::string& id) { return exports_url + "/" + id; }

// The entries of a gzip tar, by name, read with libarchive.
std::map<std::string, std::string> entries_of(const std::string& archive_bytes) {
    std::unique_ptr<archive, decltype(&archive_read_free)> reader(archive_read_new(), archive_read_free);
    archive_read_support_filter_gzip(reader.get());
    archive_read_support_format_tar(reader.get());
    if (archive_read_open_memory(reader.get(), archive_bytes.data(), archive_bytes.size()) != ARCHIVE_OK)
        throw std::runtime_error(std::string("not a gzip tar: ") + archive_error_string(reader.get()));
    std::map<std::string, std::string> entries;
    archive_entry* entry = nullptr;
    while (archive_read_next_header(reader.get(), &entry) == ARCHIVE_OK) {
        std::string content(static_cast<std::size_t>(archive_entry_size(entry)), '\0');
        if (!content.empty() &&
            archive_read_data(reader.get(), content.data(), content.size()) != static_cast<la_ssize_t>(content.size()))
            throw std::runtime_error("short entry " + std::string(archive_entry_pathname(entry)));
        entries.emplace(archive_entry_pathname(entry), std::move(content));
    }
    return entries;
}

json upload(std::uint16_t port, const TestUser& user, const std::string& chat_id, const std::string& bytes) {
    return expect_json(http(port, "POST", "/api/v1/messages/upload?chat_id=" + chat_id + "&kind=file", bytes,
                            {{"Authorization", "Bearer " + user.token}, {"Content-Type", "application/octet-stream"}}),
                       201, "upload");
}

json send_file(std::uint16_t port, const TestUser& user, const std::string& chat_id, const json& media) {
    return expect_json(send_message(port, user, chat_id, {{"type", "file"}, {"media_id", media["id"]}}), 201,
                       "send file");
}

fs::path stored_path(const ServerProcess& server, const json& media) {
    const std::string sha256 = media["sha256"];
    return server.media_dir() / "objects" / sha256.substr(0, 2) / sha256;
}

// Polls the export until it is no longer pending or running; the progress seen never goes back.
json finished_export(std::uint16_t port, const TestUser& user, const std::string& id) {
    json last;
    int progress = 0;
    bool regressed = false;
    eventually([&] {
        last = expect_json(get(port, user.token, export_url(id)), 200, "export status");
        regressed = regressed || last["progress"].get<int>() < progress;
        progress = last["progress"].get<int>();
        return last["status"] == "ready" || last["status"] == "failed";
    });
    EXPECT_FALSE(regressed) << "progress went back";
    return last;
}

json start_export(std::uint16_t port, const TestUser& user) {
    const auto response = post(port, user.token, exports_url);
    auto started = expect_json(response, 202, "start export");
    EXPECT_EQ(response.header("location"), export_url(started["id"]));
    return started;
}

HttpResponse delete_account(std::uint16_t port, const TestUser& user, const std::optional<json>& body) {
    return del(port, user.token, me_url, body);
}

void delete_with_password(std::uint16_t port, const TestUser& user) {
    const auto deleted = delete_account(port, user, json{{"password", kPassword}});
    ASSERT_EQ(deleted.status, 204) << deleted.describe();
}

std::string chat_reports_url(const std::string& chat_id) { return chat_url(chat_id) + "/reports"; }

json report(std::uint16_t port, const TestUser& reporter, const std::string& chat_id, const std::string& message_id) {
    return expect_json(post(port, reporter.token, chat_url(chat_id) + "/messages/" + message_id + "/reports",
                            {{"reason", "spam"}}),
                       201, "report");
}

// The chat's open reports (one page holds them all), by id.
std::map<std::string, json> chat_reports(std::uint16_t port, const TestUser& moderator, const std::string& chat_id) {
    // Held: a range-for over a member of a temporary would outlive the temporary.
    const auto page =
        expect_json(get(port, moderator.token, chat_reports_url(chat_id) + "?limit=200"), 200, "chat reports");
    std::map<std::string, json> reports;
    for (const auto& item : page["reports"]) reports.emplace(item["id"].get<std::string>(), item);
    return reports;
}

// The operators' queue of every chat's open reports, page by page, by id.
std::map<std::string, json> operator_queue(std::uint16_t port, const TestUser& op) {
    std::map<std::string, json> reports;
    std::string cursor;
    for (int pages = 0; pages < 1000; ++pages) {
        const auto page =
            expect_json(get(port, op.token,
                            "/api/v1/admin/reports?limit=200" + (cursor.empty() ? "" : "&cursor=" + cursor)),
                        200, "operator queue");
        for (const auto& item : page["reports"]) reports.emplace(item["id"].get<std::string>(), item);
        if (page["next_cursor"].is_null()) break;
        cursor = page["next_cursor"];
    }
    return reports;
}

void make_operator(const TestUser& user) {
    pqxx::connection db(chat_database_url());
    pqxx::work tx(db);
    tx.exec_params("UPDATE users SET is_admin = true WHERE id = $1::uuid", user.id);
    tx.commit();
}

// ---------------------------------------------------------------------------------------------
// Export

TEST_F(ExportTest, AnExportIsBuiltInTheBackgroundAndHoldsTheUsersDataOnly) {
    auto ana = register_user(port(), "ex", std::string("Ana Export"));
    auto ben = register_user(port(), "ex");
    expect_json(patch(port(), ana.token, me_url, {{"bio", "exported bio"}}), 200, "bio");
    const std::string group = create_group(port(), ana, {ben.id}, {{"title", "Export group"}})["id"];
    const std::string direct = create_direct(port(), ana, ben)["id"];
    send_text(port(), ana, group, "ana in the group");
    send_text(port(), ben, group, "ben in the group");
    send_text(port(), ana, direct, "ana in the direct chat");
    const auto bytes = media::text(41);
    const auto media = upload(port(), ana, group, bytes);
    send_file(port(), ana, group, media);

    const auto started = start_export(port(), ana);
    EXPECT_TRUE(is_uuid(started["id"]));
    EXPECT_EQ(started["status"], "pending");
    EXPECT_EQ(started["progress"], 0);
    EXPECT_TRUE(started["download_url"].is_null());
    EXPECT_TRUE(is_timestamp(started["created_at"]));

    const auto ready = finished_export(port(), ana, started["id"]);
    ASSERT_EQ(ready["status"], "ready") << ready.dump();
    EXPECT_EQ(ready["progress"], 100);
    EXPECT_EQ(ready["items_done"], ready["items_total"]);
    EXPECT_EQ(ready["items_total"], 7 + 2 + 1) << "seven files, two chats, one media";
    EXPECT_TRUE(is_timestamp(ready["finished_at"]));
    EXPECT_EQ(ready["download_url"], export_url(started["id"]) + "/download");

    const auto download = get(port(), ana.token, ready["download_url"]);
    ASSERT_EQ(download.status, 200) << download.describe();
    EXPECT_EQ(download.header("content-type"), "application/gzip");
    EXPECT_EQ(static_cast<std::int64_t>(download.body.size()), ready["size_bytes"].get<std::int64_t>());
    const auto entries = entries_of(download.body);

    const auto profile = json::parse(entries.at("profile.json"));
    EXPECT_EQ(profile["id"], ana.id);
    EXPECT_EQ(profile["username"], ana.username);
    EXPECT_EQ(profile["display_name"], "Ana Export");
    EXPECT_EQ(profile["bio"], "exported bio");
    EXPECT_EQ(profile["privacy"]["who_can_add_me"], "everyone");

    const auto chats = json::parse(entries.at("chats.json"));
    ASSERT_EQ(chats.size(), 2U) << chats.dump();
    const auto& group_entry = chats[0]["id"] == group ? chats[0] : chats[1];
    EXPECT_EQ(group_entry["title"], "Export group");
    EXPECT_EQ(group_entry["role"], "owner");
    std::vector<std::string> member_ids;
    for (const auto& member : group_entry["members"]) member_ids.push_back(member["user_id"]);
    EXPECT_EQ(member_ids, (std::vector<std::string>{ana.id, ben.id}));

    const auto group_messages = json::parse(entries.at("messages/" + group + ".json"));
    ASSERT_EQ(group_messages.size(), 2U) << "ana's text and file, not ben's nor the system's: "
                                         << group_messages.dump();
    EXPECT_EQ(group_messages[0]["content"], "ana in the group");
    EXPECT_EQ(group_messages[1]["media_id"], media["id"]);
    const auto direct_messages = json::parse(entries.at("messages/" + direct + ".json"));
    ASSERT_EQ(direct_messages.size(), 1U);
    EXPECT_EQ(direct_messages[0]["content"], "ana in the direct chat");

    const auto media_list = json::parse(entries.at("media.json"));
    ASSERT_EQ(media_list.size(), 1U);
    EXPECT_EQ(media_list[0]["id"], media["id"]);
    EXPECT_TRUE(media_list[0]["live_video"].is_null());
    EXPECT_EQ(media_list[0]["path"], "media/" + media["id"].get<std::string>());
    EXPECT_EQ(entries.at("media/" + media["id"].get<std::string>()), bytes);
}

// The members chats.json lists of a channel, by whose export it is (one ready export's).
std::vector<std::string> exported_channel_members(std::uint16_t port, const TestUser& user,
                                                  const std::string& channel) {
    const auto ready = finished_export(port, user, start_export(port, user)["id"]);
    if (ready["status"] != "ready") throw std::runtime_error("export " + ready.dump());
    const auto chats = json::parse(entries_of(get(port, user.token, ready["download_url"]).body).at("chats.json"));
    std::vector<std::string> ids;
    for (const auto& chat : chats)
        if (chat["id"] == channel)
            for (const auto& member : chat["members"]) ids.push_back(member["user_id"]);
    return ids;
}

// Subscribers do not see each other, in an export as in the member list: a subscriber's
// chats.json lists them alone; the channel's staff, who may list its members, get them all.
// docs/api.md, Exporting your data: bytes gone from the disk while the export ran are left out,
// and media.json, which still names their media, gives them `path` null (no entry to look for).
TEST_F(ExportTest, MediaWhoseBytesAreGoneIsListedWithoutAPath) {
    auto ana = register_user(port(), "ex");
    const std::string group = create_group(port(), ana)["id"];
    // Bytes of their own: no other media shares the file this test removes.
    const auto kept = upload(port(), ana, group, media::text(43) + random_alnum(32));
    send_file(port(), ana, group, kept);
    const auto gone = upload(port(), ana, group, media::text(44) + random_alnum(32));
    send_file(port(), ana, group, gone);
    // As a removal racing the export would leave it: the row listed, the bytes not on disk.
    ASSERT_TRUE(fs::remove(stored_path(server(), gone)));

    const auto started = start_export(port(), ana);
    const auto ready = finished_export(port(), ana, started["id"]);
    ASSERT_EQ(ready["status"], "ready") << ready.dump();
    EXPECT_EQ(ready["items_done"], ready["items_total"]);
    const auto download = get(port(), ana.token, ready["download_url"]);
    ASSERT_EQ(download.status, 200) << download.describe();
    const auto entries = entries_of(download.body);
    const std::string kept_id = kept["id"];
    const std::string gone_id = gone["id"];
    EXPECT_TRUE(entries.contains("media/" + kept_id));
    EXPECT_FALSE(entries.contains("media/" + gone_id));
    std::map<std::string, json> listed;
    for (const auto& entry : json::parse(entries.at("media.json"))) listed.emplace(entry["id"], entry);
    ASSERT_EQ(listed.size(), 2U);
    EXPECT_EQ(listed[kept_id]["path"], "media/" + kept_id);
    EXPECT_TRUE(listed[gone_id]["path"].is_null()) << listed[gone_id].dump();
    EXPECT_EQ(listed[gone_id]["sha256"], gone["sha256"]) << "the rest of the entry stays";
}

TEST_F(ExportTest, ASubscribersExportNamesNoOtherSubscriber) {
    auto owner = register_user(port(), "exch");
    auto reader = register_user(port(), "exch");
    auto other = register_user(port(), "exch");
    const std::string handle = "exch" + random_alnum(12);
    const std::string channel = create_channel(port(), owner, {{"handle", handle}, {"is_public", true}})["id"];
    for (const auto* user : {&reader, &other}) join_channel(port(), *user, handle);

    EXPECT_EQ(exported_channel_members(port(), reader, channel), std::vector<std::string>{reader.id});
    EXPECT_EQ(exported_channel_members(port(), owner, channel),
              (std::vector<std::string>{owner.id, reader.id, other.id}));
}

TEST_F(ExportTest, AnExportHoldsListsBlocksTemplatesScheduledMessagesAndLivePhotoMotion) {
    auto ana = register_user(port(), "exx");
    auto ben = register_user(port(), "exx");
    auto cid = register_user(port(), "exx");
    const std::string direct = create_direct(port(), ana, ben)["id"];
    expect_json(post(port(), ana.token, "/api/v1/broadcast-lists",
                     json{{"name", "Family"}, {"recipient_ids", {cid.id, ben.id}}}),
                201, "broadcast list");
    ASSERT_EQ(put(port(), ana.token, "/api/v1/users/me/blocks/" + cid.id).status, 204);
    expect_json(post(port(), ana.token, "/api/v1/templates", json{{"name", "hi"}, {"content", "Hello there"}}), 201,
                "template");
    expect_json(
        post(port(), ana.token, "/api/v1/chats/" + direct + "/scheduled-messages",
             json{{"type", "text"}, {"content", "later"}, {"send_at", timestamp_from_now(std::chrono::hours(24))}}),
        201, "scheduled");
    const std::string boundary = "exportBoundary";
    const auto still = media::png(6, 4, 57);
    const auto video = media::fixture("clip.webm") + "confab-export-test";
    const auto live =
        expect_json(http(port(), "POST", "/api/v1/messages/upload?chat_id=" + direct + "&kind=image",
                         media::multipart_body(boundary, {{"name=\"file\"; filename=\"live.png\"", still},
                                                          {"name=\"live_video\"; filename=\"live.webm\"", video}}),
                         {{"Authorization", "Bearer " + ana.token},
                          {"Content-Type", "multipart/form-data; boundary=" + boundary}},
                         30s),
                    201, "live photo");

    const auto ready = finished_export(port(), ana, start_export(port(), ana)["id"]);
    ASSERT_EQ(ready["status"], "ready") << ready.dump();
    EXPECT_EQ(ready["items_total"], 7 + 1 + 1) << "seven files, one chat, one media with its motion";
    const auto entries = entries_of(get(port(), ana.token, ready["download_url"]).body);

    const auto lists = json::parse(entries.at("broadcast_lists.json"));
    ASSERT_EQ(lists.size(), 1U) << lists.dump();
    EXPECT_EQ(lists[0]["name"], "Family");
    ASSERT_EQ(lists[0]["recipients"].size(), 2U);
    EXPECT_EQ(lists[0]["recipients"][0]["user_id"], cid.id) << "in the order given";
    EXPECT_EQ(lists[0]["recipients"][1]["username"], ben.username);

    const auto blocked = json::parse(entries.at("blocked_users.json"));
    ASSERT_EQ(blocked.size(), 1U);
    EXPECT_EQ(blocked[0]["user_id"], cid.id);
    EXPECT_TRUE(blocked[0]["blocked_at"].is_string()) << "PostgreSQL's ISO 8601, as every time in the archive";

    const auto templates = json::parse(entries.at("templates.json"));
    ASSERT_EQ(templates.size(), 1U);
    EXPECT_EQ(templates[0]["content"], "Hello there");

    const auto scheduled = json::parse(entries.at("scheduled_messages.json"));
    ASSERT_EQ(scheduled.size(), 1U);
    EXPECT_EQ(scheduled[0]["content"], "later");
    EXPECT_EQ(scheduled[0]["chat_id"], direct);
    EXPECT_EQ(scheduled[0]["status"], "pending");

    const auto media_list = json::parse(entries.at("media.json"));
    ASSERT_EQ(media_list.size(), 1U);
    const std::string media_id = live["id"];
    const auto& motion = media_list[0]["live_video"];
    EXPECT_EQ(motion["path"], "media/" + media_id + ".live_video");
    EXPECT_EQ(motion["mime_type"], "video/webm");
    EXPECT_EQ(motion["sha256"], media::sha256_hex(video));
    EXPECT_EQ(motion["size_bytes"], video.size());
    EXPECT_EQ(entries.at("media/" + media_id), still);
    EXPECT_EQ(entries.at("media/" + media_id + ".live_video"), video);

    // Another user's export names none of it.
    const auto bens = finished_export(port(), ben, start_export(port(), ben)["id"]);
    const auto ben_entries = entries_of(get(port(), ben.token, bens["download_url"]).body);
    EXPECT_EQ(json::parse(ben_entries.at("broadcast_lists.json")), json::array());
    EXPECT_EQ(json::parse(ben_entries.at("blocked_users.json")), json::array());
    EXPECT_EQ(json::parse(ben_entries.at("templates.json")), json::array());
    EXPECT_EQ(json::parse(ben_entries.at("scheduled_messages.json")), json::array());
    EXPECT_EQ(json::parse(ben_entries.at("media.json")), json::array());
}

TEST_F(ExportTest, OnlyTheOwnerSeesOrDownloadsAnExport) {
    auto ana = register_user(port(), "eo");
    auto ben = register_user(port(), "eo");
    const auto started = start_export(port(), ana);
    const std::string id = started["id"];
    ASSERT_EQ(finished_export(port(), ana, id)["status"], "ready");

    EXPECT_TRUE(IsError(get(port(), ben.token, export_url(id)), 404, "not_found"));
    EXPECT_TRUE(IsError(get(port(), ben.token, export_url(id) + "/download"), 404, "not_found"));
    EXPECT_TRUE(IsError(get(port(), ana.token, export_url(random_uuid())), 404, "not_found"));
    EXPECT_TRUE(IsError(get(port(), ana.token, export_url("not-a-uuid") + "/download"), 404, "not_found"));
    EXPECT_TRUE(IsError(http(port(), "GET", export_url(id) + "/download"), 401, "unauthorized"));
    EXPECT_TRUE(IsError(http(port(), "POST", exports_url, "{}"), 401, "unauthorized"));
    EXPECT_EQ(get(port(), ana.token, export_url(id) + "/download").status, 200);
}

TEST_F(ExportTest, OneExportAtATimeAndANewOneReplacesTheLast) {
    auto ana = register_user(port(), "e1");
    const std::string first = start_export(port(), ana)["id"];
    ASSERT_EQ(finished_export(port(), ana, first)["status"], "ready");

    // An export still being built, as the database holds it.
    const auto running = shared_database().query_value(
        "insert into data_exports (user_id, status, items_total) values ('" + ana.id + "', 'running', 5) returning id");
    ASSERT_TRUE(running);
    EXPECT_TRUE(IsError(post(port(), ana.token, exports_url), 409, "conflict"));
    const auto status = expect_json(get(port(), ana.token, export_url(*running)), 200, "running export");
    EXPECT_EQ(status["status"], "running");
    EXPECT_EQ(status["progress"], 0);
    EXPECT_TRUE(IsError(get(port(), ana.token, export_url(*running) + "/download"), 409, "conflict"));

    shared_database().query_value("update data_exports set status = 'failed' where id = '" + *running + "'");
    const std::string second = start_export(port(), ana)["id"];
    ASSERT_EQ(finished_export(port(), ana, second)["status"], "ready");
    EXPECT_TRUE(IsError(get(port(), ana.token, export_url(first)), 404, "not_found")) << "replaced by the newer one";
    EXPECT_FALSE(fs::exists(server().media_dir() / "exports" / (first + ".tar.gz")));
    EXPECT_TRUE(fs::exists(server().media_dir() / "exports" / (second + ".tar.gz")));
}

TEST_F(ExportTest, AnExportLeftRunningByAStoppedServerIsFailedAtTheNextStart) {
    auto ana = register_user(port(), "er");
    const auto left = shared_database().query_value("insert into data_exports (user_id, status) values ('" + ana.id +
                                                    "', 'running') returning id");
    ASSERT_TRUE(left);
    ServerProcess restarted(shared_database().url());
    EXPECT_TRUE(eventually([&] {
        return expect_json(get(restarted.port(), ana.token, export_url(*left)), 200, "export")["status"] == "failed";
    }));
    EXPECT_EQ(start_export(restarted.port(), ana)["status"], "pending") << "no longer in the way of a new one";
}

// ---------------------------------------------------------------------------------------------
// Deletion

TEST_F(DeletionTest, DeletingAPasswordAccountNeedsItsPassword) {
    auto ana = register_user(port(), "dp");
    auto wrong = delete_account(port(), ana, json{{"password", "not the password"}});
    EXPECT_TRUE(IsError(wrong, 403, "forbidden")) << wrong.describe();
    EXPECT_EQ(wrong.json()["error"]["details"]["field"], "password");
    auto missing = delete_account(port(), ana, std::nullopt);
    EXPECT_TRUE(IsError(missing, 400, "bad_request")) << missing.describe();
    EXPECT_TRUE(IsError(delete_account(port(), ana, json::object()), 400, "bad_request"));
    EXPECT_TRUE(IsError(delete_account(port(), ana, json{{"password", kPassword}, {"extra", 1}}), 400, "bad_request"));
    EXPECT_TRUE(IsError(http(port(), "DELETE", me_url, json{{"password", kPassword}}.dump()), 401, "unauthorized"));
    EXPECT_EQ(get(port(), ana.token, me_url).status, 200) << "a refused deletion deletes nothing";
    EXPECT_EQ(login(port(), ana.username).empty(), false);
}

// A deleted account leaves its channels as it leaves its groups: a subscriber stops counting,
// and an owner hands the channel on, so that someone can still run (or delete) it.
TEST_F(DeletionTest, ADeletedAccountLeavesItsChannels) {
    auto owner = register_user(port(), "dc");
    auto reader = register_user(port(), "dc");
    auto other = register_user(port(), "dc");
    const std::string handle = "dc" + random_alnum(12);
    const std::string channel = create_channel(port(), owner, {{"handle", handle}, {"is_public", true}})["id"];
    for (const auto* user : {&reader, &other}) join_channel(port(), *user, handle);
    ASSERT_EQ(get_chat(port(), owner, channel)["subscriber_count"], 3);

    ASSERT_EQ(delete_account(port(), reader, json{{"password", kPassword}}).status, 204);
    EXPECT_EQ(get_chat(port(), owner, channel)["subscriber_count"], 2);
    for (const auto& member : list_members(port(), owner, channel))
        EXPECT_NE(member["user"]["id"], reader.id) << "still listed after deleting their account";

    ASSERT_EQ(delete_account(port(), owner, json{{"password", kPassword}}).status, 204);
    const auto handed_on = get_chat(port(), other, channel);
    EXPECT_EQ(handed_on["subscriber_count"], 1);
    EXPECT_EQ(handed_on["me"]["role"], "owner") << "the one left runs the channel";
    EXPECT_EQ(del(port(), other.token, chat_url(channel)).status, 204) << "and may delete it";
}

TEST_F(DeletionTest, ADeletedAccountsSessionsEndAndItsMessagesStayAsFromADeletedUser) {
    auto ana = register_user(port(), "dk", std::string("Ana Gone"));
    auto ben = register_user(port(), "dk");
    auto cat = register_user(port(), "dk");
    const auto second_session = login(port(), ana.username);
    const std::string group = create_group(port(), ben, {ana.id, cat.id})["id"];
    const std::string direct = create_direct(port(), ana, ben)["id"];
    const auto in_group = send_text(port(), ana, group, "ana was here");
    const auto in_direct = send_text(port(), ana, direct, "hello ben");
    const auto unsent = upload(port(), ana, group, media::text(42));
    const std::string ana_export = start_export(port(), ana)["id"];
    ASSERT_EQ(finished_export(port(), ana, ana_export)["status"], "ready");
    auto ana_socket = ws_connect(port(), ana.token);
    auto ana_other_socket = ws_connect(port(), second_session);
    auto ben_socket = ws_connect(port(), ben.token);

    const auto deleted = delete_account(port(), ana, json{{"password", kPassword}});
    ASSERT_EQ(deleted.status, 204) << deleted.describe();

    EXPECT_EQ(ana_socket->wait_for_close(5s), std::optional<int>(4001));
    EXPECT_EQ(ana_other_socket->wait_for_close(5s), std::optional<int>(4001));
    EXPECT_TRUE(IsError(get(port(), ana.token, me_url), 401, "unauthorized"));
    EXPECT_TRUE(IsError(get(port(), second_session, me_url), 401, "unauthorized"));
    EXPECT_TRUE(IsError(http(port(), "POST", "/api/v1/auth/login",
                             json{{"username", ana.username}, {"password", kPassword}}.dump(),
                             {{"Content-Type", "application/json"}}),
                        401, "unauthorized"));

    // The members learn that ana left the group, and who she is now.
    EXPECT_TRUE(wait_for(*ben_socket, "member.removed", [&](const json& f) {
        return f["data"]["chat_id"] == group && f["data"]["user_id"] == ana.id;
    }));
    const auto updated =
        wait_for(*ben_socket, "user.updated", [&](const json& f) { return f["data"]["user"]["id"] == ana.id; });
    ASSERT_TRUE(updated);
    EXPECT_EQ((*updated)["data"]["user"]["deleted"], true);

    const auto tombstone = expect_json(get(port(), ben.token, "/api/v1/users/" + ana.id), 200, "tombstone");
    EXPECT_TRUE(IsUserModel(tombstone));
    EXPECT_EQ(tombstone["deleted"], true);
    EXPECT_EQ(tombstone["display_name"], "Deleted user");
    EXPECT_EQ(tombstone["username"], "deleted-" + ana.id);
    EXPECT_TRUE(tombstone["bio"].is_null());
    EXPECT_FALSE(expect_json(get(port(), ben.token, "/api/v1/users/" + ben.id), 200, "ben").contains("deleted"))
        << "only a tombstone carries the flag";

    EXPECT_EQ(get_message(port(), cat, in_group["id"])["content"], "ana was here");
    EXPECT_EQ(get_message(port(), cat, in_group["id"])["sender_id"], ana.id);
    EXPECT_EQ(get_message(port(), ben, in_direct["id"])["content"], "hello ben");
    EXPECT_EQ(find_member(list_members(port(), ben, group), ana.id), nullptr);
    EXPECT_EQ(system_messages(port(), cat, group).back()["content"], "Ana Gone left");
    EXPECT_FALSE(fs::exists(stored_path(server(), unsent))) << "an upload never sent goes with the account";
    EXPECT_FALSE(fs::exists(server().media_dir() / "exports" / (ana_export + ".tar.gz")));

    // The tombstone is no one to find or add, and the username is free again.
    const auto found = expect_json(get(port(), ben.token, "/api/v1/users?query=" + ana.username), 200, "search");
    EXPECT_TRUE(found["users"].empty()) << found.dump();
    EXPECT_TRUE(IsError(post(port(), ben.token, members_url(group), {{"user_ids", {ana.id}}}), 404, "not_found"));
    const auto again =
        http(port(), "POST", "/api/v1/auth/register", json{{"username", ana.username}, {"password", kPassword}}.dump(),
             {{"Content-Type", "application/json"}});
    ASSERT_EQ(again.status, 201) << again.describe();
    EXPECT_NE(again.json()["user"]["id"], ana.id);
}

// Reports go with their reporter's account, and the reports of others name a deleted account
// nobody: reported_message.sender_id and resolved_by become null (docs/api.md, Reports).
// A server stopped (kill -9) between the deletion's steps leaves the account deleted but still
// a member, named and signed up for what it made: the next start carries the deletion on.
TEST_F(DeletionTest, ADeletionAStoppedServerLeftUnfinishedIsCarriedOnAtTheNextStart) {
    auto ana = register_user(port(), "du", std::string("Ana Halfway"));
    auto ben = register_user(port(), "du");
    const std::string group = create_group(port(), ben, {ana.id})["id"];
    send_text(port(), ana, group, "before the stop");
    ASSERT_EQ(post(port(), ana.token, "/api/v1/templates", {{"name", "t"}, {"content", "kept?"}}).status, 201);
    // Where the first step (store::accounts::begin_deletion) leaves it.
    shared_database().query_value("update users set deleted_at = now() where id = '" + ana.id + "'");
    shared_database().query_value("delete from auth_tokens where user_id = '" + ana.id + "'");

    ServerProcess restarted(shared_database().url());
    EXPECT_TRUE(eventually([&] {
        return expect_json(get(restarted.port(), ben.token, "/api/v1/users/" + ana.id), 200, "user")["display_name"] ==
               "Deleted user";
    }));
    EXPECT_EQ(find_member(list_members(restarted.port(), ben, group), ana.id), nullptr);
    EXPECT_EQ(system_messages(restarted.port(), ben, group).back()["content"], "Ana Halfway left");
    EXPECT_EQ(shared_database().query_value("select count(*) from message_templates where owner_id = '" + ana.id + "'"),
              "0");
    EXPECT_EQ(shared_database().query_value("select username from users where id = '" + ana.id + "'"),
              "deleted-" + ana.id);
}

// From the deletion's first step on, nothing the account's own requests still in flight make
// is stored for it (migration 0046): here, as if such a request came after that step.
TEST_F(DeletionTest, NothingNewIsStoredForAnAccountWhoseDeletionBegan) {
    auto ana = register_user(port(), "dn");
    shared_database().query_value("update users set deleted_at = now() where id = '" + ana.id + "'");
    const auto refused = [&](const std::string& insert) {
        try {
            shared_database().query_value(insert);
        } catch (const pqxx::sql_error& e) {
            return e.sqlstate() == "CF404";  // answered 404 user not found (store::Tx)
        }
        return false;
    };
    const std::string ana_id = "'" + ana.id + "'";
    EXPECT_TRUE(refused("insert into message_templates (owner_id, name, content) values (" + ana_id + ", 't', 'x')"));
    EXPECT_TRUE(refused("insert into data_exports (user_id) values (" + ana_id + ")"));
    EXPECT_TRUE(
        refused("insert into users (username, display_name, bot_owner_id) values ('dnbot', 'b', " + ana_id + ")"));
}

TEST_F(DeletionTest, ADeletedReportersReportsGoAndOtherReportsNameADeletedAccountNobody) {
    auto owner = register_user(port(), "dr");
    auto moderator = register_user(port(), "dr");
    auto sender = register_user(port(), "dr");
    auto reporter = register_user(port(), "dr");
    auto other = register_user(port(), "dr");
    auto op = register_user(port(), "dr");
    make_operator(op);
    const std::string group =
        create_group(port(), owner, {moderator.id, sender.id, reporter.id, other.id})["id"].get<std::string>();
    set_role(port(), owner, group, moderator.id, "moderator");
    const std::string message = send_text(port(), sender, group, "buy cheap watches")["id"];
    const std::string by_reporter = report(port(), reporter, group, message)["id"];
    const std::string by_other = report(port(), other, group, message)["id"];
    const std::string by_owner = report(port(), owner, group, message)["id"];
    const auto resolved = expect_json(post(port(), moderator.token,
                                           chat_reports_url(group) + "/" + by_owner + "/resolve", {{"action", "none"}}),
                                      200, "resolve");
    ASSERT_EQ(resolved["resolved_by"], moderator.id);
    ASSERT_EQ(chat_reports(port(), owner, group).at(by_reporter)["reported_message"]["sender_id"], sender.id);

    // The sender's account goes: the evidence names nobody, in the chat's list and the queue.
    delete_with_password(port(), sender);
    for (const auto& [id, item] : chat_reports(port(), owner, group))
        EXPECT_TRUE(item["reported_message"]["sender_id"].is_null()) << item.dump();
    const auto queued = operator_queue(port(), op);
    for (const auto& id : {by_reporter, by_other}) {
        ASSERT_TRUE(queued.count(id)) << id;
        EXPECT_TRUE(queued.at(id)["reported_message"]["sender_id"].is_null()) << queued.at(id).dump();
    }
    // A report made afterwards takes the message with its sender already gone.
    const auto late = report(port(), owner, group, message);
    EXPECT_TRUE(late["reported_message"]["sender_id"].is_null()) << late.dump();

    // The reporter's account goes: so does their open report, from the chat and the queue alike.
    delete_with_password(port(), reporter);
    const auto listed = chat_reports(port(), owner, group);
    EXPECT_FALSE(listed.count(by_reporter)) << "the deleted reporter's report is still listed";
    EXPECT_TRUE(listed.count(by_other)) << "another member's report of the same message stays";
    EXPECT_FALSE(operator_queue(port(), op).count(by_reporter)) << "still in the operators' queue";

    // The resolver's account goes. A resolved report is on no list; its row tells.
    delete_with_password(port(), moderator);
    pqxx::connection db(chat_database_url());
    pqxx::work tx(db);
    const auto row =
        tx.exec_params1("SELECT resolved_by IS NULL, resolved_at IS NOT NULL FROM message_reports WHERE id = $1::uuid",
                        by_owner);
    EXPECT_TRUE(row[0].as<bool>()) << "resolved_by still names the deleted moderator";
    EXPECT_TRUE(row[1].as<bool>()) << "the report stays resolved";
}

// What others keep that a deleted account made names it no more (docs/openapi.yaml: BanModel.
// banned_by, InviteLinkModel.created_by, MessageModel.pinned_by and forwarded_from.sender_id,
// InvitationModel.inviter are null once that account is gone); the bans on it go with it.
TEST_F(DeletionTest, ADeletedAccountIsNamedByNoBanInviteLinkPinForwardOrInvitation) {
    auto ana = register_user(port(), "dn");
    auto ben = register_user(port(), "dn");
    auto cat = register_user(port(), "dn");
    auto dan = register_user(port(), "dn");
    auto eve = register_user(port(), "dn");
    expect_json(put(port(), eve.token, "/api/v1/users/me/privacy", {{"who_can_add_me", "nobody"}}), 200, "privacy");
    const std::string group = create_group(port(), ben, {ana.id, cat.id, dan.id})["id"].get<std::string>();
    set_role(port(), ben, group, ana.id, "admin");
    const std::string elsewhere = create_group(port(), cat)["id"].get<std::string>();

    const auto ban = expect_json(post(port(), ana.token, chat_url(group) + "/bans", {{"user_id", dan.id}}), 201, "ban");
    ASSERT_EQ(ban["banned_by"], ana.id);
    expect_json(post(port(), cat.token, chat_url(elsewhere) + "/bans", {{"user_id", ana.id}}), 201, "ban ana");
    const auto link = expect_json(post(port(), ana.token, chat_url(group) + "/invite-links"), 201, "invite link");
    ASSERT_EQ(link["created_by"], ana.id);
    const std::string pinned = send_text(port(), cat, group, "pin me")["id"];
    ASSERT_EQ(put(port(), ana.token, message_url(pinned) + "/pin").status, 204);
    const std::string original = send_text(port(), ana, group, "worth sharing")["id"];
    const auto forward =
        expect_json(post(port(), cat.token, message_url(original) + "/forward", {{"chat_id", group}}), 201, "forward");
    ASSERT_EQ(forward["forwarded_from"]["sender_id"], ana.id);
    const auto invited = expect_json(post(port(), ana.token, members_url(group), {{"user_ids", {eve.id}}}), 200, "add");
    ASSERT_EQ(invited["invited"], json::array({eve.id}));
    const auto invitations_url = std::string("/api/v1/invitations");
    ASSERT_EQ(expect_json(get(port(), eve.token, invitations_url), 200,
                          "invitations")["invitations"][0]["inviter"]["id"],
              ana.id);
    // The newest page is read (and may be kept by the history cache) before the deletion.
    expect_json(get(port(), ben.token, chat_messages_url(group)), 200, "history");
    const auto version_before = get_chat(port(), ben, group)["version"].get<std::int64_t>();
    auto ben_socket = ws_connect(port(), ben.token);

    delete_with_password(port(), ana);

    const auto bans = expect_json(get(port(), ben.token, chat_url(group) + "/bans"), 200, "bans")["bans"];
    ASSERT_EQ(bans.size(), 1u) << bans.dump();
    EXPECT_EQ(bans[0]["user_id"], dan.id);
    EXPECT_TRUE(bans[0]["banned_by"].is_null()) << bans.dump();
    EXPECT_EQ(expect_json(get(port(), cat.token, chat_url(elsewhere) + "/bans"), 200, "bans")["bans"], json::array())
        << "a ban on the deleted account goes with it";

    const auto links =
        expect_json(get(port(), ben.token, chat_url(group) + "/invite-links"), 200, "invite links")["invite_links"];
    ASSERT_EQ(links.size(), 1u) << links.dump();
    EXPECT_EQ(links[0]["code"], link["code"]);
    EXPECT_TRUE(links[0]["created_by"].is_null()) << links.dump();

    const auto invitations = expect_json(get(port(), eve.token, invitations_url), 200, "invitations")["invitations"];
    ASSERT_EQ(invitations.size(), 1u) << "the invitation stays, from nobody";
    EXPECT_TRUE(invitations[0]["inviter"].is_null()) << invitations.dump();

    // The messages change at a new version: message.updated, sync and history pages agree.
    for (const auto& id : {pinned, forward["id"].get<std::string>()})
        EXPECT_TRUE(wait_for(*ben_socket, "message.updated", about_message(id))) << id;
    const auto check = [&](const json& message) {
        if (message["id"] == pinned) {
            EXPECT_TRUE(message["pinned_by"].is_null()) << message.dump();
            EXPECT_FALSE(message["pinned_at"].is_null()) << "still pinned: " << message.dump();
        } else if (message["id"] == forward["id"]) {
            EXPECT_TRUE(message["forwarded_from"]["sender_id"].is_null()) << message.dump();
            EXPECT_EQ(message["forwarded_from"]["message_id"], original);
        }
    };
    check(get_message(port(), ben, pinned));
    check(get_message(port(), ben, forward["id"]));
    const auto history = expect_json(get(port(), ben.token, chat_messages_url(group)), 200, "history");
    for (const auto& message : history["messages"]) check(message);
    const auto synced = expect_json(get(port(), ben.token,
                                        chat_messages_url(group) + "?since_version=" + std::to_string(version_before)),
                                    200, "sync")["messages"];
    const auto synced_ids = ids_of(std::vector<json>(synced.begin(), synced.end()));
    for (const auto& id : {pinned, forward["id"].get<std::string>()})
        EXPECT_NE(std::find(synced_ids.begin(), synced_ids.end(), id), synced_ids.end()) << "not in sync: " << id;
    for (const auto& message : synced) check(message);

    // A forward made afterwards of the deleted account's message names nobody either.
    const auto late =
        expect_json(post(port(), ben.token, message_url(original) + "/forward", {{"chat_id", group}}), 201, "forward");
    EXPECT_TRUE(late["forwarded_from"]["sender_id"].is_null()) << late.dump();
    EXPECT_EQ(get_message(port(), ben, original)["sender_id"], ana.id) << "the message itself keeps its tombstone";
}

TEST(DeletionRemoveModeTest, RemoveModeDeletesTheContentAndTheMediaOnlyTheUserReferenced) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(shared_database().url(),
                         std::map<std::string, std::string>{{"CONFAB_DELETED_USER_MESSAGES", "remove"}});
    const auto port = server.port();
    auto dan = register_user(port, "dr");
    auto eve = register_user(port, "dr");
    auto fay = register_user(port, "dr");
    const std::string group = create_group(port, eve, {dan.id})["id"];
    const std::string elsewhere = create_direct(port, eve, fay)["id"];
    const auto text = send_text(port, dan, group, "soon gone");
    const auto kept_by_forward = upload(port, dan, group, media::text(43));
    const auto forwarded_original = send_file(port, dan, group, kept_by_forward);
    expect_json(post(port, eve.token, message_url(forwarded_original["id"]) + "/forward", {{"chat_id", elsewhere}}),
                201, "forward");
    const auto alone = upload(port, dan, group, media::text(44));
    const auto alone_message = send_file(port, dan, group, alone);
    const auto eve_text = send_text(port, eve, group, "eve stays");
    const auto version_before = get_chat(port, eve, group)["version"].get<std::int64_t>();
    auto eve_socket = ws_connect(port, eve.token);

    ASSERT_EQ(delete_account(port, dan, json{{"password", kPassword}}).status, 204);

    for (const auto& removed : {text, forwarded_original, alone_message}) {
        EXPECT_TRUE(wait_for(*eve_socket, "message.deleted", [&](const json& f) {
            return f["data"]["message_id"] == removed["id"];
        })) << removed.dump();
        const auto now = get_message(port, eve, removed["id"]);
        EXPECT_EQ(now["is_deleted"], true);
        EXPECT_EQ(now["content"], "");
    }
    const auto synced =
        expect_json(get(port, eve.token, chat_messages_url(group) + "?since_version=" + std::to_string(version_before)),
                    200, "sync");
    std::vector<std::string> synced_ids;
    for (const auto& message : synced["messages"]) synced_ids.push_back(message["id"]);
    for (const auto& removed : {text, forwarded_original, alone_message})
        EXPECT_NE(std::find(synced_ids.begin(), synced_ids.end(), removed["id"].get<std::string>()), synced_ids.end())
            << "since_version sync carries the removal";
    EXPECT_EQ(get_message(port, eve, eve_text["id"])["content"], "eve stays");
    EXPECT_TRUE(eventually([&] { return !fs::exists(stored_path(server, alone)); })) << "only dan referenced it";
    EXPECT_TRUE(fs::exists(stored_path(server, kept_by_forward))) << "the forward in another chat still uses it";
    const auto copy = all_messages(port, fay, elsewhere);
    ASSERT_FALSE(copy.empty());
    EXPECT_EQ(get(port, fay.token, copy.back()["media"]["url"]).status, 200);
}

}  // namespace
}  // namespace confab::test
