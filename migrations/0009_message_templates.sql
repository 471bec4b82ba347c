-- Saved message templates: a user's own (owner_id) or a group's (chat_id), never both.
CREATE TABLE message_templates (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id   uuid REFERENCES users (id) ON DELETE CASCADE,
    chat_id    uuid REFERENCES chats (id) ON DELETE CASCADE,
    name       text NOT NULL,
    content    text NOT NULL,
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((owner_id IS NULL) <> (chat_id IS NULL))
);
-- Names are unique within their scope; the lists are ordered by name.
CREATE UNIQUE INDEX message_templates_owner_name ON message_templates (owner_id, name) WHERE owner_id IS NOT NULL;
CREATE UNIQUE INDEX message_templates_chat_name ON message_templates (chat_id, name) WHERE chat_id IS NOT NULL;
