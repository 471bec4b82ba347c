-- Deleting a chat deletes its messages, and each deleted row's foreign keys act on the rows
-- naming it: a reply's reply_to_id and a media's messages are set to null, a chat's mentions
-- and scheduled messages go. Without an index on the naming column each of those is a scan of
-- the whole table per deleted row: an outside probe's 1,000-member group (its 999 join
-- messages) took 12-20 s to delete on 43,000 messages, and held every chat's sends that
-- shared its commit meanwhile. Partial where most rows name nothing.
CREATE INDEX messages_reply_to ON messages (reply_to_id) WHERE reply_to_id IS NOT NULL;
CREATE INDEX messages_media ON messages (media_id) WHERE media_id IS NOT NULL;
CREATE INDEX message_mentions_chat ON message_mentions (chat_id);
CREATE INDEX scheduled_messages_chat ON scheduled_messages (chat_id);
