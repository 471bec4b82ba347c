// Media beyond upload and download: thumbnails made once and cached beside the original,
// the cleanup of uploads never attached to a message, and bytes shared by several uploads
// removed only when the last reference goes.

#include "support/chat_api.hpp"
#include "support/fixture.hpp"
#include "support/media_fixtures.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <thread>
#include <vector>

namespace confab::test {
namespace {

namespace fs = std::filesystem;

std::string upload_target(const std::string& chat_id, const std::string& kind) {
    return "/api/v1/messages/upload?chat_id=" + chat_id + "&kind=" + kind;
}

HttpResponse upload_raw(std::uint16_t port, const TestUser& user, const std::string& chat_id, const std::string& kind,
                        const std::string& bytes) {
    auto headers = auth_header(user.token);
    headers["Content-Type"] = "application/octet-stream";
    return http(port, "POST", upload_target(chat_id, kind), bytes, headers);
}

json upload(std::uint16_t port, const TestUser& user, const std::string& chat_id, const std::string& kind,
            const std::string& bytes) {
    return expect_json(upload_raw(port, user, chat_id, kind, bytes), 201, "upload");
}

json send_media(std::uint16_t port, const TestUser& user, const std::string& chat_id, const std::string& kind,
                const json& media) {
    return expect_json(send_message(port, user, chat_id, {{"type", kind}, {"media_id", media["id"]}}), 201,
                       "send " + kind);
}

fs::path stored_path(const ServerProcess& server, const std::string& sha256) {
    return server.media_dir() / "objects" / sha256.substr(0, 2) / sha256;
}

TEST_F(ConfabTest, ThumbnailIsASmallJpegMadeOnceAndOnlyForImages) {
    auto ana = register_user(port(), "th");
    auto ben = register_user(port(), "th");
    const std::string chat = create_direct(port(), ana, ben)["id"];
    const auto image = upload(port(), ana, chat, "image", media::png(640, 480, 7));
    const auto message =
        expect_json(send_message(port(), ana, chat, {{"type", "image"}, {"media_id", image["id"]}}), 201, "send image");
    const std::string thumb_url = message["media"]["thumbnail_url"];
    EXPECT_EQ(thumb_url, "/api/v1/messages/" + message["id"].get<std::string>() + "/media?variant=thumb");

    auto first = get(port(), ben.token, thumb_url);
    ASSERT_EQ(first.status, 200) << first.body;
    EXPECT_EQ(first.header("content-type"), "image/jpeg");
    EXPECT_EQ(first.body.substr(0, 3), std::string("\xFF\xD8\xFF"));  // a JPEG
    EXPECT_LT(first.body.size(), media::png(640, 480, 7).size());
    EXPECT_NE(first.header("etag"), "\"" + image["sha256"].get<std::string>() + "\"");
    const auto thumbnail = server().media_dir() / "objects" / image["sha256"].get<std::string>().substr(0, 2) /
                           (image["sha256"].get<std::string>() + ".thumb.jpg");
    ASSERT_TRUE(fs::exists(thumbnail)) << "cached beside the original";
    const auto made = fs::last_write_time(thumbnail);
    auto second = get(port(), ana.token, thumb_url);
    EXPECT_EQ(second.body, first.body);
    EXPECT_EQ(fs::last_write_time(thumbnail), made) << "made once";
    auto not_modified = http(port(), "GET", thumb_url, std::nullopt,
                             {{"Authorization", "Bearer " + ana.token}, {"If-None-Match", first.header("etag")}});
    EXPECT_EQ(not_modified.status, 304);

    const auto file = upload(port(), ana, chat, "file", media::text(3));
    const auto file_message =
        expect_json(send_message(port(), ana, chat, {{"type", "file"}, {"media_id", file["id"]}}), 201, "send file");
    EXPECT_FALSE(file_message["media"].contains("thumbnail_url"));
    const std::string file_url = file_message["media"]["url"];
    EXPECT_TRUE(IsError(get(port(), ana.token, file_url + "?variant=thumb"), 400, "bad_request"));
    EXPECT_TRUE(IsError(get(port(), ana.token, thumb_url.substr(0, thumb_url.find('?')) + "?variant=huge"), 400,
                        "bad_request"));
    auto stranger = register_user(port(), "th");
    EXPECT_TRUE(IsError(get(port(), stranger.token, thumb_url), 404, "not_found"));
}

fs::path variant_path(const ServerProcess& server, const std::string& sha256, const std::string& variant) {
    auto path = stored_path(server, sha256);
    path += "." + variant;
    return path;
}

// Whether process `pid` holds `path` open (its descriptors, as /proc shows them).
bool holds_open(pid_t pid, const fs::path& path) {
    const auto target = fs::weakly_canonical(path);  // as /proc names it
    std::error_code error;
    for (fs::directory_iterator fd("/proc/" + std::to_string(pid) + "/fd", error), end; !error && fd != end;
         fd.increment(error)) {
        std::error_code unreadable;
        if (fs::read_symlink(fd->path(), unreadable) == target) return true;
    }
    return false;
}

// A stored original swapped for a FIFO that the test writes into: the server's thumbnail job
// opens it and then waits, mid-read, until the test has let the removal of the media run and
// writes the bytes. Only one open() of the path ever gets them; a later one finds it removed.
class StalledOriginal {
public:
    explicit StalledOriginal(fs::path path) : path_(std::move(path)) {
        fs::remove(path_);
        if (::mkfifo(path_.c_str(), 0600) != 0) throw std::runtime_error("mkfifo failed");
        writer_ = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);  // never blocks, and keeps a reader's read() waiting
        if (writer_ < 0) throw std::runtime_error("cannot open the FIFO");
    }
    ~StalledOriginal() { release(""); }
    StalledOriginal(const StalledOriginal&) = delete;
    StalledOriginal& operator=(const StalledOriginal&) = delete;

