-- A device registered again by another user moves to them (docs/api.md, Push notifications),
-- but the jobs queued on it were the previous user's: a notification of their chat, collapsed
-- or retried after the move, went to the new user's phone. They go with the move.
CREATE FUNCTION push_device_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM push_jobs WHERE device_id = NEW.id;
    RETURN NULL;
END $$;

CREATE TRIGGER push_device_moved AFTER UPDATE OF user_id ON push_devices
    FOR EACH ROW WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id) EXECUTE FUNCTION push_device_moved();
