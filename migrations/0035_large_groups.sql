-- Large groups (docs/api.md, Large groups): a group its owner made large holds up to
-- limits.large_group_members, and what grows with its members does not grow per message.
ALTER TABLE chats ADD COLUMN large boolean NOT NULL DEFAULT false;
ALTER TABLE chats ADD CONSTRAINT chats_large_is_group CHECK (NOT large OR type = 'group') NOT VALID;
ALTER TABLE chats VALIDATE CONSTRAINT chats_large_is_group;

-- A large group's member count is kept as a counter too (chats.subscriber_count, 0032), so that
-- reading a chat or checking its room never counts 100,000 rows. The group's count is taken once,
-- when it becomes large, in the statement that sets `large` (under the chat's row lock, which every
-- join and leave takes first); from then on every join and leave moves it, as in a channel.
-- The counter now moves once per statement, not once per row: a bulk add of 1,000 members
-- updates the chat's row once, not 1,000 times (each a new row version of a hot row).
DROP TRIGGER chat_members_count_subscribers ON chat_members;
DROP FUNCTION count_channel_subscribers();
CREATE FUNCTION count_joined_members() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE chats c SET subscriber_count = c.subscriber_count + j.n
        FROM (SELECT chat_id, count(*) AS n FROM joined GROUP BY chat_id) j
        WHERE c.id = j.chat_id AND (c.type = 'channel' OR c.large);
    RETURN NULL;
END $$;
CREATE FUNCTION count_left_members() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE chats c SET subscriber_count = c.subscriber_count - l.n
        FROM (SELECT chat_id, count(*) AS n FROM left_members GROUP BY chat_id) l
        WHERE c.id = l.chat_id AND (c.type = 'channel' OR c.large);
    RETURN NULL;
END $$;
CREATE TRIGGER chat_members_count_joined AFTER INSERT ON chat_members
    REFERENCING NEW TABLE AS joined FOR EACH STATEMENT EXECUTE FUNCTION count_joined_members();
CREATE TRIGGER chat_members_count_left AFTER DELETE ON chat_members
    REFERENCING OLD TABLE AS left_members FOR EACH STATEMENT EXECUTE FUNCTION count_left_members();

-- Member search (GET /chats/{id}/members?q=): a case-insensitive prefix of a member's username
-- or display name, in join order, keyset-paginated on position. Two plans serve it, and the
-- planner picks by the prefix's selectivity: a rare prefix starts from the users that match it,
-- through users_username_prefix and users_display_name_prefix (0001), and probes chat_members'
-- primary key (chat_id, user_id) for each; a common one walks the chat's members in join order
-- and stops once a page has matched. The index below serves the walk: it holds user_id beside
-- (chat_id, position), so the statement (store::members::list) finds its page from this index
-- and the users alone, an index-only scan that visits no chat_members row per member walked,
-- and reads the member rows of the page only. At 100,000 members a page of 50 for a prefix that
-- one member in a hundred has walks about 5,000 index entries, never the whole group. It
-- replaces the plain (chat_id, position) index, which it covers.
CREATE INDEX chat_members_join_order_users ON chat_members (chat_id, position) INCLUDE (user_id);
DROP INDEX chat_members_join_order;
