-- Every new message updates its chat's row (last_seq, version, activity, updated_at). With
-- activity indexed, none of those updates could be HOT: each one left a dead row version
-- and new entries in both of the chats' indexes, so a busy chat's row was found behind
-- thousands of dead versions until the next vacuum (after one benchmark run, 1,001 chats
-- took 9.8 MB of heap and 26 MB of indexes, with no HOT update out of 554,177). The chat
-- list starts from the member's rows (chat_members_user) and sorts that user's chats by
-- activity, which needs no index on it; free room on each page keeps the updates HOT.
DROP INDEX chats_activity;
ALTER TABLE chats SET (fillfactor = 50);
