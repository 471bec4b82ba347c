-- Roles and moderation (issue #16, items 4-6): the built-in roles moderator and restricted,
-- and a moderator's mute of a member until a time (the member reads but does not post).
-- is_muted stays the member's own choice about notifications.
ALTER TABLE chat_members DROP CONSTRAINT chat_members_role_check;
ALTER TABLE chat_members ADD CONSTRAINT chat_members_role_check
    CHECK (role IN ('owner', 'admin', 'moderator', 'member', 'restricted'));
ALTER TABLE chat_members ADD COLUMN muted_until timestamptz;
-- A ban keeps a user out of a group (no re-adding, no invitation) until a time, or for good.
CREATE TABLE chat_bans (
    chat_id    uuid NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    banned_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    until      timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (chat_id, user_id)
);
-- Deleting a user finds their bans, and those they made, without a scan.
CREATE INDEX chat_bans_user ON chat_bans (user_id);
CREATE INDEX chat_bans_banned_by ON chat_bans (banned_by) WHERE banned_by IS NOT NULL;
