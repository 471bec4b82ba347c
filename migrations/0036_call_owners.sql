-- Calls across the nodes of a cluster (issue #19 with #20): which running process owns the call
-- of a chat. A call lives in the memory of the process that started it; the others forward
-- their devices' commands to it. One row per chat keeps one running call per chat across the
-- cluster. A process silent past cluster.presence_timeout_ms is swept from presence_processes
-- (0027), and its rows go with it: its calls ended with it, and the chat is free again.
-- Only a clustered node writes here; a single node keeps its calls in memory alone.
CREATE UNLOGGED TABLE call_owners (
    chat_id uuid PRIMARY KEY,
    call_id uuid NOT NULL UNIQUE,
    process_id text NOT NULL REFERENCES presence_processes (process_id) ON DELETE CASCADE
);
CREATE INDEX call_owners_process ON call_owners (process_id);
