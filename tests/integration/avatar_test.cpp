// Avatars (docs/api.md, Avatars): an image uploaded with purpose=avatar, set with PUT
// /users/me/avatar, shown as avatar_url wherever the user is, told to contacts with
// user.updated, served to any signed-in user with a thumbnail; a replaced or removed avatar's
// media goes with its bytes, and so does a deleted account's.

#include "support/chat_api.hpp"
#include "support/fixture.hpp"
#include "support/media_fixtures.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace confab::test {
namespace {

namespace fs = std::filesystem;

using AvatarTest = ChatTest;

const std::string avatar_me_url = "/api/v1/users/me/avatar";

std::string avatar_url_of(const TestUser& user) { return "/api/v1/users/" + user.id + "/avatar"; }

HttpResponse upload_avatar_raw(std::uint16_t port, const TestUser& user, const std::string& query,
                               const std::string& bytes) {
    auto headers = auth_header(user.token);
    headers["Content-Type"] = "application/octet-stream";
    return http(port, "POST", "/api/v1/messages/upload?" + query, bytes, headers);
}

json upload_avatar(std::uint16_t port, const TestUser& user, const std::string& bytes) {
    return expect_json(upload_avatar_raw(port, user, "kind=image&purpose=avatar", bytes), 201, "avatar upload");
}

json set_avatar(std::uint16_t port, const TestUser& user, const json& media) {
    return expect_json(put(port, user.token, avatar_me_url, {{"media_id", media["id"]}}), 200, "set avatar");
}

fs::path stored_path(const ServerProcess& server, const std::string& sha256) {
    return server.media_dir() / "objects" / sha256.substr(0, 2) / sha256;
}

FramePred about_user(const std::string& user_id) {
    return [user_id](const json& f) {
        return f.contains("data") && f["data"].contains("user") && f["data"]["user"].value("id", "") == user_id;
    };
}

TEST_F(AvatarTest, SetAvatarIsShownToContactsAndServedWithAThumbnail) {
    auto ana = register_user(port(), "av");
    auto ben = register_user(port(), "av");
    auto outsider = register_user(port(), "av");
    const std::string chat = create_direct(port(), ana, ben)["id"];
    auto ws_ben = ws_connect(port(), ben.token);
    auto ws_outsider = ws_connect(port(), outsider.token);

    const auto bytes = media::png(640, 480, 11);
    const auto media = upload_avatar(port(), ana, bytes);
    EXPECT_EQ(media["sha256"], media::sha256_hex(bytes));
    EXPECT_FALSE(media.contains("url")) << "not a message's media";
    // A blind retry of the same upload finds the pending one.
    const auto retried = upload_avatar_raw(port(), ana, "kind=image&purpose=avatar", bytes);
    ASSERT_EQ(retried.status, 200) << retried.body;
    EXPECT_EQ(retried.json()["id"], media["id"]);

    const auto user = set_avatar(port(), ana, media);
    EXPECT_TRUE(IsUserModel(user));
    const std::string url = user["avatar_url"];
    EXPECT_EQ(url, avatar_url_of(ana) + "?v=" + media::sha256_hex(bytes).substr(0, 16));
    EXPECT_EQ(expect_json(get(port(), ana.token, "/api/v1/users/me"), 200, "me")["avatar_url"], url);
    const auto members = list_members(port(), ben, chat);
    const json* member = find_member(members, ana.id);
    ASSERT_NE(member, nullptr);
    EXPECT_EQ((*member)["user"]["avatar_url"], url);
    const auto event = wait_for(*ws_ben, "user.updated", about_user(ana.id));
    ASSERT_TRUE(event.has_value()) << "no user.updated";
    EXPECT_EQ((*event)["data"]["user"], user);
    EXPECT_TRUE(NoFrameBefore(*ws_outsider, frame_of("user.updated"), direct_message_marker(port(), ben, outsider)))
        << "only those who share a chat are told";

    // Setting it again changes nothing.
    EXPECT_EQ(set_avatar(port(), ana, media)["avatar_url"], url);

    // Any signed-in user downloads it, the original and the thumbnail.
    const auto original = get(port(), outsider.token, url);
    ASSERT_EQ(original.status, 200) << original.body;
    EXPECT_EQ(original.body, bytes);
    EXPECT_EQ(original.header("content-type"), "image/png");
    EXPECT_EQ(original.header("etag"), "\"" + media::sha256_hex(bytes) + "\"");
    EXPECT_EQ(original.header("x-content-type-options"), "nosniff");
    EXPECT_EQ(original.header("cache-control"), "private");
    const auto not_modified =
        http(port(), "GET", url, std::nullopt,
             {{"Authorization", "Bearer " + ben.token}, {"If-None-Match", original.header("etag")}});
    EXPECT_EQ(not_modified.status, 304);
    EXPECT_EQ(original.header("content-disposition").substr(0, 6), "inline");
    const auto head =
        http(port(), "GET", url, std::nullopt, {{"Authorization", "Bearer " + ben.token}, {"Range", "bytes=0-9"}});
    ASSERT_EQ(head.status, 206) << head.body;
    EXPECT_EQ(head.body, bytes.substr(0, 10));
    EXPECT_EQ(head.header("content-range"), "bytes 0-9/" + std::to_string(bytes.size()));
    const auto thumb = get(port(), ben.token, avatar_url_of(ana) + "?variant=thumb");
    ASSERT_EQ(thumb.status, 200) << thumb.body;
    EXPECT_EQ(thumb.header("content-type"), "image/jpeg");
    EXPECT_EQ(thumb.body.substr(0, 3), std::string("\xFF\xD8\xFF"));
    EXPECT_EQ(thumb.header("etag"), "\"" + media::sha256_hex(bytes) + "-thumb\"");
    EXPECT_TRUE(IsError(get(port(), ben.token, avatar_url_of(ana) + "?variant=huge"), 400, "bad_request"));
}

TEST_F(AvatarTest, ReplacingOrRemovingReleasesTheOldAvatar) {
    auto ana = register_user(port(), "ar");
    auto ben = register_user(port(), "ar");
    create_direct(port(), ana, ben);
    const auto first_bytes = media::png(64, 64, 21);
    const auto first = upload_avatar(port(), ana, first_bytes);
    set_avatar(port(), ana, first);
    const auto first_path = stored_path(server(), first["sha256"]);
    ASSERT_TRUE(fs::exists(first_path));

    const auto second_bytes = media::gif(32, 32, 22);
    const auto second = upload_avatar(port(), ana, second_bytes);
    const auto replaced = set_avatar(port(), ana, second);
    EXPECT_EQ(replaced["avatar_url"], avatar_url_of(ana) + "?v=" + media::sha256_hex(second_bytes).substr(0, 16));
    EXPECT_FALSE(fs::exists(first_path)) << "the replaced avatar's bytes are removed";
    EXPECT_EQ(get(port(), ben.token, avatar_url_of(ana)).body, second_bytes);
    EXPECT_TRUE(IsError(put(port(), ana.token, avatar_me_url, {{"media_id", first["id"]}}), 400, "bad_request"))
        << "the replaced avatar's media is gone";

    auto ws_ben = ws_connect(port(), ben.token);
    const auto removed = expect_json(del(port(), ana.token, avatar_me_url), 200, "remove avatar");
    EXPECT_TRUE(IsUserModel(removed));
    EXPECT_TRUE(removed["avatar_url"].is_null());
    const auto event = wait_for(*ws_ben, "user.updated", about_user(ana.id));
    ASSERT_TRUE(event.has_value()) << "no user.updated";
    EXPECT_TRUE((*event)["data"]["user"]["avatar_url"].is_null());
    EXPECT_FALSE(fs::exists(stored_path(server(), second["sha256"])));
    EXPECT_TRUE(IsError(get(port(), ben.token, avatar_url_of(ana)), 404, "not_found"));
    EXPECT_TRUE(IsError(get(port(), ben.token, avatar_url_of(ana) + "?variant=thumb"), 404, "not_found"));
    EXPECT_TRUE(expect_json(del(port(), ana.token, avatar_me_url), 200, "remove again")["avatar_url"].is_null());
}

TEST_F(AvatarTest, BytesSharedWithAChatMessageStayWhenTheAvatarGoes) {
    auto ana = register_user(port(), "as");
    auto ben = register_user(port(), "as");
    const std::string chat = create_direct(port(), ana, ben)["id"];
    const auto bytes = media::png(48, 48, 31);
    auto headers = auth_header(ana.token);
    headers["Content-Type"] = "application/octet-stream";
    const auto chat_media =
        expect_json(http(port(), "POST", "/api/v1/messages/upload?chat_id=" + chat + "&kind=image", bytes, headers),
                    201, "chat upload");
    const auto message =
        expect_json(send_message(port(), ana, chat, {{"type", "image"}, {"media_id", chat_media["id"]}}), 201,
                    "send image");
    set_avatar(port(), ana, upload_avatar(port(), ana, bytes));
    expect_json(del(port(), ana.token, avatar_me_url), 200, "remove avatar");
    EXPECT_TRUE(fs::exists(stored_path(server(), chat_media["sha256"]))) << "the message still uses the bytes";
    EXPECT_EQ(get(port(), ben.token, message["media"]["url"].get<std::string>()).body, bytes);
}

TEST_F(AvatarTest, OnlyOwnImageAvatarUploadsBecomeAnAvatar) {
    auto ana = register_user(port(), "au");
    auto ben = register_user(port(), "au");
    const std::string chat = create_direct(port(), ana, ben)["id"];

    // Uploads: an image, no chat, a known purpose.
    EXPECT_TRUE(IsError(upload_avatar_raw(port(), ana, "kind=image&purpose=avatar", media::text(1)), 415,
                        "unsupported_media_type"));
    EXPECT_TRUE(
        IsError(upload_avatar_raw(port(), ana, "kind=file&purpose=avatar", media::png(8, 8, 1)), 400, "bad_request"));
    EXPECT_TRUE(
        IsError(upload_avatar_raw(port(), ana, "kind=image&purpose=banner", media::png(8, 8, 1)), 400, "bad_request"));
    EXPECT_TRUE(
        IsError(upload_avatar_raw(port(), ana, "chat_id=" + chat + "&kind=image&purpose=avatar", media::png(8, 8, 1)),
                400, "bad_request"));

    // Setting: the caller's own avatar upload, by a valid id.
    const auto bens = upload_avatar(port(), ben, media::png(16, 16, 41));
    EXPECT_TRUE(IsError(put(port(), ana.token, avatar_me_url, {{"media_id", bens["id"]}}), 400, "bad_request"));
    auto headers = auth_header(ana.token);
    headers["Content-Type"] = "application/octet-stream";
    const auto chat_media = expect_json(http(port(), "POST", "/api/v1/messages/upload?chat_id=" + chat + "&kind=image",
                                             media::png(16, 16, 42), headers),
                                        201, "chat upload");
    EXPECT_TRUE(IsError(put(port(), ana.token, avatar_me_url, {{"media_id", chat_media["id"]}}), 400, "bad_request"))
        << "a chat's upload";
    expect_json(send_message(port(), ana, chat, {{"type", "image"}, {"media_id", chat_media["id"]}}), 201, "send");
    EXPECT_TRUE(IsError(put(port(), ana.token, avatar_me_url, {{"media_id", chat_media["id"]}}), 400, "bad_request"))
        << "a message's media";
    EXPECT_TRUE(IsError(put(port(), ana.token, avatar_me_url, {{"media_id", "not-a-uuid"}}), 400, "bad_request"));
    EXPECT_TRUE(IsError(put(port(), ana.token, avatar_me_url, json::object()), 400, "bad_request"));
    EXPECT_TRUE(
        IsError(put(port(), ana.token, avatar_me_url, {{"media_id", bens["id"]}, {"extra", 1}}), 400, "bad_request"));
    // An avatar upload is not a chat's media.
    const auto own = upload_avatar(port(), ana, media::png(16, 16, 43));
    EXPECT_TRUE(
        IsError(send_message(port(), ana, chat, {{"type", "image"}, {"media_id", own["id"]}}), 400, "bad_request"));

    // Serving: a user id, someone signed in, an avatar to serve.
    EXPECT_TRUE(IsError(get(port(), ben.token, avatar_url_of(ana)), 404, "not_found"));
    EXPECT_TRUE(IsError(get(port(), ben.token, "/api/v1/users/not-a-uuid/avatar"), 400, "bad_request"));
    EXPECT_EQ(http(port(), "GET", avatar_url_of(ana), std::nullopt, {}).status, 401);
    EXPECT_EQ(http(port(), "PUT", avatar_me_url, json{{"media_id", own["id"]}}.dump(),
                   {{"Content-Type", "application/json"}})
                  .status,
              401);
    EXPECT_EQ(http(port(), "DELETE", avatar_me_url, std::nullopt, {}).status, 401);
    EXPECT_TRUE(expect_json(get(port(), ana.token, "/api/v1/users/me"), 200, "me")["avatar_url"].is_null());
}

TEST_F(AvatarTest, ADeletedAccountsAvatarGoes) {
    auto ana = register_user(port(), "ad");
    auto ben = register_user(port(), "ad");
    create_direct(port(), ana, ben);
    const auto media = upload_avatar(port(), ana, media::png(24, 24, 51));
    set_avatar(port(), ana, media);
    ASSERT_EQ(del(port(), ana.token, "/api/v1/users/me", json{{"password", kPassword}}).status, 204);
    EXPECT_FALSE(fs::exists(stored_path(server(), media["sha256"])));
    EXPECT_TRUE(IsError(get(port(), ben.token, avatar_url_of(ana)), 404, "not_found"));
    EXPECT_TRUE(
        expect_json(get(port(), ben.token, "/api/v1/users/" + ana.id), 200, "tombstone")["avatar_url"].is_null());
}

}  // namespace
}  // namespace confab::test
