-- Typing across a node's death (issue #20; docs/architecture.md, Presence): each process records
-- the typists it shows as typing, so that when it dies without stopping them (kill -9), the
-- process that sweeps it as silent sends their `typing.update` `false`. Unlogged, as the rest of
-- presence: nothing here outlives the processes it describes. No foreign key to
-- presence_processes: a process records a typist before its first heartbeat may have run.
CREATE UNLOGGED TABLE presence_typists (
    process_id text NOT NULL,
    chat_id uuid NOT NULL,
    user_id uuid NOT NULL,
    PRIMARY KEY (process_id, chat_id, user_id)
);
