-- Presence that holds across nodes and restarts (issue #20): which running process holds a
-- connection of which user. A user is online while any process holds one. Each process
-- heartbeats its row in presence_processes; one silent past cluster.presence_timeout_ms is
-- swept with its connections. Unlogged: nothing here outlives the processes it describes (after
-- a PostgreSQL crash each process finds its heartbeat row gone and writes its users again).
CREATE UNLOGGED TABLE presence_processes (
    process_id text PRIMARY KEY,
    seen_at timestamptz NOT NULL DEFAULT now()
);

CREATE UNLOGGED TABLE presence_connections (
    user_id uuid NOT NULL,
    process_id text NOT NULL,
    PRIMARY KEY (user_id, process_id)
);
CREATE INDEX presence_connections_process ON presence_connections (process_id);
