-- The webhooks' looks between their full ones read only the chats this node changed and the
-- pairs whose retry has come due: the latter by this index, not by reading every cursor (a
-- server-wide subscription has one per chat).
CREATE INDEX webhook_cursors_retry ON webhook_cursors (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
