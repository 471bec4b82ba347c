-- Full-text search over messages (GET /api/v1/search/messages, docs/api.md "Search").
--
-- The words of each message are kept beside it, so ranking a result reads them instead of
-- parsing the text again. 'simple' lower-cases words and does nothing else: no stemming and
-- no stop words, which would suit one language and garble every other one a chat may use.
-- System messages ("ana added ben") are the server's wording, not anybody's words; a deleted
-- message's content is '' so it has no words. An edit changes the column with the content.
-- Adding a stored generated column rewrites the table (docs/operations.md, on upgrading).
ALTER TABLE messages ADD COLUMN search tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', CASE WHEN type = 'system' THEN '' ELSE content END)) STORED;

-- One GIN index on (chat_id, words), which btree_gin makes possible: a search finds the
-- messages that are both in one of the caller's chats and hold the words in the index alone,
-- whether the words are rare (few messages anywhere) or common (many, mostly in other
-- people's chats). New entries go to GIN's pending list and are merged in bulk
-- (fastupdate, the default), so a send adds an append, not a tree insertion per word.
CREATE EXTENSION IF NOT EXISTS btree_gin;
CREATE INDEX messages_search ON messages USING gin (chat_id, search);
