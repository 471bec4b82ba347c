-- Rich text and mentions (docs/api.md "Rich text", "Mentions").

-- A message's formatting: an array of entities over its content, in UTF-16 code units, as
-- the API shows them. '[]' for plain text; a deleted message has none.
ALTER TABLE messages ADD COLUMN entities jsonb NOT NULL DEFAULT '[]'::jsonb;

-- Who may mention everyone in a group; a direct chat's two members always may.
ALTER TABLE chats ADD COLUMN only_admins_can_mention_all boolean NOT NULL DEFAULT false;

-- Each member a message mentions (by name, or as everyone), but its sender. `seq` is the
-- message's, so the mentions a member has not read are those past their last_read_seq;
-- `position` orders a user's mention list, newest first. A row goes when the message is
-- deleted, hidden by the member, or edited to no longer mention them.
CREATE TABLE message_mentions (
    message_id uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    chat_id    uuid NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    seq        bigint NOT NULL,
    position   bigserial NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (message_id, user_id)
);
-- A member's unread mentions in a chat (ChatModel.me.unread_mention_count).
CREATE INDEX message_mentions_unread ON message_mentions (user_id, chat_id, seq);
-- A user's mention list, newest first (GET /mentions).
CREATE INDEX message_mentions_list ON message_mentions (user_id, position DESC);
