-- Pinned messages, forwarding and delete-for-me (docs/api.md "Pins", "Forwarding",
-- "Hiding messages").

-- Who may pin in a group; a direct chat's two members always may.
ALTER TABLE chats ADD COLUMN only_admins_can_pin boolean NOT NULL DEFAULT true;

-- A pinned message: when, by whom, and the chat version its pin took, which orders the pin
-- list (unique within a chat, newest pin largest).
ALTER TABLE messages
    ADD COLUMN pinned_at timestamptz,
    ADD COLUMN pinned_by uuid REFERENCES users (id) ON DELETE SET NULL,
    ADD COLUMN pinned_version bigint,
    -- A forwarded message's origin, kept as ids and a time: the original may be deleted, or
    -- its chat gone, without changing what the forward says it came from.
    ADD COLUMN forwarded_from_message_id uuid,
    ADD COLUMN forwarded_from_chat_id uuid,
    ADD COLUMN forwarded_from_sender_id uuid,
    ADD COLUMN forwarded_from_sent_at timestamptz,
    ADD CHECK ((pinned_at IS NULL) = (pinned_version IS NULL));
-- The pin list of a chat, newest pin first.
CREATE INDEX messages_pinned ON messages (chat_id, pinned_version DESC) WHERE pinned_version IS NOT NULL;

-- Messages a user deleted for themself only. `version` is the chat version the hiding took,
-- so the user's other devices learn it from since_version sync.
CREATE TABLE hidden_messages (
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message_id uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    chat_id    uuid NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    version    bigint NOT NULL,
    PRIMARY KEY (message_id, user_id)
);
-- A user's hidings in a chat after a version (sync).
CREATE INDEX hidden_messages_sync ON hidden_messages (chat_id, user_id, version);
