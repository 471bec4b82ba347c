-- Channels (docs/api.md "Channels"): a chat kind where admins post and subscribers read.
ALTER TABLE chats DROP CONSTRAINT chats_type_check;
-- NOT VALID, then validated apart: the check of the existing rows does not block writes.
ALTER TABLE chats ADD CONSTRAINT chats_type_check CHECK (type IN ('direct', 'group', 'channel')) NOT VALID;
ALTER TABLE chats VALIDATE CONSTRAINT chats_type_check;

-- handle: a channel's name in links and search, unique whatever its case; is_public: found
-- by search and joined by anyone; subscriber_count: a channel's members, kept as a counter
-- so that reading it never counts a large channel's rows.
ALTER TABLE chats ADD COLUMN handle text,
                  ADD COLUMN is_public boolean NOT NULL DEFAULT false,
                  ADD COLUMN subscriber_count bigint NOT NULL DEFAULT 0;
ALTER TABLE chats ADD CONSTRAINT chats_channel_fields
    CHECK (type = 'channel' OR (handle IS NULL AND NOT is_public)) NOT VALID;
ALTER TABLE chats VALIDATE CONSTRAINT chats_channel_fields;
ALTER TABLE chats ADD CONSTRAINT chats_public_has_handle CHECK (NOT is_public OR handle IS NOT NULL);
CREATE UNIQUE INDEX chats_handle ON chats (lower(handle)) WHERE handle IS NOT NULL;
-- Channel search: public channels by handle or title prefix, in handle order.
CREATE INDEX chats_public_handle ON chats (lower(handle) text_pattern_ops) WHERE is_public;
CREATE INDEX chats_public_title ON chats (lower(title) text_pattern_ops) WHERE is_public;

-- The counter moves in the transaction of every join and leave, however the member came or
-- went (an invite link, an admin, a ban, a deleted account). Other chats' rows are untouched.
CREATE FUNCTION count_channel_subscribers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE chats SET subscriber_count = subscriber_count + 1 WHERE id = NEW.chat_id AND type = 'channel';
    ELSE
        UPDATE chats SET subscriber_count = subscriber_count - 1 WHERE id = OLD.chat_id AND type = 'channel';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER chat_members_count_subscribers AFTER INSERT OR DELETE ON chat_members
    FOR EACH ROW EXECUTE FUNCTION count_channel_subscribers();