    // Gives the reader `bytes`, then the end of the file.
    void release(const std::string& bytes) {
        if (writer_ < 0) return;
        for (std::string_view rest = bytes; !rest.empty();) {
            const auto written = ::write(writer_, rest.data(), rest.size());
            if (written <= 0) break;
            rest.remove_prefix(static_cast<std::size_t>(written));
        }
        ::close(writer_);
        writer_ = -1;
    }

private:
    fs::path path_;
    int writer_ = -1;
};

// Message `id`'s thumbnail (or poster) asked for while its original `bytes` are a StalledOriginal:
// once the job holds the original open, the message is deleted, and then the job reads `bytes`
// (`what` the job makes, for the failure messages). The removal wins the race, so the
// thumbnail request finds the media gone.
void delete_while_the_thumbnail_job_reads(std::uint16_t port, const ServerProcess& server, const TestUser& owner,
                                          const std::string& id, const std::string& bytes, const std::string& what) {
    const auto original_path = stored_path(server, media::sha256_hex(bytes));
    std::future<HttpResponse> thumbnail;  // waited for after the FIFO is released, whatever fails
    StalledOriginal original(original_path);
    thumbnail = std::async(std::launch::async, [port, &owner, &id] {
        return http(port, "GET", "/api/v1/messages/" + id + "/media?variant=thumb", std::nullopt,
                    auth_header(owner.token), 30s);
    });
    ASSERT_TRUE(eventually([&] { return holds_open(server.pid(), original_path); }))
        << "the " << what << " job never opened the original";
    ASSERT_EQ(del(port, owner.token, "/api/v1/messages/" + id).status, 204);
    original.release(bytes);  // read from the descriptor the job holds; a later open finds the file removed

    EXPECT_TRUE(IsError(thumbnail.get(), 404, "not_found")) << "the media is gone";
}

// Removing media whose thumbnail is being made: the removal deletes the original and the files
// made of it, and then the thumbnail job, reading the original it opened before, renamed its
// poster in beside bytes that were gone, where nothing would ever remove it.
TEST_F(ConfabTest, APosterFinishedAfterItsVideoWasRemovedIsNotLeftBehind) {
    auto ana = register_user(port(), "tr");
    const std::string chat = create_group(port(), ana)["id"];
    const auto bytes = media::fixture("clip.webm") + "confab-lifecycle-poster-race";  // trailer FFmpeg ignores
    const auto message = send_media(port(), ana, chat, "video", upload(port(), ana, chat, "video", bytes));
    const std::string id = message["id"];
    const auto sha256 = media::sha256_hex(bytes);
    ASSERT_NO_FATAL_FAILURE(delete_while_the_thumbnail_job_reads(port(), server(), ana, id, bytes, "poster"));

    EXPECT_FALSE(fs::exists(variant_path(server(), sha256, "thumb.jpg"))) << "the poster outlived its video";
    EXPECT_FALSE(fs::exists(variant_path(server(), sha256, "no-thumb")));
}

// The same race the other way: the original is removed before the thumbnail job reads it, and
// the job's failure wrote the permanent no-thumb marker for bytes that are fine, so the same
// image uploaded again by anyone got 415 "this media has no thumbnail" for good.
TEST_F(ConfabTest, AThumbnailThatFailedBecauseItsImageWasRemovedMarksNoBytesAsBroken) {
    auto ana = register_user(port(), "tm");
    auto ben = register_user(port(), "tm");
    const std::string chat = create_group(port(), ana, {ben.id})["id"];
    const auto bytes = media::png(64, 48, 51);
    const auto message = send_media(port(), ana, chat, "image", upload(port(), ana, chat, "image", bytes));
    const std::string id = message["id"];
    const auto sha256 = media::sha256_hex(bytes);
    ASSERT_NO_FATAL_FAILURE(delete_while_the_thumbnail_job_reads(port(), server(), ana, id, bytes, "thumbnail"));
    EXPECT_FALSE(fs::exists(variant_path(server(), sha256, "no-thumb"))) << "the bytes were marked as broken";
    EXPECT_FALSE(fs::exists(variant_path(server(), sha256, "thumb.jpg")));

    const auto again = send_media(port(), ben, chat, "image", upload(port(), ben, chat, "image", bytes));
    const auto thumbnail = get(port(), ben.token, again["media"]["thumbnail_url"].get<std::string>());
    EXPECT_EQ(thumbnail.status, 200) << thumbnail.describe();
    EXPECT_EQ(thumbnail.header("content-type"), "image/jpeg");
}

// Files made of an earlier copy of some bytes and left beside them when it went (by the race
// above, on a server without its fix) do not outlive the bytes' return: a stale no-thumb
// marker refused the thumbnail of every later upload of them.
TEST_F(ConfabTest, BytesStoredAnewGetTheirThumbnailWhateverAnEarlierCopyLeftBehind) {
    auto ana = register_user(port(), "ts");
    const std::string chat = create_group(port(), ana)["id"];
    const auto bytes = media::png(64, 48, 52);
    const auto sha256 = media::sha256_hex(bytes);
    fs::create_directories(stored_path(server(), sha256).parent_path());
    std::ofstream(variant_path(server(), sha256, "no-thumb")).put('\n');
    std::ofstream(variant_path(server(), sha256, "thumb.jpg")) << "not the thumbnail of these bytes";

    const auto message = send_media(port(), ana, chat, "image", upload(port(), ana, chat, "image", bytes));
    const auto thumbnail = get(port(), ana.token, message["media"]["thumbnail_url"].get<std::string>());
    ASSERT_EQ(thumbnail.status, 200) << thumbnail.describe();
    EXPECT_EQ(thumbnail.body.substr(0, 3), std::string("\xFF\xD8\xFF")) << "a JPEG made of these bytes";
}

TEST(MediaCleanupTest, UnattachedUploadsOlderThanADayAreRemovedSharedBytesStayUntilTheLastUse) {
    CONFAB_REQUIRE_DATABASE();
    auto& db = shared_database();
    ServerProcess server(db.url(), std::map<std::string, std::string>{{"CONFAB_MEDIA_CLEANUP_INTERVAL_SECONDS", "1"}});
    const auto port = server.port();
    auto ana = register_user(port, "cl");
    auto ben = register_user(port, "cl");
    const std::string chat = create_group(port, ana, {ben.id})["id"];

    const auto bytes = media::png(32, 32, 11);
    const auto stale = upload(port, ana, chat, "image", bytes);          // never attached, backdated
    const auto shared = upload(port, ben, chat, "image", bytes);         // same bytes, attached below
    const auto fresh = upload(port, ana, chat, "file", media::text(5));  // never attached, recent
    const auto attached =
        expect_json(send_message(port, ben, chat, {{"type", "image"}, {"media_id", shared["id"]}}), 201, "send image");
    for (const auto& id : {stale["id"].get<std::string>(), shared["id"].get<std::string>()})
        db.query_value("UPDATE media SET created_at = now() - interval '25 hours' WHERE id = '" + id + "'");

    auto media_rows = [&](const json& media) {
        return db.query_value("SELECT count(*) FROM media WHERE id = '" + media["id"].get<std::string>() + "'");
    };
    ASSERT_TRUE(eventually([&] { return media_rows(stale) == "0"; })) << "the stale upload was not removed";
    EXPECT_EQ(media_rows(shared), "1") << "attached media is kept however old";
    EXPECT_EQ(media_rows(fresh), "1") << "a recent upload is kept";
    const auto path = stored_path(server, media::sha256_hex(bytes));
    EXPECT_TRUE(fs::exists(path)) << "ben's message still uses the same bytes";

    // Deleting the last message that uses the bytes removes them.
    ASSERT_EQ(del(port, ben.token, "/api/v1/messages/" + attached["id"].get<std::string>()).status, 204);
    EXPECT_FALSE(fs::exists(path));
    EXPECT_EQ(media_rows(shared), "0");
}

TEST_F(ConfabTest, DeletingAGroupRemovesItsMediaBytesThatNoOtherChatUses) {
    auto ana = register_user(port(), "dg");
    auto ben = register_user(port(), "dg");
    const std::string doomed = create_group(port(), ana, {ben.id})["id"];
    const std::string other = create_group(port(), ana, {ben.id})["id"];
    const auto shared_bytes = media::png(24, 24, 41), own_bytes = media::png(24, 24, 42);
    send_media(port(), ana, doomed, "image", upload(port(), ana, doomed, "image", shared_bytes));
    send_media(port(), ben, doomed, "image", upload(port(), ben, doomed, "image", own_bytes));
    upload(port(), ana, doomed, "file", media::text(43));  // never sent
    send_media(port(), ben, other, "image", upload(port(), ben, other, "image", shared_bytes));
    const auto shared_path = stored_path(server(), media::sha256_hex(shared_bytes));
    const auto own_path = stored_path(server(), media::sha256_hex(own_bytes));
    const auto unsent_path = stored_path(server(), media::sha256_hex(media::text(43)));
    ASSERT_TRUE(fs::exists(own_path) && fs::exists(unsent_path) && fs::exists(shared_path));

    ASSERT_EQ(del(port(), ana.token, "/api/v1/chats/" + doomed).status, 204);
    EXPECT_FALSE(fs::exists(own_path)) << "bytes only the deleted group used are removed";
    EXPECT_FALSE(fs::exists(unsent_path)) << "so are its uploads never sent";
    EXPECT_TRUE(fs::exists(shared_path)) << "the other group still uses these bytes";
}

TEST_F(ConfabTest, AGroupEndingWhenItsLastMemberLeavesRemovesItsMediaBytes) {
    auto ana = register_user(port(), "dl");
    const std::string chat = create_group(port(), ana)["id"];
    const auto bytes = media::png(24, 24, 44);
    send_media(port(), ana, chat, "image", upload(port(), ana, chat, "image", bytes));
    const auto path = stored_path(server(), media::sha256_hex(bytes));
    ASSERT_TRUE(fs::exists(path));
    ASSERT_EQ(del(port(), ana.token, "/api/v1/chats/" + chat + "/members/" + ana.id).status, 204);
    EXPECT_FALSE(fs::exists(path));
}

TEST(MediaQuotaTest, AnUploadOverTheUsersQuotaIs413WithTheQuotaInDetails) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(shared_database().url(),
                         std::map<std::string, std::string>{{"CONFAB_LIMIT_MEDIA_QUOTA_BYTES", "10000"}});
    const auto port = server.port();
    auto ana = register_user(port, "qu");
    auto ben = register_user(port, "qu");
    const std::string chat = create_group(port, ana, {ben.id})["id"];
    const auto first = upload(port, ana, chat, "file", media::text_of_size(6000));
    const auto sent = send_media(port, ana, chat, "file", first);

