-- Threads (docs/api.md "Threads"). A thread reply names its root, a message of the same chat
-- that is not itself a reply. The root keeps its thread's summary, changed in the transaction
-- of each reply sent or deleted, so pages and sync read it with the root and nothing more.
ALTER TABLE messages
    ADD COLUMN thread_root_id uuid REFERENCES messages (id) ON DELETE CASCADE,
    -- The replies not deleted, the newest one's time, and the most recent distinct repliers
    -- (newest first, at most 5).
    ADD COLUMN thread_reply_count integer NOT NULL DEFAULT 0,
    ADD COLUMN thread_last_reply_at timestamptz,
    ADD COLUMN thread_participant_ids uuid[] NOT NULL DEFAULT '{}';
-- A thread's pages, and the summary recomputed when a reply is deleted.
CREATE INDEX messages_thread ON messages (thread_root_id, seq) WHERE thread_root_id IS NOT NULL;
