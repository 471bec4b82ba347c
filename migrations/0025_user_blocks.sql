-- Blocking a user (issue #16, item 5): the blocker and the blocked exchange no direct messages
-- and see neither each other's presence nor typing (docs/api.md, Blocking). `position` orders
-- a blocker's list, newest first, for keyset pagination.
CREATE TABLE user_blocks (
    blocker_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    position   bigserial NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (blocker_id, blocked_id),
    CHECK (blocker_id <> blocked_id)
);
CREATE INDEX user_blocks_listed ON user_blocks (blocker_id, position DESC);
-- Whether anyone blocks a user is asked from the blocked side too (presence, typing).
CREATE INDEX user_blocks_blocked ON user_blocks (blocked_id);

-- A block or an unblock changes who may write in the pair's direct chat, which every node
-- caches with the chat's access: bump its access version (migrations/0024_access_version.sql)
-- so that each node reloads it. The key is the one ChatService gives a direct chat: the two
-- ids as text, the smaller first, compared bytewise.
CREATE FUNCTION user_blocks_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    pair user_blocks;
BEGIN
    IF TG_OP = 'DELETE' THEN pair := OLD; ELSE pair := NEW; END IF;
    UPDATE chats SET access_version = access_version + 1
    WHERE direct_key = least(pair.blocker_id::text COLLATE "C", pair.blocked_id::text COLLATE "C") || ':' ||
                       greatest(pair.blocker_id::text COLLATE "C", pair.blocked_id::text COLLATE "C");
    RETURN NULL;
END $$;
CREATE TRIGGER user_blocks_changed AFTER INSERT OR DELETE ON user_blocks
    FOR EACH ROW EXECUTE FUNCTION user_blocks_changed();