    const auto refused = upload_raw(port, ana, chat, "file", media::text_of_size(5000));
    ASSERT_TRUE(IsError(refused, 413, "payload_too_large")) << refused.describe();
    const auto details = refused.json()["error"]["details"];
    EXPECT_EQ(details["quota_bytes"], 10000);
    EXPECT_EQ(details["used_bytes"], 6000) << "sent media counts";
    EXPECT_EQ(details["upload_bytes"], 5000);
    EXPECT_EQ(upload_raw(port, ana, chat, "file", media::text_of_size(4000)).status, 201) << "what fits is stored";
    EXPECT_EQ(upload_raw(port, ana, chat, "file", media::text_of_size(4000)).status, 200)
        << "a retry of a stored upload takes no more room";
    EXPECT_TRUE(IsError(upload_raw(port, ana, chat, "file", media::text(45)), 413, "payload_too_large"))
        << "unsent uploads count too";
    EXPECT_EQ(upload_raw(port, ben, chat, "file", media::text_of_size(5000)).status, 201) << "the quota is per user";

    ASSERT_EQ(del(port, ana.token, "/api/v1/messages/" + sent["id"].get<std::string>()).status, 204);
    EXPECT_EQ(upload_raw(port, ana, chat, "file", media::text_of_size(5000)).status, 201)
        << "removed media no longer counts";
}

