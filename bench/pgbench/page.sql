-- The keyset page query: a chat's newest page of 50 messages, the rows a history page shows,
-- by the (chat_id, seq) index in one statement, as a client of PostgreSQL alone would read
-- it. Run on the server's own database, where bench_uuid names the chats the server read
-- (bench/loadgen/ceiling.cpp, name_page_chats); pgbench -D sets chat_base and chats.
\set chat :chat_base + random(0, :chats - 1)
SELECT * FROM messages WHERE chat_id = bench_uuid(:chat) ORDER BY seq DESC LIMIT 50;
