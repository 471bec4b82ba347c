-- Push notifications (issue #18, items 1 and 2). Devices belong to a user and to the session
-- that registered them; per-chat notification settings; jobs derived from committed
-- messages by a cursor per chat (docs/architecture.md, Push notifications).

CREATE TABLE push_devices (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id uuid NOT NULL REFERENCES auth_tokens (id) ON DELETE CASCADE,
    provider   text NOT NULL CHECK (provider IN ('fcm', 'apns', 'webpush', 'gateway')),
    -- fcm: the registration token; apns: the device token; webpush: the endpoint URL;
    -- gateway: the pushkey the operator's gateway knows the device by.
    token      text NOT NULL CHECK (char_length(token) BETWEEN 1 AND 4096),
    p256dh     text,  -- webpush only: the subscription's public key and auth secret
    auth       text,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (provider, token)
);
CREATE INDEX push_devices_user ON push_devices (user_id);
CREATE INDEX push_devices_session ON push_devices (session_id);

-- A session ends by revocation (logout, sign-out everywhere, ending it by id), which keeps
-- its row: its devices go with it, whichever statement revoked it.
CREATE FUNCTION push_devices_of_revoked_session() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM push_devices WHERE session_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER auth_tokens_revoked_push_devices
    AFTER UPDATE OF revoked_at ON auth_tokens
    FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION push_devices_of_revoked_session();

-- What a member wants pushed from a chat; no row: everything (chat_members.is_muted still
-- silences the chat, as it always did).
CREATE TABLE push_settings (
    chat_id     uuid NOT NULL,
    user_id     uuid NOT NULL,
    level       text NOT NULL CHECK (level IN ('all', 'mentions', 'none')),
    muted_until timestamptz,
    PRIMARY KEY (chat_id, user_id),
    FOREIGN KEY (chat_id, user_id) REFERENCES chat_members (chat_id, user_id) ON DELETE CASCADE
);

-- The last message of each chat whose pushes are derived. A chat's seq is taken under its
-- row lock in the message's transaction, so a chat's messages commit in seq order and a
-- cursor on it skips none. Existing chats start at their current message: nothing old is
-- pushed when the feature arrives.
CREATE TABLE push_cursors (
    chat_id uuid PRIMARY KEY REFERENCES chats (id) ON DELETE CASCADE,
    seq     bigint NOT NULL
);
INSERT INTO push_cursors (chat_id, seq) SELECT id, last_seq FROM chats;

-- One notification for one device: a chat's messages in one collapse window go out as one,
-- with their count. 'pending' ones still collect messages; once 'sending' the content is
-- fixed, and its id is the dedupe key every (re)try carries.
CREATE TABLE push_jobs (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    device_id       uuid NOT NULL REFERENCES push_devices (id) ON DELETE CASCADE,
    chat_id         uuid NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    message_id      uuid NOT NULL,  -- the latest message it tells of
    message_count   integer NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending')),
    attempts        integer NOT NULL DEFAULT 0,
    due_at          timestamptz NOT NULL,  -- when it may be (re)tried, or a send's lease ends
    first_message_at timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX push_jobs_collecting ON push_jobs (device_id, chat_id) WHERE status = 'pending';
CREATE INDEX push_jobs_due ON push_jobs (due_at);
CREATE INDEX push_jobs_chat ON push_jobs (chat_id);