// The thumbnail of an image too large to decode safely is refused (the upload and its
// download stay); a smaller image still gets one.
TEST(MediaThumbnailLimitTest, ImagesOverThePixelLimitGetNoThumbnail) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(shared_database().url(),
                         std::map<std::string, std::string>{{"CONFAB_MEDIA_THUMBNAIL_MAX_PIXELS", "100000"}});
    const auto port = server.port();
    auto ana = register_user(port, "px");
    const std::string chat = create_group(port, ana)["id"];
    const auto large = send_media(port, ana, chat, "image", upload(port, ana, chat, "image", media::png(400, 300, 46)));
    const auto small = send_media(port, ana, chat, "image", upload(port, ana, chat, "image", media::png(300, 300, 47)));
    EXPECT_TRUE(IsError(get(port, ana.token, large["media"]["thumbnail_url"].get<std::string>()), 415,
                        "unsupported_media_type"));
    EXPECT_EQ(get(port, ana.token, large["media"]["url"].get<std::string>()).status, 200);
    EXPECT_EQ(get(port, ana.token, small["media"]["thumbnail_url"].get<std::string>()).status, 200);
}

// A PNG cut short after its header (80 bytes declaring 1 x 50,000 pixels): libvips padded the
// missing rows, answered 200 with a made-up thumbnail, and printed a warning per row it could not
// read (a 1 x 40,000,000 header would have written gigabytes of log). api.md: an image libvips
// cannot decode is 415.
TEST(MediaThumbnailLimitTest, ATruncatedImageGetsNoThumbnailAndFloodsNoLog) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(shared_database().url());
    const auto port = server.port();
    auto ana = register_user(port, "cut");
    const std::string chat = create_group(port, ana)["id"];
    const auto truncated =
        send_media(port, ana, chat, "image", upload(port, ana, chat, "image", media::png(1, 50000, 50).substr(0, 80)));
    for (int ask = 0; ask < 3; ++ask)
        EXPECT_TRUE(IsError(get(port, ana.token, truncated["media"]["thumbnail_url"].get<std::string>()), 415,
                            "unsupported_media_type"));
    std::ifstream log(server.log_path());
    int vips_lines = 0, failures = 0;
    for (std::string line; std::getline(log, line);) {
        if (line.find("VIPS") != std::string::npos) ++vips_lines;
        if (line.find("thumbnail of media") != std::string::npos) ++failures;
    }
    EXPECT_LE(vips_lines, 2) << "libvips warned per row";
    EXPECT_EQ(failures, 1) << "bytes that failed once are decoded again on every request";
}

