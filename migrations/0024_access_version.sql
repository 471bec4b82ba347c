-- A chat's access version (issue #20): bumped by every change to what a node's access cache
-- holds of the chat (its members, their roles and mutes, its settings), so that a node of a
-- cluster can tell, under the chat's row lock, that its cached access is older than another
-- node's change and reload it before it checks a write or fans out its events.
ALTER TABLE chats ADD COLUMN access_version bigint NOT NULL DEFAULT 0;

-- Members joining or leaving: once per statement (a bulk add bumps each chat once). The chats
-- are locked in id order, the order chats::lock takes, so a statement touching several chats
-- (a user's deletion) cannot deadlock with a batch of sends.
CREATE FUNCTION chat_members_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM chats WHERE id IN (SELECT chat_id FROM changed_members) ORDER BY id FOR UPDATE;
    UPDATE chats SET access_version = access_version + 1 WHERE id IN (SELECT chat_id FROM changed_members);
    RETURN NULL;
END $$;
CREATE TRIGGER chat_members_added AFTER INSERT ON chat_members
    REFERENCING NEW TABLE AS changed_members FOR EACH STATEMENT EXECUTE FUNCTION chat_members_changed();
CREATE TRIGGER chat_members_removed AFTER DELETE ON chat_members
    REFERENCING OLD TABLE AS changed_members FOR EACH STATEMENT EXECUTE FUNCTION chat_members_changed();

-- A role or a mute changing. Only a statement that sets these columns fires it: the read
-- marks and hidden flags a send updates do not.
CREATE FUNCTION chat_member_standing_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE chats SET access_version = access_version + 1 WHERE id = NEW.chat_id;
    RETURN NULL;
END $$;
CREATE TRIGGER chat_member_standing_changed AFTER UPDATE OF role, muted_until ON chat_members
    FOR EACH ROW WHEN (OLD.role IS DISTINCT FROM NEW.role OR OLD.muted_until IS DISTINCT FROM NEW.muted_until)
    EXECUTE FUNCTION chat_member_standing_changed();
