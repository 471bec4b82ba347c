-- Profile and privacy (issue #22, item 4): a short bio beside the display name, who sees a
-- user's presence (online and last seen), and whether their reads are told to the others.
-- The defaults are what every user had before: presence shown to those who share a chat
-- with them, read positions shown to the members of each chat.
ALTER TABLE users ADD COLUMN bio text;
ALTER TABLE users ADD COLUMN who_can_see_presence text NOT NULL DEFAULT 'contacts'
    CHECK (who_can_see_presence IN ('everyone', 'contacts', 'nobody'));
ALTER TABLE users ADD COLUMN send_read_receipts boolean NOT NULL DEFAULT true;
