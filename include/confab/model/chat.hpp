#pragma once

#include "confab/model/poll.hpp"
#include "confab/model/role.hpp"
#include "confab/model/user.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace confab::model {

// A JSON object kept as its serialized text: metadata the server stores and returns
// untouched. Only the api layer parses or builds it.
struct OpaqueJson {
    std::string text = "{}";
};

enum class ChatType { direct, group, channel };
std::optional<ChatType> chat_type_from(std::string_view text);

std::string_view to_string(ChatType type);

struct ChatSettings {
    bool only_admins_can_post = false;
    bool only_admins_can_edit_info = true;
    bool only_admins_can_add_members = false;
    bool only_admins_can_pin = true;
    bool only_admins_can_mention_all = false;
    // Seconds between one member's posts; 0: off (docs/api.md, Slow mode).
    std::int64_t slow_mode_seconds = 0;

    bool operator==(const ChatSettings&) const = default;
};

enum class MessageType { text, image, voice, video, location, file, system, poll };
std::string_view to_string(MessageType type);
std::optional<MessageType> message_type_from(std::string_view text);

enum class MediaKind { image, voice, video, file };
std::string_view to_string(MediaKind kind);
std::optional<MediaKind> media_kind_from(std::string_view text);

// The motion part of a live photo (docs/api.md, Live photos): a short video stored beside the
// still under its own content key.
struct LiveVideo {
    std::string mime_type;
    std::int64_t size_bytes = 0;
    std::string sha256;
    std::string storage_key;
    std::int64_t duration_ms = 0;
    std::int64_t width = 0;
    std::int64_t height = 0;
};

struct Media {
    std::string id;
    std::string chat_id;
    std::string uploader_id;
    MediaKind kind = MediaKind::file;
    std::string mime_type;
    std::int64_t size_bytes = 0;
    std::string sha256;
    std::optional<std::string> file_name;
    std::string storage_key;
    std::optional<std::int64_t> width;
    std::optional<std::int64_t> height;
    std::optional<std::int64_t> duration_ms;
    bool attached = false;
    std::vector<int> waveform;            // a voice note's peaks, 0-100 (docs/api.md, Media)
    bool animated = false;                // a GIF of more than one frame
    bool poster = false;                  // a video whose first frame is its thumbnail
    std::optional<LiveVideo> live_video;  // an image's motion part: a live photo
};

// One emoji on a message: how many reacted with it, and who, bounded (store::attach_reactions).
struct Reaction {
    std::string emoji;
    std::int64_t count = 0;
    std::vector<std::string> user_ids;  // in the order they reacted
};

// Formatting over a message's content (docs/api.md, Rich text). Offsets and lengths count
// UTF-16 code units, as JavaScript, Android and iOS strings do.
enum class EntityType { bold, italic, underline, strikethrough, spoiler, code, code_block, link, mention, mention_all };
std::string_view to_string(EntityType type);
std::optional<EntityType> entity_type_from(std::string_view text);

struct TextEntity {
    EntityType type = EntityType::bold;
    std::int64_t offset = 0;
    std::int64_t length = 0;
    std::optional<std::string> url;       // a link's
    std::optional<std::string> language;  // a code block's, when given
    std::optional<std::string> user_id;   // a mention's

    bool operator==(const TextEntity&) const = default;
};

// Where a forwarded message came from: the original, however many forwards ago.
struct ForwardOrigin {
    std::string message_id;
    std::string chat_id;
    std::optional<std::string> sender_id;  // null once the sender's account is gone
    Timestamp sent_at;
};

// A thread root's summary of its replies that are not deleted (docs/api.md, Threads).
struct ThreadSummary {
    std::int64_t reply_count = 0;
    Timestamp last_reply_at;
    std::vector<std::string> participant_ids;  // the most recent distinct repliers first, at most 5
};

