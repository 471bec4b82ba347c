// Live photos (docs/api.md "Live photos", issue #19): a still and a short video uploaded in one
// multipart request as one media item, sent as one image message, served by the download
// route (?part=video) and listed once by the gallery; both files go when the media goes.

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "support/chat_api.hpp"
#include "support/media_fixtures.hpp"

namespace confab::test {
namespace {

namespace fs = std::filesystem;
using LivePhotosTest = ChatTest;
using media::fixture;

const std::string boundary = "liveBoundary7";

// A video of its own bytes: the fixture with a trailer FFmpeg and libmagic ignore, so that a
// test's files are not shared with another test's (deletion would keep shared bytes).
std::string unique_video(const std::string& name, const std::string& tag) {
    return fixture(name) + "confab-live-photo-test-" + tag;
}

HttpResponse upload_parts(std::uint16_t port, const TestUser& u, const std::string& query,
                          const std::vector<std::pair<std::string, std::string>>& parts) {
    return http(port, "POST", "/api/v1/messages/upload?" + query, media::multipart_body(boundary, parts),
                {{"Authorization", "Bearer " + u.token}, {"Content-Type", "multipart/form-data; boundary=" + boundary}},
                30s);
}

HttpResponse upload_live(std::uint16_t port, const TestUser& u, const std::string& chat_id, const std::string& still,
                         const std::string& video, const std::string& kind = "image") {
    return upload_parts(port, u, "chat_id=" + chat_id + "&kind=" + kind,
                        {{"name=\"file\"; filename=\"IMG_0001.png\"", still},
                         {"name=\"live_video\"; filename=\"IMG_0001.mov\"", video}});
}

json send_image(std::uint16_t port, const TestUser& u, const std::string& chat_id, const json& media) {
    return expect_json(send_message(port, u, chat_id, {{"type", "image"}, {"media_id", media.at("id")}}), 201,
                       "send image");
}

HttpResponse get(std::uint16_t port, const TestUser& u, const std::string& target,
                 std::map<std::string, std::string> headers = {}) {
    headers["Authorization"] = "Bearer " + u.token;
    return http(port, "GET", target, std::nullopt, headers, 30s);
}

std::string media_url(const std::string& message_id) { return "/api/v1/messages/" + message_id + "/media"; }

std::string field_of(const HttpResponse& r) {
    const auto body = json::parse(r.body, nullptr, false);
    if (body.is_discarded() || !body.contains("error")) return "";
    return body["error"].value("details", json::object()).value("field", "");
}

fs::path stored_path(const ServerProcess& server, const std::string& sha256) {
    return server.media_dir() / "objects" / sha256.substr(0, 2) / sha256;
}

TEST_F(LivePhotosTest, BothPartsUploadInOneRequestAndGoOutAsOneImageMessage) {
    auto [a, b, chat] = direct_pair(port(), "lp");
    auto b_ws = ws_connect(port(), b.token);
    const auto still = media::png(8, 6, 11);
    const auto video = fixture("clip.mp4");

    const auto uploaded = upload_live(port(), a, chat, still, video);
    ASSERT_TRUE(IsJson(uploaded, 201)) << uploaded.body;
    const auto media = uploaded.json();
    EXPECT_EQ(media["kind"], "image") << "old clients show the still";
    EXPECT_EQ(media["mime_type"], "image/png");
    EXPECT_EQ(media["size_bytes"], still.size());
    EXPECT_EQ(media["sha256"], media::sha256_hex(still));
    EXPECT_EQ(media["file_name"], "IMG_0001.png");
    const auto& live = media["live_video"];
    EXPECT_EQ(live["mime_type"], "video/mp4");
    EXPECT_EQ(live["size_bytes"], video.size());
    EXPECT_EQ(live["sha256"], media::sha256_hex(video));
    EXPECT_EQ(live["duration_ms"], 1000);
    EXPECT_EQ(live["width"], 64);
    EXPECT_EQ(live["height"], 48);
    EXPECT_FALSE(live.contains("url")) << "no url before it is sent";

    const auto message = send_image(port(), a, chat, media);
    const std::string id = message["id"];
    EXPECT_EQ(message["type"], "image");
    EXPECT_EQ(message["media"]["id"], media["id"]);
    EXPECT_EQ(message["media"]["url"], media_url(id));
    EXPECT_EQ(message["media"]["live_video"]["url"], media_url(id) + "?part=video");
    EXPECT_EQ(message["media"]["live_video"]["duration_ms"], 1000);

    const auto heard = wait_for(*b_ws, "message.new", about_message(id));
    ASSERT_TRUE(heard) << "the other member hears the message";
    EXPECT_EQ((*heard)["data"]["message"]["media"]["live_video"], message["media"]["live_video"]);
    EXPECT_EQ(all_messages(port(), b, chat).size(), 1U) << "one message, not two";

    // A plain image says nothing of a live video.
    const auto plain =
        send_image(port(), a, chat,
                   expect_json(upload_parts(port(), a, "chat_id=" + chat + "&kind=image",
                                            {{"name=\"file\"; filename=\"plain.png\"", media::png(8, 6, 12)}}),
                               201, "plain upload"));
    EXPECT_FALSE(plain["media"].contains("live_video"));
}

TEST_F(LivePhotosTest, BothPartsDownloadToMembersWithTheirOwnTypesAndRanges) {
    auto [a, b, chat] = direct_pair(port(), "ld");
    const auto still = media::png(8, 6, 21);
    const auto video = unique_video("clip.webm", "download");
    const auto message =
        send_image(port(), a, chat, expect_json(upload_live(port(), a, chat, still, video), 201, "up"));
    const std::string id = message["id"];

    const auto image = get(port(), b, media_url(id));
    ASSERT_EQ(image.status, 200) << image.body;
    EXPECT_EQ(image.header("content-type"), "image/png");
    EXPECT_EQ(image.body, still);

    const auto motion = get(port(), b, media_url(id) + "?part=video");
    ASSERT_EQ(motion.status, 200) << motion.body;
    EXPECT_EQ(motion.header("content-type"), "video/webm");
    EXPECT_EQ(motion.body, video);
    EXPECT_EQ(motion.header("etag"), "\"" + media::sha256_hex(video) + "\"");
    EXPECT_EQ(motion.header("accept-ranges"), "bytes");
    EXPECT_EQ(motion.header("cache-control"), "private");
    EXPECT_EQ(motion.header("content-disposition").rfind("inline", 0), 0U) << motion.header("content-disposition");

    const auto slice = get(port(), b, media_url(id) + "?part=video", {{"Range", "bytes=10-19"}});
    ASSERT_EQ(slice.status, 206) << slice.body;
    EXPECT_EQ(slice.header("content-range"), "bytes 10-19/" + std::to_string(video.size()));
    EXPECT_EQ(slice.body, video.substr(10, 10));
    EXPECT_EQ(get(port(), b, media_url(id) + "?part=video", {{"If-None-Match", motion.header("etag")}}).status, 304);

    const auto thumbnail = get(port(), b, media_url(id) + "?variant=thumb");
    ASSERT_EQ(thumbnail.status, 200) << "the still keeps its thumbnail";
    EXPECT_EQ(thumbnail.header("content-type"), "image/jpeg");

    auto outsider = register_user(port(), "ld");
    EXPECT_TRUE(IsError(get(port(), outsider, media_url(id) + "?part=video"), 404, "not_found"));
}

// The video part has no name of its own, so it is named by its sha256, like an upload sent
// without a name; it was named by the still's sha256, which its ETag contradicted.
TEST_F(LivePhotosTest, TheVideoPartIsNamedByItsOwnSha256) {
    auto [a, b, chat] = direct_pair(port(), "ln");
    const auto still = media::png(8, 6, 22);
    const auto video = unique_video("clip.mp4", "named");
    const std::string still_sha = media::sha256_hex(still), video_sha = media::sha256_hex(video);
    const auto unnamed =
        send_image(port(), a, chat,
                   expect_json(upload_parts(port(), a, "chat_id=" + chat + "&kind=image",
                                            {{"name=\"file\"", still}, {"name=\"live_video\"", video}}),
                               201, "up without names"));
    const std::string id = unnamed["id"];
    EXPECT_EQ(get(port(), b, media_url(id)).header("content-disposition"), "inline; filename=\"" + still_sha + "\"");
    const auto motion = get(port(), b, media_url(id) + "?part=video");
    ASSERT_EQ(motion.status, 200) << motion.body;
    EXPECT_EQ(motion.header("etag"), "\"" + video_sha + "\"");
    EXPECT_EQ(motion.header("content-disposition"), "inline; filename=\"" + video_sha + "\"");

    // The still's name is not the video's either.
    const auto named =
        send_image(port(), a, chat, expect_json(upload_live(port(), a, chat, media::png(8, 6, 23), video), 201, "up"));
    EXPECT_EQ(get(port(), b, media_url(named["id"]) + "?part=video").header("content-disposition"),
              "inline; filename=\"" + video_sha + "\"");
}

TEST_F(LivePhotosTest, ThePartParameterIsVideoOnlyAndOnlyALivePhotoHasOne) {
    auto [a, b, chat] = direct_pair(port(), "lq");
    const auto live =
        send_image(port(), a, chat,
                   expect_json(upload_live(port(), a, chat, media::png(4, 4, 31), fixture("clip.mp4")), 201, "up"));
    const std::string id = live["id"];
    const auto bogus = get(port(), b, media_url(id) + "?part=bogus");
    EXPECT_TRUE(IsError(bogus, 400, "bad_request"));
    EXPECT_EQ(field_of(bogus), "part");
    EXPECT_TRUE(IsError(get(port(), b, media_url(id) + "?part="), 400, "bad_request"));
    EXPECT_TRUE(IsError(get(port(), b, media_url(id) + "?part=video&variant=thumb"), 400, "bad_request"));

    const auto plain =
        send_image(port(), a, chat,
                   expect_json(upload_parts(port(), a, "chat_id=" + chat + "&kind=image",
                                            {{"name=\"file\"; filename=\"p.png\"", media::png(4, 4, 32)}}),
                               201, "plain"));
    EXPECT_TRUE(IsError(get(port(), b, media_url(plain["id"]) + "?part=video"), 404, "not_found"));
    EXPECT_EQ(get(port(), b, media_url(plain["id"])).status, 200);
}

TEST_F(LivePhotosTest, TheGalleryListsALivePhotoOnceAsAnImage) {
    auto [a, b, chat] = direct_pair(port(), "lg");
    const auto message =
        send_image(port(), a, chat,
                   expect_json(upload_live(port(), a, chat, media::png(4, 4, 41), fixture("clip.mp4")), 201, "up"));
    const auto gallery_url = "/api/v1/chats/" + chat + "/media";

    const auto all = expect_json(get(port(), b, gallery_url), 200, "gallery");
    ASSERT_EQ(all["messages"].size(), 1U);
    EXPECT_EQ(all["messages"][0]["id"], message["id"]);
    EXPECT_EQ(all["messages"][0]["media"]["live_video"], message["media"]["live_video"]);
    EXPECT_EQ(expect_json(get(port(), b, gallery_url + "?kind=image"), 200, "images")["messages"].size(), 1U);
    EXPECT_TRUE(expect_json(get(port(), b, gallery_url + "?kind=video"), 200, "videos")["messages"].empty())
        << "the motion part is not a video of its own";
}

TEST_F(LivePhotosTest, ARetryIsTheSameStillWithTheSameVideo) {
    auto [a, b, chat] = direct_pair(port(), "lr");
    const auto still = media::png(4, 4, 51);
    const auto first = expect_json(upload_live(port(), a, chat, still, fixture("clip.mp4")), 201, "first");
    const auto again = upload_live(port(), a, chat, still, fixture("clip.mp4"));
    ASSERT_TRUE(IsJson(again, 200));
    EXPECT_EQ(again.json()["id"], first["id"]);

    const auto other_video = upload_live(port(), a, chat, still, fixture("clip.webm"));
    ASSERT_TRUE(IsJson(other_video, 201)) << "another motion part is another upload";
    EXPECT_NE(other_video.json()["id"], first["id"]);
    EXPECT_EQ(other_video.json()["live_video"]["mime_type"], "video/webm");

    const auto plain = upload_parts(port(), a, "chat_id=" + chat + "&kind=image", {{"name=\"file\"", still}});
    ASSERT_TRUE(IsJson(plain, 201)) << "the still alone is another upload";
    EXPECT_FALSE(plain.json().contains("live_video"));
}

TEST_F(LivePhotosTest, AMotionPartThatIsNoShortReadableVideoIsRefusedAndNothingIsStored) {
    auto [a, b, chat] = direct_pair(port(), "lu");
    struct Case {
        std::string video;
        int status;
        std::string code;
        std::string reason;
        std::string what;
    };
    const std::vector<Case> cases = {
        {media::text(61), 415, "unsupported_media_type", "not_video", "text"},
        {media::png(4, 4, 62), 415, "unsupported_media_type", "not_video", "an image"},
        {media::ogg_opus(63), 415, "unsupported_media_type", "not_video", "audio"},
        {fixture("long.webm"), 413, "payload_too_large", "too_long", "a video of 6 s"},
        {fixture("truncated.webm"), 415, "unsupported_media_type", "unreadable", "a video cut before its first frame"},
        {media::mp4(64), 415, "unsupported_media_type", "unreadable", "an MP4 without a track"},
        {fixture("huge.webm"), 415, "unsupported_media_type", "too_large", "a header promising 65535 x 255 pixels"},
    };
    for (std::size_t i = 0; i < cases.size(); ++i) {
        const auto& c = cases[i];
        SCOPED_TRACE(c.what);
        const auto still = media::png(5, 5, static_cast<std::uint8_t>(70 + i));
        const auto r = upload_live(port(), a, chat, still, c.video);
        EXPECT_TRUE(HasReason(r, c.status, c.code, c.reason)) << r.body;
        EXPECT_EQ(field_of(r), "live_video");
        EXPECT_FALSE(fs::exists(stored_path(server(), media::sha256_hex(still)))) << "the still is not kept either";
    }
    const auto too_long = json::parse(upload_live(port(), a, chat, media::png(5, 5, 90), fixture("long.webm")).body);
    EXPECT_EQ(too_long["error"]["details"]["max_duration_ms"], 5000);
    EXPECT_EQ(too_long["error"]["details"]["duration_ms"], 6000);

    const auto empty = upload_live(port(), a, chat, media::png(5, 5, 91), "");
    EXPECT_TRUE(IsError(empty, 400, "bad_request"));
    EXPECT_EQ(field_of(empty), "live_video");
    const auto on_video = upload_live(port(), a, chat, fixture("clip.mp4"), fixture("clip.webm"), "video");
    EXPECT_TRUE(IsError(on_video, 400, "bad_request")) << "only an image has a motion part";
    EXPECT_EQ(field_of(on_video), "live_video");
    const auto avatar =
        upload_parts(port(), a, "kind=image&purpose=avatar",
                     {{"name=\"file\"", media::png(5, 5, 92)}, {"name=\"live_video\"", fixture("clip.mp4")}});
    EXPECT_TRUE(IsError(avatar, 400, "bad_request")) << "an avatar has no motion part";

    EXPECT_TRUE(IsJson(upload_live(port(), a, chat, media::png(5, 5, 93), fixture("clip.mp4")), 201))
        << "and the server still takes live photos";
}

// The motion part is read as a video upload is: cut short after its first frame (clip.mp4's
// first frame is bytes 992-2345, its second 2346-2526) it is taken, cut inside it refused.
TEST_F(LivePhotosTest, AMotionPartCutShortAfterItsFirstFrameIsTaken) {
    auto [a, b, chat] = direct_pair(port(), "lc");
    const auto clip = fixture("clip.mp4");
    const auto taken = upload_live(port(), a, chat, media::png(5, 5, 94), clip.substr(0, 2347));
    ASSERT_TRUE(IsJson(taken, 201)) << taken.body;
    EXPECT_EQ(taken.json()["live_video"]["width"], 64);
    EXPECT_EQ(taken.json()["live_video"]["height"], 48);
    const auto refused = upload_live(port(), a, chat, media::png(5, 5, 95), clip.substr(0, 2345));
    EXPECT_TRUE(HasReason(refused, 415, "unsupported_media_type", "unreadable")) << refused.body;
    EXPECT_EQ(field_of(refused), "live_video");
}

TEST_F(LivePhotosTest, DeletingTheMessageOrItsMediaRemovesBothFiles) {
    auto [a, b, chat] = direct_pair(port(), "lx");
    for (const std::string how : {"message", "media"}) {
        SCOPED_TRACE(how);
        const auto still = media::png(6, 6, how == "message" ? 101 : 102);
        const auto video = unique_video("clip.mp4", "delete-" + how);
        const auto message =
            send_image(port(), a, chat, expect_json(upload_live(port(), a, chat, still, video), 201, "up"));
        const std::string id = message["id"];
        const auto still_path = stored_path(server(), media::sha256_hex(still));
        const auto video_path = stored_path(server(), media::sha256_hex(video));
        ASSERT_TRUE(fs::exists(still_path) && fs::exists(video_path));

        const auto target = how == "message" ? message_url(id) : media_url(id);
        EXPECT_EQ(http(port(), "DELETE", target, std::nullopt, {{"Authorization", "Bearer " + a.token}}).status, 204);
        EXPECT_FALSE(fs::exists(still_path));
        EXPECT_FALSE(fs::exists(video_path));
        EXPECT_TRUE(IsError(get(port(), b, media_url(id) + "?part=video"), 404, "not_found"));
    }
}

TEST_F(LivePhotosTest, AForwardCarriesBothPartsAndKeepsThemWhenTheOriginalGoes) {
    auto [a, b, chat] = direct_pair(port(), "lf");
    const std::string group = create_group(port(), a, {b.id})["id"];
    const auto video = unique_video("clip.webm", "forward");
    const auto original =
        send_image(port(), a, chat, expect_json(upload_live(port(), a, chat, media::png(6, 6, 111), video), 201, "up"));
    const auto forwarded =
        expect_json(post(port(), a.token, message_url(original["id"]) + "/forward", {{"chat_id", group}}), 201,
                    "forward");
    const std::string id = forwarded["id"];
    EXPECT_EQ(forwarded["media"]["live_video"]["sha256"], media::sha256_hex(video));
    EXPECT_EQ(forwarded["media"]["live_video"]["url"], media_url(id) + "?part=video");

    EXPECT_EQ(http(port(), "DELETE", message_url(original["id"]), std::nullopt,
                   {{"Authorization", "Bearer " + a.token}})
                  .status,
              204);
    const auto motion = get(port(), b, media_url(id) + "?part=video");
    ASSERT_EQ(motion.status, 200) << "the forward's copy still uses the video's bytes";
    EXPECT_EQ(motion.body, video);
}

TEST(LivePhotosLimitTest, BothPartsCountAgainstTheUploadLimit) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(chat_database_url(), ServerProcess::Options{{{"CONFAB_LIMIT_UPLOAD_BYTES", "4096"}},
                                                                     true,
                                                                     30s,
                                                                     "4 KiB upload confab"});
    const auto port = server.port();
    auto [a, b, chat] = direct_pair(port, "ll");
    const auto still = media::png(4, 4, 121);
    const auto body_size = [&still](const std::string& video) {
        return media::multipart_body(boundary, {{"name=\"file\"; filename=\"IMG_0001.png\"", still},
                                                {"name=\"live_video\"; filename=\"IMG_0001.mov\"", video}})
            .size();
    };
    ASSERT_LE(body_size(fixture("clip.mp4")), 4096U);
    ASSERT_GT(body_size(fixture("clip.webm")), 4096U);
    ASSERT_LT(fixture("clip.webm").size(), 4096U) << "the video alone fits";
    EXPECT_TRUE(IsJson(upload_live(port, a, chat, still, fixture("clip.mp4")), 201));
    EXPECT_TRUE(IsError(upload_live(port, a, chat, still, fixture("clip.webm")), 413, "payload_too_large"))
        << "the whole multipart body is bounded";
}

}  // namespace
}  // namespace confab::test