// A new image in a big group: every member's client asks for its thumbnail at once. It is made
// once, and the askers wait for it rather than each queueing a job of their own (which made it
// once per thread and, past the workers' queue limit, refused the rest with 503).
TEST(MediaThumbnailHerdTest, MembersAskingForANewThumbnailAtOnceGetTheOneMadeForAll) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(shared_database().url(),
                         std::map<std::string, std::string>{{"CONFAB_MEDIA_WORKER_THREADS", "4"},
                                                            {"CONFAB_OVERLOAD_WORKER_QUEUE_LIMIT", "2"}});
    const auto port = server.port();
    auto ana = register_user(port, "herd");
    const std::string chat = create_group(port, ana)["id"];
    const auto image =
        send_media(port, ana, chat, "image", upload(port, ana, chat, "image", media::png(2400, 1800, 48)));
    const auto made_before = metric(port, "confab_media_thumbnails_made_total");
    std::vector<HttpResponse> answers(16);
    std::vector<std::thread> askers;
    for (auto& answer : answers)
        askers.emplace_back([&] { answer = get(port, ana.token, image["media"]["thumbnail_url"].get<std::string>()); });
    for (auto& asker : askers) asker.join();
    for (const auto& answer : answers) {
        ASSERT_EQ(answer.status, 200) << answer.describe();
        EXPECT_EQ(answer.body, answers.front().body);
    }
    EXPECT_EQ(metric(port, "confab_media_thumbnails_made_total") - made_before, 1);
}

