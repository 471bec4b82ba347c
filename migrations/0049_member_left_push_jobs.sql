-- A member who leaves a chat (or is removed, or banned) loses the notifications of it still
-- queued for their devices, collapsing or waiting to be retried: each is read when it is sent,
-- so a retry after the leave carried the chat's new title and text edited since to someone
-- no longer a member (docs/api.md, Who is pushed).
CREATE FUNCTION member_left_push_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM push_jobs j USING push_devices d
    WHERE d.user_id = OLD.user_id AND j.device_id = d.id AND j.chat_id = OLD.chat_id;
    RETURN NULL;
END $$;

CREATE TRIGGER member_left_push_jobs AFTER DELETE ON chat_members
    FOR EACH ROW EXECUTE FUNCTION member_left_push_jobs();
