#pragma once

#include "confab/model/chat.hpp"

#include "confab/store/tx.hpp"

#include <optional>
#include <string>
#include <vector>

namespace confab::store::media {

void prepare(Tx& tx);

// The stored row and whether this call created it (false: the same user already uploaded
// the same bytes to the same chat, or as an avatar when `media.chat_id` is empty: no chat).
std::pair<model::Media, bool> insert(Tx& tx, const model::Media& media);
std::optional<model::Media> find(Tx& tx, const std::string& id);
// A new row for bytes already stored (a forward's copy), attached at once.
model::Media insert_attached(Tx& tx, const model::Media& media);
void mark_attached(Tx& tx, const std::string& id);
// Deletes the row; returns its storage keys (a live photo's two), none when there was no row.
std::vector<std::string> remove(Tx& tx, const std::string& id);
// Deletes the row only if it is still not attached to a message (a send may attach it
// between the cleanup's listing and this delete); returns its storage keys when deleted.
std::vector<std::string> remove_unattached(Tx& tx, const std::string& id);
// Serializes, across servers, storing bytes under a key with deciding to delete them:
// held by the upload that stores and records them and by the check that removes them.
void lock_bytes(Tx& tx, const std::string& storage_key);
// lock_bytes for each key of the media: its still's, and its motion part's when it has one.
void lock_bytes_of(Tx& tx, const model::Media& media);
// Whether a media row uses the bytes, as its file or as a live photo's motion part.
bool bytes_in_use(Tx& tx, const std::string& storage_key);
// Those of the keys no media row uses (bytes_in_use, for many at once, unlocked).
std::vector<std::string> unused_keys(Tx& tx, const std::vector<std::string>& storage_keys);
// Serializes the quota checks of one user's uploads, across servers.
void lock_quota(Tx& tx, const std::string& uploader_id);
struct Usage {
    std::int64_t used_bytes = 0;  // the sizes of all the uploader's media rows, sent or not
    bool repeat = false;          // `upload` (both parts of a live photo) is already stored, unattached (a retry)
};
Usage usage(Tx& tx, const model::Media& upload);
// Media messages of a chat, newest first, seq < before_seq, optionally of one kind.
std::vector<model::Message> gallery(Tx& tx, const std::string& chat_id, std::optional<model::MediaKind> kind,
                                    std::optional<std::int64_t> before_seq, int limit, const std::string& viewer);
// The media of the user's avatar.
std::optional<model::Media> avatar_of(Tx& tx, const std::string& user_id);
// Ids of uploads never attached to a message and older than the cutoff.
std::vector<std::string> stale_unattached(Tx& tx, int older_than_hours, int limit);

}  // namespace confab::store::media