TEST(MediaTemporaryFilesTest, AreRemovedAtStartAndOnceAbandonedForTheirMaximumAge) {
    CONFAB_REQUIRE_DATABASE();
    const auto dir = fs::temp_directory_path() / ("confab-tmp-sweep-" + random_alnum(12));
    fs::create_directories(dir / "tmp");
    const auto write = [](const fs::path& path) { std::ofstream(path) << "partial upload"; };
    write(dir / "tmp" / "left-by-a-crash");
    {
        ServerProcess server(shared_database().url(),
                             std::map<std::string, std::string>{{"CONFAB_MEDIA_DIR", dir.string()},
                                                                {"CONFAB_MEDIA_CLEANUP_INTERVAL_SECONDS", "1"},
                                                                {"CONFAB_MEDIA_TMP_MAX_AGE_SECONDS", "60"}});
        EXPECT_FALSE(fs::exists(dir / "tmp" / "left-by-a-crash")) << "removed before the server serves";
        write(dir / "tmp" / "abandoned");
        fs::last_write_time(dir / "tmp" / "abandoned", fs::file_time_type::clock::now() - std::chrono::hours(2));
        write(dir / "tmp" / "being-written");
        EXPECT_TRUE(eventually([&] { return !fs::exists(dir / "tmp" / "abandoned"); }))
            << "a file untouched for longer than the maximum age is removed";
        EXPECT_TRUE(fs::exists(dir / "tmp" / "being-written")) << "a recent file is kept by the same sweep";
        EXPECT_EQ(server.terminate(), 0);
    }
    fs::remove_all(dir);
}

// A crash between a deletion's commit and the release of its bytes (or between an upload's
// store and its commit) leaves a stored file no media row uses: the cleanup removes it, at
// start and at each pass, once it was stored at least 10 s ago; the bytes of media in use stay.
TEST(MediaUnusedBytesTest, StoredFilesNoMediaUsesAreRemovedOnceOldEnough) {
    CONFAB_REQUIRE_DATABASE();
    const auto dir = fs::temp_directory_path() / ("confab-unused-bytes-" + random_alnum(12));
    const auto plant = [&dir](const std::string& content, fs::file_time_type stored_at) {
        const auto key = media::sha256_hex(content);
        const auto path = dir / "objects" / key.substr(0, 2) / key;
        fs::create_directories(path.parent_path());
        std::ofstream(path) << content;
        fs::last_write_time(path, stored_at);
        return path;
    };
    const auto now = fs::file_time_type::clock::now();
    const auto before_the_start = plant("left by a crash before this start", now - std::chrono::hours(1));
    {
        ServerProcess server(shared_database().url(),
                             std::map<std::string, std::string>{{"CONFAB_MEDIA_DIR", dir.string()},
                                                                {"CONFAB_MEDIA_CLEANUP_INTERVAL_SECONDS", "1"}});
        const auto port = server.port();
        auto ana = register_user(port, "ub");
        const std::string chat = create_group(port, ana, {})["id"];
        const auto bytes = media::png(24, 24, 5);
        send_media(port, ana, chat, "image", upload(port, ana, chat, "image", bytes));
        const auto key = media::sha256_hex(bytes);
        const auto in_use = dir / "objects" / key.substr(0, 2) / key;
        fs::last_write_time(in_use, now - std::chrono::hours(1));

        EXPECT_TRUE(eventually([&] { return !fs::exists(before_the_start); })) << "removed by the first pass";
        const auto orphan = plant("left by a crash while serving", now - std::chrono::hours(2));
        auto orphan_thumbnail = orphan;
        orphan_thumbnail += ".thumb.jpg";
        std::ofstream(orphan_thumbnail) << "a thumbnail of it";
        // Never old enough for this test's passes, as bytes stored a moment ago.
        const auto young = plant("stored a moment ago", now + std::chrono::hours(1));
        EXPECT_TRUE(eventually([&] { return !fs::exists(orphan) && !fs::exists(orphan_thumbnail); }))
            << "removed with its variants by a later pass";
        EXPECT_TRUE(fs::exists(young)) << "kept until it was stored 10 s ago";
        EXPECT_TRUE(fs::exists(in_use)) << "a media row uses it";
        EXPECT_EQ(server.terminate(), 0);
    }
    fs::remove_all(dir);
}

}  // namespace
}  // namespace confab::test
