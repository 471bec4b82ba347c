-- Export and deletion (issue #22, item 5).
--
-- A deleted account stays as a tombstone row, so that the messages, reactions and votes it
-- left in others' chats still name a sender: deleted_at is set, the profile and password go,
-- and the username becomes 'deleted-<id>' (a name no one can register: it has a '-'), which
-- frees the old one.
ALTER TABLE users ADD COLUMN deleted_at timestamptz;
ALTER TABLE users DROP CONSTRAINT users_username_check;
ALTER TABLE users ADD CONSTRAINT users_username_check
    CHECK (username ~ '^[a-z0-9_.]{3,32}$' OR deleted_at IS NOT NULL);

-- Archives of a user's data, built in the background (domain::ExportService). items_done of
-- items_total is the progress; an export still pending or running when the server stops is
-- marked failed at the next start.
CREATE TABLE data_exports (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'ready', 'failed')),
    items_done  integer NOT NULL DEFAULT 0,
    items_total integer NOT NULL DEFAULT 0,
    size_bytes  bigint,
    created_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
-- One export in progress per user: a second is refused (409) while this index holds one.
CREATE UNIQUE INDEX data_exports_in_progress ON data_exports (user_id) WHERE status IN ('pending', 'running');
CREATE INDEX data_exports_user ON data_exports (user_id, created_at DESC);
