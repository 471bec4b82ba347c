-- Consent to groups (issue #13): who may put a user into a group without asking, and the
-- invitations everyone else's adds become until the user accepts or declines them.
ALTER TABLE users ADD COLUMN who_can_add_me text NOT NULL DEFAULT 'everyone'
    CHECK (who_can_add_me IN ('everyone', 'contacts', 'nobody'));

CREATE TABLE invitations (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    chat_id    uuid NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    inviter_id uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (chat_id, user_id)  -- one pending invitation per group and user
);
CREATE INDEX invitations_user ON invitations (user_id, created_at DESC);
