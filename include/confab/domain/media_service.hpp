#pragma once

#include "confab/config/config.hpp"
#include "confab/domain/blocking.hpp"
#include "confab/domain/commit.hpp"
#include "confab/domain/message_service.hpp"
#include "confab/domain/rate_limiter.hpp"
#include "confab/domain/single_flight.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace confab::media {
class Storage;
}

namespace confab::domain {

class UserService;

struct Upload {
    std::string uploader_id;
    std::string chat_id;
    std::string kind;                               // image|voice|video|file, checked here
    std::filesystem::path temporary;                // the streamed body: moved into storage, else the caller removes it
    std::optional<std::string> multipart_boundary;  // set: the body is multipart/form-data with a `file` part
                                                    // and, for a live photo, a `live_video` part
    std::optional<std::string> file_name;
    std::optional<std::int64_t> width;
    std::optional<std::int64_t> height;
    std::optional<std::int64_t> duration_ms;
    std::optional<std::string> purpose;  // "avatar": a user's avatar, of no chat (chat_id empty)
};

struct Uploaded {
    Media media;
    bool created = true;  // false: the same user uploaded the same bytes to this chat (or as an avatar) before
};

struct MediaFile {
    std::filesystem::path path;
    Media media;       // mime_type and size_bytes are those of the file at `path`
    std::string etag;  // unquoted
};

struct GalleryQuery {
    std::optional<std::string> kind;
    std::optional<std::int64_t> before_seq;
    int limit = 50;
};

// Removes the stored bytes of deleted media rows unless another row still uses them,
// under the bytes' lock so that an upload of the same content cannot slip in between.
// How many were removed.
boost::asio::awaitable<std::size_t> release_bytes(store::Pool& pool, media::Storage& storage,
                                                  std::vector<std::string> keys);

// Throws Error{payload_too_large} with the quota, the use and the new media's size in
// details when the user's media rows would pass `quota_bytes`.
void require_within_quota(std::size_t quota_bytes, std::int64_t used_bytes, std::int64_t upload_bytes);
// What a media row counts in its uploader's quota: both parts of a live photo.
std::int64_t quota_bytes_of(const Media& media);

// A live photo's motion part is a video of at most this long (docs/api.md, Live photos).
constexpr std::int64_t live_video_max_duration_ms = 5000;
// Throws Error{payload_too_large} with details.reason too_long, details.field live_video and
// the bound and the duration in details when `duration_ms` is past the bound.
void require_live_video_duration(std::int64_t duration_ms);

// Uploads (sniffed, hashed and stored off the I/O threads), downloads, media removal, the
// gallery, avatars (docs/api.md, Avatars), and the cleanup of uploads never attached.
class MediaService {
public:
    static constexpr int unattached_lifetime_hours = 24;

    // `workers` check uploads; `thumbnails` make the thumbnails first asked for, apart from them.
    MediaService(ChatWrites& writes, UserService& users, media::Storage& storage, Workers& workers, Workers& thumbnails,
                 const config::Media& settings, const config::Limits& limits);

    // Spends one of the user's upload tokens, before the body is received; throws
    // Error{rate_limited} when they are spent.
    void admit_upload(const std::string& user_id);

    boost::asio::awaitable<Uploaded> upload(Upload upload);
    static constexpr int thumbnail_max_side = 320;

    boost::asio::awaitable<MediaFile> file_of(std::string actor, std::string message_id);
    // A live photo's motion part; not_found when the message's media has none.
    boost::asio::awaitable<MediaFile> live_video_of(std::string actor, std::string message_id);
    // An image's thumbnail, made once on the workers and kept beside the original.
    boost::asio::awaitable<MediaFile> thumbnail_of(std::string actor, std::string message_id);
    boost::asio::awaitable<void> remove(std::string actor, std::string message_id);
    boost::asio::awaitable<HistoryPage> gallery(std::string actor, std::string chat_id, GalleryQuery query);

    // Makes the actor's avatar upload `media_id` their avatar (rules::may_set_avatar), or removes
    // their avatar; the avatar it replaces goes with its bytes (unless another row still uses
    // them), and user.updated goes to the actor and their contacts when it changed.
    boost::asio::awaitable<User> set_avatar(std::string actor, std::string media_id);
    boost::asio::awaitable<User> remove_avatar(std::string actor);
    // The user's avatar, or its thumbnail; not_found when they have none.
    boost::asio::awaitable<MediaFile> avatar_of(std::string user_id, bool thumbnail);

    // Removes every temporary file, then starts the periodic cleanup (stale uploads, stored
    // files no media uses, abandoned temporary files; its first pass at once) on the workers;
    // stop() ends it. Call before serving.
    void start_cleanup();
    void stop();
    // Removes unattached uploads older than 24 hours; how many.
    boost::asio::awaitable<int> remove_stale_uploads();
    // Removes the stored files no media row uses, stored at least unused_bytes_min_age ago:
    // those a crash left between a deletion's commit and the release of its bytes, or between
    // an upload's store and its commit; how many.
    boost::asio::awaitable<std::size_t> remove_unused_bytes();
    static constexpr auto unused_bytes_min_age = std::chrono::seconds(10);

private:
    // upload() once the motion part's temporary file (`motion`, empty for a raw body) is chosen.
    boost::asio::awaitable<Uploaded> receive(Upload upload, std::filesystem::path motion);
    boost::asio::awaitable<void> cleanup_loop();
    boost::asio::awaitable<User> change_avatar(std::string actor, std::optional<std::string> media_id);
    boost::asio::awaitable<MediaFile> thumbnail_of(MediaFile file);

    ChatWrites& writes_;
    UserService& users_;
    media::Storage& storage_;
    Workers& workers_;
    Workers& thumbnails_;
    // A thumbnail or poster being made, by storage key: the members asking for a new image's
    // thumbnail at once wait for the one being made (its size; none when it could not be made).
    SingleFlight<std::optional<std::uintmax_t>> thumbnails_being_made_;
    config::Media settings_;
    std::size_t quota_bytes_;  // limits.media_quota_bytes
    RateLimiter uploads_;
    boost::asio::steady_timer cleanup_timer_;
};

}  // namespace confab::domain
