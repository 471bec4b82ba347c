#pragma once

#include "confab/model/export.hpp"

#include "confab/store/tx.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

// Deleting an account (docs/api.md, Deleting the account).
namespace confab::store::accounts {

void prepare(Tx& tx);

// The first step of a deletion: the account is deleted from here on (model::User::deleted,
// its tokens gone), so that nothing racing the later steps puts it back into a chat, a list
// or a block, or signs it in (migrations/0044_deleted_account_guard.sql); those steps then
// undo what it had. Running it again changes nothing more: true only for the one run that
// marked the account deleted (of deletions racing, the one that carries the steps out).
bool begin_deletion(Tx& tx, const std::string& user_id);

// Accounts whose deletion began but never reached the tombstone (the server stopped between
// its steps), oldest first.
std::vector<std::string> unfinished_deletions(Tx& tx);

// The groups and channels the user is a member of (a direct chat is never left).
std::vector<std::string> shared_chats_of(Tx& tx, const std::string& user_id);
// The chats holding messages of the user that are not deleted (system messages aside).
std::vector<std::string> chats_with_messages(Tx& tx, const std::string& user_id);

struct RemovedMessage {
    std::string id;
    std::optional<std::string> media_id;        // the media it had
    std::optional<std::string> thread_root_id;  // the thread it was a reply in
};
// Deletes, for everyone, every message the user has in the chat as store::messages::tombstone
// does, all at `version`.
std::vector<RemovedMessage> remove_messages(Tx& tx, const std::string& chat_id, const std::string& user_id,
                                            std::int64_t version);

// The messages the user pinned or that are forwards of the user's messages, by chat.
std::map<std::string, std::vector<std::string>> messages_naming(Tx& tx, const std::string& user_id);
// Names the user no more in these messages (of one chat): pinned_by and forwarded_from's
// sender become null (docs/api.md, Deleting the account), each changed message at `version`;
// the ids of those changed.
std::vector<std::string> forget_in_messages(Tx& tx, const std::vector<std::string>& message_ids,
                                            const std::string& user_id, std::int64_t version);

// Turns the user into a tombstone (model::User::deleted) and removes their credentials,
// sessions, host identities, invitations, scheduled messages, own templates, reports, bans,
// blocks, mentions, hidings and the media rows no message references any more; returns those
// rows' storage keys. Where the documents say null once the account is gone, the user's id
// is set null: an invitation's inviter, a report's resolver and reported sender, a ban's
// banner, an invite link's, a webhook's, a group template's and a chat's creator. Running it
// again (a retried transaction) changes nothing more.
std::vector<std::string> remove_user(Tx& tx, const std::string& user_id);

}  // namespace confab::store::accounts

// Archives of a user's data (docs/api.md, Exporting your data). The archive's parts are made
// as JSON text by PostgreSQL itself.
namespace confab::store::exports {

void prepare(Tx& tx);

// A new pending export; nullopt while the user has one pending or running.
std::optional<model::DataExport> insert(Tx& tx, const std::string& user_id);
std::optional<model::DataExport> find(Tx& tx, const std::string& id, const std::string& user_id);
void start(Tx& tx, const std::string& id, int items_total);
void progress(Tx& tx, const std::string& id, int items_done);
// false when the export is gone meanwhile (its user was deleted).
bool finish(Tx& tx, const std::string& id, std::int64_t size_bytes);
void fail(Tx& tx, const std::string& id);
// Marks failed every export created before `before` and left pending or running (by a server
// that stopped); their ids.
std::vector<std::string> fail_unfinished(Tx& tx, model::Timestamp before);
// Deletes the user's finished exports but `keep` (none when empty); their ids.
std::vector<std::string> remove_finished(Tx& tx, const std::string& user_id, const std::string& keep);
// Deletes every export of the user; their ids.
std::vector<std::string> remove_all(Tx& tx, const std::string& user_id);

struct MediaFile {
    std::string media_id;
    std::string storage_key;
    std::optional<std::string> live_video_storage_key;  // a live photo's motion
};
// What an archive holds, but each chat's messages (messages_json).
struct Contents {
    std::vector<std::pair<std::string, std::string>> documents;  // archive name, JSON: profile.json, ...
    std::vector<std::string> chat_ids;
    std::vector<MediaFile> media;
};
// chats.json lists a channel's members to the user only when their role is among
// channel_member_viewers (rules::sees_members); otherwise the user alone.
Contents contents(Tx& tx, const std::string& user_id, const std::vector<std::string>& channel_member_viewers);
// media.json (of contents) with each `path` among `paths` (of a media or its live_video) null:
// bytes the archive could not hold, as they were removed since the listing.
std::string media_without_paths(Tx& tx, const std::string& media_json, const std::vector<std::string>& paths);
// The user's messages in the chat, oldest first, as a JSON array.
std::string messages_json(Tx& tx, const std::string& user_id, const std::string& chat_id);

}  // namespace confab::store::exports
