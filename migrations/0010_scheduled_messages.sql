-- Messages scheduled by their author, posted when due (domain::ScheduledService). A row
-- stays after it is sent (with the message's id) or cancelled (with the reason), so the
-- author's devices can show what became of it.
CREATE TABLE scheduled_messages (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    chat_id       uuid NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    sender_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    send_at       timestamptz NOT NULL,
    type          text NOT NULL,
    content       text NOT NULL DEFAULT '',
    media_id      uuid REFERENCES media (id) ON DELETE SET NULL,
    reply_to_id   uuid,
    metadata      jsonb NOT NULL DEFAULT '{}'::jsonb,
    client_id     text,
    status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'cancelled')),
    message_id    uuid,
    cancel_code   text,
    cancel_reason text,
    -- A node posting it holds it until then; past that another may (the send is idempotent).
    claimed_until timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX scheduled_messages_due ON scheduled_messages (send_at, id) WHERE status = 'pending';
CREATE INDEX scheduled_messages_sender ON scheduled_messages (sender_id, send_at, id);
CREATE UNIQUE INDEX scheduled_messages_client_id ON scheduled_messages (sender_id, client_id) WHERE client_id IS NOT NULL;
CREATE INDEX scheduled_messages_media ON scheduled_messages (media_id) WHERE status = 'pending';
