-- The naive ceiling: one message per transaction, with the statements a server that writes
-- each send alone runs (Confab's before batched sends): lock the chat row, look the
-- client_id up, then number and store the message in one statement. pgbench -D sets chat_base, chats, user_base and members (see
-- bench/loadgen/ceiling.cpp); bench_uuid(key) is the id the ceiling setup gave that key.
\set chat :chat_base + random(0, :chats - 1)
\set sender :user_base + (:chat - :chat_base) * :members + random(0, :members - 1)
\set nonce random(1, 9000000000000000000)
BEGIN;
SELECT 1 FROM chats WHERE id = bench_uuid(:chat) FOR UPDATE;
SELECT id FROM messages WHERE sender_id = bench_uuid(:sender) AND client_id = 'p' || :nonce;
WITH sender AS (SELECT 1 FROM chat_members WHERE chat_id = bench_uuid(:chat) AND user_id = bench_uuid(:sender)),
numbered AS (UPDATE chats SET last_seq = last_seq + 1, version = version + 1,
    activity = nextval('chat_activity'), updated_at = now()
    WHERE id = bench_uuid(:chat) AND EXISTS (SELECT 1 FROM sender) RETURNING last_seq, version),
readers AS (UPDATE chat_members SET is_hidden = false, last_read_seq = CASE WHEN user_id = bench_uuid(:sender)
    THEN (SELECT last_seq FROM numbered) ELSE last_read_seq END
    WHERE chat_id = bench_uuid(:chat) AND (is_hidden OR user_id = bench_uuid(:sender)) AND EXISTS (SELECT 1 FROM numbered)),
m AS (INSERT INTO messages (chat_id, sender_id, seq, version, type, content, metadata, client_id)
    SELECT bench_uuid(:chat), bench_uuid(:sender), last_seq, version, 'text', 'b' || :nonce, '{}'::jsonb, 'p' || :nonce
    FROM numbered RETURNING *)
SELECT id, seq FROM m;
COMMIT;
