-- The batched ceiling: :batch messages per transaction, written the way a server that
-- batches its sends would write them: a few set-based statements per batch instead of
-- three per message. The same work per message as message.sql: chat rows locked (in id
-- order, so concurrent batches never deadlock), client_ids looked up, each chat's seq and
-- version advanced once per batch, each sender's read mark moved, the rows inserted.
-- bench_batch (bench/loadgen/ceiling.cpp) lists the batch: :batch consecutive chats from
-- :first (so one chat in the hot_chat shape), senders taken in turn from :offset.
\set first random(0, :chats - 1)
\set offset random(0, :members - 1)
\set nonce random(1, 9000000000000000000)
BEGIN;
SELECT 1 FROM chats WHERE id IN (SELECT chat_id FROM bench_batch(:first, :offset, :batch, :chat_base, :chats, :user_base, :members))
    ORDER BY id FOR UPDATE;
SELECT id FROM messages WHERE (sender_id, client_id) IN
    (SELECT sender_id, 'p' || :nonce || '-' || j FROM bench_batch(:first, :offset, :batch, :chat_base, :chats, :user_base, :members));
WITH batch AS (SELECT b.* FROM bench_batch(:first, :offset, :batch, :chat_base, :chats, :user_base, :members) b
    JOIN chat_members cm ON cm.chat_id = b.chat_id AND cm.user_id = b.sender_id),
per_chat AS (SELECT chat_id, count(*) AS n FROM batch GROUP BY chat_id),
numbered AS (UPDATE chats c SET last_seq = c.last_seq + p.n, version = c.version + p.n,
    activity = nextval('chat_activity'), updated_at = now()
    FROM per_chat p WHERE c.id = p.chat_id RETURNING c.id, c.last_seq, c.version, p.n),
ordered AS (SELECT b.chat_id, b.sender_id, b.j, row_number() OVER (PARTITION BY b.chat_id ORDER BY b.j) AS k,
    n.last_seq - n.n AS seq0, n.version - n.n AS version0
    FROM batch b JOIN numbered n ON n.id = b.chat_id),
readers AS (UPDATE chat_members cm SET is_hidden = false, last_read_seq = r.seq
    FROM (SELECT chat_id, sender_id, max(seq0 + k) AS seq FROM ordered GROUP BY chat_id, sender_id) r
    WHERE cm.chat_id = r.chat_id AND cm.user_id = r.sender_id),
m AS (INSERT INTO messages (chat_id, sender_id, seq, version, type, content, metadata, client_id)
    SELECT chat_id, sender_id, seq0 + k, version0 + k, 'text', 'b' || :nonce, '{}'::jsonb, 'p' || :nonce || '-' || j
    FROM ordered RETURNING id)
SELECT count(*) FROM m;
COMMIT;
