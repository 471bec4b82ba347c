-- Polls (docs/api.md "Polls"): a message of type 'poll', its question the message's content.

ALTER TABLE messages DROP CONSTRAINT messages_type_check;
-- NOT VALID, then validated apart: the check of the existing rows does not block writes.
ALTER TABLE messages ADD CONSTRAINT messages_type_check
    CHECK (type IN ('text', 'image', 'voice', 'video', 'location', 'file', 'system', 'poll')) NOT VALID;
ALTER TABLE messages VALIDATE CONSTRAINT messages_type_check;

-- A poll's answers and how it is answered. closed_at is set when it is closed early; a poll
-- also reads as closed once closes_at has passed, without a write (store::attach_polls).
CREATE TABLE polls (
    message_id      uuid PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    options         text[] NOT NULL CHECK (cardinality(options) BETWEEN 2 AND 12),
    multiple_choice boolean NOT NULL DEFAULT false,
    anonymous       boolean NOT NULL DEFAULT false,
    closes_at       timestamptz,
    closed_at       timestamptz
);

-- One row per option a user chose; a vote replaces the user's rows.
CREATE TABLE poll_votes (
    message_id   uuid NOT NULL REFERENCES polls (message_id) ON DELETE CASCADE,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    option_index smallint NOT NULL CHECK (option_index BETWEEN 0 AND 11),
    voted_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (message_id, user_id, option_index)
);
-- An option's voters in the order they voted.
CREATE INDEX poll_votes_option_order ON poll_votes (message_id, option_index, voted_at);
