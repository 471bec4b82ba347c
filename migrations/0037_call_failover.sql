-- Calls across the nodes of a cluster when a node dies, and "busy" across nodes (issues #19/#20,
-- docs/api.md, Calls). A call's row now outlives its owner's process row: the first node to find
-- it orphaned (its process swept from presence_processes as silent) deletes it, and that delete
-- is what ends the call as failed, once: it tells the chat's members and writes the system
-- message, from what the row records of the call (kind, caller, start, first answer).
-- call_participants holds every participant of every call in the cluster, one call per user, so
-- that a user in a call anywhere is "in another call" (in_call, busy) for a call on any node; its
-- rows go with their call's row. Only a clustered node writes here.
ALTER TABLE call_owners DROP CONSTRAINT call_owners_process_id_fkey;
-- Nullable: a row claimed by a node not yet upgraded (a rolling restart) has none of them, and is
-- freed without a message when its node dies.
ALTER TABLE call_owners
    ADD COLUMN kind text,
    ADD COLUMN is_group boolean,
    ADD COLUMN caller_id uuid,
    ADD COLUMN started_at timestamptz,
    ADD COLUMN answered_at timestamptz;

CREATE UNLOGGED TABLE call_participants (
    user_id uuid PRIMARY KEY,
    call_id uuid NOT NULL REFERENCES call_owners (call_id) ON DELETE CASCADE
);
CREATE INDEX call_participants_call ON call_participants (call_id);
