-- Invite links (issue #16, item 5): a group's admins hand out a code that lets whoever holds
-- it join, until it expires, is used up or is revoked. The code is the key: 256 random bits,
-- base64url, as hard to guess as a session token.
CREATE TABLE chat_invite_links (
    code       text PRIMARY KEY,
    chat_id    uuid NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    expires_at timestamptz,
    max_uses   integer CHECK (max_uses > 0),
    uses       integer NOT NULL DEFAULT 0,
    revoked_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
-- A group's links are listed newest first; deleting a user finds the links they made.
CREATE INDEX chat_invite_links_chat ON chat_invite_links (chat_id, created_at DESC) WHERE revoked_at IS NULL;
CREATE INDEX chat_invite_links_created_by ON chat_invite_links (created_by) WHERE created_by IS NOT NULL;
