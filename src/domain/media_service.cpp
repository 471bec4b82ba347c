#include "confab/domain/media_service.hpp"

#include "confab/domain/blocking.hpp"
#include "confab/domain/group_writes.hpp"
#include "confab/domain/rules.hpp"
#include "confab/domain/user_service.hpp"
#include "confab/domain/validation.hpp"
#include "confab/media/av.hpp"
#include "confab/media/inspect.hpp"
#include "confab/media/multipart.hpp"
#include "confab/media/storage.hpp"
#include "confab/obs/metrics.hpp"
#include "confab/store/media.hpp"
#include "confab/store/messages.hpp"
#include "confab/store/users.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>

namespace confab::domain {
namespace {

constexpr int cleanup_batch = 100;
constexpr std::size_t release_batch = 64;

// Removes a temporary file on every path that does not keep it. Only for files made on the
// workers: its destructor must run there, never on an I/O thread.
struct TemporaryFile {
    std::filesystem::path path;
    ~TemporaryFile() {
        std::error_code ignored;
        if (!path.empty()) std::filesystem::remove(path, ignored);
    }
};

constexpr std::size_t max_file_name = 255;

// The last path component of a client's file name: never a path on the server or client.
std::string file_name_from(std::string_view raw) {
    const auto slash = raw.find_last_of("/\\");
    const auto name = slash == std::string_view::npos ? raw : raw.substr(slash + 1);
    if (name.empty() || name.size() > max_file_name || !is_valid_utf8(name) || name == "." || name == "..")
        throw bad_request("the file name must be a name of 1-255 bytes", "file_name");
    if (!is_plain_text(name))
        throw bad_request("the file name must not contain control or bidirectional formatting characters", "file_name");
    return std::string(name);
}

// Whether the upload is a user's avatar (purpose=avatar), which belongs to no chat.
bool for_avatar(const Upload& upload) {
    if (!upload.purpose) return false;
    if (*upload.purpose != "avatar") throw bad_request("purpose must be avatar", "purpose");
    if (!upload.chat_id.empty()) throw bad_request("an avatar upload has no chat_id", "chat_id");
    return true;
}

// Versioned by the bytes, so that a client's cache of the old avatar is not used for a new one.
std::string avatar_url(const Media& media) {
    constexpr std::size_t version_length = 16;
    return "/api/v1/users/" + media.uploader_id + "/avatar?v=" + media.sha256.substr(0, version_length);
}

// A GIF's frames are decoded by every client that shows it: a decompression bomb (a few
// kilobytes of frames of millions of pixels each) is refused on upload.
constexpr std::int64_t max_gif_frames = 1000;
constexpr std::uint64_t gif_total_pixels_factor = 10;  // all frames: this many times thumbnail_max_pixels

media::DecodeBounds decode_bounds(const config::Media& settings) {
    media::DecodeBounds bounds;
    bounds.max_pixels = settings.thumbnail_max_pixels;
    return bounds;
}

Error refusal(const media::Refused& refused) {
    return with_reason(ErrorCode::unsupported_media_type, refused.what(), refused.reason);
}

// What the server reads from the bytes themselves (docs/api.md, Media): a video's size,
// duration and poster, a voice note's duration and waveform, whether a GIF is animated.
// Values found here replace the uploader's X-Media-Metadata; a file FFmpeg finds no stream
// of its kind in keeps the uploader's. Blocking: on the workers.
void derive_metadata(Media& derived, const std::filesystem::path& file, const config::Media& settings) {
    try {
        if (derived.kind == MediaKind::video) {
            if (const auto video = media::probe_video(file, decode_bounds(settings))) {
                derived.width = video->width;
                derived.height = video->height;
                if (video->duration_ms) derived.duration_ms = video->duration_ms;
                derived.poster = true;
            }
        } else if (derived.kind == MediaKind::voice) {
            if (auto voice = media::probe_voice(file, decode_bounds(settings))) {
                derived.duration_ms = voice->duration_ms;
                derived.waveform = std::move(voice->waveform);
            }
        } else if (derived.kind == MediaKind::image && derived.mime_type == "image/gif") {
            const auto animation = media::gif_animation(file);
            if (animation.frames > max_gif_frames || animation.frame_pixels > settings.thumbnail_max_pixels ||
                static_cast<std::uint64_t>(animation.frames) * animation.frame_pixels >
                    gif_total_pixels_factor * settings.thumbnail_max_pixels)
                throw media::Refused("too_large", "the GIF has too many frames or pixels");
            derived.animated = animation.frames > 1;
        }
    } catch (const media::Refused& refused) {
        throw refusal(refused);
    } catch (const std::runtime_error&) {  // only libvips throws these here: it cannot read the GIF
        throw with_reason(ErrorCode::unsupported_media_type, "the GIF cannot be read", "unreadable");
    }
}

// A live photo's motion part, read from the bytes as a video upload's are, and bounded
// (docs/api.md, Live photos). Refusals name the part: details.field is live_video. Blocking:
// on the workers.
LiveVideo live_video_from(const std::filesystem::path& file, const config::Media& settings) {
    constexpr const char* field = "live_video";
    const auto inspection = media::inspect(file);
    if (inspection.size_bytes == 0) throw bad_request("the live video is empty", field);
    if (!media::allowed(MediaKind::video, inspection.mime_type))
        throw with_reason(ErrorCode::unsupported_media_type, inspection.mime_type + " is not allowed for a live video",
                          "not_video", field);
    std::optional<media::VideoInfo> video;
    try {
        video = media::probe_video(file, decode_bounds(settings));
    } catch (const media::Refused& refused) {
        throw with_reason(ErrorCode::unsupported_media_type, refused.what(), refused.reason, field);
    }
    if (!video || !video->duration_ms)
        throw with_reason(ErrorCode::unsupported_media_type, "the live video has no video stream of known duration",
                          "unreadable", field);
    require_live_video_duration(*video->duration_ms);
    return LiveVideo{inspection.mime_type, inspection.size_bytes, inspection.sha256, inspection.sha256,
                     *video->duration_ms,  video->width,          video->height};
}

// The parts of a multipart upload, moved where upload() reads them.
struct Parts {
    media::FilePart file;
    bool live_video = false;  // a live_video part was found
};

struct AvatarChange {
    User user;
    std::vector<std::string> released_keys;  // the storage keys of the replaced avatar's media
    bool changed = false;
};

}  // namespace

boost::asio::awaitable<std::size_t> release_bytes(store::Pool& pool, media::Storage& storage,
                                                  std::vector<std::string> keys) {
    // A few keys per transaction: each takes an advisory lock, and a big group's thousands of
    // keys in one would exhaust PostgreSQL's lock table. Sorted, so two releases never wait on
    // each other in opposite orders.
    std::sort(keys.begin(), keys.end());
    std::size_t removed = 0;
    for (std::size_t first = 0; first < keys.size(); first += release_batch) {
        const auto last = std::min(keys.size(), first + release_batch);
        removed += co_await pool.run(
            [&storage,
             batch = std::vector<std::string>(keys.begin() + static_cast<std::ptrdiff_t>(first),
                                              keys.begin() + static_cast<std::ptrdiff_t>(last))](store::Tx& tx) {
                std::size_t unused = 0;
                for (const auto& key : batch) {
                    store::media::lock_bytes(tx, key);
                    if (store::media::bytes_in_use(tx, key)) continue;
                    storage.remove(key);
                    ++unused;
                }
                return unused;
            });
    }
    co_return removed;
}

MediaService::MediaService(ChatWrites& writes, UserService& users, media::Storage& storage, Workers& workers,
                           Workers& thumbnails, const config::Media& settings, const config::Limits& limits)
    : writes_(writes),
      users_(users),
      storage_(storage),
      workers_(workers),
      thumbnails_(thumbnails),
      settings_(settings),
      quota_bytes_(limits.media_quota_bytes),
      uploads_("uploads", limits.upload_burst, limits.upload_rate),
      cleanup_timer_(workers.pool()) {}

void MediaService::admit_upload(const std::string& user_id) { uploads_.require(user_id, "uploads"); }

std::int64_t quota_bytes_of(const Media& media) {
    return media.size_bytes + (media.live_video ? media.live_video->size_bytes : 0);
}

void require_live_video_duration(std::int64_t duration_ms) {
    if (duration_ms <= live_video_max_duration_ms) return;
    auto error =
        with_reason(ErrorCode::payload_too_large, "the live video is longer than 5 seconds", "too_long", "live_video");
    error.amounts = {{"max_duration_ms", live_video_max_duration_ms}, {"duration_ms", duration_ms}};
    throw error;
}

boost::asio::awaitable<Uploaded> MediaService::upload(Upload upload) {
    if (!upload.multipart_boundary) co_return co_await receive(std::move(upload), {});
    // A live photo's motion part is extracted to a temporary file of its own, removed here on
    // the workers on every path (stored, it is gone already).
    const auto motion = storage_.temporary_path();
    std::exception_ptr failure;
    std::optional<Uploaded> uploaded;
    try {
        uploaded = co_await receive(std::move(upload), motion);
    } catch (...) {
        failure = std::current_exception();
    }
    co_await offload(workers_, [&motion] {
        std::error_code ignored;
        return std::filesystem::remove(motion, ignored);
    });
    if (failure) std::rethrow_exception(failure);
    co_return std::move(*uploaded);
}

boost::asio::awaitable<Uploaded> MediaService::receive(Upload upload, std::filesystem::path motion) {
    // The body file stays the caller's to remove (on its file threads) unless it is stored.
    auto temporary = std::move(upload.temporary);
    const bool avatar = for_avatar(upload);
    if (!avatar) require_uuid(upload.chat_id, "chat_id");
    if (upload.file_name) upload.file_name = file_name_from(*upload.file_name);
    const auto kind = media_kind_from(upload.kind);
    if (!kind) throw bad_request("kind must be image, voice, video or file", "kind");
    if (avatar && *kind != MediaKind::image) throw bad_request("an avatar must be an image", "kind");
    if (!avatar) co_await writes_.standing(upload.chat_id, upload.uploader_id);
    std::optional<LiveVideo> live_video;
    if (upload.multipart_boundary) {
        const auto extracted = co_await offload(workers_, [&]() -> std::optional<Parts> {
            TemporaryFile part{storage_.temporary_path()};
            try {
                auto found = media::extract_part(temporary, *upload.multipart_boundary, "file", part.path);
                if (!found) return std::nullopt;
                const bool live =
                    media::extract_part(temporary, *upload.multipart_boundary, "live_video", motion).has_value();
                // Over the body, so that the caller's removal of the body covers the part too.
                std::filesystem::rename(part.path, temporary);
                part.path.clear();
                return Parts{std::move(*found), live};
            } catch (const std::invalid_argument&) {
                return std::nullopt;
            }
        });
        if (!extracted) throw bad_request("multipart body needs one part named file");
        if (!upload.file_name && extracted->file.file_name)
            upload.file_name = file_name_from(*extracted->file.file_name);
        if (extracted->live_video) {
            if (*kind != MediaKind::image || avatar)
                throw bad_request("only an image in a chat can have a live video", "live_video");
            live_video = co_await offload(workers_, [&motion, this] { return live_video_from(motion, settings_); });
        }
    }

    const auto inspection = co_await offload(workers_, [path = temporary] { return media::inspect(path); });
    if (inspection.size_bytes == 0) throw bad_request("the upload is empty");
    if (!media::allowed(*kind, inspection.mime_type))
        throw Error(ErrorCode::unsupported_media_type,
                    inspection.mime_type + " is not allowed for " + std::string(to_string(*kind)));
    Media media;
    media.chat_id = upload.chat_id;
    media.uploader_id = upload.uploader_id;
    media.kind = *kind;
    media.mime_type = inspection.mime_type;
    media.size_bytes = inspection.size_bytes;
    media.sha256 = inspection.sha256;
    media.file_name = upload.file_name;
    media.storage_key = inspection.sha256;
    media.width = upload.width;
    media.height = upload.height;
    media.duration_ms = upload.duration_ms;
    media.live_video = std::move(live_video);
    media = co_await offload(workers_, [derived = media, path = temporary, this]() mutable {
        derive_metadata(derived, path, settings_);
        return derived;
    });
    // The bytes are made durable and recorded under their lock: a concurrent removal of the
    // last other use either finishes before (and this stores them anew) or sees this row.
    auto [stored, created] = co_await writes_.pool().run([this, media, &temporary, &motion](store::Tx& tx) {
        store::media::lock_bytes_of(tx, media);
        store::media::lock_quota(tx, media.uploader_id);  // after the bytes' locks, always in this order
        const auto usage = store::media::usage(tx, media);
        if (!usage.repeat) require_within_quota(quota_bytes_, usage.used_bytes, quota_bytes_of(media));
        if (!temporary.empty()) {  // a retried transaction finds the bytes stored already
            storage_.store(temporary, media.storage_key);
            temporary.clear();  // consumed by the store
        }
        if (media.live_video && !motion.empty()) {
            storage_.store(motion, media.live_video->storage_key);
            motion.clear();
        }
        // ... unless, between the tries, no lock held, the removal of another use took them.
        const bool stored_still =
            storage_.age_of(media.storage_key) && (!media.live_video || storage_.age_of(media.live_video->storage_key));
        if (!stored_still) throw Error(ErrorCode::unavailable, "the upload was lost in a retry; send it again");
        return store::media::insert(tx, media);
    });
    if (created) obs::metrics().media_bytes.with({upload.kind}).inc(static_cast<std::uint64_t>(stored.size_bytes));
    co_return Uploaded{std::move(stored), created};
}

void require_within_quota(std::size_t quota_bytes, std::int64_t used_bytes, std::int64_t upload_bytes) {
    const auto quota = static_cast<std::int64_t>(quota_bytes);
    if (used_bytes + upload_bytes <= quota) return;
    Error error(ErrorCode::payload_too_large, "this upload would exceed your media storage quota");
    error.amounts = {{"quota_bytes", quota}, {"used_bytes", used_bytes}, {"upload_bytes", upload_bytes}};
    throw error;
}

boost::asio::awaitable<MediaFile> MediaService::file_of(std::string actor, std::string message_id) {
    const auto [message, standing] = co_await writes_.visible_message(actor, message_id);
    if (message.is_deleted || !message.media) throw not_found("media");
    co_return MediaFile{storage_.path_of(message.media->storage_key), *message.media, message.media->sha256};
}

boost::asio::awaitable<MediaFile> MediaService::live_video_of(std::string actor, std::string message_id) {
    auto file = co_await file_of(std::move(actor), std::move(message_id));
    if (!file.media.live_video) throw not_found("live video");
    const auto live = *file.media.live_video;
    file.path = storage_.path_of(live.storage_key);
    file.media.mime_type = live.mime_type;
    file.media.size_bytes = live.size_bytes;
    file.media.sha256 = live.sha256;  // a download without a file name is named by it
    file.media.storage_key = live.storage_key;
    file.media.file_name.reset();  // the still's name is not the video's
    file.etag = live.sha256;
    co_return file;
}

boost::asio::awaitable<MediaFile> MediaService::thumbnail_of(std::string actor, std::string message_id) {
    co_return co_await thumbnail_of(co_await file_of(std::move(actor), std::move(message_id)));
}

boost::asio::awaitable<MediaFile> MediaService::thumbnail_of(MediaFile file) {
    const bool video = file.media.kind == MediaKind::video;
    if (file.media.kind != MediaKind::image && !video)
        throw bad_request("only images and videos have thumbnails", "variant");
    if (video && !file.media.poster) throw Error(ErrorCode::unsupported_media_type, "this video has no poster");
    const auto thumbnail = storage_.variant_path_of(file.media.storage_key, media::thumbnail_variant);
    const auto no_thumbnail = storage_.variant_path_of(file.media.storage_key, media::no_thumbnail_variant);
    static obs::Counter& made = obs::metrics().thumbnails_made.with({});
    // Removal deletes the original first, then the files made of it (media::Storage::remove).
    // A file made of it is checked for its original once in place: removed when the original
    // is gone, it cannot outlive its bytes, whichever of the two came first.
    const auto keep_beside_original = [&file](const std::filesystem::path& derived) {
        if (std::filesystem::exists(file.path)) return;
        std::error_code ignored;
        std::filesystem::remove(derived, ignored);
        throw not_found("media");
    };
    const auto make = [&]() -> std::optional<std::uintmax_t> {
        // Bytes that failed once fail again: decoding them on every request let one user keep
        // the thumbnail threads busy with a few broken uploads.
        if (std::filesystem::exists(no_thumbnail)) return std::nullopt;
        std::error_code missing;
        if (const auto size = std::filesystem::file_size(thumbnail, missing); !missing) return size;
        try {
            // Made under a temporary name and renamed: readers never see half a JPEG.
            TemporaryFile temporary{storage_.temporary_path()};
            temporary.path += ".jpg";
            if (video) {
                media::make_video_poster(file.path, temporary.path, thumbnail_max_side, decode_bounds(settings_));
            } else {
                media::make_thumbnail(file.path, temporary.path, thumbnail_max_side, settings_.thumbnail_max_pixels);
            }
            std::filesystem::rename(temporary.path, thumbnail);
            temporary.path.clear();  // renamed
        } catch (const std::exception& e) {
            // An original removed while it was read failed for that, not for its bytes: the
            // same bytes uploaded again must still get their thumbnail.
            if (!std::filesystem::exists(file.path)) throw not_found("media");
            spdlog::warn("thumbnail of media {} failed: {}", file.media.id, e.what());
            const std::ofstream marker(no_thumbnail);
            keep_beside_original(no_thumbnail);
            return std::nullopt;
        }
        keep_beside_original(thumbnail);
        made.inc();
        const auto size = std::filesystem::file_size(thumbnail, missing);
        if (missing) throw not_found("media");  // removed with its original since the check
        return size;
    };
    // offload keeps a reference to its job until it is posted: `make` outlives the run.
    const auto size =
        co_await thumbnails_being_made_.run(file.media.storage_key, [&] { return offload(thumbnails_, make); });
    if (!size) throw Error(ErrorCode::unsupported_media_type, "this media has no thumbnail");
    file.path = thumbnail;
    file.media.mime_type = "image/jpeg";
    file.media.size_bytes = static_cast<std::int64_t>(*size);
    file.etag += "-thumb";
    co_return file;
}

boost::asio::awaitable<void> MediaService::remove(std::string actor, std::string message_id) {
    const auto [message, standing] = co_await writes_.visible_message(actor, message_id);
    rules::may_remove_media(standing, actor, message);
    const auto chat_id = message.chat_id;
    auto orphaned = co_await writes_.commit(chat_id, [actor, chat_id, message_id](store::Tx& tx) {
        const auto now = lock_standing(tx, chat_id, actor, "media");
        auto current = store::messages::find(tx, message_id, actor);
        if (!current) throw not_found("media");
        rules::may_remove_media(now, actor, *current);
        const auto version = store::messages::next_version(tx, chat_id);
        store::messages::detach_media(tx, message_id, version);
        Outcome<std::vector<std::string>> outcome{store::media::remove(tx, current->media->id), {}};
        outcome.effects.in_chat(Occasion::message_updated,
                                MessageUpdated{as_members_see(tx, message_of(tx, message_id, actor), now)}, chat_id);
        return outcome;
    });
    co_await release_bytes(writes_.pool(), storage_, std::move(orphaned));
}

boost::asio::awaitable<HistoryPage> MediaService::gallery(std::string actor, std::string chat_id, GalleryQuery query) {
    require_uuid(chat_id, "chat_id");
    std::optional<MediaKind> kind;
    if (query.kind) {
        kind = media_kind_from(*query.kind);
        if (!kind) throw bad_request("kind must be image, voice, video or file", "kind");
    }
    co_await writes_.standing(chat_id, actor);
    auto messages = co_await writes_.pool().run([actor, chat_id, kind, query](store::Tx& tx) {
        return store::media::gallery(tx, chat_id, kind, query.before_seq, query.limit + 1, actor);
    });
    HistoryPage page;
    if (static_cast<int>(messages.size()) > query.limit) {
        messages.pop_back();
        page.next_cursor = messages.back().seq;
    }
    page.messages = std::move(messages);
    co_return page;
}

boost::asio::awaitable<User> MediaService::set_avatar(std::string actor, std::string media_id) {
    require_uuid(media_id, "media_id");
    co_return co_await change_avatar(std::move(actor), std::move(media_id));
}

boost::asio::awaitable<User> MediaService::remove_avatar(std::string actor) {
    co_return co_await change_avatar(std::move(actor), std::nullopt);
}

boost::asio::awaitable<User> MediaService::change_avatar(std::string actor, std::optional<std::string> media_id) {
    auto change = co_await writes_.pool().run([&actor, &media_id](store::Tx& tx) {
        const auto current = store::users::lock_avatar(tx, actor);
        if (media_id == current) {  // a retry, or no avatar removed again
            auto user = store::users::find(tx, actor);
            if (!user) throw not_found("user");
            return AvatarChange{std::move(*user), {}, false};
        }
        std::optional<std::string> url;
        if (media_id) {
            const auto media = store::media::find(tx, *media_id);
            rules::may_set_avatar(media, actor);
            store::media::mark_attached(tx, *media_id);
            url = avatar_url(*media);
        }
        auto user = store::users::set_avatar(tx, actor, media_id, url);
        if (!user) throw not_found("user");
        auto released_keys = current ? store::media::remove(tx, *current) : std::vector<std::string>{};
        return AvatarChange{std::move(*user), std::move(released_keys), true};
    });
    co_await release_bytes(writes_.pool(), storage_, std::move(change.released_keys));
    if (change.changed) co_await users_.announce(change.user);
    co_return std::move(change.user);
}

boost::asio::awaitable<MediaFile> MediaService::avatar_of(std::string user_id, bool thumbnail) {
    if (!is_uuid(user_id)) throw bad_request("invalid user id", "id");
    const auto media =
        co_await writes_.pool().run([&user_id](store::Tx& tx) { return store::media::avatar_of(tx, user_id); });
    if (!media) throw not_found("avatar");
    MediaFile file{storage_.path_of(media->storage_key), *media, media->sha256};
    if (thumbnail) co_return co_await thumbnail_of(std::move(file));
    co_return file;
}

boost::asio::awaitable<int> MediaService::remove_stale_uploads() {
    const auto stale = co_await writes_.pool().run(
        [](store::Tx& tx) { return store::media::stale_unattached(tx, unattached_lifetime_hours, cleanup_batch); });
    int removed = 0;
    for (const auto& id : stale) {
        auto orphaned =
            co_await writes_.pool().run([id](store::Tx& tx) { return store::media::remove_unattached(tx, id); });
        if (!orphaned.empty()) ++removed;
        co_await release_bytes(writes_.pool(), storage_, std::move(orphaned));
    }
    co_return removed;
}

boost::asio::awaitable<std::size_t> MediaService::remove_unused_bytes() {
    std::size_t removed = 0;
    for (int shard = 0; shard < 256; ++shard) {
        auto stored = storage_.keys_in_shard(shard);
        if (stored.empty()) continue;
        auto unused = co_await writes_.pool().run(
            [stored = std::move(stored)](store::Tx& tx) { return store::media::unused_keys(tx, stored); });
        std::erase_if(unused, [this](const std::string& key) {
            const auto age = storage_.age_of(key);
            return !age || *age < unused_bytes_min_age;
        });
        removed += co_await release_bytes(writes_.pool(), storage_, std::move(unused));
    }
    co_return removed;
}

boost::asio::awaitable<void> MediaService::cleanup_loop() {
    for (;;) {  // a pass at once, then one each interval
        try {
            if (const int removed = co_await remove_stale_uploads(); removed > 0)
                spdlog::info("removed {} unattached uploads older than {} h", removed, unattached_lifetime_hours);
            if (const auto removed = co_await remove_unused_bytes(); removed > 0)
                spdlog::info("removed {} stored files no media uses (left by a crash)", removed);
        } catch (const std::exception& e) {
            spdlog::warn("media cleanup failed: {}", e.what());
        }
        // On a worker thread (the loop runs on the workers), never an I/O thread.
        if (const auto removed = storage_.remove_temporaries(settings_.tmp_max_age); removed > 0)
            spdlog::info("removed {} abandoned temporary files", removed);
        cleanup_timer_.expires_after(settings_.cleanup_interval);
        auto [ec] = co_await cleanup_timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
        if (ec) co_return;  // stopped
    }
}

void MediaService::start_cleanup() {
    // Before the server accepts anything, so no upload in flight owns one of these files.
    if (const auto removed = storage_.remove_temporaries(std::chrono::seconds::zero()); removed > 0)
        spdlog::info("removed {} temporary files left by the previous run", removed);
    boost::asio::co_spawn(workers_.pool(), cleanup_loop(), boost::asio::detached);
}

void MediaService::stop() {
    boost::asio::post(workers_.pool(), [this] { cleanup_timer_.cancel(); });
}

}  // namespace confab::domain
