-- The whole data model of PROTOCOL.md v1. Timestamps are timestamptz (UTC on the wire).

CREATE TABLE users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    username      text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9_.]{3,32}$'),
    display_name  text NOT NULL,
    avatar_url    text,
    password_hash text NOT NULL,
    is_admin      boolean NOT NULL DEFAULT false,
    last_seen_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
-- Prefix search on username (ordered by username) and on display name, case-insensitive.
CREATE INDEX users_username_prefix ON users (username text_pattern_ops);
CREATE INDEX users_display_name_prefix ON users (lower(display_name) text_pattern_ops);

-- Only a hash of each bearer token is stored; the token itself exists only on the client.
CREATE TABLE auth_tokens (
    token_hash text PRIMARY KEY,  -- hex BLAKE2b-256 of the token
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX auth_tokens_user ON auth_tokens (user_id);

-- Orders the chat list: every chat takes the next value when created and on each new
-- message, so "most recent activity first" is an exact, unique-per-step integer order.
CREATE SEQUENCE chat_activity;

CREATE TABLE chats (
    id                          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    type                        text NOT NULL CHECK (type IN ('direct', 'group')),
    title                       text,
    avatar_url                  text,
    created_by                  uuid REFERENCES users (id) ON DELETE SET NULL,
    -- "low-uuid:high-uuid" of a direct chat's two members: at most one direct chat per pair.
    direct_key                  text UNIQUE,
    only_admins_can_post        boolean NOT NULL DEFAULT false,
    only_admins_can_edit_info   boolean NOT NULL DEFAULT true,
    only_admins_can_add_members boolean NOT NULL DEFAULT false,
    metadata                    jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- seq: last message position (gapless); version: chat-wide change counter. Both are
    -- taken with UPDATE ... RETURNING in the transaction of the write they number.
    last_seq                    bigint NOT NULL DEFAULT 0,
    version                     bigint NOT NULL DEFAULT 0,
    activity                    bigint NOT NULL DEFAULT nextval('chat_activity'),
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now(),
    CHECK ((type = 'direct') = (direct_key IS NOT NULL))
);

-- Join order of members (member lists, and who inherits a group when its owner leaves).
CREATE SEQUENCE member_join_order;

CREATE TABLE chat_members (
    chat_id       uuid NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role          text NOT NULL DEFAULT 'member' CHECK (role IN ('owner', 'admin', 'member')),
    last_read_seq bigint NOT NULL DEFAULT 0,
    is_muted      boolean NOT NULL DEFAULT false,
    -- a direct chat "deleted" by one side is hidden from that side's list only.
    is_hidden     boolean NOT NULL DEFAULT false,
    joined_at     timestamptz NOT NULL DEFAULT now(),
    position      bigint NOT NULL DEFAULT nextval('member_join_order'),
    PRIMARY KEY (chat_id, user_id)
);
CREATE INDEX chat_members_user ON chat_members (user_id, chat_id);
-- Member list pages in join order.
CREATE INDEX chat_members_join_order ON chat_members (chat_id, position);
-- The chat list, most recent activity first, keyset-paginated on (activity, id).
CREATE INDEX chats_activity ON chats (activity DESC, id DESC);

CREATE TABLE media (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    chat_id      uuid NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    uploader_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('image', 'voice', 'video', 'file')),
    mime_type    text NOT NULL,
    size_bytes   bigint NOT NULL CHECK (size_bytes >= 0),
    sha256       text NOT NULL,
    file_name    text,
    storage_key  text NOT NULL,
    width        integer,
    height       integer,
    duration_ms  bigint,
    attached_at  timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);
-- Same user, same chat, same bytes, same kind, not yet sent: the upload is the existing
-- media (blind retries). Once attached, the same bytes can be uploaded and sent again.
CREATE UNIQUE INDEX media_pending_upload ON media (chat_id, uploader_id, sha256, kind) WHERE attached_at IS NULL;
-- Cleanup of uploads never attached to a message.
CREATE INDEX media_unattached ON media (created_at) WHERE attached_at IS NULL;
CREATE INDEX media_storage_key ON media (storage_key);

CREATE TABLE messages (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    chat_id     uuid NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    sender_id   uuid REFERENCES users (id) ON DELETE SET NULL,
    seq         bigint NOT NULL,
    version     bigint NOT NULL,
    type        text NOT NULL CHECK (type IN ('text', 'image', 'voice', 'video', 'location', 'file', 'system')),
    content     text NOT NULL DEFAULT '',
    media_id    uuid REFERENCES media (id) ON DELETE SET NULL,
    reply_to_id uuid REFERENCES messages (id) ON DELETE SET NULL,
    metadata    jsonb NOT NULL DEFAULT '{}'::jsonb,
    client_id   text CHECK (char_length(client_id) BETWEEN 1 AND 64),
    is_edited   boolean NOT NULL DEFAULT false,
    is_deleted  boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    -- History pages (before_seq / after_seq) are keyset scans of this index.
    UNIQUE (chat_id, seq)
);
-- since_version sync: every message changed after V, ascending version.
CREATE INDEX messages_chat_version ON messages (chat_id, version);
-- client_id makes a send idempotent per sender.
CREATE UNIQUE INDEX messages_sender_client_id ON messages (sender_id, client_id) WHERE client_id IS NOT NULL;
-- The media gallery: live media messages of a chat, newest first.
CREATE INDEX messages_gallery ON messages (chat_id, seq DESC) WHERE media_id IS NOT NULL AND NOT is_deleted;

CREATE TABLE reactions (
    message_id uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    emoji      text NOT NULL CHECK (octet_length(emoji) BETWEEN 1 AND 32),
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (message_id, emoji, user_id)
);
-- Reactions of a message in the order users reacted.
CREATE INDEX reactions_message_order ON reactions (message_id, created_at);
