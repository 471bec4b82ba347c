-- Slow mode and message reports (issue #16, item 5).

-- Slow mode: a group's seconds between one member's posts (0: off). The time of a member's
-- last post is kept where every node of a cluster sees it, set by the send that stores the
-- post (only while the chat's slow mode is on), so a refused send changes nothing.
ALTER TABLE chats ADD COLUMN slow_mode_seconds integer NOT NULL DEFAULT 0
    CHECK (slow_mode_seconds BETWEEN 0 AND 3600);
ALTER TABLE chat_members ADD COLUMN last_posted_at timestamptz;

-- A member's report of a message to the chat's moderators and the server's operators. One
-- open report per reporter and message; a resolved one records what was done about it.
CREATE TABLE message_reports (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    position    bigserial NOT NULL UNIQUE,
    chat_id     uuid NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    message_id  uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    reporter_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reason      text NOT NULL CHECK (reason IN ('spam', 'abuse', 'illegal', 'other')),
    comment     text,
    action      text CHECK (action IN ('none', 'message_deleted', 'member_muted', 'member_removed', 'member_banned')),
    resolved_by uuid REFERENCES users (id) ON DELETE SET NULL,
    resolved_at timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX message_reports_open_once ON message_reports (message_id, reporter_id) WHERE resolved_at IS NULL;
-- The open reports of a chat, and of the whole server, oldest first.
CREATE INDEX message_reports_chat_open ON message_reports (chat_id, position) WHERE resolved_at IS NULL;
CREATE INDEX message_reports_open ON message_reports (position) WHERE resolved_at IS NULL;
-- Deleting a user finds their reports and resolutions without a scan.
CREATE INDEX message_reports_reporter ON message_reports (reporter_id);
CREATE INDEX message_reports_resolved_by ON message_reports (resolved_by) WHERE resolved_by IS NOT NULL;