struct Message {
    std::string id;
    std::string chat_id;
    std::optional<std::string> sender_id;
    std::int64_t seq = 0;
    std::int64_t version = 0;
    MessageType type = MessageType::text;
    std::string content;
    std::optional<Media> media;
    std::optional<std::string> reply_to_id;
    std::vector<Reaction> reactions;
    bool is_edited = false;
    bool is_deleted = false;
    OpaqueJson metadata;
    std::optional<std::string> client_id;
    Timestamp created_at;
    Timestamp updated_at;
    std::optional<Timestamp> pinned_at;
    std::optional<std::string> pinned_by;
    std::optional<ForwardOrigin> forwarded_from;
    std::optional<Poll> poll;                   // a poll message's
    std::optional<std::string> thread_root_id;  // set on a thread reply
    std::optional<ThreadSummary> thread;        // set on a thread root with replies
    std::vector<TextEntity> entities;
};

struct Chat {
    std::string id;
    ChatType type = ChatType::group;
    std::optional<std::string> title;
    std::optional<std::string> avatar_url;
    ChatSettings settings;
    OpaqueJson metadata;
    std::int64_t member_count = 0;
    std::int64_t last_seq = 0;
    std::int64_t version = 0;
    std::int64_t activity = 0;  // larger is more recent; orders the chat list
    Timestamp created_at;
    Timestamp updated_at;
    // A channel's (docs/api.md, Channels): its unique handle, whether anyone may find and join
    // it, and its member count kept as a counter (chats.subscriber_count).
    std::optional<std::string> handle;
    bool is_public = false;
    std::int64_t subscriber_count = 0;
    // A group its owner made large (docs/api.md, Large groups): its cap is
    // limits.large_group_members, and joins, reads and typing are not told to every member.
    bool large = false;
};

// A channel as anyone may find it (docs/api.md, Channels: ChannelModel).
struct Channel {
    std::string id;
    std::optional<std::string> handle;
    std::optional<std::string> title;
    std::optional<std::string> avatar_url;
    bool is_public = false;
    std::int64_t subscriber_count = 0;
    bool joined = false;  // the viewer is a member
    Timestamp created_at;
};

// The caller's own standing in a chat: ChatModel's `me`.
struct Membership {
    Role role = Role::member;
    std::int64_t last_read_seq = 0;
    bool is_muted = false;
    std::int64_t unread_mention_count = 0;    // mentions of this member past last_read_seq
    std::optional<CustomRole> custom_role{};  // ranks as `role`
};

// A pending invitation into a group, as its invitee sees it.
struct Invitation {
    std::string id;
    std::string chat_id;
    std::optional<std::string> title;
    std::optional<std::string> avatar_url;
    std::int64_t member_count = 0;
    std::optional<User> inviter;  // null once the inviter's account is gone
    Timestamp created_at;
};

// A block between the two members of a direct chat, as one of them sees it (docs/api.md,
// Blocking): the other blocks them, or they block the other (which wins when both do, so
// their client can offer to unblock).
enum class DirectBlock { none, blocked, you_blocked };

inline DirectBlock direct_block(bool blocks_other, bool blocked_by_other) {
    if (blocks_other) return DirectBlock::you_blocked;
    return blocked_by_other ? DirectBlock::blocked : DirectBlock::none;
}

// A chat as one user stands in it: what every rule about that user reads (domain/rules).
struct Standing {
    ChatType type = ChatType::group;
    ChatSettings settings;
    Role role = Role::member;
    bool muted = false;                     // by a moderator, until a time not yet past: reads, may not post
    DirectBlock block = DirectBlock::none;  // a direct chat only
    // A custom role's permissions, which replace what `role` (its rank) grants.
    std::optional<std::vector<Permission>> custom_grants{};
    bool large = false;  // a large group (Chat::large)
};

// A chat as one member sees it.
struct ChatView {
    Chat chat;
    Membership me;
    std::optional<Message> last_message;
};

struct Presence {
    bool online = false;
    std::optional<Timestamp> last_seen_at;
};

struct Member {
    std::string chat_id;
    User user;
    Role role = Role::member;
    std::optional<std::int64_t> last_read_seq;  // none when the member keeps it from the viewer
    bool is_muted = false;
    std::optional<Timestamp> muted_until;  // set by a moderator: no posting before then
    Timestamp joined_at;
    std::optional<Presence> presence;         // none when the member keeps it from the viewer
    Privacy privacy;                          // the member's own settings: what others see of them
    std::optional<CustomRole> custom_role{};  // ranks as `role`
};

}  // namespace confab::model
