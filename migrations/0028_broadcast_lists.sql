-- Broadcast lists (issue #16, item 3; docs/api.md, Broadcast lists): a user's named list of
-- recipients. Sending to a list posts a copy into the owner's direct chat with each recipient,
-- so nothing here is seen by the recipients. `position` orders the owner's lists, newest
-- first, and a list's recipients, in the order added, for keyset pagination.
CREATE TABLE broadcast_lists (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       text NOT NULL,
    position   bigserial NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX broadcast_lists_listed ON broadcast_lists (owner_id, position DESC);

CREATE TABLE broadcast_list_recipients (
    list_id  uuid NOT NULL REFERENCES broadcast_lists (id) ON DELETE CASCADE,
    user_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    position bigserial NOT NULL,
    PRIMARY KEY (list_id, user_id)
);

-- Reports keep the reported message as it was when reported (issue #16, item 5; docs/api.md,
-- Reports), so that an edit or a deletion after the report does not erase the evidence. The
-- reports made before this migration take the message as it is now.
ALTER TABLE message_reports
    ADD COLUMN reported_type       text,
    ADD COLUMN reported_content    text,
    ADD COLUMN reported_sender_id  uuid REFERENCES users (id) ON DELETE SET NULL,
    ADD COLUMN reported_created_at timestamptz;
UPDATE message_reports r
SET reported_type = m.type, reported_content = m.content, reported_sender_id = m.sender_id,
    reported_created_at = m.created_at
FROM messages m WHERE m.id = r.message_id;
